#!/usr/bin/env python3
"""canaoc --check against committed golden copies of generated code.

tests/golden/bert_tiny holds what canaoc writes for a one-layer BERT whose
weights are an exact function of their index (make_fixture --weights
hashed: the same bits on every machine), without the weight blob (its
checksum is in model.cpp) and without the runtime copy. The checks:

- `canaoc --check tests/golden/bert_tiny` passes (exit 0) for each pinned
  target (generic and neon: the same bytes whatever CPU compiles);
- an emitter change fails it (exit 3, the changed file named, a diff that
  shows the change): a flag that changes the emitted code (--threads 2), and
  a golden file edited by hand;
- a missing and an extra file are reported; a missing OUTDIR is an error.

    test_check.py --canaoc BUILD/compiler/canaoc --work DIR [--update]

--update rewrites the golden copies (after an intended emitter change).
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

from checklib import check, run, summary

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
FIXTURE_ARGS = ["--opset", "14", "--layers", "1", "--hidden", "32", "--heads",
                "2", "--ffn", "64", "--vocab", "100", "--seq", "16",
                "--weights", "hashed", "--no-ort"]
TARGETS = {"bert_tiny": "generic", "bert_tiny_neon": "neon"}


def canaoc(args, fixture, target, *extra):
    cmd = [args.canaoc, fixture / "model.onnx", "--name", "model", "-q",
           "--target", target, *extra]
    for s in json.loads((fixture / "meta.json").read_text())["shape_args"]:
        cmd += ["--shape", s]
    return run(cmd)


def update(args, fixture):
    for name, target in TARGETS.items():
        tmp = args.work / f"update_{name}"
        shutil.rmtree(tmp, ignore_errors=True)
        r = canaoc(args, fixture, target, "-o", tmp)
        if r.returncode != 0:
            sys.exit(r.stderr)
        (tmp / "model.weights").unlink()
        shutil.rmtree(tmp / "runtime")
        shutil.rmtree(GOLDEN / name, ignore_errors=True)
        shutil.copytree(tmp, GOLDEN / name)
        print(f"updated {GOLDEN / name}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--canaoc", required=True, type=Path)
    p.add_argument("--work", required=True, type=Path)
    p.add_argument("--update", action="store_true")
    args = p.parse_args()
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    fixture = args.work / "fixture"
    r = run([sys.executable, ROOT / "tests/models/make_fixture.py", "--out",
             fixture, *FIXTURE_ARGS])
    if not check("fixture (hashed weights)", r.returncode == 0,
                 r.stderr.strip()[-800:]):
        return 1
    if args.update:
        return update(args, fixture)

    for name, target in TARGETS.items():
        r = canaoc(args, fixture, target, "--check", GOLDEN / name)
        check(f"--check tests/golden/{name} (--target {target}) is up to date",
              r.returncode == 0,
              r.stderr.strip()[-1500:] + "\n(after an intended change: "
              "test_check.py --update)" if r.returncode else "")

    # The emitter writes other code for --threads 2: --check must see it.
    r = canaoc(args, fixture, "generic", "--threads", "2", "--check",
               GOLDEN / "bert_tiny")
    check("an emitter change (--threads 2) fails --check with exit 3",
          r.returncode == 3 and "changed: model.cpp" in r.stderr
          and "+  return s != CANAO_OK ? s : ctx->base.set_threads(2" in r.stderr,
          r.stderr.strip()[-600:])

    # A golden copy edited, one file deleted, one added.
    edited = args.work / "edited"
    shutil.rmtree(edited, ignore_errors=True)
    shutil.copytree(GOLDEN / "bert_tiny", edited)
    src = (edited / "model.cpp").read_text().replace(
        "kWeightChecksum", "kWeightChecksum2", 1)
    (edited / "model.cpp").write_text(src)
    (edited / "model_run.cpp").unlink()
    (edited / "NOTES.txt").write_text("not generated\n")
    r = canaoc(args, fixture, "generic", "--check", edited)
    err = r.stderr
    check("a hand-edited copy fails --check with the diff of the first file",
          r.returncode == 3 and "changed: model.cpp" in err
          and "-constexpr uint64_t kWeightChecksum2" in err
          and "+constexpr uint64_t kWeightChecksum " in err, err.strip()[-600:])
    check("a missing and an extra file are named",
          "missing: model_run.cpp" in err and "extra: NOTES.txt" in err)
    r = canaoc(args, fixture, "generic", "--check", args.work / "no-such-dir")
    lines = r.stderr.strip().splitlines()
    check("--check on a missing OUTDIR is one error line, exit 1",
          r.returncode == 1 and len(lines) == 1
          and lines[0].startswith("canaoc: error:"), r.stderr.strip())
    return summary()


if __name__ == "__main__":
    sys.exit(main())
