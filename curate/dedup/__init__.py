"""Deduplication: exact and MinHash near-duplicate steps, decontamination, and the multi-stage (distributed) plan."""
