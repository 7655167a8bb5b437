"""`curate dedup`: exact and near-duplicate removal on one JSONL file."""

from __future__ import annotations

import click


@click.command("dedup")
@click.argument("input_path", metavar="IN.jsonl", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--output", "-o", default="-", show_default=True, metavar="OUT.jsonl", help="Kept records ('-': stdout).")
@click.option("--removed", metavar="REMOVED.jsonl",
              help="Removed records, with duplicate_of, cluster_id, similarity; and invalid lines, with the reason.")
@click.option("--threshold", type=float, default=0.5, show_default=True, help="MinHash Jaccard threshold.")
@click.option("--ngram", type=int, default=3, show_default=True, help="Words per shingle (Hangul/CJK: characters).")
@click.option("--num-perm", type=int, default=128, show_default=True, help="MinHash permutations.")
@click.option("--text-field", default="text", show_default=True)
@click.option("--no-exact", is_flag=True, help="Skip the exact (normalised text) pass.")
def dedup_cmd(input_path, output, removed, threshold, ngram, num_perm, text_field, no_exact):
    """Remove exact and near duplicates from the `text` field of a JSONL file ('-' for stdin), keeping all fields."""
    from curate.dedup.jsonl import run_cli

    try:
        stats = run_cli(input_path, output, removed, threshold=threshold, ngram=ngram, num_perm=num_perm,
                        text_field=text_field, exact=not no_exact)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{stats['documents']:,} records, {stats['kept']:,} kept, {stats['removed']:,} removed"
               + (f", {stats['invalid']:,} invalid lines" + (f" (in {removed})" if removed else " (not written: "
                  "pass --removed to keep them)") if stats["invalid"] else ""), err=True)
