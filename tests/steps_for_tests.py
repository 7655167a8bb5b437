"""Steps that exist only for tests (registered by the test that uses them)."""

from curate.steps.base import CurateStep


class CrashOnSecret(CurateStep):
    """Raises, quoting the document, on any document that mentions an e-mail address."""

    type_name = "crash_on_secret"

    def process(self, doc):
        if "@" in doc.text:
            raise ValueError(f"cannot handle {doc.text!r}")
        return None
