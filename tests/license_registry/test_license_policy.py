"""classify_policy: the curation side's yes/no per license with a reason."""

import pytest

from license_registry import classify_policy


@pytest.mark.parametrize("expr,policy,allowed", [
    ("MIT", "commercial-safe", True),
    ("CC-BY-NC-4.0", "commercial-safe", False),
    ("CC-BY-ND-4.0", "commercial-safe", False),
    ("GPL-3.0-only", "commercial-safe", True),
    ("openai", "commercial-safe", False),
    ("acme-secret", "commercial-safe", False),
    ("Apache-2.0", "permissive-only", True),
    ("CC0-1.0", "permissive-only", True),
    ("CC-BY-SA-4.0", "permissive-only", False),
    ("GPL-2.0-only", "permissive-only", False),
    ("CC-BY-NC-SA-4.0", "deny-nc-nd", False),
    ("CC-BY-NC-3.0", "deny-nc-nd", False),   # no ML entry: recognised from the CC id
    ("CC-BY-SA-4.0", "deny-nc-nd", True),
    ("acme-secret", "deny-unknown", False),
    ("NOASSERTION", "deny-unknown", False),
    ("Zlib", "deny-unknown", True),
])
def test_policies(expr, policy, allowed):
    assert classify_policy(expr, policy).allowed is allowed


def test_or_picks_the_alternative_that_passes():
    d = classify_policy("CC-BY-NC-4.0 OR MIT", "commercial-safe")
    assert d.allowed and d.chosen == "MIT" and "choosing MIT" in d.reason


def test_and_needs_every_license():
    d = classify_policy("Apache-2.0 AND CC-BY-NC-4.0", "commercial-safe")
    assert not d.allowed and "CC-BY-NC-4.0" in d.reason


def test_combined_policies_all_apply():
    assert not classify_policy("Acme-thing", "deny-nc-nd,deny-unknown").allowed
    assert classify_policy("MIT", ["permissive-only", "deny-unknown"]).allowed


def test_unknown_policy_name_is_rejected():
    with pytest.raises(ValueError, match="allowed: commercial-safe"):
        classify_policy("MIT", "be-nice")
