"""How a run can fail after its config was accepted (a bad config is a `curate.config.ConfigError`)."""


class AccountingError(RuntimeError):
    """The run lost or invented documents: documents_in != documents_kept + sum(removed)."""


class StageFailed(RuntimeError):
    """Tasks of a stage did not complete (on Ray: after datatrove's retries); a rerun resumes them."""


class StepFailed(RuntimeError):
    """A step failed on a document in a strict run; the message names the document, never its text."""


class InvalidRecordError(RuntimeError):
    """Raised in --strict mode: a bad record fails the run, naming its file and line."""
