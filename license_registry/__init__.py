"""License registry for ML: SPDX/ScanCode licenses plus typed ML terms, resolution, policies,
license-text detection and release audits. Imports nothing from `curate` or `train`."""

from .audit import AuditReport, AuditRequest, RequestError, audit, load_request, parse_request
from .detect import detect_cc, detect_license_expression, detect_license_text, parse_spdx_tags
from .expression import ResolvedLicense, combine_licenses, resolve
from .license_files import LicenseFile, folder_license, read_license_file, refine_generic_names
from .model_card import ModelCardSection, model_card_section
from .models import LicenseEntry
from .package_manifests import is_package_manifest, read_package_manifest
from .policy import POLICIES, PolicyDecision, classify_policy
from .registry import Registry, get_registry
from .spdx3 import spdx_document, spdx_json

__all__ = [
    "POLICIES", "AuditReport", "AuditRequest", "LicenseEntry", "LicenseFile", "ModelCardSection", "PolicyDecision",
    "Registry", "RequestError", "ResolvedLicense", "audit", "classify_policy", "combine_licenses", "detect_cc",
    "detect_license_expression", "detect_license_text", "folder_license", "get_registry", "is_package_manifest",
    "load_request",
    "model_card_section", "parse_request", "parse_spdx_tags", "read_license_file", "read_package_manifest",
    "refine_generic_names", "resolve",
    "spdx_document", "spdx_json",
]
