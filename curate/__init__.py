"""curate: streaming curation of crawled text into accounted Parquet shards.

The pipeline runs on datatrove: every stage is a datatrove `PipelineStep`, executed by datatrove's executors.
This package adds what datatrove leaves out: a validated YAML front end, readers that never lose a bad record,
per-document license provenance, and an accounting law (every input document ends kept or removed with a reason).
"""

__version__ = "0.1.0"
