"""Generate the demo corpus in `pipelines/demo_data/` deterministically (same bytes on every machine).

    python pipelines/demo_data/generate.py pipelines/demo_data

It is crawl-like on purpose: good English and Korean articles, boilerplate and spam pages, exact and near
duplicates, personal data, toxic lines, code files with license headers, pages from sources under different
licenses, a small WARC file of HTML pages, and broken records (bad JSON, bad UTF-8, missing and empty text, an
oversize document, a truncated gzip stream). All text is written by this module; none is copied from anywhere.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import sys

# -- vocabulary for readable, varied English prose ------------------------------------------------------------------
TOPICS = {
    "gardening": ("garden", ["soil", "compost", "seedlings", "tomatoes", "roots", "mulch", "beds", "watering can",
                             "pruning shears", "leaves", "sunlight", "rainwater", "worms", "herbs", "trellis"]),
    "astronomy": ("night sky", ["telescope", "planets", "moon", "star charts", "nebulae", "horizon",
                                "meteor showers", "eyepieces", "observers", "constellations", "clouds", "galaxies"]),
    "cooking": ("kitchen", ["bread dough", "onions", "oven", "spices", "cast iron pan", "fresh basil", "broth",
                            "lentils", "recipe", "butter", "lemons", "rice", "stove", "garlic"]),
    "cycling": ("bicycle", ["chain", "tyres", "gears", "saddle", "brakes", "hills", "route", "riders",
                            "helmets", "frame", "lights", "mud guards", "pump"]),
    "history": ("old town", ["archive", "letters", "harbour", "merchants", "maps", "cathedral", "records",
                             "bridge", "families", "market", "river", "craftsmen"]),
    "birdwatching": ("wetland", ["herons", "binoculars", "reeds", "field notes", "sparrows", "shoreline",
                                 "migrating geese", "notebook", "owls", "hide", "marsh"]),
}
VERBS = ["shapes", "changes", "supports", "protects", "reveals", "improves", "depends on", "complements", "affects",
         "explains", "connects with", "follows", "prepares", "balances", "rewards", "outlasts", "hides", "warms",
         "slows", "guides", "feeds", "shelters", "frames", "tests", "softens"]
ADJS = ["careful", "patient", "simple", "gentle", "steady", "thoughtful", "regular", "quiet", "practical", "small",
        "curious", "experienced", "seasonal", "local", "early", "stubborn", "generous", "narrow", "bright", "modest",
        "clever", "humble", "restless", "sturdy", "faded"]
ADVERBS = ["slowly", "rarely", "quietly", "usually", "gradually", "happily", "eventually", "surely", "barely",
           "openly", "briefly", "mostly"]
PEOPLE = ["my neighbour", "a retired teacher", "the volunteers", "two students", "an old friend", "our guide",
          "the children", "a visiting expert", "my grandmother", "the club secretary", "several readers"]
TIMES = ["last April", "in 1987", "every other weekend", "before dawn", "after the first frost", "during the holidays",
         "on rainy afternoons", "around midsummer", "in late autumn", "since the spring of 2019"]


def english_sentence(rng: random.Random, nouns: list[str], form: int) -> str:
    a, b, c = rng.sample(nouns, 3)
    adj, adj2 = rng.sample(ADJS, 2)
    n = rng.randint(2, 90)
    forms = [
        lambda: f"{rng.choice(PEOPLE).capitalize()} {rng.choice(ADVERBS)} said that {a} {rng.choice(VERBS)} {b}.",
        lambda: f"{rng.choice(TIMES).capitalize()}, we measured {a} for {n} minutes and wrote everything down.",
        lambda: f"Why does {adj} {a} matter so much to {b}?",
        lambda: f"Nobody expected {c} to {rng.choice(['last', 'grow', 'fade', 'return', 'settle'])} {rng.choice(TIMES)}.",
        lambda: f"{a.capitalize()} {rng.choice(VERBS)} {b}, while {c} {rng.choice(ADVERBS)} {rng.choice(VERBS)} it.",
        lambda: f"With {n} {adj} tries behind us, {a} finally made sense.",
        lambda: f"{rng.choice(PEOPLE).capitalize()} keeps a {adj} notebook about {a} and {b}.",
        lambda: f"If {a} looks {adj}, check {b} first and {c} second.",
        lambda: f"The {adj} truth is that {a} {rng.choice(VERBS)} {b} more than {adj2} {c} does.",
        lambda: f"{rng.choice(TIMES).capitalize()} {rng.choice(PEOPLE)} brought {n} kinds of {a} to show us.",
        lambda: f"Some say {b} is overrated; {rng.choice(PEOPLE)} {rng.choice(ADVERBS)} disagrees.",
        lambda: f"Start {rng.choice(ADVERBS)} with {a}, then let {b} do the {adj} work.",
        lambda: f"Around {n} people asked us about {c} {rng.choice(TIMES)}.",
        lambda: f"A {adj} look at {a} shows how {b} {rng.choice(VERBS)} {c}.",
    ]
    return forms[form % len(forms)]()


def _article(rng: random.Random, title: str, sentence, nouns: list[str], forms: int, paragraphs) -> tuple[str, str]:
    """A title and 3-4-sentence paragraphs (`paragraphs()` of them), the sentence forms in a shuffled order."""
    order = list(range(forms))
    rng.shuffle(order)
    out, k = [], 0
    for _ in range(paragraphs()):
        size = rng.randint(3, 4)
        out.append(" ".join(sentence(rng, nouns, order[(k + j) % forms]) for j in range(size)))
        k += size
    return title, f"{title}\n\n" + "\n\n".join(out)


def english_article(rng: random.Random, topic: str) -> tuple[str, str]:
    place, nouns = TOPICS[topic]
    title = f"A {rng.choice(ADJS)} guide to the {place}"
    return _article(rng, title, english_sentence, nouns, 14, lambda: rng.randint(3, 4))


# -- Korean prose ----------------------------------------------------------------------------------------------------
KO_TOPICS = {
    "텃밭": ["흙", "퇴비", "모종", "토마토", "뿌리", "햇빛", "빗물", "지렁이", "허브", "물뿌리개", "잎사귀"],
    "천문": ["망원경", "행성", "달", "별자리", "성운", "지평선", "유성우", "관측자", "은하", "구름"],
    "요리": ["반죽", "양파", "오븐", "양념", "무쇠 팬", "바질", "육수", "렌틸콩", "버터", "레몬", "마늘"],
    "자전거": ["체인", "타이어", "기어", "안장", "브레이크", "언덕", "경로", "헬멧", "프레임", "조명"],
    "역사": ["기록 보관소", "편지", "항구", "상인", "지도", "성당", "다리", "시장", "강", "장인"],
}
KO_OPENERS = ["우리 경험으로는", "대부분의 경우", "많은 독자가 알듯이", "날씨가 좋은 날에는", "오랜 세월 동안",
              "처음 시작하는 사람에게", "봄이 오면", "계절이 깊어지면", "지역 안내서에 따르면", "놀랍게도",
              "지난 주말에", "작년 가을부터", "이른 아침마다", "비 오는 오후에는"]
KO_VERBS = ["영향을 줍니다", "도움이 됩니다", "중요한 역할을 합니다", "잘 어울립니다", "변화를 가져옵니다",
            "균형을 맞춥니다", "차이를 만듭니다", "기초가 됩니다", "힘을 보탭니다", "길을 열어 줍니다"]
KO_ADJS = ["꼼꼼한", "차분한", "간단한", "부드러운", "꾸준한", "실용적인", "작은", "호기심 많은", "경험 많은",
           "조용한", "성실한", "낡은", "밝은", "튼튼한"]
KO_PEOPLE = ["이웃 어르신", "동네 선생님", "자원봉사자들", "두 명의 학생", "오랜 친구", "안내자", "아이들",
             "방문 전문가", "할머니", "동호회 총무"]


def korean_sentence(rng: random.Random, nouns: list[str], form: int) -> str:
    a, b, c = rng.sample(nouns, 3)
    adj = rng.choice(KO_ADJS)
    n = rng.randint(2, 90)
    forms = [
        lambda: f"{rng.choice(KO_OPENERS)} {a}은(는) {b}에 {rng.choice(KO_VERBS)}.",
        lambda: f"{rng.choice(KO_PEOPLE)}은(는) {a}에 관한 {adj} 기록을 {n}쪽이나 남겼습니다.",
        lambda: f"왜 {a}이(가) {b}보다 먼저일까요?",
        lambda: f"{rng.choice(KO_OPENERS)} 우리는 {c}을(를) {n}분 동안 지켜보았다.",
        lambda: f"{a}을(를) 살필 때에는 {b}부터 확인하고 {c}은(는) 나중에 봅니다.",
        lambda: f"{rng.choice(KO_PEOPLE)}의 말에 따르면 {adj} {a}이(가) 가장 오래 갑니다.",
        lambda: f"{n}번의 시도 끝에 {a}와(과) {b}의 관계를 겨우 이해했다.",
        lambda: f"누구도 {c}이(가) 그렇게 빨리 변할 줄은 몰랐습니다.",
        lambda: f"{adj} 눈으로 보면 {a} 덕분에 {b}도 달라집니다.",
        lambda: f"{rng.choice(KO_PEOPLE)}은(는) {b} 이야기를 들려주며 웃었다.",
        lambda: f"{a}에 대해 묻는 사람이 {n}명을 넘었습니다.",
        lambda: f"{b}은(는) 과대평가되었다는 의견도 있지만 {rng.choice(KO_PEOPLE)}은(는) 동의하지 않습니다.",
    ]
    return forms[form % len(forms)]()


def korean_article(rng: random.Random, topic: str) -> tuple[str, str]:
    nouns = KO_TOPICS[topic]
    title = f"{topic}에 대한 {rng.choice(KO_ADJS)} 안내"
    return _article(rng, title, korean_sentence, nouns, 12, lambda: 3)


# -- pages that the filters must catch ---------------------------------------------------------------------------------
def boilerplate_page(rng: random.Random) -> str:
    menu = " | ".join(rng.sample(["Home", "About", "Contact", "Blog", "Shop", "Login", "Careers", "Help"], 6))
    return "\n".join([menu, "Accept cookies", "Subscribe", "Menu", "Search", "Share", "Tweet", "Privacy",
                      f"© 20{rng.randint(10, 25)} All rights reserved", menu])


def spam_page(rng: random.Random) -> str:
    offer = rng.choice(["cheap watches", "casino bonus", "miracle pills", "free followers"])
    line = f"Buy {offer} now best price buy {offer} now best price click here"
    return "\n".join([line] * rng.randint(12, 20))


def ko_spam_page(rng: random.Random) -> str:
    line = f"{rng.choice(['최저가 대출', '무료 쿠폰', '특가 할인'])} 지금 바로 클릭 최저가 보장 지금 바로 클릭"
    return "\n".join([line] * rng.randint(12, 20))


def near_duplicate(rng: random.Random, text: str) -> str:
    """A copy with a few words changed and a line appended: what mirrors and reposts look like."""
    words = text.split(" ")
    for _ in range(max(1, len(words) // 60)):
        i = rng.randrange(len(words))
        words[i] = rng.choice(["indeed", "really", "also", "often"])
    return " ".join(words) + "\n\nReposted from the original article."


def luhn_number(rng: random.Random, prefix: str = "4", length: int = 16) -> str:
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4))


def korean_rrn(rng: random.Random) -> str:
    """A resident registration number with a valid checksum (pre-2020 scheme) and a real birth date."""
    yy, mm, dd = rng.randint(60, 99), rng.randint(1, 12), rng.randint(1, 28)
    digits = [int(c) for c in f"{yy:02d}{mm:02d}{dd:02d}"] + [rng.choice([1, 2])] + [rng.randrange(10) for _ in range(5)]
    weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    check = (11 - sum(d * w for d, w in zip(digits, weights)) % 11) % 10
    s = "".join(map(str, digits + [check]))
    return f"{s[:6]}-{s[6:]}"


def with_personal_data(rng: random.Random, text: str, i: int) -> str:
    contact = (f"\n\nFor questions, write to jane.doe{i}@example.com or call +1 415-555-{rng.randint(1000, 9999)}. "
               f"Orders were paid with card {luhn_number(rng)}.")
    return text + contact


def with_korean_personal_data(rng: random.Random, text: str) -> str:
    return text + (f"\n\n문의는 010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)} 또는 "
                   f"hong{rng.randint(1, 99)}@example.kr 로 연락 주세요. 주민등록번호 {korean_rrn(rng)} 는 확인 후 파기됩니다.")


TOXIC_EN = ["You are a worthless idiot and everyone hates you.", "Shut up, you stupid moron."]
TOXIC_KO = ["이 멍청한 바보야 꺼져라.", "너 같은 쓰레기는 필요 없어, 닥쳐."]

# -- code files with license headers ----------------------------------------------------------------------------------
APACHE_HEADER = '''# Copyright 2024 The Demo Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
'''
MIT_TEXT = '''MIT License

Copyright (c) 2023 Demo Contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
'''
GPL_HEADER = '''/*
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <https://www.gnu.org/licenses/>.
 */
'''


def python_function(rng: random.Random, i: int) -> str:
    name = rng.choice(["moving_average", "normalize", "clip_values", "running_total", "scale"]) + f"_{i}"
    return f'''

def {name}(values, window={rng.randint(2, 9)}):
    """Return a smoothed copy of `values`; used by the report generator."""
    out = []
    total = 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        out.append(total / min(index + 1, window))
    return out
'''


def code_files(rng: random.Random) -> list[dict]:
    files = []
    repo = "github.com/demo/smoothing"
    files.append({"id": f"{repo}/LICENSE", "path": "LICENSE", "repo": repo, "text": MIT_TEXT})
    for i in range(6):
        body = "".join(python_function(rng, i * 10 + k) for k in range(3))
        files.append({"id": f"{repo}/src/smooth_{i}.py", "path": f"src/smooth_{i}.py", "repo": repo,
                      "text": f'"""Smoothing helpers, part {i}."""\nimport math\n{body}'})
    repo2 = "github.com/demo/apache-tool"
    for i in range(4):
        body = "".join(python_function(rng, 100 + i * 10 + k) for k in range(3))
        files.append({"id": f"{repo2}/tool_{i}.py", "path": f"tool_{i}.py", "repo": repo2,
                      "text": APACHE_HEADER + f'"""Tool module {i}."""\n{body}'})
    repo3 = "github.com/demo/gpl-lib"
    for i in range(3):
        files.append({"id": f"{repo3}/lib_{i}.c", "path": f"lib_{i}.c", "repo": repo3,
                      "text": GPL_HEADER + f"\n#include <stdio.h>\n\nint add_{i}(int a, int b) {{\n    return a + b + {i};\n}}\n"})
    repo4 = "github.com/demo/tagged"
    for i in range(3):
        files.append({"id": f"{repo4}/util_{i}.js", "path": f"util_{i}.js", "repo": repo4,
                      "text": f"// SPDX-License-Identifier: BSD-3-Clause\n// Copyright 2022 Demo\n\nexport function "
                              f"clamp{i}(x, lo, hi) {{\n  return Math.min(hi, Math.max(lo, x));\n}}\n"})
    # a secret left in code: the PII/secret scrubber must catch it
    files.append({"id": f"{repo}/src/settings.py", "path": "src/settings.py", "repo": repo,
                  "text": '"""Settings."""\nAWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
                          'api_key = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"\nDEBUG = False\n' +
                          python_function(rng, 999)})
    return files


# -- the corpus ---------------------------------------------------------------------------------------------------------
def _collector(docs: list[dict], prefix: str):
    """add(text, url): append a web page with the next id of the series (en-0001, en-0002, ...)."""

    def add(text: str, url: str) -> None:
        docs.append({"id": f"{prefix}-{len(docs) + 1:04d}", "url": url, "text": text})

    return add


def english_web(rng: random.Random) -> list[dict]:
    docs: list[dict] = []
    add = _collector(docs, "en")

    topics = list(TOPICS)
    articles = []
    for i in range(60):
        topic = topics[i % len(topics)]
        title, text = english_article(rng, topic)
        if i % 10 == 3:
            text = with_personal_data(rng, text, i)
        if i % 15 == 7:
            text = text + "\n\n" + rng.choice(TOXIC_EN)
        url = f"https://www.{topic}-notes.example.org/{i:03d}-{title.lower().replace(' ', '-')}"
        add(text, url)
        articles.append((text, url))
    for i in range(8):  # exact duplicates (mirrors)
        text, url = articles[i * 3]
        add(text, url.replace("www.", "mirror."))
    for i in range(8):  # near duplicates (reposts)
        text, url = articles[i * 5 + 1]
        add(near_duplicate(rng, text), url.replace("www.", "blog."))
    for i in range(10):
        add(boilerplate_page(rng), f"https://shop{i}.example.com/")
    for i in range(8):
        add(spam_page(rng), f"https://deals{i}.example.net/offer")
    for i in range(3):  # a blocked domain (the demo pipeline adds it to the URL filter's list)
        add(english_article(rng, "cooking")[1], f"https://cheap-casino-offers.biz/page{i}")
    for i in range(4):  # pages in other languages
        add(rng.choice(["Der Garten braucht im Frühling viel Wasser und etwas Geduld, sagen die Gärtner.",
                        "Le jardin demande beaucoup d'eau au printemps et un peu de patience, disent les jardiniers.",
                        "El jardín necesita mucha agua en primavera y un poco de paciencia."]) * 6,
            f"https://foreign{i}.example.eu/")
    rng.shuffle(docs)
    return docs


def korean_web(rng: random.Random) -> list[dict]:
    docs: list[dict] = []
    add = _collector(docs, "ko")

    articles = []
    for i in range(40):
        topic = list(KO_TOPICS)[i % len(KO_TOPICS)]
        _, text = korean_article(rng, topic)
        if i % 8 == 2:
            text = with_korean_personal_data(rng, text)
        if i % 13 == 5:
            text = text + "\n\n" + rng.choice(TOXIC_KO)
        url = f"https://blog.example.kr/{i:03d}"
        add(text, url)
        articles.append((text, url))
    for i in range(5):
        add(articles[i * 2][0], articles[i * 2][1].replace("blog.", "cafe."))
    for i in range(5):
        text = articles[i * 3 + 1][0]
        add(text.replace("합니다", "한다", 2) + "\n\n출처: 원문 블로그", articles[i * 3 + 1][1].replace("blog.", "news."))
    for i in range(6):
        add(ko_spam_page(rng), f"https://ad{i}.example.kr/")
    rng.shuffle(docs)
    return docs


def licensed_pages(rng: random.Random) -> list[dict]:
    """A forum whose records carry their own license field: mostly CC-BY-SA, some CC-BY-NC, a few unknown."""
    docs = []
    for i in range(24):
        _, text = english_article(rng, rng.choice(list(TOPICS)))
        lic = "CC-BY-SA-4.0" if i % 3 else ("CC-BY-NC-4.0" if i % 2 else None)
        rec = {"id": f"forum-{i:03d}", "url": f"https://forum.example.com/t/{i}", "text": text}
        if lic:
            rec["license"] = lic
        docs.append(rec)
    return docs


def warc_bytes(rng: random.Random) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.0")
    for i in range(6):
        title, text = english_article(rng, list(TOPICS)[i % len(TOPICS)])
        paragraphs = "".join(f"<p>{p}</p>\n" for p in text.split("\n\n")[1:])
        html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<nav><a href='/'>Home</a> | <a href='/about'>About</a> | <a href='/contact'>Contact</a></nav>"
                f"<article><h1>{title}</h1>\n{paragraphs}</article>"
                f"<footer>© 2026 Demo Site. All rights reserved. "
                f"<a rel='license' href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a></footer>"
                f"</body></html>")
        if i == 5:
            html = "<html><body><nav>Home | About</nav></body></html>"  # nothing to extract
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(f"https://www.demo-site.example/article/{i}", "response",
                                           payload=io.BytesIO(html.encode()), http_headers=http,
                                           warc_headers_dict={"WARC-Date": "2026-11-01T00:00:00Z",
                                                                               "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{i:012d}>"})
        writer.write_record(record)
    return out.getvalue()


def broken_records(rng: random.Random) -> bytes:
    good = english_article(rng, "history")[1]
    lines = [
        json.dumps({"id": "broken-ok-1", "url": "https://ok.example.org/1", "text": good}).encode(),
        b'{"id": "broken-json", "text": "this line is cut in the mid',
        b'{"id": "broken-utf8", "text": "caf\xe9 au lait"}',
        json.dumps({"id": "broken-no-text", "body": "the text is in the wrong field"}).encode(),
        json.dumps({"id": "broken-empty", "text": "   "}).encode(),
        json.dumps({"id": "broken-not-string", "text": 42}).encode(),
        b'["an", "array", "not", "an", "object"]',
        json.dumps({"id": "broken-oversize", "text": ("All work and no play. " * 12000)}).encode(),
    ]
    return b"\n".join(lines) + b"\n"


def truncated_gzip(rng: random.Random) -> bytes:
    docs = [json.dumps({"id": f"trunc-{i}", "text": english_article(rng, "astronomy")[1]}) for i in range(6)]
    blob = gzip.compress(("\n".join(docs) + "\n").encode(), mtime=0)
    return blob[: int(len(blob) * 0.6)]  # a download that stopped part way


def _jsonl(records: list[dict]) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode()


def build(out_dir: str) -> dict[str, int]:
    rng = random.Random(20261129)
    os.makedirs(out_dir, exist_ok=True)
    files = {
        "web_en.jsonl.gz": gzip.compress(_jsonl(english_web(rng)), mtime=0),
        "web_ko.jsonl": _jsonl(korean_web(rng)),
        "forum.jsonl": _jsonl(licensed_pages(rng)),
        "code.jsonl": _jsonl(code_files(rng)),
        "crawl.warc.gz": warc_bytes(rng),
        "broken.jsonl": broken_records(rng),
        "truncated.jsonl.gz": truncated_gzip(rng),
    }
    for name, blob in files.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(blob)
    return {name: len(blob) for name, blob in files.items()}


if __name__ == "__main__":
    for name, size in build(sys.argv[1] if len(sys.argv) > 1 else "pipelines/demo_data").items():
        print(f"{size:>9,}  {name}")
