"""The columns every dedup step adds (see docs/formats.md)."""

import pyarrow as pa

DUPLICATE_OF, CLUSTER_ID, CLUSTER_SIZE, SIMILARITY = "duplicate_of", "cluster_id", "cluster_size", "similarity"
DEDUP_COLUMNS: dict[str, pa.DataType] = {DUPLICATE_OF: pa.string(), CLUSTER_ID: pa.string(),
                                         CLUSTER_SIZE: pa.int64(), SIMILARITY: pa.float64()}
