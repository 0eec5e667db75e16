#!/usr/bin/env python3
"""Every end-to-end fixture through a sanitized canaoc and sanitized code.

    test_sanitized.py --canaoc BUILD/sanitized/compiler/canaoc --cxx clang++-22
                      --cases BUILD/tests/e2e_cases.txt --e2e-work BUILD/tests/e2e
                      --work DIR [--only REGEX]

For each case of the e2e suite (tests/CMakeLists.txt writes them to
e2e_cases.txt, one per canao_e2e), with the case's own fixture (made by
the e2e test in E2E_WORK/NAME/fixture, or here if it is missing):
  - canaoc built with -fsanitize=address,undefined compiles it with the
    case's flags and target; any sanitizer report or leak fails;
  - the generated library and runner are built with the same sanitizers
    (for --target neon: the generic build of the fixture, since aarch64
    code cannot run here) and run at 1 thread, and at 2 when the case
    checks thread identity, against PyTorch and ONNX Runtime at the case's
    tolerance; cases with --runtime-errors also run the bad-input calls.
Libraries whose generated code is identical to one already run are built
once. Prints a line per check and `N passed, M failed`.
"""

import argparse
import filecmp
import hashlib
import os
import re
import shutil
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
import run_e2e  # noqa: E402
from checklib import check, run, summary  # noqa: E402

SANITIZERS = "address,undefined"
FLAGS = [f"-fsanitize={SANITIZERS}", "-fno-sanitize-recover=all",
         "-fno-omit-frame-pointer", "-g1", "-std=c++17"]
# -O0 compiles a model in 2 s instead of 8 at -O1; models with more weights
# than this (BERT-base, MiniLM) do enough arithmetic to want -O1.
O1_ABOVE_WEIGHT_BYTES = 40 << 20
# Leaks fail the run (except PoCL's own, lsan.supp); UBSan prints where.
os.environ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
os.environ["LSAN_OPTIONS"] = "suppressions=" + str(
    Path(__file__).resolve().parent.parent / "sanitize" / "lsan.supp")
os.environ["UBSAN_OPTIONS"] = "print_stacktrace=1"
REPORT = re.compile(r"(AddressSanitizer|LeakSanitizer|runtime error:)")


def read_cases(path):
    cases = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            name, *argv = line.split("\t")
            cases.append((name, [a for a in argv if a != ""]))
    return cases


def clean_stderr(text):
    """The sanitizer report, if any (first lines)."""
    m = REPORT.search(text)
    return "" if not m else text[max(0, m.start() - 200):][:1500]


def build_runner(cxx, out, exe, cache):
    """model.cpp and model_run.cpp with the sanitizers. The runner's object
    depends only on its source, the declarations in model.h and the flags,
    so it is compiled once per distinct set (a third of the build time)."""
    isa = (out / "model.isa-flags").read_text().split()
    blob = out / "model.weights"
    big = (blob.stat().st_size if blob.exists() else
           (out / "model_weights.cpp").stat().st_size // 4)
    opt = "-O1" if big > O1_ABOVE_WEIGHT_BYTES else "-O0"
    common = [cxx, *FLAGS, opt, *isa, "-I", out, "-I", out / "runtime"]
    decls = [l for l in (out / "model.h").read_text().splitlines()
             if not l.startswith("//")]
    key = hashlib.sha256("\n".join(
        [(out / "model_run.cpp").read_text(), (out / "runtime" / "canao" /
         "runner.h").read_text(), *decls, *isa, opt]).encode()).hexdigest()[:16]
    runner = cache / f"model_run-{key}.o"
    # The runner's default weights are a link to the current case's blob
    # (cases run one after another).
    current = cache / "current.weights"
    if current.is_symlink() or current.exists():
        current.unlink()
    current.symlink_to(out / "model.weights")
    if not runner.exists():
        r = run([*common, f'-DCANAO_DEFAULT_WEIGHTS="{current}"', "-c",
                 out / "model_run.cpp", "-o", runner])
        if r.returncode != 0:
            return r
    # --embed-weights: the blob as a C++ array, data only (no sanitizers).
    extra = []
    if (out / "model_weights.cpp").exists():
        extra = [out / "model_weights.o"]
        r = run([cxx, "-std=c++17", "-c", out / "model_weights.cpp", "-o",
                 extra[0]])
        if r.returncode != 0:
            return r
    return run([*common, out / "model.cpp", runner, *extra, "-o", exe,
                "-pthread", "-ldl"])


def sanitized_case(opts, name, argv, seen):
    args = run_e2e.make_parser().parse_args(
        ["--canaoc", str(opts.canaoc), "--work", str(opts.e2e_work / name),
         *argv])
    work = opts.work / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # The e2e test's fixture when it exists (same arguments), else made.
    fixture = (opts.e2e_work / name / "fixture").resolve()
    if not run_e2e.make_fixture(args, fixture):
        return
    import json
    meta = json.loads((fixture / "meta.json").read_text())
    run_e2e.apply_freeze(args, meta)
    args.work = work
    out = work / "out"
    r, seconds, rss = run_e2e.compile_model(args, fixture, out,
                                            meta["shape_args"])
    report = clean_stderr(r.stderr)
    if not check(f"{name}: sanitized canaoc --target {args.target or 'generic'}",
                 r.returncode == 0 and not report,
                 f"{seconds:.1f}s" if r.returncode == 0 and not report
                 else (report or r.stderr.strip()[-800:])):
        return
    if args.target == "neon":
        # aarch64 code cannot run here; the fixture's portable build can.
        args.target = "generic"
        shutil.rmtree(out)
        r, _, _ = run_e2e.compile_model(args, fixture, out, meta["shape_args"])
        if not check(f"{name}: sanitized canaoc --target generic",
                     r.returncode == 0 and not clean_stderr(r.stderr),
                     r.stderr.strip()[-800:]):
            return
    digest = hashlib.sha256((out / "model.cpp").read_bytes() +
                            (out / "model.h").read_bytes()).hexdigest()
    if digest in seen:
        print(f"SAME {name}: generated code identical to {seen[digest]}'s; "
              "built and run there")
        return
    seen[digest] = name
    exe = work / "model_run"
    t0 = time.time()
    r = build_runner(opts.cxx, out, exe, opts.work)
    if not check(f"{name}: build with -fsanitize={SANITIZERS}",
                 r.returncode == 0,
                 f"{time.time() - t0:.1f}s" if r.returncode == 0
                 else r.stderr.strip()[-1500:]):
        return
    inputs = run_e2e.input_flags(fixture, meta)
    results = []
    threads = ["1", "2"] if args.threads_identical else ["1"]
    for t in threads:
        res = work / f"result_t{t}"
        res.mkdir()
        r = run([exe, *inputs, "--output-dir", res, "--threads", t])
        report = clean_stderr(r.stderr)
        if not check(f"{name}: sanitized run, {t} thread(s)",
                     r.returncode == 0 and not report,
                     report or r.stderr.strip()[-800:]):
            return
        results.append(res)
    for oracle in ("ref_torch", "ref_ort"):
        if (fixture / oracle).is_dir():
            ok, text = run_e2e.compare(fixture / oracle, results[0],
                                       meta["outputs"], args.atol)
            check(f"{name}: sanitized run matches {oracle}", ok, text)
    if len(results) == 2:
        check(f"{name}: 1 and 2 threads bit-identical under the sanitizers",
              all(filecmp.cmp(results[0] / f"{o}.npy", results[1] / f"{o}.npy",
                              shallow=False) for o in meta["outputs"]))
    if args.runtime_errors:
        run_e2e.runtime_errors(exe, fixture, meta, work)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", required=True, type=Path)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--cases", required=True, type=Path)
    ap.add_argument("--e2e-work", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--only", default="", help="cases matching this regex")
    opts = ap.parse_args()
    opts.canaoc = opts.canaoc.resolve()
    opts.work = opts.work.resolve()
    opts.e2e_work = opts.e2e_work.resolve()
    if not check("sanitized canaoc exists", opts.canaoc.exists(),
                 str(opts.canaoc)) or not check(
                     f"{opts.cxx} found", shutil.which(opts.cxx) is not None):
        return summary()
    cases = [c for c in read_cases(opts.cases)
             if re.search(opts.only, c[0])]
    seen = {}
    t0 = time.time()
    for name, argv in cases:
        sanitized_case(opts, name, argv, seen)
    print(f"# {len(cases)} cases, {len(seen)} distinct libraries built and "
          f"run, {time.time() - t0:.0f} s")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
