#!/usr/bin/env python3
"""canaoc's command-line conventions:

- MLIR's own options work as in mlir-opt (registered from MLIR, not
  re-implemented): --mlir-print-ir-after=PASS, --mlir-print-ir-after-all,
  --mlir-timing; a bad one is an error, exit 1;
- --threads N changes the thread count the generated library starts with;
  a bad value is one error line;
- --depfile names the model and its external data;
- exit codes: 0, 1 (one 'canaoc: error:' line), 3 (--check, test_check.py);
- docs/cli.md is --help verbatim; docs/troubleshooting.md lists every error
  message the sources can print (error_messages.py).

    test_cli.py --canaoc BUILD/compiler/canaoc --work DIR
"""
import argparse
import json
import sys
from pathlib import Path

import error_messages
from checklib import check, run, summary

ROOT = Path(__file__).resolve().parents[2]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--canaoc", required=True, type=Path)
    p.add_argument("--work", required=True, type=Path)
    args = p.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    fixture = work / "fixture"
    r = run([sys.executable, ROOT / "tests/models/make_fixture.py", "--out",
             fixture, "--opset", "14", "--layers", "1", "--hidden", "32",
             "--heads", "2", "--ffn", "64", "--vocab", "100", "--seq", "16",
             "--no-ort"])
    if not check("fixture", r.returncode == 0, r.stderr[-500:]):
        return 1
    base = [args.canaoc, fixture / "model.onnx", "-o", work / "out", "-q"]
    for s in json.loads((fixture / "meta.json").read_text())["shape_args"]:
        base += ["--shape", s]

    r = run([*base, "--mlir-print-ir-after=canao-fuse-elementwise"])
    check("--mlir-print-ir-after=canao-fuse-elementwise prints that IR",
          r.returncode == 0 and "IR Dump After FuseElementwise" in r.stderr
          and "canao.dense" in r.stderr, r.stderr[-300:])
    r = run([*base, "--mlir-print-ir-after-all"])
    dumps = r.stderr.count("// -----// IR Dump After")
    check("--mlir-print-ir-after-all prints the IR after every pass",
          r.returncode == 0 and dumps >= 10, f"{dumps} dumps")
    r = run([*base, "--mlir-timing"])
    check("--mlir-timing prints MLIR's execution time report",
          r.returncode == 0 and "Execution time report" in r.stderr
          and "RaiseDense" in r.stderr, r.stderr[-300:])
    for bad in ("--mlir-no-such-option", "--mlir-print-ir-after=no-such-pass"):
        r = run([*base, bad])
        lines = r.stderr.strip().splitlines()
        check(f"{bad} is one error line, exit 1",
              r.returncode == 1 and len(lines) == 1, r.stderr.strip())

    r = run([*base, "--threads", "3"])
    src = (work / "out" / "model.cpp").read_text() if r.returncode == 0 else ""
    check("--threads 3: a new context starts with 3 threads",
          "set_threads(3, kScratchBytes)" in src, r.stderr.strip())
    for bad in ("0", "x", "5000"):
        r = run([*base, "--threads", bad])
        lines = r.stderr.strip().splitlines()
        check(f"--threads {bad} is one error line, exit 1",
              r.returncode == 1 and len(lines) == 1
              and lines[0].startswith("canaoc: error: --threads"),
              r.stderr.strip())

    dep = work / "model.d"
    r = run([*base, "--depfile", dep])
    text = dep.read_text() if dep.exists() else ""
    check("--depfile: OUTDIR/NAME.h depends on the model",
          r.returncode == 0 and text.startswith(f"{work / 'out' / 'model.h'}:")
          and str(fixture / "model.onnx") in text, text.strip())

    # docs/cli.md holds both help texts verbatim, in ```text blocks.
    doc = (ROOT / "docs" / "cli.md").read_text()
    blocks = [b.split("```", 1)[0] for b in doc.split("```text\n")[1:]]
    helps = [run([args.canaoc, "--help"]).stdout,
             run([args.canaoc, "prune", "--help"]).stdout]
    check("docs/cli.md is canaoc --help and canaoc prune --help verbatim",
          blocks[:2] == helps, "regenerate docs/cli.md from --help"
          if blocks[:2] != helps else "")
    # Every error message the sources can print is in the troubleshooting
    # page (by its leading words, as error_messages.py extracts them).
    keys = error_messages.message_keys()
    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    missing = [k for k in keys if f"`{k}" not in page]
    check(f"docs/troubleshooting.md lists all {len(keys)} error messages",
          len(keys) > 100 and not missing,
          "missing: " + "; ".join(f"{k} ({keys[k][0]})" for k in missing[:5])
          if missing else "")
    r = run([args.canaoc, "--help"])
    check("--help documents the exit status",
          r.returncode == 0 and "exit status: 0 success, 1 error" in r.stdout
          and "3 --check" in r.stdout)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
