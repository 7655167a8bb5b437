"""The bundled demo corpus: a small, deterministic, crawl-like corpus in which every pipeline stage has work to do."""
