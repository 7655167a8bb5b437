"""`curate scrub` and `curate train-classifier` (added to the `curate` command group in curate/cli.py)."""

from __future__ import annotations

import json
import sys
from collections import Counter

import click


def _open_in(path: str):
    if path == "-":
        return sys.stdin
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


@click.command("scrub")
@click.argument("input_path", metavar="IN.jsonl", default="-")
@click.option("-o", "--output", "output_path", metavar="OUT.jsonl", default="-", show_default=True,
              help="Output JSONL ('-': stdout).")
@click.option("--field", default="text", show_default=True, help="The field of each record to scrub.")
@click.option("--all-fields", is_flag=True, help="Scrub every string value of each record, not only FIELD.")
@click.option("--rejects", metavar="REJECTS.jsonl",
              help="Lines that are not JSON objects, with their line number and reason (their content scrubbed).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the totals to stderr.")
def scrub_cmd(input_path, output_path, field, all_fields, rejects, quiet):
    """Scrub PII and secrets from the FIELD of each JSON line of IN.jsonl ('-': stdin) with the PII step's default
    settings; other fields are kept. Invalid lines are counted (and written to --rejects), never fatal. Totals per
    entity type (never values) go to stderr; the output file appears only when complete."""
    from curate.jsonl_io import AtomicOutput, read_records
    from curate.scrub.pii import PiiScrubber
    from curate.scrub.fields import scrub_values

    scrubber = PiiScrubber()
    totals: Counter = Counter()
    docs = invalid = 0

    def scrub(value: str) -> str:
        out, counts = scrubber.scrub(value)
        totals.update(counts)
        return out

    with AtomicOutput(output_path) as dst, AtomicOutput(rejects) as rej:
        for rec in read_records(input_path):
            if rec.error:
                invalid += 1
                if rej is not None:
                    raw = scrub((rec.raw or b"").decode("utf-8", "backslashreplace"))
                    rej.write(json.dumps({"line": rec.line, "reason": f"invalid:{rec.error}", "detail": rec.detail,
                                          "raw": raw}, ensure_ascii=False) + "\n")
                continue
            data = rec.data
            if all_fields:
                data = scrub_values(data, scrub)
            elif isinstance(data.get(field), str):
                data[field] = scrub(data[field])
            docs += 1
            dst.write(json.dumps(data, ensure_ascii=False) + "\n")
    if not quiet:
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())) or "none found"
        click.echo(f"scrubbed {docs} records; PII replaced: {summary}", err=True)
        if invalid:
            click.echo(f"{invalid} invalid lines " + (f"written to {rejects}" if rejects else
                                                     "skipped (pass --rejects to keep them)"), err=True)
        if scrubber.ner_note and scrubber.nlp is None:
            click.echo(f"note: {scrubber.ner_note}", err=True)


def _labelled(path: str, text_field: str, label_field: str):
    with _open_in(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            text, label = rec.get(text_field), rec.get(label_field)
            if not isinstance(text, str) or label is None:
                raise click.ClickException(f"{path}:{n}: needs a string {text_field!r} and a {label_field!r}")
            for lab in label if isinstance(label, list) else [label]:
                yield text, str(lab).lower() if isinstance(lab, bool) else str(lab)


@click.command("train-classifier")
@click.argument("labelled", metavar="LABELED.jsonl", required=False)
@click.option("--task", type=click.Choice(["toxicity", "quality"]), default="toxicity", show_default=True,
              help="quality: a model for the quality_classifier step (see --positive, --negative, --encoder).")
@click.option("--positive", multiple=True, metavar="PATH", help="quality: documents to keep (JSONL, Parquet, a run).")
@click.option("--negative", multiple=True, metavar="PATH", help="quality: documents to tell apart (e.g. raw crawl).")
@click.option("--encoder", metavar="DIR", help="quality: fit a regression head on this local encoder's embeddings.")
@click.option("--kind", type=click.Choice(["fasttext", "char-ngram"]), default="fasttext", show_default=True,
              help="toxicity: char-ngram is TF-IDF over 1-4 character n-grams + logistic regression, the kind of "
                   "the shipped Korean default (a .json.gz for `backend: char_ngram`).")
@click.option("--flag-label", default="toxic", show_default=True,
              help="char-ngram: the label to detect (every other label is its opposite).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="char-ngram: the probability saved with the model at which a text is flagged.")
@click.option("-o", "--output", required=True, metavar="MODEL",
              help="Where to write the model (fastText .bin/.ftz; char-ngram .json.gz).")
@click.option("--text-field", default="text", show_default=True)
@click.option("--label-field", default="label", show_default=True)
@click.option("--epoch", type=int, help="Training epochs [default: 25].")
@click.option("--lr", type=float, help="Learning rate [default: 0.25; --task quality: 1.0, one update per document].")
@click.option("--word-ngrams", default=2, show_default=True)
@click.option("--dim", default=50, show_default=True)
@click.option("--minn", default=2, show_default=True, help="Shortest character n-gram (0: none).")
@click.option("--maxn", default=4, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--quantize", is_flag=True, help="Quantize the model (write a small .ftz).")
def train_classifier_cmd(labelled, output, text_field, label_field, epoch, lr, word_ngrams, dim, minn, maxn, seed,
                         quantize, task, positive, negative, encoder, kind, flag_label, threshold):
    """Train a classifier (e.g. toxic / non_toxic) on LABELED.jsonl records with a text and a label (a string,
    number, bool or list of them); the `toxicity` step loads the model (backend: fasttext, or char_ngram with
    --kind char-ngram). fastText training is single-threaded with a fixed seed (fastText itself is not bit-for-bit
    repeatable across runs); char-ngram training is deterministic."""
    from curate.langid import FasttextInstallError
    from curate.scrub.toxicity import train_fasttext

    fasttext_options = {k: v for k, v in dict(epoch=epoch, lr=lr, word_ngrams=word_ngrams, dim=dim, minn=minn,
                                                  maxn=maxn, seed=seed, quantize=quantize).items() if v is not None}
    if task == "quality":
        if kind != "fasttext":
            raise click.UsageError("--task quality trains fastText (or, with --encoder, a regression head)")
        from curate.quality_model import train_quality_command

        return train_quality_command(labelled, positive, negative, output, encoder, text_field, label_field,
                                     fasttext_options)
    if labelled is None:
        raise click.UsageError("give LABELED.jsonl")
    if kind == "char-ngram":
        from curate.scrub.char_ngram import train_char_ngram

        if not output.endswith(".json.gz"):
            raise click.UsageError("a char-ngram model is written as .json.gz")
        try:
            info = train_char_ngram(_labelled(labelled, text_field, label_field), output, positive=flag_label,
                                    threshold=threshold)
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        labels = ", ".join(f"{k}: {v}" for k, v in sorted(info["labels"].items()))
        click.echo(f"trained on {info['examples']} examples ({labels}) -> {output}")
        return
    try:
        info = train_fasttext(_labelled(labelled, text_field, label_field), output, **fasttext_options)
    except (FasttextInstallError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    labels = ", ".join(f"{k}: {v}" for k, v in sorted(info["labels"].items()))
    click.echo(f"trained on {info['examples']} examples ({labels}) -> {output}")
