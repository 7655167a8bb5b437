"""The layout of a run folder (docs/formats.md): where every part of a run lives."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class RunPaths:
    root: str

    def __post_init__(self):
        self.root = os.path.abspath(self.root)
        j = lambda *p: os.path.join(self.root, *p)  # noqa: E731
        self.manifest, self.run_json, self.lock = j("manifest.json"), j("logs", "run.json"), j(".curate-lock")
        self.data, self.removed = j("data"), j("removed")
        self.work, self.work_data, self.work_removed = j("work"), j("work", "data"), j("work", "removed")
        self.finalize_journal = j("work", "finalize.json")
        self.logs, self.accounting, self.progress = j("logs", "datatrove"), j("logs", "accounting"), j("logs", "progress")
        self.stage_logs = j("logs", "stages")
        self.index = j("index")

    def segment(self, k: int, *parts: str) -> str:
        return os.path.join(self.work, "segments", str(k), *parts)
