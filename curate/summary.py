"""The short table printed at the end of `curate run`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(manifest: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=None if Console().is_terminal else 110)
    n_in = manifest["documents_in"]
    t = Table(title=f"curate: {manifest.get('pipeline', '')} -> {manifest['run_dir']}", show_lines=False)
    t.add_column("", style="bold", no_wrap=True)
    t.add_column("documents", justify="right")
    t.add_column("%", justify="right")
    t.add_column("MB", justify="right")
    t.add_row("in", f"{n_in:,}", "100.0", f"{manifest['bytes_in'] / 1e6:,.2f}")
    t.add_row("kept", f"{manifest['documents_kept']:,}", f"{100 * manifest['documents_kept'] / max(n_in, 1):.1f}",
              f"{manifest['bytes_kept'] / 1e6:,.2f}")
    for reason, n in manifest["removed"].items():
        t.add_row(f"  removed {reason}", f"{n:,}", f"{100 * n / max(n_in, 1):.1f}",
                  f"{manifest.get('removed_bytes', {}).get(reason, 0) / 1e6:,.2f}")
    console.print(t)
