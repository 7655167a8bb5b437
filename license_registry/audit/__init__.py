"""License audit of a planned model release: request -> rules -> report (+ model card, SPDX)."""

from .engine import audit
from .report import AuditReport, Finding, ObligationItem
from .request import AuditRequest, RequestError, load_request, parse_request
from .run_folder import RunFolderError, data_sources_from_run, load_manifest

__all__ = [
    "AuditReport", "AuditRequest", "Finding", "ObligationItem", "RequestError", "RunFolderError",
    "audit", "data_sources_from_run", "load_manifest", "load_request", "parse_request",
]
