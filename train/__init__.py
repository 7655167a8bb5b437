"""Train tokenizers and T5 / Llama-style models on a `curate` run folder.

`train` reads the run folder as files (docs/formats.md); it never imports `curate`.
Pipeline: tokenizer -> token shards -> pretrain -> finetune (full or PEFT) -> reward / dpo / grpo -> export ->
eval; self-instruct writes synthetic instruction data with any local model.
"""

__version__ = "0.1.0"
