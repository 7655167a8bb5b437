"""Report sections written by the tasks of a step: each task saves its part, and the merge of every part saved so far
becomes RUN/logs/report_sections/<step>.json (under a file lock, so the last task to finish leaves the complete
section). One mechanism for every step that contributes a section (dedup clusters, decontamination, PII, toxicity,
HTML extraction)."""

from __future__ import annotations

import fcntl
import glob
import os
from typing import Any, Callable

from curate.util import atomic_write_json, read_json

Merge = Callable[[list[dict[str, Any]]], dict[str, Any]]  # the parts of all tasks so far -> the section


def write_totals_section(run_dir: str, step: str, rank: int, data: dict[str, Any],
                         render: Callable[[dict[str, Any]], tuple[str, str]]) -> None:
    """A section made of counts: each task saves its own, their sum is rendered by `render(totals) -> (title,
    markdown)` (numbers are added up; a text keeps the first task's)."""

    def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
        totals: dict[str, Any] = {}
        for part in parts:
            for k, v in part.items():
                if isinstance(v, (int, float)):
                    totals[k] = totals.get(k, 0) + v
                elif isinstance(v, str):
                    totals.setdefault(k, v)
        title, markdown = render(totals)
        return {"title": title, "markdown": markdown, "data": totals}

    write_section_part(run_dir, step, rank, data, merge)


def write_section_part(run_dir: str, step: str, rank: int, part: dict[str, Any], merge: Merge) -> None:
    folder = os.path.join(run_dir, "logs", "section_parts", step)
    os.makedirs(folder, exist_ok=True)
    atomic_write_json(os.path.join(folder, f"{rank:05d}.json"), part)
    with open(os.path.join(folder, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        parts = [read_json(p) for p in sorted(glob.glob(os.path.join(folder, "[0-9]*.json")))]
        atomic_write_json(os.path.join(run_dir, "logs", "report_sections", f"{step}.json"), merge(parts))
