"""HTML -> text with trafilatura, through datatrove's extractor (run in its sandbox process with a timeout).

datatrove's own step drops a page that fails or times out with only a counter; here every such page is removed
with a reason (`html_extract:timeout`, `:error`, `:empty`) and kept in removed/ with its HTML.

Code stays code (`keep_code`, on by default): trafilatura turns a `<pre>` into a quotation unless it looks like
highlighted code, and prints both as plain lines, so a config block ends up as lines of "prose" that the quality
rules then judge. Every `<pre>` is marked as code before extraction, and the text is written with trafilatura's
formatting, so code blocks come out fenced (```), inline code in backticks and headings as `#` lines, which the
quality rules' prose view sets aside (curate/steps/prose.py).
"""

from __future__ import annotations

import regex
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import ExtractorSandbox

from curate.steps.base import CurateStep, StepParams

INLINE_CODE_BREAK = regex.compile(r"(?<=[^`\n]`)\n(?=[^\n`#>|*-])")


class HtmlExtractParams(StepParams):
    favour_precision: bool = True  # less text, but less boilerplate
    favour_recall: bool = False  # more text: keeps lists and tables precision mode drops, and some boilerplate
    keep_code: bool = True  # <pre> blocks as fenced code, inline code in backticks (trafilatura's formatting)
    timeout: float = 5.0  # seconds per page (the first page also pays for starting the sandbox)
    deduplicate: bool = True  # trafilatura's in-page duplicate-paragraph removal


def mark_code(html: str):
    """The page as an lxml tree ready for trafilatura: every <pre> reads as code (a <pre> holding a single <span>
    is trafilatura's sign of highlighted code), a <code> broken into lines with <br> is a <pre>, and outside <pre> a
    newline is the space it is in HTML (the source's line wrapping would otherwise cut every paragraph into lines,
    and fence inline code mid-sentence)."""
    from lxml.html import Element
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return html
    for code in list(tree.iter("code")):
        # a <code> broken into lines with <br> is a code block written without <pre> (the httpd manual's examples)
        if next(code.iter("br"), None) is not None and next(code.iterancestors("pre"), None) is None:
            for br in code.iter("br"):
                br.tail = "\n" + (br.tail or "")
            pre, span = Element("pre"), Element("span")
            span.text = "\n".join(line.strip() for line in code.text_content().strip().split("\n"))
            pre.append(span)
            pre.tail = code.tail
            code.getparent().replace(code, pre)
    preformatted = set()
    for pre in list(tree.iter("pre")):
        # the block's text, without its inline markup: trafilatura would print an <em> inside code as *emphasis*
        # and break the fence there
        text = pre.text_content()
        for child in list(pre):
            pre.remove(child)
        span = Element("span")
        span.text, pre.text = text, None
        pre.append(span)
        preformatted.update((pre, span))
    for node in tree.iter():
        if node not in preformatted and isinstance(node.text, str):
            node.text = node.text.replace("\n", " ")
        if node.tail and node.getparent() not in preformatted:
            node.tail = node.tail.replace("\n", " ")
    return tree


class CodeAwareTrafilatura(Trafilatura):
    """datatrove's Trafilatura extractor with code blocks kept as code (see `mark_code`)."""

    def __init__(self, keep_code: bool = True, **kwargs):
        if keep_code:
            kwargs["include_formatting"] = True
        super().__init__(**kwargs)
        self.keep_code = keep_code

    def extract(self, text: str) -> str:
        if not self.keep_code:
            return super().extract(text)
        out = super().extract(mark_code(text))
        # trafilatura ends a line after every inline code span; inside a paragraph that is not a line break
        return INLINE_CODE_BREAK.sub(" ", out) if out else out


class HtmlExtract(CurateStep):
    """Extract the main text of HTML pages (WARC responses, HTML files) with trafilatura, code kept as code."""
    summary = (
        "main text of HTML pages with trafilatura (`Trafilatura`, in datatrove's timeout sandbox); code "
        "blocks kept fenced, inline code in backticks"
    )

    type_name = "html_extract"
    doc = "docs/quality.md"
    tests = ("tests/test_quality.py", "tests/test_pipeline.py")
    Params = HtmlExtractParams

    def __init__(self, params: HtmlExtractParams, ctx, name=None):
        super().__init__(params, ctx, name)
        if params.favour_precision and params.favour_recall:
            raise ValueError(f"{self.step_name}: favour_precision and favour_recall exclude each other")
        self.extractor = CodeAwareTrafilatura(keep_code=params.keep_code, favour_precision=params.favour_precision,
                                              favor_recall=params.favour_recall, timeout=params.timeout,
                                              deduplicate=params.deduplicate)
        self._sandbox: ExtractorSandbox | None = None  # open only while `run` is (steps are pickled before)

    def process(self, doc: Document) -> str | None:
        try:
            text = self._sandbox.process_document(doc.text, self.extractor.extract)
        except TimeoutError:
            return "timeout"
        except EOFError:
            return "extractor_died"
        except Exception:  # trafilatura raises many types on malformed markup
            return "error"
        if not (text and text.strip()):
            return "empty"
        doc.text = text
        return None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        # one sandbox process per task: started once, restarted by datatrove after a timeout kills it
        with ExtractorSandbox(timeout=self.params.timeout, warmup_text="") as sandbox:
            self._sandbox = sandbox
            try:
                yield from super().run(data, rank, world_size)
            finally:
                self._sandbox = None
