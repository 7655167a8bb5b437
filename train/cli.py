"""`train` command line: tokenizer, tokenize, pretrain, finetune, reward, dpo, grpo, self-instruct, export, eval,
generate.

Configs are YAML; every key can be overridden after the config path:
    train pretrain pretrain_t5_tiny --set optim.lr=1e-3 --train.max_steps 50 --lr 1e-3
A config is a YAML path or the bare name of a config shipped in train/configs/ (`train configs` lists them).
"""

from __future__ import annotations

import json
import os
import sys

import click

from .config import CONFIGS_DIR, load_config, resolve_config, shipped_configs

_PASS = dict(ignore_unknown_options=True, allow_extra_args=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Train tokenizers and models on a curate run folder (see docs/train.md)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


@main.command("tokenizer")
@click.option("--data", "run_dir", required=True, type=click.Path(exists=True), help="curate run folder")
@click.option("--out", required=True, type=click.Path(), help="output tokenizer directory")
@click.option("--type", "kind", type=click.Choice(["bpe", "unigram"]), default="bpe", show_default=True)
@click.option("--vocab-size", default=32000, show_default=True, help="total, including bytes and sentinels")
@click.option("--sentinels", default=100, show_default=True, help="T5 <extra_id_N> tokens (0 for decoders)")
@click.option("--max-docs", type=int, default=None, help="train on at most this many documents")
@click.option("--heldout", default=0.01, show_default=True, help="fraction of documents held out (for stats)")
def tokenizer_cmd(run_dir, out, kind, vocab_size, sentinels, max_docs, heldout):
    """Train a byte-fallback BPE/Unigram tokenizer on RUN/data/*.parquet (streaming)."""
    from .tokenizer import train_tokenizer

    stats = train_tokenizer(run_dir, out, kind=kind, vocab_size=vocab_size, sentinels=sentinels,
                            max_docs=max_docs, heldout_fraction=heldout)
    click.echo(json.dumps(stats, indent=2))
    for lang, cpt in stats["chars_per_token"].items():
        click.echo(f"{lang}: {cpt:.2f} characters per token (held-out documents)")


@main.command("configs")
def configs_cmd():
    """List the configs shipped with the package (usable by bare name: `train pretrain pretrain_llama_tiny`)."""
    for name in shipped_configs():
        first = (CONFIGS_DIR / f"{name}.yaml").read_text().splitlines()[:1]
        note = first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""
        click.echo(f"{name:24s} {note}")
    click.echo(f"(in {CONFIGS_DIR})")


@main.command("demo-data")
@click.argument("out_dir", type=click.Path())
def demo_data_cmd(out_dir):
    """Write the demo data into OUT_DIR: SFT (alpaca.jsonl), multiple choice (hellaswag.jsonl + an lm-eval task
    YAML in lm_eval/), preference pairs (preferences.jsonl), GRPO prompts (prompts.jsonl) and Self-Instruct seed
    tasks (seed_tasks.jsonl)."""
    from .demo_data import write_demo_data

    for kind, path in write_demo_data(out_dir).items():
        n = sum(1 for line in open(path, encoding="utf-8") if line.strip()) if path.suffix == ".jsonl" else 1
        click.echo(f"wrote {path} ({kind}, {n} {'records' if path.suffix == '.jsonl' else 'file'})")


@main.command("tokenize")
@click.option("--data", "run_dir", required=True, type=click.Path(exists=True), help="curate run folder")
@click.option("--tokenizer", "tok_dir", required=True, type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path(), help="token shard directory")
@click.option("--heldout", default=0.01, show_default=True, help="fraction of documents in the val split")
@click.option("--force", is_flag=True, help="rewrite even if identical shards exist")
def tokenize_cmd(run_dir, tok_dir, out, heldout, force):
    """Pre-tokenize the run once into memory-mappable token shards."""
    from .shards import tokenize_run

    meta = tokenize_run(run_dir, tok_dir, out, heldout_fraction=heldout, force=force)
    state = "reused existing" if meta.get("reused") else "wrote"
    click.echo(f"{state} {out}: " + ", ".join(f"{s} {v['tokens']:,} tokens / {v['documents']:,} docs"
                                               for s, v in meta["splits"].items()))


def _resume_opt(f):
    return click.option("--resume", "resume", is_flag=False, flag_value="latest", default=None,
                        help="resume from the latest checkpoint in output_dir, or from a given checkpoint dir")(f)


# The config options every training command shows in --help; any other key is `--set key=value` or `--key value`.
_CONFIG_HELP = {
    "tokens": "token directory from `train tokenize` (data.tokens)",
    "checkpoint": "local model directory to start from (model.checkpoint)",
    "output": "output directory (output_dir)",
    "steps": "optimizer steps (train.max_steps)",
    "lr": "peak learning rate (optim.lr)",
    "batch-size": "per-device micro-batch (train.batch_size)",
    "grad-accum": "micro-batches per optimizer step (train.grad_accum)",
    "seed": "seed of weights, data order and noise (seed)",
}
CONFIG_EPILOG = ("CONFIG is a YAML path or the bare name of a shipped config (`train configs`); without it the "
                 "command's defaults apply. Any key: --set key=value (repeatable; values are YAML) or --key value, "
                 "e.g. --set optim.betas=[0.9,0.95] --train.log_every 5. An unknown key is an error that suggests "
                 "the closest one.")


def config_command(name: str, help_text: str):
    """A training command: `[CONFIG] [--tokens ...] [--steps N] [--set key=value]... [--any.dotted.key value]`."""

    def wrap(f):
        f = click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[CONFIG] [--key VALUE]...")(f)
        f = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="set any config key")(f)
        for opt, text in reversed(_CONFIG_HELP.items()):
            f = click.option(f"--{opt}", f"opt_{opt.replace('-', '_')}", default=None, metavar="VALUE",
                             help=text)(f)
        f = _resume_opt(f)
        return main.command(name, context_settings=_PASS, help=help_text, epilog=CONFIG_EPILOG)(f)

    return wrap


def load_command_config(command: str, args: tuple[str, ...], sets: tuple[str, ...], options: dict) -> dict:
    from .config import ConfigError

    path, rest = _split_config(args)
    overrides = list(rest)
    for key, value in options.items():
        if key.startswith("opt_") and value is not None:
            overrides += [f"--{key[4:].replace('_', '-')}", str(value)]
    for s in sets:
        overrides += ["--set", s]
    try:
        return load_config(path, overrides, command=command)
    except ConfigError as e:
        raise click.UsageError(str(e))


def _split_config(args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """`[CONFIG] [overrides...]`: the config (a YAML path or a shipped config's bare name) is optional,
    everything else overrides it."""
    args = list(args)
    if args and not args[0].startswith("--"):
        try:
            return str(resolve_config(args[0])), args[1:]
        except FileNotFoundError as e:
            raise click.BadParameter(str(e), param_hint="CONFIG")
    return None, args


def _resume_value(resume):
    return True if resume == "latest" else resume


# The training commands: name -> (help, module, function). Each reads [CONFIG] + overrides for its command.
TRAINING_COMMANDS = {
    "pretrain": ("Pretrain with `objective: span-corruption | causal-lm` on token shards (or a weighted mixture, "
                 "data.mixture).", "pretrain", "pretrain"),
    "finetune": ("Supervised fine-tuning (full, lora, dora, ia3, prefix, prompt) on Alpaca or chat JSONL.",
                 "finetune", "finetune"),
    "reward": ("Pairwise reward model (Bradley-Terry) on {prompt, chosen, rejected} JSONL.", "preference",
               "train_reward"),
    "dpo": ("Direct preference optimisation on {prompt, chosen, rejected} JSONL (reference log-probs computed "
            "once).", "preference", "train_dpo"),
    "grpo": ("GRPO (online RL, trl) on {prompt, answer} JSONL with a rule-based reward or a reward model.", "grpo",
             "train_grpo"),
}


def _register(name: str, help_text: str, module: str, function: str) -> None:
    def run(args, resume, sets, **options):
        import importlib

        train_fn = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        train_fn(load_command_config(name, args, sets, options), resume=_resume_value(resume), log=click.echo)

    run.__name__ = f"{name}_cmd"
    config_command(name, help_text)(run)


for _name, (_help, _module, _function) in TRAINING_COMMANDS.items():
    _register(_name, _help, _module, _function)


@main.command("export")
@click.argument("adapter", type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path())
@click.option("--merge/--no-merge", default=True, show_default=True, help="fold the adapter into the base weights")
def export_cmd(adapter, out, merge):
    """Write a plain transformers model (adapter merged into its base) with its model card."""
    from .finetune import export

    click.echo(f"saved {export(adapter, out, merge=merge)}")


@main.command("eval")
@click.argument("model_dir", type=click.Path(exists=True))
@click.option("--tokens", type=click.Path(exists=True), help="token shard directory (perplexity)")
@click.option("--split", default="val", show_default=True)
@click.option("--seq-len", default=512, show_default=True)
@click.option("--max-batches", default=50, show_default=True)
@click.option("--document-attention/--no-document-attention", default=None,
              help="mask attention across documents in the perplexity windows (default: as the model was trained)")
@click.option("--mc", "mc_files", multiple=True, type=click.Path(exists=True), help="HellaSwag/MMLU-shaped JSONL")
@click.option("--shots", default=0, show_default=True)
@click.option("--fewshot-file", type=click.Path(exists=True), default=None)
@click.option("--limit", type=int, default=None)
@click.option("--lm-eval", "lm_eval_tasks", default=None, metavar="TASKS",
              help="comma-separated lm-evaluation-harness tasks (offline: local task YAMLs via --lm-eval-include)")
@click.option("--lm-eval-include", type=click.Path(exists=True), default=None, help="folder of lm-eval task YAMLs")
@click.option("--out", "out_json", type=click.Path(), default=None, help="also write results as JSON")
def eval_cmd(model_dir, tokens, split, seq_len, max_batches, document_attention, mc_files, shots, fewshot_file,
             limit, lm_eval_tasks, lm_eval_include, out_json):
    """Perplexity on a held-out shard, multiple-choice accuracy by log-likelihood, lm-evaluation-harness tasks."""
    from .evaluate import load_for_eval, multiple_choice, perplexity, run_lm_eval, trained_with_document_attention

    model, tok = load_for_eval(model_dir)
    results = {}
    if tokens:
        if document_attention is None:
            document_attention = trained_with_document_attention(model_dir)
        r = perplexity(model, tok, tokens, split=split, seq_len=seq_len, max_batches=max_batches,
                       document_attention=document_attention)
        results["perplexity"] = r
        click.echo(f"perplexity ({r['kind']}, {split}, {r['tokens']:,} tokens): {r['perplexity']:.3f}")
    for path in mc_files:
        r = multiple_choice(model, tok, path, shots=shots, fewshot_path=fewshot_file, limit=limit)
        results[r["task"]] = r
        click.echo(f"{r['task']} ({shots}-shot, n={r['n']}): acc {r['acc']:.3f}  acc_norm {r['acc_norm']:.3f}")
    if lm_eval_tasks:
        r = run_lm_eval(model_dir, lm_eval_tasks.split(","), include_path=lm_eval_include, shots=shots, limit=limit)
        results["lm_eval"] = r
        for task, metrics in r.items():
            click.echo(f"lm-eval {task}: " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    if not results:
        click.echo("nothing to evaluate: pass --tokens, --mc and/or --lm-eval", err=True)
        sys.exit(2)
    if out_json:
        with open(out_json, "w") as f:
            json.dump(results, f, indent=2)


@main.command("generate")
@click.argument("model_dir", type=click.Path(exists=True))
@click.option("--prompt", "prompts", multiple=True, help="a prompt (repeatable)")
@click.option("--file", "prompt_file", type=click.Path(exists=True), default=None,
              help="JSONL with `instruction` or `prompt` per line")
@click.option("--template", type=click.Choice(["alpaca", "chat", "raw"]), default="alpaca", show_default=True)
@click.option("--max-new-tokens", default=64, show_default=True)
@click.option("--temperature", default=0.0, show_default=True, help="0: greedy")
@click.option("--top-p", default=1.0, show_default=True)
@click.option("--seed", default=0, show_default=True)
def generate_cmd(model_dir, prompts, prompt_file, template, max_new_tokens, temperature, top_p, seed):
    """Sample from a saved model or adapter (one JSON line per prompt: prompt, completion)."""
    from .evaluate import load_for_eval
    from .generate import generate, render_prompt
    from .sft import read_jsonl

    texts = list(prompts) + [r.get("instruction") or r["prompt"] for r in (read_jsonl(prompt_file)
                                                                           if prompt_file else [])]
    if not texts:
        raise click.UsageError("pass --prompt TEXT or --file JSONL")
    model, tok = load_for_eval(model_dir)
    outs = generate(model, tok, [render_prompt(t, tok, template) for t in texts], max_new_tokens, temperature,
                    top_p, seed)
    for t, o in zip(texts, outs):
        click.echo(json.dumps({"prompt": t, "completion": o}, ensure_ascii=False))


@main.command("self-instruct")
@click.option("--generator", required=True, type=click.Path(exists=True), help="local model or adapter directory")
@click.option("--seed-tasks", required=True, type=click.Path(exists=True), help="seed_tasks.jsonl (or Alpaca JSONL)")
@click.option("--out", required=True, type=click.Path(), help="Alpaca JSONL to write (+ .stats.json)")
@click.option("--num-instructions", default=20, show_default=True)
@click.option("--max-new-tokens", default=48, show_default=True)
@click.option("--temperature", default=1.0, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--generator-name", default=None, help="the generator's name for the records (default: its path)")
@click.option("--generator-terms", default=None,
              help="its license or terms id, as license-registry knows them (default: from its model card)")
def self_instruct_cmd(generator, seed_tasks, out, num_instructions, max_new_tokens, temperature, seed,
                      generator_name, generator_terms):
    """Generate instruction data with a local model (Self-Instruct): ROUGE-L < 0.7 to every kept instruction."""
    from .self_instruct import self_instruct

    self_instruct(generator, seed_tasks, out, num_instructions=num_instructions, max_new_tokens=max_new_tokens,
                  temperature=temperature, seed=seed, generator_name=generator_name,
                  generator_terms=generator_terms, log=click.echo)


if __name__ == "__main__":
    main()
