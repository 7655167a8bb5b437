"""PII and secret scrubbing, toxicity filtering (library code; the pipeline steps are in curate.steps.scrub).

`import_presidio()` is called by the modules of this package that import Presidio, before they do: it imports it
with torch and transformers hidden:
presidio_analyzer imports its transformers NLP engine, and spaCy's thinc imports torch, whenever they are
installed (as they are next to `train`), which costs seconds and hundreds of MB in every worker process for engines
we never use (we run Presidio's pattern recognizers on its no-op NLP engine). benchmarks/stage_overhead.py
measures it. A process that has already imported torch keeps it.
"""

import sys


def import_presidio() -> None:
    hidden = [name for name in ("torch", "transformers") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # `import torch` raises ImportError, which presidio and thinc take as "absent"
    try:
        import presidio_analyzer  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]

