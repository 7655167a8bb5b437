"""Helpers for audit tests on real requests: run one, pick its findings by rule and severity."""

from license_registry import audit, parse_request


def run(**req):
    """Audit a request given as keywords (commercial use and a weights release unless said otherwise)."""
    req.setdefault("use", "commercial")
    req.setdefault("distribution", "weights")
    return audit(parse_request(req))


def findings(report, rule, severity=None):
    return [f for f in report.findings if f.rule == rule and (severity is None or f.severity == severity)]


def severities(report, rule):
    return {f.severity for f in findings(report, rule)}
