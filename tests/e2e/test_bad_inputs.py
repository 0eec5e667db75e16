#!/usr/bin/env python3
"""canaoc must reject bad models and bad command lines cleanly.

    test_bad_inputs.py --canaoc BUILD/compiler/canaoc --work DIR

Generates malformed models with ../models/make_bad_models.py into DIR/models,
runs `canaoc MODEL -o DIR/out_<case> -q` on each and checks that canaoc
  - exits non-zero, without a signal (exit code < 128) and within 60 s;
  - prints exactly one stderr line, `canaoc: error: ...`, holding the
    case's keywords;
  - leaves neither DIR/out_<case> nor any DIR/out_<case>.canaoc-tmp-*.
`-q` keeps progress lines off stderr, so the error is the only line.
Also checks CLI misuse (bad --shape, unknown option, missing model file) and
that the one valid model (good.onnx) does compile, so that the misuse cases
fail for the reason they claim.

Prints `PASS name` / `FAIL name: reason` per case, then `N passed, M failed`;
exits 1 on any failure. Needs only onnx and numpy (e.g. /usr/bin/python3
with Debian's python3-onnx); no pytest.
"""

import argparse
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKER = HERE.parent / "models" / "make_bad_models.py"
TIMEOUT_S = 60

# case (= DIR/models/<case>.onnx) -> keywords the error line must contain
MODEL_CASES = {
    "truncated": ["not a valid ONNX model"],
    "corrupt": ["not a valid ONNX model"],
    "unsupported_op": ["unsupported op 'TopK'", "my_topk", "opset 14"],
    "missing_initializer": ["no_such_bias"],
    "symbolic_dim": ["foo", "--shape"],
    "escape_external": ["escapes", "../evil.bin"],
    "absolute_external": ["escapes", "/etc/passwd"],
    "cycle": ["cycle"],
    "absurd_dims": ["absurd"],
    "absurd_input": ["absurd"],
    "bad_raw_size": ["bytes"],
    "duplicate_output": ["produced by two nodes", "'t'"],
    "zero_dim_input": ["dim 1 is 0", "empty tensors"],
    "empty_slice": ["empty_slice", "empty tensor"],
    "shape_input": ["reshape", "--freeze shape=FILE.npy"],
    "constant_of_shape_1tb": ["absurd"],
    "expand_2p40": ["absurd"],
}

# case -> (flags, keywords): resource bounds (--max-memory) refused before
# allocating.
BUDGET_CASES = {
    "expand_1gib": (["--max-memory", "512M"],
                    ["'expand'", "1073.7 MB", "--max-memory (536.9 MB)"]),
    "large_weights": (["--max-memory", "1M"],
                      ["weights need 4.2 MB", "--max-memory (1.0 MB)"]),
}

results = []


def report(name, ok, detail=""):
    results.append(ok)
    print(f"PASS {name}" if ok else f"FAIL {name}: {detail}", flush=True)


def load_maker():
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    spec = importlib.util.spec_from_file_location("make_bad_models", MAKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def leftovers(out):
    found = glob.glob(glob.escape(str(out)) + ".canaoc-tmp-*")
    if out.exists() or out.is_symlink():
        found.insert(0, str(out))
    return found


def clean(out):
    for p in [str(out)] + glob.glob(glob.escape(str(out)) + ".canaoc-tmp-*"):
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.remove(p)


def run_canaoc(canaoc, model, out, extra):
    """Returns (returncode or None on timeout, stderr text)."""
    cmd = [str(canaoc), str(model), "-o", str(out), "-q"] + list(extra)
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, ""
    return p.returncode, p.stderr.decode("utf-8", "replace")


def expect_error(name, canaoc, model, work, extra=(), keywords=()):
    out = work / f"out_{name}"
    clean(out)
    rc, err = run_canaoc(canaoc, model, out, extra)
    problems = []
    if rc is None:
        problems.append(f"hung (no exit within {TIMEOUT_S} s)")
    elif rc < 0 or rc >= 128:
        sig = -rc if rc < 0 else rc - 128
        problems.append(f"crashed (exit code {rc}, signal {sig})")
    elif rc == 0:
        problems.append("exit code 0 (accepted a bad input)")
    if rc is not None:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].strip():
            problems.append(f"stderr has {len(lines)} lines, want exactly 1")
        elif not lines[0].startswith("canaoc: error: "):
            problems.append("stderr does not start with 'canaoc: error: '")
        else:
            missing = [k for k in keywords if k not in lines[0]]
            if missing:
                problems.append("error lacks " +
                                ", ".join(repr(k) for k in missing))
    left = leftovers(out)
    if left:
        problems.append("left behind " + ", ".join(left))
        clean(out)
    detail = "; ".join(problems)
    if problems and rc is not None:
        detail += f" [exit {rc}, stderr {err.strip()!r}]"
    report(name, not problems, detail)


def expect_success(name, canaoc, model, work, extra=()):
    out = work / f"out_{name}"
    clean(out)
    rc, err = run_canaoc(canaoc, model, out, extra)
    ok = rc == 0 and out.is_dir() and not leftovers(out)[1:]
    report(name, ok, f"exit {rc}, stderr {err.strip()!r}")
    clean(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    args = ap.parse_args()
    canaoc = args.canaoc.resolve()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()

    try:
        models = {k: Path(v) for k, v in
                  load_maker().write_all(str(work / "models")).items()}
    except Exception as e:  # noqa: BLE001 - report, don't trace back
        report("make_bad_models", False, f"{type(e).__name__}: {e}")
        models = {}

    for case, keywords in MODEL_CASES.items():
        if case not in models:
            report(case, False, "model was not generated")
            continue
        expect_error(case, canaoc, models[case], work, keywords=keywords)

    for case, (flags, keywords) in BUDGET_CASES.items():
        if case not in models:
            report(case, False, "model was not generated")
            continue
        expect_error(case, canaoc, models[case], work, flags, keywords)
    if "large_weights" in models:
        expect_success("large_weights_default_budget", canaoc,
                       models["large_weights"], work)
        expect_success("large_weights_budget_8M", canaoc,
                       models["large_weights"], work, ["--max-memory", "8M"])

    expect_error("missing_file", canaoc, work / "models" / "no_such.onnx",
                 work, keywords=["cannot open", "no_such.onnx"])

    good = models.get("good")
    if good is None:
        report("good_model", False, "model was not generated")
    else:
        # The valid model compiles, so the misuse cases below fail only
        # because of their arguments.
        expect_success("good_model", canaoc, good, work)
        expect_error("shape_zero_dim", canaoc, good, work,
                     ["--shape", "x=0x4"], ["not a positive dimension"])
        expect_error("shape_zero_dim_input_ids", canaoc, good, work,
                     ["--shape", "input_ids=0x5"],
                     ["not a positive dimension"])
        expect_error("shape_not_a_number", canaoc, good, work,
                     ["--shape", "x=ax4"], ["not a positive dimension"])
        expect_error("shape_malformed", canaoc, good, work,
                     ["--shape", "x"], ["--shape expects INPUT=D0xD1"])
        expect_error("shape_not_an_input", canaoc, good, work,
                     ["--shape", "nosuch=1x4"], ["nosuch", "not an input"])
        expect_error("shape_wrong_rank", canaoc, good, work,
                     ["--shape", "x=1x4x4"], ["rank"])
        expect_error("shape_conflicts_fixed_dim", canaoc, good, work,
                     ["--shape", "x=2x5"], ["fixed to 4"])
        expect_error("unknown_option", canaoc, good, work,
                     ["--frobnicate"], ["unknown option '--frobnicate'"])
        expect_error("option_missing_value", canaoc, good, work,
                     ["--shape"], ["--shape needs a value"])
        for bad in ("0", "-1", "12X", "M", "99999999999999999999G"):
            expect_error(f"max_memory_{bad}", canaoc, good, work,
                         ["--max-memory", bad],
                         ["--max-memory expects a positive byte count"])

    passed = sum(results)
    failed = len(results) - passed
    print(f"# took {time.monotonic() - start:.2f} s", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
