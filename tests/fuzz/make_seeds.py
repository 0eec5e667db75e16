#!/usr/bin/env python3
"""Writes the fuzzers' seed inputs (generated, never committed).

    make_seeds.py import OUTDIR   (the venv python: torch, onnx)
    make_seeds.py blob OUTDIR

import: tiny BERT-family exports (1 layer, hidden 16, vocab 32, sequence
8) of every architecture the e2e suite covers, at opsets 11, 14 and 17, one
with a classifier head, one with a 3-d causal mask; plus the bad-input
models of ../models/make_bad_models.py. Each is a few KB to a few tens of
KB, so the fuzzer spends its time in canaoc, not in copying bytes.

blob: weight blobs in FuzzBlob.cpp's input format (8 bytes of expected
payload size, 8 of expected checksum, then the blob): valid ones of several
sizes, and the golden tiny BERT's header with a zero payload.

Skips what already exists (a stamp per seed set).
"""

import os
import struct
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent / "models"

TINY = ["--layers", "1", "--hidden", "16", "--heads", "2", "--ffn", "32",
        "--vocab", "32", "--max-pos", "16", "--seq", "8", "--no-ort"]
IMPORT_SEEDS = {
    "bert_opset11": ["--opset", "11"],
    "bert_opset14_batch2": ["--opset", "14", "--batch", "2", "--pad", "2"],
    "bert_opset17": ["--opset", "17"],
    "bert_cls_tanh": ["--opset", "14", "--head", "cls", "--gelu", "tanh"],
    "bert_mask3d": ["--opset", "14", "--mask3d"],
    "roberta": ["--arch", "roberta", "--opset", "14"],
    "electra": ["--arch", "electra", "--opset", "14"],
    "mpnet": ["--arch", "mpnet", "--opset", "14"],
    "mobilebert": ["--arch", "mobilebert", "--opset", "14", "--hidden", "32",
                   "--embedding-size", "16", "--bottleneck", "8",
                   "--heads", "2", "--ffn", "16"],
    "bert_pruned": ["--opset", "14", "--prune", "4x1:0.5"],
}


def import_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    work = out.parent / (out.name + "-fixtures")
    for name, extra in IMPORT_SEEDS.items():
        seed = out / f"{name}.onnx"
        if seed.exists():
            continue
        fixture = work / name
        # mobilebert sets its own sizes; later flags win in argparse.
        cmd = [sys.executable, MODELS / "make_fixture.py", "--out", fixture,
               *TINY, *extra]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"make_seeds.py: {name}: {r.stderr.strip()[-600:]}")
        (fixture / "model.onnx").rename(seed)
    bad = out.parent / (out.name + "-bad")
    r = subprocess.run([sys.executable, MODELS / "make_bad_models.py", bad],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make_seeds.py: bad models: {r.stderr.strip()[-600:]}")
    for f in sorted(bad.glob("*.onnx")):
        # The huge cases are only dims, their files small; large_weights
        # (4 MB of real weights) would only slow the fuzzer down.
        if f.name != "large_weights.onnx":
            os.replace(f, out / f"bad_{f.name}")
    print(f"{len(list(out.iterdir()))} import seeds in {out}")


def checksum64(data):
    """runtime.h's checksum64: FNV-1a over little-endian 64-bit words."""
    h = 1469598103934665603
    padded = data + b"\0" * (-len(data) % 8)
    for (w,) in struct.iter_unpack("<Q", padded):
        h = ((h ^ w) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def blob(payload, version=1):
    header = b"CANAOWTS" + struct.pack("<IIQQ", version, 64, len(payload),
                                       checksum64(payload))
    return header + b"\0" * (64 - len(header)) + payload


def blob_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    for n in (0, 1, 7, 64, 1000, 53824):
        payload = bytes((i * 37 + 11) % 256 for i in range(n))
        prefix = struct.pack("<QQ", n, checksum64(payload))
        (out / f"valid_{n}.bin").write_bytes(prefix + blob(payload))
    # The golden model's expected size with a wrong payload.
    (out / "golden_size.bin").write_bytes(
        struct.pack("<QQ", 53824, 0x0B4682A3E431695F) +
        blob(b"\0" * 53824)[:4096])
    print(f"{len(list(out.iterdir()))} blob seeds in {out}")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("import", "blob"):
        sys.exit(__doc__.splitlines()[2].strip())
    out = Path(argv[2])
    (import_seeds if argv[1] == "import" else blob_seeds)(out)


if __name__ == "__main__":
    main(sys.argv)
