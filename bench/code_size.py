#!/usr/bin/env python3
"""Code size of a generated library per target: `size` on libNAME.a.

Compiles MODEL with canaoc for each target (weights in the separate blob,
not embedded, so the archive holds code and constants only), builds the
library (natively, or with cmake/toolchains/aarch64-linux-gnu.cmake for
neon) and prints text / data / bss of the archive, summed over its objects.

    bench/code_size.py --canaoc BUILD/compiler/canaoc --model M.onnx
                       [--shape NAME=DIMS ...] [--targets x86-avx2,neon]
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLCHAIN = ROOT / "cmake" / "toolchains" / "aarch64-linux-gnu.cmake"


def run(cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"code_size: {' '.join(map(str, cmd))} failed:\n"
                 f"{(r.stdout + r.stderr)[-1500:]}")
    return r.stdout


def archive_size(size_tool, lib):
    text = data = bss = 0
    for line in run([size_tool, lib]).splitlines()[1:]:
        f = line.split()
        if len(f) >= 3 and f[0].isdigit():
            text, data, bss = text + int(f[0]), data + int(f[1]), bss + int(f[2])
    return text, data, bss


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--canaoc", required=True, type=Path)
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--shape", action="append", default=[])
    p.add_argument("--targets", default="x86-avx2,neon")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in args.targets.split(","):
            out, bdir = Path(tmp) / f"out_{target}", Path(tmp) / f"b_{target}"
            cmd = [args.canaoc, args.model, "-o", out, "--name", "model", "-q",
                   "--target", target]
            for s in args.shape:
                cmd += ["--shape", s]
            run(cmd)
            cross = target == "neon"
            gen = ["-G", "Ninja"] if shutil.which("ninja") else []
            run(["cmake", "-S", out, "-B", bdir, *gen,
                 "-DCMAKE_BUILD_TYPE=Release",
                 *([f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}"] if cross else [])])
            run(["cmake", "--build", bdir, "--target", "model"])
            size_tool = "aarch64-linux-gnu-size" if cross else "size"
            lib = bdir / "libmodel.a"
            text, data, bss = archive_size(size_tool, lib)
            rows.append((target, text, data, bss, lib.stat().st_size))
    print(f"{'target':12} {'text':>9} {'data':>7} {'bss':>6} {'archive':>9}  "
          f"({args.model.name}, weights not embedded)")
    for target, text, data, bss, ar in rows:
        print(f"{target:12} {text:9} {data:7} {bss:6} {ar:9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
