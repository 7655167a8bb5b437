"""How a run can fail after its config was accepted (a bad config is a `curate.config.ConfigError`)."""


class AccountingError(RuntimeError):
    """The run lost or invented documents: documents_in != documents_kept + sum(removed)."""


class StageFailed(RuntimeError):
    """Tasks of a stage did not complete (on Ray: after datatrove's retries); a rerun resumes them."""
