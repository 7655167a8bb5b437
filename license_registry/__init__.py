"""License registry (temporary init, replaced below)."""
