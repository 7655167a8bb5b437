"""Model-based quality scores: a fastText classifier (DCLM) or a regression head on a local encoder's embeddings
(FineWeb-Edu), their training (`curate train-classifier --task quality`), and reading the texts they learn from.

* fastText: trained on documents to keep (curated references: a run's kept shards, documentation, an instruction
  set) against documents to tell apart (a random sample of the crawl being filtered), labels `hq` / `lq`; the score
  is the probability of `hq`. Fast, CPU-only, no torch.
* embedding: any local encoder checkpoint (a folder that `transformers.AutoModel` loads, never downloaded) embeds
  each document (mean of the last hidden states, or the first token); a ridge regression head is fitted on the
  embeddings to the targets (1 / 0 for positive / negative sources, or numeric labels such as FineWeb-Edu's 0-5
  educational scores). The model folder holds the head (`quality_head.json`) and names the encoder. torch and
  transformers are imported only here, only for this backend: curation runs without them.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Iterable, Iterator, Sequence

import numpy as np

HEAD_FILE = "quality_head.json"
POSITIVE, NEGATIVE = "hq", "lq"


# -- texts ----------------------------------------------------------------------------------------------------------
def read_texts(path: str, text_field: str = "text") -> Iterator[tuple[str, dict]]:
    """(text, record) of a JSONL file (.gz too), a Parquet file, or a folder of Parquet shards (a run's data/ or the
    run folder itself). A line that is not a JSON object with a string `text_field` is an error naming the line."""
    if os.path.isdir(path):
        data = os.path.join(path, "data")
        files = sorted(glob.glob(os.path.join(data if os.path.isdir(data) else path, "**", "*.parquet"),
                                 recursive=True))
        if not files:
            raise ValueError(f"{path}: no Parquet shards in it")
        for file in files:
            yield from read_texts(file, text_field)
        return
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=1024):  # not the whole shard
            for n, rec in enumerate(batch.to_pylist(), 1):
                if not isinstance(rec.get(text_field), str):
                    raise ValueError(f"{path}: record {n} has no string {text_field!r}")
                yield rec[text_field], rec
        return
    from curate.jsonl_io import read_records

    for rec in read_records(path):
        where = f"{path}:{rec.line}" if rec.line > 0 else path
        if rec.error:
            raise ValueError(f"{where}: {rec.error} ({rec.detail})")
        if not isinstance(rec.data, dict) or not isinstance(rec.data.get(text_field), str):
            raise ValueError(f"{where}: needs a JSON object with a string {text_field!r}")
        yield rec.data[text_field], rec.data


def labelled_sources(positives: Sequence[str], negatives: Sequence[str], text_field: str = "text",
                     max_chars: int = 20_000) -> Iterator[tuple[str, str]]:
    """(text, hq|lq) from the positive and negative sources, each text cut to `max_chars`."""
    for paths, label in ((positives, POSITIVE), (negatives, NEGATIVE)):
        for path in paths:
            for text, _ in read_texts(path, text_field):
                yield text[:max_chars], label


# -- fastText -------------------------------------------------------------------------------------------------------
class FastTextScorer:
    """P(label) of a supervised fastText model, on the text as it was trained (NFKC, lower case, one line)."""

    def __init__(self, model_path: str, label: str = POSITIVE, max_chars: int = 20_000):
        from curate.langid import load_fasttext

        if not os.path.isfile(model_path):
            raise FileNotFoundError(f"quality model {model_path} not found")
        self.model = load_fasttext(os.path.abspath(model_path))
        labels = [x.removeprefix("__label__") for x in self.model.get_labels()]
        if label not in labels:
            raise ValueError(f"{model_path} has labels {labels}; no {label!r} to score")
        self.label, self.max_chars = f"__label__{label}", max_chars

    def score(self, texts: Sequence[str]) -> np.ndarray:
        from curate.scrub.toxicity import preprocess

        if not texts:
            return np.zeros(0)
        labels, probs = self.model.predict([preprocess(t[: self.max_chars]) for t in texts], k=-1, threshold=0.0)
        return np.array([float(dict(zip(ls, ps)).get(self.label, 0.0)) for ls, ps in zip(labels, probs)])


def train_fasttext_quality(records: Iterable[tuple[str, str]], output: str, **kwargs) -> dict:
    """A fastText quality classifier from (text, hq|lq) pairs, with the toxicity step's trainer. A document is one
    training line, so there are few, long examples: the learning rate defaults to 1.0 (0.25 barely moves a model
    in 25 epochs over a few hundred documents)."""
    from curate.scrub.toxicity import train_fasttext

    return train_fasttext(records, output, **({"lr": 1.0} | kwargs))


# -- embeddings + regression head ------------------------------------------------------------------------------------
class Encoder:
    """A local encoder checkpoint (never downloaded): texts -> one embedding each."""

    def __init__(self, path: str, pooling: str = "mean", max_tokens: int = 512, batch_size: int = 16):
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as e:
            raise ImportError(f"the embedding backend needs torch and transformers ({e}); install them with "
                              "`pip install 'curate-toolkit[train]'` (the fasttext backend needs neither)") from None

        if not os.path.isdir(path):
            raise FileNotFoundError(f"encoder checkpoint {path} is not a folder")
        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval()
        positions = getattr(self.model.config, "max_position_embeddings", None) or max_tokens
        self.pooling, self.max_tokens, self.batch_size = pooling, min(max_tokens, positions), batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        with self.torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(list(texts[i:i + self.batch_size]), padding=True, truncation=True,
                                       max_length=self.max_tokens, return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out.append(pooled.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.model.config.hidden_size))


class EmbeddingScorer:
    """A regression head (weights, bias) on an encoder's embeddings, from a folder `train_embedding_head` wrote."""

    def __init__(self, model_dir: str, batch_size: int = 16):
        path = os.path.join(model_dir, HEAD_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{model_dir} holds no {HEAD_FILE} (train it with `curate train-classifier "
                                    "--task quality --encoder DIR`)")
        with open(path, encoding="utf-8") as f:
            head = json.load(f)
        encoder = head["encoder"] if os.path.isabs(head["encoder"]) else os.path.join(model_dir, head["encoder"])
        self.encoder = Encoder(encoder, head["pooling"], head["max_tokens"], batch_size)
        self.weights, self.bias = np.asarray(head["weights"], dtype=np.float64), float(head["bias"])
        self.max_chars = head.get("max_chars", 20_000)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.encoder.embed([t[: self.max_chars] for t in texts]).astype(np.float64) @ self.weights + self.bias


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """Least squares with an L2 penalty on centred data: the regression head (closed form, no torch)."""
    x_mean, y_mean = x.mean(0), y.mean()
    xc = x - x_mean
    weights = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - y_mean))
    return weights, float(y_mean - x_mean @ weights)


def train_embedding_head(records: Iterable[tuple[str, float]], encoder: str, output_dir: str, *,
                         pooling: str = "mean", max_tokens: int = 512, alpha: float = 1.0,
                         max_chars: int = 20_000, batch_size: int = 16) -> dict:
    """Fit a regression head on the encoder's embeddings of the texts to their targets; write `output_dir`."""
    texts, targets = [], []
    for text, target in records:
        texts.append(text[:max_chars])
        targets.append(float(target))
    if len(set(targets)) < 2:
        raise ValueError(f"a quality head needs at least two different targets; got {sorted(set(targets))}")
    enc = Encoder(encoder, pooling, max_tokens, batch_size)
    x, y = enc.embed(texts).astype(np.float64), np.asarray(targets)
    weights, bias = fit_ridge(x, y, alpha)
    fitted = x @ weights + bias
    r2 = 1 - float(((y - fitted) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12))
    os.makedirs(output_dir, exist_ok=True)
    head = {"encoder": os.path.abspath(encoder), "pooling": pooling, "max_tokens": max_tokens, "max_chars": max_chars,
            "alpha": alpha, "weights": weights.tolist(), "bias": bias,
            "training": {"examples": len(y), "targets": {str(k): int(v) for k, v in
                                                         zip(*np.unique(y, return_counts=True))}, "r2": round(r2, 4)}}
    with open(os.path.join(output_dir, HEAD_FILE), "w", encoding="utf-8") as f:
        json.dump(head, f)
    return head["training"]


def train_quality_command(labelled: str | None, positives: Sequence[str], negatives: Sequence[str], output: str,
                          encoder: str | None, text_field: str, label_field: str, fasttext_options: dict) -> None:
    """`curate train-classifier --task quality`: fastText from positive/negative sources (and/or LABELED.jsonl with
    hq/lq or numeric labels), or a regression head on `encoder`'s embeddings."""
    import click

    if not labelled and not (positives and negatives):
        raise click.UsageError("--task quality needs --positive and --negative sources, or LABELED.jsonl")

    def records() -> Iterator[tuple[str, str]]:
        yield from labelled_sources(positives, negatives, text_field)
        if labelled:
            for text, rec in read_texts(labelled, text_field):
                if rec.get(label_field) is None:
                    raise ValueError(f"{labelled}: a record has no {label_field!r}")
                yield text, str(rec[label_field])

    try:
        if encoder:
            targets = {POSITIVE: 1.0, NEGATIVE: 0.0}
            info = train_embedding_head(((t, targets.get(lab, lab)) for t, lab in records()), encoder, output)
            click.echo(f"fitted a regression head on {info['examples']} embeddings of {encoder} (targets "
                       f"{info['targets']}, training R2 {info['r2']}) -> {output}")
        else:  # (a predict-only fastText install raises FasttextInstallError, a RuntimeError)
            info = train_fasttext_quality(records(), output, **fasttext_options)
            labels = ", ".join(f"{k}: {v}" for k, v in sorted(info["labels"].items()))
            click.echo(f"trained on {info['examples']} documents ({labels}) -> {output}")
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        raise click.ClickException(str(e)) from None


def scorer(backend: str, model_path: str, label: str = POSITIVE, max_chars: int = 20_000, batch_size: int = 16):
    if backend == "fasttext":
        return FastTextScorer(model_path, label, max_chars)
    return EmbeddingScorer(model_path, batch_size)
