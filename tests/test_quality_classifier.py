"""`quality_classifier`: fastText (DCLM) and a regression head on a local encoder (FineWeb-Edu), trained here on
the demo corpus's articles against generated junk; scores stored and re-decidable; curate runs without torch."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import REPO, write_pipeline
from curate.cli import cli
from curate.retune import retune
from curate.runner import run
from fixtures.junk import junk_pages


def _articles() -> list[str]:
    with gzip.open(REPO / "pipelines" / "demo_data" / "web_en.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line).get("text") for line in f]
    return [t for t in texts if isinstance(t, str) and len(t) > 600]


def _write(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Train (positives, negatives) and held-out (good, junk) JSONL files."""
    tmp = tmp_path_factory.mktemp("quality")
    good = _articles()
    junk = [p["text"] for p in junk_pages("en", per_kind=12, seed=1)]
    held_junk = [p["text"] for p in junk_pages("en", per_kind=4, seed=2)]
    half = len(good) // 2
    return {"positive": _write(tmp / "pos.jsonl", good[:half]), "negative": _write(tmp / "neg.jsonl", junk),
            "good": _write(tmp / "good.jsonl", good[half:]), "junk": _write(tmp / "junk.jsonl", held_junk),
            "tmp": tmp}


@pytest.fixture(scope="module")
def fasttext_model(sources) -> Path:
    model = sources["tmp"] / "quality.bin"
    result = CliRunner().invoke(cli, ["train-classifier", "--task", "quality", "--positive", str(sources["positive"]),
                                      "--negative", str(sources["negative"]), "-o", str(model)])
    assert result.exit_code == 0, result.output
    assert "hq:" in result.output and "lq:" in result.output
    return model


PIPELINE = """
name: qc
inputs:
  - {{name: good, paths: [{good}]}}
  - {{name: junk, paths: [{junk}]}}
steps:
  - {{type: quality_classifier, model_path: {model}, {keep}}}
output: {{dir: {out}}}
"""


def _run(tmp: Path, name: str, sources, model: Path, keep: str) -> Path:
    body = PIPELINE.format(good=sources["good"], junk=sources["junk"], model=model, keep=keep, out=tmp / name)
    state, manifest = run(str(write_pipeline(tmp / f"{name}.yaml", body)), progress=False)
    assert manifest["documents_in"] == manifest["documents_kept"] + sum(manifest["removed"].values())
    return tmp / name


def _kept_by_source(run_dir: Path) -> dict[str, int]:
    return dict(pl.read_parquet(run_dir / "data" / "*.parquet").group_by("source").len().iter_rows())


def test_fasttext_classifier_keeps_articles_and_removes_unseen_junk(sources, fasttext_model, tmp_path):
    out = _run(tmp_path, "threshold", sources, fasttext_model, "threshold: 0.5")
    kept = _kept_by_source(out)
    n_good = sum(1 for _ in open(sources["good"])), sum(1 for _ in open(sources["junk"]))
    assert kept.get("good", 0) >= 0.9 * n_good[0]
    assert kept.get("junk", 0) <= 0.2 * n_good[1]
    removed = pl.read_parquet(out / "removed" / "**" / "*.parquet")
    assert set(removed["removed_reason"]) == {"quality_classifier:low_quality"}
    scores = pl.concat([pl.read_parquet(out / "data" / "*.parquet"), removed], how="diagonal")
    assert scores["quality_classifier_score"].null_count() == 0
    assert scores.filter(pl.col("source") == "good")["quality_classifier_score"].mean() > \
        scores.filter(pl.col("source") == "junk")["quality_classifier_score"].mean() + 0.5


def test_keep_top_fraction_reads_its_threshold_from_a_reference_sample(sources, fasttext_model, tmp_path):
    reference = _write(tmp_path / "reference.jsonl", [json.loads(line)["text"] for path in ("good", "junk")
                                                      for line in open(sources[path])])
    out = _run(tmp_path, "top", sources, fasttext_model, f"keep_top_fraction: 0.25, reference: {reference}")
    m = json.loads((out / "manifest.json").read_text())
    assert 0.15 * m["documents_in"] <= m["documents_kept"] <= 0.35 * m["documents_in"]
    assert set(_kept_by_source(out)) == {"good"}  # the top quarter is articles
    # a retune moves the cut without scoring anything again
    wider = retune(str(out), ["quality_classifier.keep_top_fraction=0.6"], output=str(tmp_path / "top60"))
    assert wider.manifest["documents_kept"] > m["documents_kept"]
    by_threshold = retune(str(out), ["quality_classifier.keep_top_fraction=null", "quality_classifier.threshold=0.5"])
    assert by_threshold.manifest["documents_kept"] > m["documents_kept"]


def test_keep_top_fraction_without_reference_is_a_config_error(fasttext_model, tmp_path):
    from curate.config import ConfigError, load_pipeline

    path = write_pipeline(tmp_path / "p.yaml", f"name: x\ninputs: [{{name: a, paths: [x.jsonl]}}]\nsteps:\n"
                          f"  - {{type: quality_classifier, model_path: {fasttext_model}, keep_top_fraction: 0.1}}\n")
    with pytest.raises(ConfigError, match="reference"):
        load_pipeline(str(path))


def test_curate_runs_the_fasttext_backend_without_torch(fasttext_model, sources):
    code = f"""
import sys
sys.modules["torch"] = None          # import torch now raises ImportError
sys.modules["transformers"] = None
from datatrove.data import Document
from curate.steps.quality_classifier import QualityClassifier, QualityClassifierParams
step = QualityClassifier(QualityClassifierParams(model_path={str(fasttext_model)!r}), ctx=None)
docs = [Document(text=open({str(sources['good'])!r}).readline(), id="a")]
print(step.process_batch(docs), round(docs[0].metadata["quality_classifier_score"], 3))
try:
    QualityClassifier(QualityClassifierParams(backend="embedding", model_path="/nonexistent"), ctx=None)
except (ImportError, FileNotFoundError) as e:
    print(type(e).__name__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("[None]")


def _tiny_encoder(path: Path, texts: list[str]) -> Path:
    """A 2-layer BERT with a WordPiece vocabulary learned here: nothing is downloaded."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=800, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    fast.save_pretrained(path)
    import torch

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(fast), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(path)
    return path


def test_embedding_head_on_a_local_encoder(sources, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    texts = [json.loads(line)["text"] for p in ("positive", "negative") for line in open(sources[p])]
    encoder = _tiny_encoder(tmp_path / "encoder", texts)
    model_dir = tmp_path / "edu-head"
    result = CliRunner().invoke(cli, ["train-classifier", "--task", "quality", "--positive", str(sources["positive"]),
                                      "--negative", str(sources["negative"]), "--encoder", str(encoder),
                                      "-o", str(model_dir)])
    assert result.exit_code == 0, result.output
    head = json.loads((model_dir / "quality_head.json").read_text())
    assert head["encoder"] == str(encoder) and len(head["weights"]) == 32 and head["training"]["r2"] > 0.5
    out = _run(tmp_path, "embedding", sources, model_dir, "backend: embedding, threshold: 0.5")
    kept = _kept_by_source(out)
    n_good, n_junk = sum(1 for _ in open(sources["good"])), sum(1 for _ in open(sources["junk"]))
    # a random 2-layer encoder still separates articles from junk through its token statistics
    assert kept.get("good", 0) / n_good > kept.get("junk", 0) / n_junk + 0.3
    assert pl.read_parquet(out / "data" / "*.parquet")["quality_classifier_score"].null_count() == 0
