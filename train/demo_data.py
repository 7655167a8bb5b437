"""Tiny, deterministic demo data for the newcomer path: no downloads, written by the package.

`train demo-data DIR` writes
  DIR/alpaca.jsonl     instruction-tuning examples in Alpaca shape ({"instruction", "input", "output"})
  DIR/hellaswag.jsonl  multiple-choice items in HellaSwag shape ({"ctx", "endings", "label"})
The examples below were written for this repository (license: the repository's, Apache-2.0). They are
small on purpose: they exercise `train finetune` and `train eval --mc` in seconds on a CPU; they say
nothing about model quality.
"""

from __future__ import annotations

import json
from pathlib import Path

DEMO_DATA_LICENSE = "Apache-2.0"

# (instruction, input, output)
SFT_EXAMPLES: list[tuple[str, str, str]] = [
    ("Translate the sentence into Korean.", "The library opens at nine.", "도서관은 아홉 시에 문을 엽니다."),
    ("Translate the sentence into Korean.", "Thank you for your help.", "도와주셔서 감사합니다."),
    ("Translate the sentence into Korean.", "The train leaves in the morning.", "기차는 아침에 출발합니다."),
    ("Translate the sentence into Korean.", "It is raining today.", "오늘은 비가 옵니다."),
    ("Translate the sentence into Korean.", "Where is the station?", "역이 어디에 있습니까?"),
    ("Translate the sentence into English.", "안녕하세요.", "Hello."),
    ("Translate the sentence into English.", "저는 학생입니다.", "I am a student."),
    ("Translate the sentence into English.", "이 책은 재미있습니다.", "This book is interesting."),
    ("Translate the sentence into English.", "내일 만나요.", "See you tomorrow."),
    ("Translate the sentence into English.", "물 한 잔 주세요.", "A glass of water, please."),
    ("Add the two numbers.", "2 and 3", "2 + 3 = 5."),
    ("Add the two numbers.", "7 and 8", "7 + 8 = 15."),
    ("Add the two numbers.", "12 and 30", "12 + 30 = 42."),
    ("Add the two numbers.", "9 and 9", "9 + 9 = 18."),
    ("Subtract the second number from the first.", "10 and 4", "10 - 4 = 6."),
    ("Subtract the second number from the first.", "25 and 5", "25 - 5 = 20."),
    ("Multiply the two numbers.", "6 and 7", "6 × 7 = 42."),
    ("Multiply the two numbers.", "3 and 11", "3 × 11 = 33."),
    ("Give the opposite of the word.", "hot", "cold"),
    ("Give the opposite of the word.", "early", "late"),
    ("Give the opposite of the word.", "open", "closed"),
    ("Give the opposite of the word.", "heavy", "light"),
    ("Give the plural of the noun.", "city", "cities"),
    ("Give the plural of the noun.", "child", "children"),
    ("Give the plural of the noun.", "leaf", "leaves"),
    ("Classify the sentiment of the review as positive or negative.", "The food was wonderful and the staff were kind.",
     "positive"),
    ("Classify the sentiment of the review as positive or negative.", "The room was dirty and the bed was broken.",
     "negative"),
    ("Classify the sentiment of the review as positive or negative.", "I would happily come back next year.",
     "positive"),
    ("Classify the sentiment of the review as positive or negative.", "The delivery was late and the box was empty.",
     "negative"),
    ("Name the language of the text.", "The river runs past the old mill.", "English"),
    ("Name the language of the text.", "강물이 오래된 방앗간 옆을 흐릅니다.", "Korean"),
    ("Name the language of the text.", "def add(a, b): return a + b", "Python"),
    ("Summarize the text in one sentence.",
     "The city council met on Monday. It approved a new bridge over the river. Work will start in spring.",
     "The council approved a new river bridge, to be built from spring."),
    ("Summarize the text in one sentence.",
     "The museum reopened after two years of repairs. Visitors can again see the ancient maps.",
     "The museum reopened after repairs and shows its ancient maps again."),
    ("Summarize the text in one sentence.",
     "A local farmer found rare plants near the coast. Scientists came to study them.",
     "Scientists are studying rare plants a farmer found near the coast."),
    ("Write a Python function that returns the square of a number.", "", "def square(x):\n    return x * x"),
    ("Write a Python function that reverses a string.", "", "def reverse(s):\n    return s[::-1]"),
    ("Write a Python function that checks whether a number is even.", "", "def is_even(n):\n    return n % 2 == 0"),
    ("What is the capital of South Korea?", "", "Seoul."),
    ("What is the capital of France?", "", "Paris."),
    ("How many days are in a week?", "", "Seven."),
    ("How many minutes are in an hour?", "", "Sixty."),
    ("What color is a clear daytime sky?", "", "Blue."),
    ("Say hello in Korean.", "", "안녕하세요."),
    ("Say thank you in Korean.", "", "감사합니다."),
    ("Name three fruits.", "", "Apple, banana and pear."),
    ("Name three colors.", "", "Red, green and blue."),
    ("Explain what a license file is in one sentence.", "",
     "A license file states the terms under which others may use, change and share the code or text."),
    ("Explain what deduplication means for a text corpus.", "",
     "Removing documents that repeat other documents, so the model does not see the same text many times."),
    ("Explain why personal data is removed from training data.", "",
     "To protect people's privacy and keep the model from repeating emails, phone numbers or addresses."),
]

# (context, four endings, index of the right ending)
MC_ITEMS: list[tuple[str, list[str], int]] = [
    ("She filled the kettle with water and", ["put it on the stove.", "threw it into the river.",
                                               "painted it with a brush.", "read it aloud to the class."], 0),
    ("The museum opened its doors in the morning and", ["the first visitors walked in.", "the river froze at once.",
                                                         "the bridge sang a song.", "the map ate the letter."], 0),
    ("After the storm, the city council", ["swallowed the harbour wall.", "met to discuss the damage.",
                                           "turned into a garden.", "flew over the railway station."], 1),
    ("The young engineer measured the bridge and", ["baked it in the oven.", "mailed it to the moon.",
                                                    "wrote the numbers in her report.", "planted it in the field."], 2),
    ("He opened the book to the first page and", ["began to read.", "poured it into a cup.",
                                                  "drove it to work.", "boiled it for ten minutes."], 0),
    ("The farmer collected the eggs and", ["sent them to space.", "carried them to the kitchen.",
                                           "taught them to swim.", "hung them on the wall as clocks."], 1),
    ("The students listened to the teacher and", ["turned into birds.", "ate the blackboard.",
                                                  "took notes in their notebooks.", "moved the mountain."], 2),
    ("It started to rain, so she", ["opened her umbrella.", "lit the sea on fire.",
                                    "folded the street.", "sold the clouds."], 0),
    ("The research team published", ["a sandwich on the roof.", "the results in a journal.",
                                     "the river to the north.", "a thunderstorm in the library."], 1),
    ("To fix the leaking pipe, the plumber", ["sang to the pipe.", "turned off the water first.",
                                              "painted the cat.", "planted a tree inside it."], 1),
    ("The baby was tired, so her father", ["put her to bed.", "sent her to the office.",
                                           "asked her to drive.", "gave her the car keys."], 0),
    ("The runner crossed the finish line and", ["raised his arms in joy.", "became a bridge.",
                                                "melted into the track.", "started the winter festival."], 0),
    ("Before the election, the candidates", ["gave speeches in the town square.", "hid inside the moon.",
                                             "turned the river into bread.", "forgot how to speak."], 0),
    ("The water in the pot began to boil, so he", ["added the pasta.", "planted the pot in the garden.",
                                                   "mailed the stove.", "painted the steam."], 0),
    ("The library was quiet because", ["people were reading.", "the books were shouting.",
                                       "the chairs were dancing.", "the roof was singing."], 0),
    ("She wanted to send a long letter, so she", ["bought a stamp.", "ate the envelope.",
                                                  "threw the pen into the sea.", "burned the post office."], 0),
    ("도서관에 들어간 학생은", ["조용히 책을 읽었다.", "강물을 마셔 버렸다.", "지붕 위로 날아갔다.", "기차를 먹었다."], 0),
    ("비가 내리기 시작하자 그는", ["우산을 펼쳤다.", "바다를 접었다.", "구름을 팔았다.", "다리를 삼켰다."], 0),
    ("아침 일찍 농부는", ["밭에 나가 일을 시작했다.", "달을 수리했다.", "기차역을 심었다.", "편지를 끓였다."], 0),
    ("박물관은 오래된 지도를", ["전시했다.", "먹었다.", "노래했다.", "운전했다."], 0),
    ("def add(a, b):\n   ", [" return a + b", " return the river", " open the museum", " 비가 온다"], 0),
    ("The committee discussed the annual report and", ["approved it.", "cooked it with rice.",
                                                       "threw it at the sun.", "taught it to fly."], 0),
    ("The city built a new railway station so that", ["more trains could stop there.", "the sea would be dry.",
                                                      "birds could read.", "the moon could visit."], 0),
    ("My sister repaired the old bicycle and", ["rode it to school.", "planted it in the garden.",
                                                "put it in the soup.", "read it before bed."], 0),
]


UNHELPFUL = ["I do not know.", "I cannot help with that.", "Please ask someone else.", "That is not my job."]


def preference_pairs() -> list[dict]:
    """Each SFT example's prompt with its own answer (chosen) and an unhelpful reply (rejected), as in the
    helpfulness half of the HH preference data: a preference a small reward model can learn."""
    return [{"instruction": instruction, "input": inp, "chosen": output, "rejected": UNHELPFUL[k % len(UNHELPFUL)]}
            for k, (instruction, inp, output) in enumerate(SFT_EXAMPLES)]


def arithmetic_prompts() -> list[dict]:
    """Addition prompts with their answers, for GRPO's rule-based reward (`grpo.reward: answer`)."""
    return [{"instruction": "Add the two numbers.", "input": f"{a} and {b}", "answer": str(a + b)}
            for a in range(1, 7) for b in range(1, 5)]


def seed_tasks() -> list[dict]:
    """Self-Instruct seed tasks (the paper's seed_tasks.jsonl shape): one per distinct demo instruction."""
    tasks: dict[str, dict] = {}
    for instruction, inp, output in SFT_EXAMPLES:
        task = tasks.setdefault(instruction, {"id": f"seed_task_{len(tasks)}", "name": f"demo_{len(tasks)}",
                                              "instruction": instruction, "instances": [],
                                              "is_classification": instruction.startswith(("Classify", "Name the"))})
        task["instances"].append({"input": inp, "output": output})
    return list(tasks.values())


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def write_demo_data(out_dir: str | Path) -> dict[str, Path]:
    """Write the demo files into DIR (same bytes every time); return their paths: alpaca.jsonl (SFT),
    hellaswag.jsonl (multiple choice), preferences.jsonl (reward / DPO), prompts.jsonl (GRPO), seed_tasks.jsonl
    (Self-Instruct)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sft = out_dir / "alpaca.jsonl"
    _write_jsonl(sft, [{"instruction": i, "input": x, "output": o} for i, x, o in SFT_EXAMPLES])
    mc = out_dir / "hellaswag.jsonl"
    rows = []
    for k, (ctx, endings, label) in enumerate(MC_ITEMS):
        shift = k % len(endings)  # rotate so the right answer is not always in the same position
        endings = endings[shift:] + endings[:shift]
        rows.append({"ind": k, "ctx": ctx, "endings": endings, "label": (label - shift) % len(endings)})
    _write_jsonl(mc, rows)
    paths = {"sft": sft, "mc": mc, "preferences": out_dir / "preferences.jsonl", "prompts": out_dir / "prompts.jsonl",
             "seed_tasks": out_dir / "seed_tasks.jsonl"}
    _write_jsonl(paths["preferences"], preference_pairs())
    _write_jsonl(paths["prompts"], arithmetic_prompts())
    _write_jsonl(paths["seed_tasks"], seed_tasks())
    paths["lm_eval_task"] = write_lm_eval_task(out_dir / "lm_eval", "demo_hellaswag", mc)
    return paths


def write_lm_eval_task(task_dir: Path, name: str, jsonl: Path) -> Path:
    """An lm-evaluation-harness task YAML for a local HellaSwag-shaped JSONL (ctx, endings, label): the same
    continuation scoring as `train eval --mc` (choices after a space; acc and acc_norm)."""
    task_dir.mkdir(parents=True, exist_ok=True)
    spec = {"task": name, "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(Path(jsonl).resolve())}}, "test_split": "test",
            "output_type": "multiple_choice", "doc_to_text": "{{ctx}}", "doc_to_target": "{{label}}",
            "doc_to_choice": "{{endings}}",
            "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True}
                            for m in ("acc", "acc_norm")]}
    path = task_dir / f"{name}.yaml"
    path.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n")  # JSON is YAML
    return path
