"""The short table printed at the end of `curate run`.

It must fit an 80-column terminal: the numbers never wrap (they are what the table is for), a long reason folds
onto a second line instead, and the run folder goes in the caption, where it may wrap."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table


def print_summary(manifest: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=None if Console().is_terminal else 110)
    n_in = manifest["documents_in"]
    t = Table(title=f"curate: {manifest.get('pipeline', '')}", caption=f"run folder: {manifest['run_dir']}",
              box=box.SIMPLE_HEAD, caption_justify="left", pad_edge=False)
    t.add_column("", style="bold", overflow="fold", ratio=1)
    for name in ("documents", "%", "MB"):
        t.add_column(name, justify="right", no_wrap=True)
    t.add_row("in", f"{n_in:,}", "100.0", f"{manifest['bytes_in'] / 1e6:,.2f}")
    t.add_row("kept", f"{manifest['documents_kept']:,}", f"{100 * manifest['documents_kept'] / max(n_in, 1):.1f}",
              f"{manifest['bytes_kept'] / 1e6:,.2f}")
    if manifest["removed"]:
        t.add_row("removed, by reason:", "", "", "")
    for reason, n in manifest["removed"].items():
        t.add_row(f"  {reason}", f"{n:,}", f"{100 * n / max(n_in, 1):.1f}",
                  f"{manifest.get('removed_bytes', {}).get(reason, 0) / 1e6:,.2f}", style="")
    console.print(t)
