"""HTML -> text with trafilatura, through datatrove's extractor (run in its sandbox process with a timeout).

datatrove's own step drops a page that fails or times out with only a counter; here every such page is removed
with a reason (`html_extract:timeout`, `:error`, `:empty`) and kept in removed/ with its HTML."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import ExtractorSandbox

from curate.steps.base import CurateStep, StepParams


class HtmlExtractParams(StepParams):
    favour_precision: bool = True  # less text, but less boilerplate
    timeout: float = 5.0  # seconds per page (the first page also pays for starting the sandbox)
    deduplicate: bool = True  # trafilatura's in-page duplicate-paragraph removal


class HtmlExtract(CurateStep):
    """Extract the main text of HTML pages (WARC responses, HTML files) with trafilatura."""

    type_name = "html_extract"
    Params = HtmlExtractParams

    def __init__(self, params: HtmlExtractParams, ctx, name=None):
        super().__init__(params, ctx, name)
        self.extractor = Trafilatura(favour_precision=params.favour_precision, timeout=params.timeout,
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
