from curate.writers.sink import ShardSink, shard_schema

__all__ = ["ShardSink", "shard_schema"]
