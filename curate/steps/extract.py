"""HTML -> text with trafilatura, through datatrove's extractor (run in its sandbox process with a timeout).

datatrove's own step drops a page that fails or times out with only a counter; here every such page is removed
with a reason (`html_extract:timeout`, `:error`, `:empty`) and kept in removed/ with its HTML.

Code stays code (`keep_code`, on by default): trafilatura turns a `<pre>` into a quotation unless it looks like
highlighted code, and prints both as plain lines, so a config block ends up as lines of "prose" that the quality
rules then judge. Every `<pre>` is marked as code before extraction, and the text is written with trafilatura's
formatting, so code blocks come out fenced (```), inline code in backticks and headings as `#` lines, which the
quality rules' prose view sets aside (curate/steps/prose.py).

Only HTML is extracted (`only_html`, on by default). A page read from a WARC response or an HTML file is HTML by the
reader's account; a JSONL or Parquet record is HTML when its text is a page (it begins with a doctype, an <html>
tag, an XML prolog...) or a fragment wrapped in HTML elements from its first character to its last. Any other text
passes through unchanged and is counted: trafilatura reads plain text or Markdown as a page without a body and
returns nothing, so a text dump run through web.yaml lost nine documents in ten as `html_extract:empty` (2,010
Markdown pages of ../shared: 1,832).
"""

from __future__ import annotations

from typing import Any

import regex
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import ExtractorSandbox

from curate.document import FILE
from curate.sections import write_totals_section
from curate.steps.base import CurateStep, StepParams

INLINE_CODE_BREAK = regex.compile(r"(?<=[^`\n]`)\n(?=[^\n`#>|*-])")
# HTML in a text record: a page (it begins with a doctype, <html>, <head>, <body> or an XML prolog, after spaces, a
# byte-order mark and comments: a Markdown file may open with a comment too), or a fragment, wrapped in elements from
# its first character to its last. A README in Markdown that opens with a centred logo (<div align="center">...</div>,
# then Markdown) is not HTML; element names, not any "<word>": a command synopsis begins with "<pattern>", MDX with
# "<Intro>".
HTML_ELEMENTS = ("div span p a br hr img table thead tbody tr td th ul ol li dl dt dd h1 h2 h3 h4 h5 h6 pre code "
                 "blockquote section article header footer nav main aside form input button label select textarea "
                 "iframe center font b i u em strong small sub sup figure picture svg details summary template title "
                 "meta link base script style noscript").split()
LEADING = r"\A(?:[\s\ufeff]|<!--.*?-->)*<"
BEGINS_AS_PAGE = regex.compile(LEADING + r"(?:!doctype|\?xml|(?:html|head|body)[\s>])",
                               regex.IGNORECASE | regex.DOTALL)
BEGINS_AS_FRAGMENT = regex.compile(LEADING + r"(?:" + "|".join(HTML_ELEMENTS) + r")[\s/>]",
                                   regex.IGNORECASE | regex.DOTALL)
ENDS_WITH_TAG = regex.compile(r">\s*\Z")
HTML_FORMATS = ("warc", "html")  # readers whose records are HTML pages (curate/readers/formats.py)


class HtmlExtractParams(StepParams):
    favour_precision: bool = True  # less text, but less boilerplate
    favour_recall: bool = False  # more text: keeps lists and tables precision mode drops, and some boilerplate
    keep_code: bool = True  # <pre> blocks as fenced code, inline code in backticks (trafilatura's formatting)
    timeout: float = 5.0  # seconds per page; a page that runs out is tried once more in a fresh process
    startup_timeout: float = 120.0  # seconds to start the extractor process and warm it up (not a page's time)
    # trafilatura's removal of a paragraph (100+ characters) repeated more than twice, within each page: trafilatura
    # remembers paragraphs across every page the process extracts, so a page's text would depend on the pages before
    # it (input order, task split, a restart after a timeout); here its memory is cleared before each page
    deduplicate: bool = True
    # extract only HTML: WARC and HTML-file pages, and records whose text is an HTML page or a fragment wrapped in
    # HTML elements; other text passes through unchanged (counted). false: every document in scope goes through
    # trafilatura (datatrove's behaviour)
    only_html: bool = True


def mark_code(html: str):
    """The page as an lxml tree ready for trafilatura: every <pre> reads as a code block (a <pre> holding a single
    <span> is trafilatura's sign of highlighted code; one line or many), a <code> broken into lines with <br> is a
    <pre>, and outside <pre> a newline is the space it is in HTML (the source's line wrapping would otherwise cut
    every paragraph into lines, and fence inline code mid-sentence)."""
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
        # trafilatura fences code that spans lines and writes a one-line block as an inline span, which then runs
        # into the next paragraph ("`UserDir public_html` the URL ..."): a <pre> is a block whatever its length
        span.text, pre.text = text if "\n" in text.strip() else text.strip() + "\n", None
        pre.append(span)
        preformatted.update((pre, span))
    for node in tree.iter():
        if node not in preformatted and isinstance(node.text, str):
            node.text = node.text.replace("\n", " ")
        if node.tail and node.getparent() not in preformatted:
            node.tail = node.tail.replace("\n", " ")
    return tree


SEPARATORS_ONLY = regex.compile(r"[ \t]*(?:[>»›·•][ \t]*){2,}")  # "> > > >": a breadcrumb whose links were dropped
PIPES_ONLY = regex.compile(r"[ \t]*\|[ \t|]*")  # "||", "| |||||": a table row whose cells were all dropped
TABLE_RULE = regex.compile(r"[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*(?::?-{3,}:?[ \t]*)?")  # "---|---|"
TABLE_ROW = regex.compile(r"[^\n]*\|[^\n]*")


def _headings_only(line: str) -> bool:
    """A table's heading row, not a paragraph that trafilatura ran into it ("... run earlier in the request.Related
    Modules | Related Directives |", seen in precision mode: the paragraph stays, with the headings)."""
    return bool(TABLE_ROW.fullmatch(line)) and all(len(cell.strip()) <= 60 for cell in line.split("|"))


def drop_residue_lines(text: str) -> str:
    """Without the lines that are what is left of navigation and tables once trafilatura dropped their links: a
    breadcrumb's separators (the httpd manual's "Apache > HTTP Server > ..." comes out as "> > > >", which Markdown
    reads as nested quotes), a table row of empty cells ("||"), and a table of headings with no row under them
    (the manual's "Related Modules | Related Directives" table, whose cells are link lists). Lines inside code
    fences are code (`>>>`, `||`) and stay."""
    lines = text.split("\n")
    out, fenced, dropped = [], False, False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (SEPARATORS_ONLY.fullmatch(line) or PIPES_ONLY.fullmatch(line)):
            dropped = True
            continue
        elif (not fenced and TABLE_RULE.fullmatch(line) and out and _headings_only(out[-1])
              and not (i + 1 < len(lines) and TABLE_ROW.fullmatch(lines[i + 1]))):
            out.pop()  # the headings of a table without rows
            dropped = True
            continue
        if dropped and not line.strip() and (not out or not out[-1].strip()):
            continue  # the blank line after a dropped one, when one is already there
        dropped = False
        out.append(line)
    return "\n".join(out)


def _check_extract_options(kwargs: dict) -> None:
    """trafilatura's `extract` takes any keyword and ignores the ones it does not know: `favour_recall=True` (the
    step's spelling, not trafilatura's `favor_recall`) extracted in the default mode without a word."""
    import inspect

    from trafilatura import extract

    known = {name for name, p in inspect.signature(extract).parameters.items() if p.kind is not p.VAR_KEYWORD}
    known |= set(inspect.signature(Trafilatura.__init__).parameters) - {"self", "kwargs"}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise TypeError(f"trafilatura takes no option {', '.join(unknown)} (it would ignore it)")


class CodeAwareTrafilatura(Trafilatura):
    """datatrove's Trafilatura extractor with code blocks kept as code (see `mark_code`)."""

    def __init__(self, keep_code: bool = True, **kwargs):
        if keep_code:
            kwargs["include_formatting"] = True
        _check_extract_options(kwargs)
        super().__init__(**kwargs)
        self.keep_code = keep_code

    def extract(self, text: str) -> str:
        if self.deduplicate:
            from trafilatura.deduplication import LRU_TEST

            LRU_TEST.clear()  # repeats within this page only: the text is a function of the page alone
        if not self.keep_code:
            return super().extract(text)
        out = super().extract(mark_code(text))
        # trafilatura ends a line after every inline code span; inside a paragraph that is not a line break
        return drop_residue_lines(INLINE_CODE_BREAK.sub(" ", out)) if out else out


# a page that takes every common path through trafilatura (headings, paragraphs, a list, code, a table), so its
# lazily loaded parts are loaded while the process warms up, not while the first real page's time runs
WARMUP_PAGE = ("<html><head><title>Warm-up</title></head><body><article><h1>Warming up the extractor</h1>"
               "<p>This paragraph is long enough for the extractor to take it as the main text of the page, and it "
               "holds <code>inline code</code> and a <a href='https://example.org/'>link</a>.</p>"
               "<ul><li>one item of a list</li><li>another item of the list</li></ul>"
               "<pre>print('a code block')</pre><table><tr><td>a</td><td>table</td></tr></table>"
               "<p>A second paragraph closes the article, so that the page reads as an article.</p>"
               "</article></body></html>")


class ExtractorStartError(RuntimeError):
    """The extractor's process did not start: an error of the run, not of the page being extracted."""


class PageSandbox(ExtractorSandbox):
    """datatrove's extractor sandbox (a child process, killed when a page runs past `timeout`), with the process's
    start timed apart from the pages: datatrove counts starting the process and its warm-up against the first page's
    timeout, so on a loaded machine the first page of a task was removed as a timeout, and a run's output depended on
    the machine's load (a Ray run and a local run of the same pipeline differed by that page). Starting takes up to
    `startup_timeout`; a process that cannot start at all is an error of the run, not of a page."""

    def __init__(self, timeout: float, startup_timeout: float, warmup_text: str = WARMUP_PAGE):
        super().__init__(timeout=timeout, warmup_text=warmup_text)
        self.startup_timeout = startup_timeout

    def _ensure_process(self, extract_fn):
        if self.process is not None and self.process.is_alive():
            return
        page_timeout, self.timeout = self.timeout, self.startup_timeout
        try:
            super()._ensure_process(extract_fn)
        except TimeoutError as e:
            raise ExtractorStartError(f"the HTML extractor's process did not start within "
                                      f"{self.startup_timeout} s (startup_timeout)") from e
        finally:
            self.timeout = page_timeout

    def extract(self, text: str, extract_fn) -> tuple[str, int]:
        """The page's text and how many tries it took. A page that runs out of time, or whose process dies, is tried
        once more in a fresh process (datatrove kills the timed-out one): a page stalled by a busy machine is not
        removed for it; one that is slow by itself runs out twice and raises TimeoutError."""
        try:
            return self.process_document(text, extract_fn), 1
        except (TimeoutError, EOFError):
            return self.process_document(text, extract_fn), 2


class HtmlExtract(CurateStep):
    """Extract the main text of HTML pages (WARC responses, HTML files) with trafilatura, code kept as code."""
    summary = (
        "main text of HTML pages with trafilatura (`Trafilatura`, in datatrove's timeout sandbox); code "
        "blocks kept fenced, inline code in backticks; text that is not HTML (Markdown, plain text) passes through"
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
        self._sandbox: PageSandbox | None = None  # open only while `run` is (steps are pickled before)
        self.html_files: frozenset[str] = frozenset()  # input files whose records are HTML pages (`prepare`)

    def prepare(self, files: list[dict[str, Any]]) -> None:
        self.html_files = frozenset(f["path"] for f in files if f["format"] in HTML_FORMATS)

    def is_html(self, doc: Document) -> bool:
        if not self.params.only_html or doc.metadata.get(FILE) in self.html_files:
            return True
        text = doc.text
        return bool(BEGINS_AS_PAGE.match(text)
                    or BEGINS_AS_FRAGMENT.match(text) and ENDS_WITH_TAG.search(text[-256:]))

    def process(self, doc: Document) -> str | None:
        if not self.is_html(doc):
            self.count("passed_through")
            return None
        self.count("extracted")
        try:
            text, tries = self._sandbox.extract(doc.text, self.extractor.extract)
        except TimeoutError:
            return "timeout"
        except EOFError:
            return "extractor_died"
        except ExtractorStartError:
            raise
        except Exception:  # trafilatura raises many types on malformed markup
            return "error"
        if tries > 1:
            self.count("tried_twice")
        if not (text and text.strip()):
            return "empty"
        doc.text = text
        return None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        # one sandbox process per task: started once, restarted after a timeout kills it
        with PageSandbox(self.params.timeout, self.params.startup_timeout) as sandbox:
            self._sandbox = sandbox
            try:
                yield from super().run(data, rank, world_size)
            finally:
                self._sandbox = None
        write_totals_section(self.ctx.run_dir, self.step_name, rank, dict(self.counters), self._render)

    def _render(self, totals: dict[str, Any]) -> tuple[str, str]:
        extracted, passed = totals.get("extracted", 0), totals.get("passed_through", 0)
        md = f"## HTML extraction ({self.step_name})\n\n{extracted:,} pages extracted"
        if totals.get("tried_twice"):
            md += (f" ({totals['tried_twice']:,} on a second try, in a fresh process: the first ran out of time or "
                   "its process died)")
        if passed:
            md += (f"; {passed:,} documents passed through unchanged: their text is not HTML (not read from a WARC or "
                   "HTML file, and neither an HTML page nor a fragment wrapped in HTML elements)")
        return f"HTML extraction ({self.step_name})", md + ".\n"
