"""HTML -> text with trafilatura, through datatrove's extractor (run in its sandbox process with a timeout).

datatrove's own step drops a page that fails or times out with only a counter; here every such page is removed
with a reason (`html_extract:timeout`, `:error`, `:empty`) and kept in removed/ with its HTML."""

from __future__ import annotations

import time

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import ExtractorSandbox

from curate.document import mark_removed
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

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with ExtractorSandbox(timeout=self.params.timeout, warmup_text="") as sandbox:
            for doc in data:
                if self.applies(doc):
                    started = time.perf_counter()
                    self.documents_in += 1
                    reason = None
                    try:
                        text = sandbox.process_document(doc.text, self.extractor.extract)
                        if text and text.strip():
                            doc.text = text
                        else:
                            reason = "empty"
                    except TimeoutError:
                        reason = "timeout"
                    except EOFError:
                        reason = "extractor_died"
                    except Exception:  # trafilatura raises many types on malformed markup
                        reason = "error"
                    self.seconds += time.perf_counter() - started
                    if reason:
                        self.removed += 1
                        mark_removed(doc, self.step_name, reason)
                yield doc
