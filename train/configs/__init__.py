"""Configs shipped with `train` (package data): name them by bare name, e.g. `train pretrain pretrain_llama_tiny`."""
