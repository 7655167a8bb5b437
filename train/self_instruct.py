"""`train self-instruct`: instruction data written by a local model (Self-Instruct, Wang et al. 2022; Alpaca).

1. Instructions: each round shows the generator `k` instructions from the pool (seed tasks first, then kept
   machine ones; the paper uses 6 + 2) as a numbered list and lets it continue the list.
2. Filters, each counted with its reason: empty or shorter than 3 / longer than 150 words, keywords a text model
   cannot act on (image, graph, file, ...), starting with punctuation, and ROUGE-L >= 0.7 against any instruction
   already in the pool (the paper's near-duplicate rule; words are Unicode \\w+ runs, so Korean counts too).
3. Responses: each kept instruction is answered by the generator with the SFT template.
The output is Alpaca JSONL; every record carries `generated_by: {name, terms}`, which `license-registry audit`
reads to apply the generator's terms (e.g. Llama 3.x naming, no-competing-model clauses of API providers).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

BLOCKED_WORDS = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                 "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram")
ROUGE_THRESHOLD = 0.7


class _Words:
    """rouge_score tokenizer: lower-cased Unicode word runs (its default keeps only [a-z0-9], i.e. no Korean)."""

    def tokenize(self, text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())


class InstructionFilter:
    """Keeps an instruction when it passes the paper's filters; `reasons` counts every drop."""

    def __init__(self, pool: list[str]):
        from rouge_score import rouge_scorer

        self.scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Words())
        self.pool = list(pool)
        self.reasons: dict[str, int] = {}

    def reason(self, instruction: str) -> str | None:
        words = instruction.split()
        if len(words) < 3:
            return "too_short"
        if len(words) > 150:
            return "too_long"
        low = instruction.lower()
        if any(re.search(rf"\b{re.escape(w)}\b", low) for w in BLOCKED_WORDS):
            return "blocked_word"
        if not instruction[0].isalnum():
            return "starts_with_punctuation"
        best = max((self.scorer.score(p, instruction)["rougeL"].fmeasure for p in self.pool), default=0.0)
        if best >= ROUGE_THRESHOLD:
            return "rouge_l_similar"
        return None

    def add(self, instruction: str) -> bool:
        why = self.reason(instruction)
        if why:
            self.reasons[why] = self.reasons.get(why, 0) + 1
            return False
        self.pool.append(instruction)
        return True


def read_seed_tasks(path: str | Path) -> list[str]:
    """Instructions of a seed file: Self-Instruct's seed_tasks.jsonl ({"instruction", "instances"}) or Alpaca."""
    from .sft import read_jsonl

    out = []
    for n, rec in enumerate(read_jsonl(path), 1):
        if not isinstance(rec.get("instruction"), str) or not rec["instruction"].strip():
            raise ValueError(f"{path}:{n}: a seed task needs a non-empty `instruction`")
        out.append(rec["instruction"].strip())
    return out


def list_prompt(examples: list[str]) -> str:
    lines = "".join(f"{i}. {e}\n" for i, e in enumerate(examples, 1))
    return f"Come up with a series of tasks:\n{lines}{len(examples) + 1}."


def parse_continuation(text: str) -> list[str]:
    """The generator continues item k+1: its first line, then any further numbered lines."""
    lines = text.split("\n")
    items = [lines[0]] + [re.sub(r"^\d+\s*[.)]\s*", "", line) for line in lines[1:] if re.match(r"^\d+\s*[.)]", line)]
    return [re.sub(r"\s+", " ", x).strip() for x in items if x.strip()]


def self_instruct(generator_dir: str | Path, seed_tasks: str | Path, out: str | Path, *, num_instructions: int = 20,
                  max_rounds: int | None = None, examples_per_prompt: int = 8, machine_examples: int = 2,
                  max_new_tokens: int = 48, temperature: float = 1.0, seed: int = 0,
                  generator_name: str | None = None, generator_terms: str | None = None, log=print) -> dict:
    from .evaluate import load_for_eval
    from .generate import generate, render_prompt
    from .model_card import inherited_provenance

    model, tokenizer = load_for_eval(generator_dir)
    seeds = read_seed_tasks(seed_tasks)
    name = generator_name or str(generator_dir)
    terms = generator_terms or _card_license(generator_dir)
    filt = InstructionFilter(seeds)
    rng = np.random.default_rng(seed)
    machine: list[str] = []
    rounds, max_rounds = 0, max_rounds or 4 * num_instructions
    while len(machine) < num_instructions and rounds < max_rounds:
        n_machine = min(machine_examples, len(machine))
        shown = [seeds[i] for i in rng.choice(len(seeds), min(len(seeds), examples_per_prompt - n_machine),
                                              replace=False)]
        shown += [machine[i] for i in rng.choice(len(machine), n_machine, replace=False)] if n_machine else []
        text = generate(model, tokenizer, [list_prompt(shown)], max_new_tokens, temperature,
                        seed=seed * 100003 + rounds)[0]
        for candidate in parse_continuation(text):
            if len(machine) < num_instructions and filt.add(candidate):
                machine.append(candidate)
        rounds += 1
    prompts = [render_prompt(m, tokenizer, "alpaca") for m in machine]
    outputs = generate(model, tokenizer, prompts, max_new_tokens, temperature, seed=seed) if prompts else []
    generated_by = {"name": name, "terms": terms}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for instruction, output in zip(machine, outputs):
            f.write(json.dumps({"instruction": instruction, "input": "", "output": output,
                                "generated_by": generated_by}, ensure_ascii=False) + "\n")
    stats = {"generator": generated_by, "seed_tasks": len(seeds), "rounds": rounds, "kept": len(machine),
             "dropped": dict(sorted(filt.reasons.items())), "rouge_l_threshold": ROUGE_THRESHOLD,
             "generator_provenance_stages": len(inherited_provenance(generator_dir).get("stages", []))}
    out.with_suffix(".stats.json").write_text(json.dumps(stats, indent=2))
    log(f"wrote {out}: {len(machine)} instructions in {rounds} rounds; dropped {stats['dropped']}")
    return stats


def _card_license(model_dir: str | Path) -> str | None:
    """The generator's license from its model card (license_name when `other`), or None."""
    from huggingface_hub import ModelCard

    readme = Path(model_dir) / "README.md"
    if not readme.exists():
        return None
    data = ModelCard.load(readme).data
    return data.license_name if data.license == "other" else data.license
