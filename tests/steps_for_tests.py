"""Steps that exist only for tests (registered by the test that uses them)."""

from curate.steps.base import CurateStep


class CrashOnSecret(CurateStep):
    """Raises, quoting the document, on any document that mentions an e-mail address."""

    type_name = "crash_on_secret"

    def process(self, doc):
        if "@" in doc.text:
            raise ValueError(f"cannot handle {doc.text!r}")
        return None


class DieOnce(CurateStep):
    """Kills its own worker process (as an OOM killer or a lost node would) when it sees a document mentioning
    `die` while the marker file does not exist; it creates the marker as it dies (so a retry survives), unless
    `always` (then whoever fixes "the cause" creates the marker)."""

    type_name = "die_once"

    class Params(CurateStep.Params):
        marker: str
        always: bool = False

    def process(self, doc):
        import os

        if "die" in doc.text and not os.path.exists(self.params.marker):
            if not self.params.always:
                open(self.params.marker, "w").close()
            os._exit(137)
        return None


class RecordPid(CurateStep):
    """Appends the id of the process that runs it to `path`, once per task (which processes ran a plan's stages)."""

    type_name = "record_pid"

    class Params(CurateStep.Params):
        path: str

    def run(self, data, rank: int = 0, world_size: int = 1):
        import os

        with open(self.params.path, "a") as f:
            f.write(f"{os.getpid()}\n")
        yield from data
