#!/usr/bin/env python3
"""Concurrency under ThreadSanitizer and a create/run/destroy soak under
LeakSanitizer, on a generated library.

    run_sanitized.py --canaoc BUILD/compiler/canaoc --cxx clang++-22 --work DIR
                     [--runs 100] [--cycles 10000]

Makes a small BERT fixture (2 layers, hidden 64, sequence 32, batch 2),
compiles it with --target host, and builds tests/sanitize/contexts.cpp
against it twice:
  - -fsanitize=thread: two contexts on two threads with 2 pool threads
    each, RUNS runs each, bit-identical to a 1-thread run; then one context
    shared by two threads (every call ok or CANAO_ERROR_BUSY);
  - -fsanitize=leak: every entry point misused (null pointers, bad counts,
    ranks, thread counts), then CYCLES create/run/destroy cycles, no leak,
    resident memory flat.
Any sanitizer report fails. Prints each check and `N passed, M failed`.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.dont_write_bytecode = True
from checklib import check, run, summary  # noqa: E402

FIXTURE_ARGS = ["--opset", "14", "--layers", "2", "--hidden", "64",
                "--heads", "2", "--ffn", "256", "--vocab", "1000",
                "--batch", "2", "--seq", "32", "--pad", "5", "--no-ort"]
REPORT = re.compile(r"(ThreadSanitizer|LeakSanitizer|AddressSanitizer|"
                    r"runtime error:)")


def build(cxx, out, exe, sanitizer):
    isa = (out / "model.isa-flags").read_text().split()
    return run([cxx, f"-fsanitize={sanitizer}", "-O1", "-g1", "-std=c++17",
                "-fno-omit-frame-pointer", *isa, "-I", out, "-I",
                out / "runtime", out / "model.cpp", HERE / "contexts.cpp",
                "-o", exe, "-pthread"])


def run_driver(label, exe, weights, mode, n, inputs, env=None):
    r = subprocess.run([str(exe), str(weights), mode, str(n),
                        *map(str, inputs)], capture_output=True, text=True,
                       env=env, timeout=600)
    for line in r.stdout.splitlines():
        if line.startswith(("PASS", "FAIL")):
            print(f"  {line}")
    m = REPORT.search(r.stderr)
    check(f"{label}: {mode} {n}", r.returncode == 0 and not m,
          (r.stderr[m.start():][:2000] if m else r.stderr.strip()[-800:])
          or r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", required=True, type=Path)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=10000)
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    fixture = work / "fixture"
    stamp = fixture / "args.json"
    if not stamp.exists() or stamp.read_text() != json.dumps(FIXTURE_ARGS):
        shutil.rmtree(fixture, ignore_errors=True)
        r = run([sys.executable, ROOT / "tests" / "models" / "make_fixture.py",
                 "--out", fixture, *FIXTURE_ARGS])
        if not check("fixture", r.returncode == 0, r.stderr.strip()[-800:]):
            return summary()
        stamp.write_text(json.dumps(FIXTURE_ARGS))
    meta = json.loads((fixture / "meta.json").read_text())
    out = work / "out"
    cmd = [args.canaoc, fixture / "model.onnx", "-o", out, "--name", "model",
           "--target", "host", "-q"]
    for s in meta["shape_args"]:
        cmd += ["--shape", s]
    r = run(cmd)
    if not check("canaoc --target host", r.returncode == 0, r.stderr.strip()):
        return summary()
    inputs = [fixture / "inputs" / f"{n}.npy" for n in meta["inputs"]]
    weights = out / "model.weights"

    tsan = work / "contexts_tsan"
    r = build(args.cxx, out, tsan, "thread")
    if check("build with -fsanitize=thread", r.returncode == 0,
             r.stderr.strip()[-1500:]):
        env = {"TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1"}
        run_driver("tsan", tsan, weights, "two-contexts", args.runs, inputs,
                   env)
        run_driver("tsan", tsan, weights, "shared-context", args.runs, inputs,
                   env)

    lsan = work / "contexts_lsan"
    r = build(args.cxx, out, lsan, "leak")
    if check("build with -fsanitize=leak", r.returncode == 0,
             r.stderr.strip()[-1500:]):
        env = {"LSAN_OPTIONS": "exitcode=23"}
        run_driver("lsan", lsan, weights, "misuse", 0, inputs, env)
        run_driver("lsan", lsan, weights, "soak", args.cycles, inputs, env)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
