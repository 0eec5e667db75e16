#!/usr/bin/env python3
"""End-to-end check of one fixture: export -> canaoc -> CMake build -> run ->
compare with PyTorch and ONNX Runtime.

    run_e2e.py --canaoc BUILD/compiler/canaoc --work DIR [--atol 1e-4]
               [--runtime-errors] [--determinism]
               (--minilm [--opset N] [-- --seq S] | -- MAKE_FIXTURE_ARGS...)

Run with the venv python (torch, onnx, onnxruntime). Each step prints one
line; the script ends with 'N passed, M failed' and exits 1 on any failure.
The tolerance is max abs error <= 1e-4 against both oracles.
"""

import argparse
import fcntl
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from checklib import check, run, summary

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent / "models"
AARCH64_TOOLCHAIN = HERE.parent.parent / "cmake" / "toolchains" / \
    "aarch64-linux-gnu.cmake"
QEMU_CPUS = ["cortex-a76", "cortex-a53"]  # Debian 12 qemu 7.2's big/little


def make_fixture(args, fixture):
    """Generates the fixture unless one made with the same arguments exists.
    Under a lock: the sanitizer sweep (test_sanitized.py) reads the same
    fixtures while the e2e tests may still be making them."""
    fixture.parent.mkdir(parents=True, exist_ok=True)
    with open(fixture.parent / (fixture.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _make_fixture(args, fixture)


def _make_fixture(args, fixture):
    stamp = fixture / "args.json"
    wanted = json.dumps({"minilm": args.minilm, "opset": args.opset,
                         "rest": args.fixture_args})
    if stamp.exists() and stamp.read_text() == wanted:
        return True
    shutil.rmtree(fixture, ignore_errors=True)
    if args.minilm:
        cmd = [sys.executable, MODELS / "minilm.py", "export", "--out",
               fixture, "--opset", args.opset, *args.fixture_args]
    else:
        cmd = [sys.executable, MODELS / "make_fixture.py", "--out", fixture,
               *args.fixture_args]
    t0 = time.time()
    r = run(cmd)
    if not check("fixture", r.returncode == 0,
                 f"{time.time() - t0:.1f}s" if r.returncode == 0
                 else r.stderr.strip()[-800:]):
        return False
    stamp.write_text(wanted)
    return True


def external_copy(fixture, work):
    """The fixture's model with every weight in one external data file."""
    import onnx
    ext = work / "external"
    shutil.rmtree(ext, ignore_errors=True)
    ext.mkdir()
    model = onnx.load(str(fixture / "model.onnx"))
    onnx.save_model(model, str(ext / "model.onnx"),
                    save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.weights.bin", size_threshold=0)
    return ext / "model.onnx"


PASSES = ["canao-raise-layer-norm", "canao-raise-dense", "canao-raise-embedding",
          "canao-raise-attention", "canao-fold-attention-scale",
          "canao-merge-qkv", "canao-raise-gelu", "canao-fuse-elementwise",
          "canao-fuse-epilogue"]


def freeze_flags(args, fixture):
    """--freeze NAME=inputs/NAME.npy for each input the test freezes."""
    flags = []
    for name in args.freeze:
        flags += ["--freeze", f"{name}={fixture / 'inputs' / (name + '.npy')}"]
    return flags


def apply_freeze(args, meta):
    """Frozen inputs leave the run-time inputs and the --shape flags."""
    for name in args.freeze:
        if name not in meta["inputs"]:
            raise SystemExit(f"run_e2e.py: --freeze {name}: the fixture has "
                             f"no such input ({', '.join(meta['inputs'])})")
    meta["inputs"] = [n for n in meta["inputs"] if n not in args.freeze]
    meta["shape_args"] = [s for s in meta["shape_args"]
                          if s.split("=")[0] not in args.freeze]


def check_frozen_api(args, out):
    """A frozen input is gone from the generated C API."""
    header = (out / "model.h").read_text()
    for name in args.freeze:
        check(f"frozen input '{name}' is not in model.h", name not in header)


def report(args, fixture, shape_args, extra=()):
    """canaoc --report=json for the fixture."""
    cmd = [args.canaoc, fixture / "model.onnx", "-o", args.work / "report_out",
           "-q", "--report=json", *freeze_flags(args, fixture), *extra]
    for s in shape_args:
        cmd += ["--shape", s]
    r = run(cmd)
    shutil.rmtree(args.work / "report_out", ignore_errors=True)
    return json.loads(r.stdout) if r.returncode == 0 else None


def check_structure(args, fixture, meta):
    """Kernel count and arena targets (LP-Fusion, static memory planning)."""
    rep = report(args, fixture, meta["shape_args"])
    if not check("report", rep is not None):
        return
    layers = meta["config"]["num_hidden_layers"]
    if args.max_kernels_per_layer:
        limit = args.max_kernels_per_layer * layers + args.max_extra_kernels
        check(f"kernels <= {args.max_kernels_per_layer}/layer + "
              f"{args.max_extra_kernels} = {limit}",
              rep["kernels"] <= limit,
              f"{rep['onnx_nodes']} ONNX nodes -> {rep['kernels']} kernels")
    if args.max_arena_mb:
        # The bound holds on every target (their k blocks differ, and with
        # them the packing workspace).
        for target in ("generic", "x86-avx2", "x86-avx512", "neon"):
            rep = report(args, fixture, meta["shape_args"],
                         ["--target", target])
            if check(f"report for --target {target}", rep is not None):
                check(f"arena <= {args.max_arena_mb:g} MB on {target}",
                      rep["arena_bytes"] <= args.max_arena_mb * 1e6,
                      f"{rep['arena_bytes'] / 1e6:.2f} MB")


def check_sparse(args, fixture, meta):
    """Every encoder weight runs on the layout --expect-sparse names
    ("bsr_k 16x1", "bsr_n 1x16", "bsr_n" for any block, or "dense"), per
    canaoc --report."""
    extra = ["--target", args.target] if args.target else []
    rep = report(args, fixture, meta["shape_args"], extra)
    if not check("report (sparse analysis)", rep is not None):
        return
    enc = [m for m in rep["matrices"] if "/encoder/" in m["name"]]
    # A format alone ("bsr_n") accepts any block: the host's BSR-N panel is
    # its dense tile's width (1x16 on AVX2, 1x32 on AVX-512).
    with_block = " " in args.expect_sparse
    got = sorted({m["format"] if m["format"] == "dense" or not with_block
                  else f"{m['format']} {m['block']}" for m in enc})
    check(f"encoder weights run on {args.expect_sparse}",
          bool(enc) and got == [args.expect_sparse],
          f"{len(enc)} matrices: {', '.join(got)}; kept "
          f"{rep['work_flops'] / max(rep['flops'], 1):.3f} of the FLOPs")


def each_pass_disabled(args, fixture, meta, work):
    """Every pass can be switched off and the model still matches."""
    for name in PASSES:
        out, bdir, res = work / "nopass_out", work / "nopass_build", work / "nopass_res"
        for d in (out, bdir, res):
            shutil.rmtree(d, ignore_errors=True)
        r, _, _ = compile_model(args, fixture, out, meta["shape_args"],
                                ["--disable-pass=" + name])
        ok = r.returncode == 0 and build(out, bdir).returncode == 0
        if ok:
            res.mkdir()
            ok = run([bdir / "model_run", *input_flags(fixture, meta),
                      "--output-dir", res]).returncode == 0
        if not check(f"--disable-pass={name} builds and runs", ok,
                     "" if ok else r.stderr.strip()[-300:]):
            continue
        ok, text = compare(fixture / "ref_torch", res, meta["outputs"],
                           args.atol)
        check(f"--disable-pass={name} matches ref_torch", ok, text)


def profile_checks(fixture, meta, out, work):
    """NAME_run --profile: one timed line per kernel in a CANAO_PROFILE build,
    a clear message in a normal one."""
    bdir = work / "build_profile"
    r = build(out, bdir, "-DCANAO_PROFILE=ON")
    if not check("cmake build with -DCANAO_PROFILE=ON", r.returncode == 0,
                 (r.stdout + r.stderr).strip()[-800:]):
        return
    r = run([bdir / "model_run", *input_flags(fixture, meta), "--bench", "3",
             "--profile"])
    lines = [l for l in r.stdout.splitlines() if l.strip().startswith(
        tuple("0123456789"))]
    header = [l for l in r.stdout.splitlines() if l.startswith("profile:")]
    count = int(header[0].split()[1]) if header else -1
    times = [float(l.split()[0]) for l in lines]
    check("--profile times every kernel", r.returncode == 0 and count > 0
          and len(lines) == count and sum(times) > 0,
          f"{count} kernels, {sum(times):.3f} ms per run" if times
          else r.stdout + r.stderr)
    # The kernels are part of each timed run: per run they sum to at most
    # the mean latency of the same runs (a profile that also counted the
    # warm-up runs summed to 5/4 of it).
    mean = re.search(r"mean=([0-9.]+)", r.stdout)
    check("--profile covers exactly the timed runs",
          bool(mean) and 0.5 * float(mean.group(1)) <= sum(times)
          <= 1.01 * float(mean.group(1)) + 0.01,
          f"kernels {sum(times):.4f} ms per run, mean latency "
          f"{mean.group(1) if mean else '?'} ms")


def gpu_tuning_checks(args, fixture, meta, out, work, data):
    """OpenCL --tune: every candidate geometry timed on the device, the
    fastest chosen, the output follows it, --tuning reproduces the bytes,
    and bad files are one-line errors."""
    cands = [c for c in data.get("candidates", []) if "ms" in c]
    best = min(cands, key=lambda c: c["ms"]) if cands else None
    chosen = data.get("gpu", {})
    check("opencl --tune timed the geometries on the device and chose the "
          "fastest", bool(cands) and best is not None and
          all(best[k] == chosen.get(k) for k in chosen),
          f"{len(cands)} candidates on {data.get('device')}: chose {chosen}, "
          f"{best['ms'] if best else '?'} ms")
    cl = (out / "kernels" / "model.cl").read_text()
    check("the kernels follow the chosen tile",
          f"get_global_id(1) * {chosen.get('tile_rows')};" in cl,
          f"tile_rows {chosen.get('tile_rows')}")
    again = work / "out_tuning"
    shutil.rmtree(again, ignore_errors=True)
    r, _, _ = compile_model(args, fixture, again, meta["shape_args"],
                            ["--tuning", work / "tuning.json"])
    same = r.returncode == 0 and _files(out) == _files(again) and all(
        filecmp.cmp(out / f, again / f, shallow=False) for f in _files(out))
    check("--tuning FILE gives the bytes --tune wrote", same,
          r.stderr.strip())
    bad = {
        "tile columns that do not divide the panel": {
            **data, "gpu": {**chosen, "tile_cols": 3}},
        "another target's file": {**data, "target": "opencl-mali"},
        "no gpu section": {k: v for k, v in data.items() if k != "gpu"},
    }
    for label, content in bad.items():
        f = work / "bad_tuning.json"
        f.write_text(json.dumps(content))
        r, _, _ = compile_model(args, fixture, work / "out_bad",
                                meta["shape_args"], ["--tuning", f])
        lines = r.stderr.strip().splitlines()
        check(f"--tuning rejects {label}", r.returncode == 1 and
              len(lines) == 1 and "error:" in lines[0], r.stderr.strip())


def tuning_checks(args, fixture, meta, out, work):
    """--tuning reproduces the --tune output; bad files are one-line errors."""
    tuning = work / "tuning.json"
    data = json.loads(tuning.read_text()) if tuning.exists() else {}
    if args.target.startswith("opencl"):
        return gpu_tuning_checks(args, fixture, meta, out, work, data)
    check("--tune wrote a tuning file",
          bool("gemm" in data and data.get("candidates")),
          f"chose {data.get('gemm')}")
    again = work / "out_tuning"
    shutil.rmtree(again, ignore_errors=True)
    r, _, _ = compile_model(args, fixture, again, meta["shape_args"],
                            ["--tuning", tuning])
    same = r.returncode == 0 and _files(out) == _files(again) and all(
        filecmp.cmp(out / f, again / f, shallow=False) for f in _files(out))
    check("--tuning FILE gives the bytes --tune wrote", same,
          r.stderr.strip())
    # The LayerNorm fusion variant is timed on 2+ cores (both are the same
    # code on one), and the generated code follows the file's choice.
    ln = data.get("layer_norm")
    if (os.cpu_count() or 1) >= 2:
        check("--tune timed the LayerNorm fusion variants",
              isinstance(ln, dict) and ln.get("split") in ("rows", "panels")
              and ln.get("rows_ms", 0) > 0 and ln.get("panels_ms", 0) > 0,
              f"layer_norm {ln}")
    for split in ("rows", "panels"):
        f = work / f"tuning_{split}.json"
        f.write_text(json.dumps({**data, "layer_norm": {"split": split}}))
        dest = work / f"out_tuning_{split}"
        shutil.rmtree(dest, ignore_errors=True)
        r, _, _ = compile_model(args, fixture, dest, meta["shape_args"],
                                ["--tuning", f])
        cpp = (dest / "model.cpp").read_text() if r.returncode == 0 else ""
        # GemmArgs{..., pf, split_rows[, direct_a]}
        rows = len(re.findall(r"GemmArgs g\{[^}]*, \d, true(?:, (?:true|false))?\};",
                              cpp))
        check(f"layer_norm split {split} in a tuning file is followed",
              r.returncode == 0 and (rows > 0) == (split == "rows"),
              f"{rows} dense ops split rows; {r.stderr.strip()}")
    sp = data.get("sparse")
    check("--tune measured the block-sparse kernels' costs",
          isinstance(sp, dict) and sp.get("bsr_n", {}).get("per_flop", 0) > 0
          and sp.get("bsr_k") and all(e.get("per_flop", 0) > 0
                                      for e in sp["bsr_k"]), f"sparse {sp}")
    bad = {
        "a sparse cost out of range": json.dumps(
            {**data, "sparse": {**(sp or {}),
                                "bsr_n": {"fixed": 0.1, "per_flop": -1}}}),
        "a sparse kernel the target lacks": json.dumps(
            {**data, "sparse": {"bsr_n": {"fixed": 0.1, "per_flop": 1.2},
                                "bsr_k": [{"r": 3, "fixed": 0.1,
                                           "per_flop": 2}]}}),
        "not JSON": "{",
        "not a tuning file": "[1, 2]",
        "another target": json.dumps({**data, "target": "no-such-target"}),
        "an unknown tile": json.dumps(
            {**data, "gemm": {**data.get("gemm", {}), "mr": 99}}),
        "a prefetch spread out of range": json.dumps(
            {**data, "gemm": {**data.get("gemm", {}), "pf": 40}}),
        "an unknown LayerNorm split": json.dumps(
            {**data, "layer_norm": {"split": "diagonal"}}),
    }
    for what, text in bad.items():
        f = work / "bad_tuning.json"
        f.write_text(text)
        dest = work / "out_bad_tuning"
        shutil.rmtree(dest, ignore_errors=True)
        r, _, _ = compile_model(args, fixture, dest, meta["shape_args"],
                                ["--tuning", f])
        lines = r.stderr.strip().splitlines()
        check(f"tuning file with {what} is rejected",
              r.returncode != 0 and len(lines) == 1
              and lines[0].startswith("canaoc: error:") and not dest.exists(),
              r.stderr.strip())


def compile_model(args, fixture, out, shape_args, extra=()):
    """Runs canaoc; returns (completed process, wall seconds, peak RSS MB)."""
    model = fixture / "model.onnx"
    if args.external_data:
        model = external_copy(fixture, args.work.resolve())
    cmd = [str(c) for c in [args.canaoc, model, "-o", out,
                            "--name", "model", "-q"]]
    if args.embed_weights:
        cmd.append("--embed-weights")
    if args.target:
        cmd += ["--target", args.target]
    cmd += [str(x) for x in [*freeze_flags(args, fixture), *extra]]
    for s in shape_args:
        cmd += ["--shape", s]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 gives this child's own peak RSS (not the exporter's).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.time() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        result = subprocess.CompletedProcess(cmd, proc.returncode, "",
                                             err.read())
    return result, seconds, usage.ru_maxrss / 1024.0


def build(out, build_dir, *cmake_args):
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    r = run(["cmake", "-S", out, "-B", build_dir, *gen, *cmake_args])
    if r.returncode == 0:
        r = run(["cmake", "--build", build_dir, "-j", "2"])
    return r


def input_flags(fixture, meta, override=None):
    flags = []
    for name in meta["inputs"]:
        path = (override or {}).get(name, fixture / "inputs" / f"{name}.npy")
        flags += ["--input", f"{name}={path}"]
    return flags


def compare(ref_dir, out_dir, outputs, atol):
    worst = {}
    for name in outputs:
        ref = np.load(ref_dir / f"{name}.npy")
        got = np.load(out_dir / f"{name}.npy")
        if ref.shape != got.shape or ref.dtype != got.dtype:
            return False, f"{name}: {got.dtype}{got.shape} vs {ref.dtype}{ref.shape}"
        worst[name] = float(np.max(np.abs(ref.astype(np.float64) - got)))
    bad = {k: v for k, v in worst.items() if not v <= atol}
    text = ", ".join(f"{k} max_abs_err={v:.3g}" for k, v in worst.items())
    return not bad, text + f" (atol {atol:g})"


def runtime_errors(runner, fixture, meta, work):
    """The runner (and so the C API) rejects bad inputs with one message."""
    first = next(iter(meta["inputs"]))
    ids = np.load(fixture / "inputs" / "input_ids.npy")
    cases = {
        "wrong shape": (ids[:, :-1].copy(), "expected shape"),
        "wrong dtype": (ids.astype(np.int32), "expected int64"),
        "token id outside vocabulary": (
            np.where(np.arange(ids.size).reshape(ids.shape) == 3,
                     meta["config"]["vocab_size"] + 7, ids),
            "outside [-{0}, {0})".format(meta["config"]["vocab_size"])),
    }
    which = {label: "input_ids" for label in cases}
    types = fixture / "inputs" / "token_type_ids.npy"
    tv = meta["config"].get("type_vocab_size")
    if types.exists() and tv:
        label = "type id outside type_vocab_size"
        cases[label] = (np.full_like(np.load(types), tv),
                        "input 'token_type_ids' holds {0}, outside "
                        "[-{0}, {0})".format(tv))
        which[label] = "token_type_ids"
    for label, (array, expect) in cases.items():
        path = work / f"bad_{label.replace(' ', '_')}.npy"
        np.save(path, array)
        out = work / "bad_out"
        out.mkdir(exist_ok=True)
        r = run([runner, *input_flags(fixture, meta, {which[label]: path}),
                 "--output-dir", out])
        lines = r.stderr.strip().splitlines()
        ok = (0 < r.returncode < 128 and len(lines) == 1 and
              "error:" in lines[0] and expect in lines[0])
        check(f"runtime rejects {label}", ok,
              lines[0] if lines else f"exit {r.returncode}, no message")
    del first


def opencl_checks(args, runner, fixture, meta, work):
    """An OpenCL target's host side: no platform (an empty ICD vendor
    directory) fails with the documented message, --fallback cpu then
    matches the references, and the program cache is written, reused, and
    rebuilt when corrupt. Prints first-create times, cold and warm."""
    empty = work / "no_icd_vendors"
    empty.mkdir(exist_ok=True)
    no_icd = {**os.environ, "OCL_ICD_VENDORS": str(empty)}
    res = work / "result_fallback"
    shutil.rmtree(res, ignore_errors=True)
    res.mkdir()
    r = run([runner, *input_flags(fixture, meta), "--output-dir", res],
            env=no_icd)
    lines = r.stderr.strip().splitlines()
    check("opencl: no platform is one error line",
          r.returncode == 1 and len(lines) == 1 and
          lines[0].endswith("error: OpenCL: no OpenCL platform"),
          r.stderr.strip())
    r = run([runner, *input_flags(fixture, meta), "--output-dir", res,
             "--fallback", "cpu"], env=no_icd)
    if check("opencl: --fallback cpu runs the CPU kernels",
             r.returncode == 0 and "running on CPU (fallback: no OpenCL "
             "platform)" in r.stderr, r.stderr.strip()):
        ok, text = compare(fixture / "ref_ort", res, meta["outputs"],
                           args.atol)
        check("opencl: the fallback matches ref_ort", ok, text)
    # The cache, with PoCL's own cache fresh too, so the first build is cold.
    cache = work / "cl_cache" / "nested"  # --cl-cache creates it
    shutil.rmtree(cache.parent, ignore_errors=True)
    env = {**os.environ, "POCL_CACHE_DIR": str(work / "pocl_cache")}
    shutil.rmtree(work / "pocl_cache", ignore_errors=True)

    def create(label):
        r = run([runner, *input_flags(fixture, meta), "--bench", "1",
                 "--cl-cache", cache], env=env)
        m = re.search(r"create_ms=([0-9.]+)", r.stderr)
        ms = float(m.group(1)) if m else -1
        src = ("cache" if "(program from cache)" in r.stderr else
               "built" if "(program built)" in r.stderr else "?")
        return r.returncode, src, ms, r.stderr.strip()

    rc, src, cold, err = create("cold")
    files = sorted(cache.glob("canao-*.bin"))
    check("opencl: the first create builds and writes one cache entry",
          rc == 0 and src == "built" and len(files) == 1,
          f"create {cold:.0f} ms (cold)" if rc == 0 else err)
    rc, src, warm, err = create("warm")
    check("opencl: a second create loads the cached binary",
          rc == 0 and src == "cache",
          f"create {warm:.0f} ms (warm) vs {cold:.0f} ms (cold)"
          if rc == 0 else err)
    if files:
        data = bytearray(files[0].read_bytes())
        for i in range(len(data) // 2, min(len(data), len(data) // 2 + 64)):
            data[i] ^= 0x5A
        files[0].write_bytes(bytes(data))
        rc, src, ms, err = create("corrupt")
        rc2, src2, _, err2 = create("again")
        check("opencl: a corrupt cache entry is rebuilt, then reused",
              rc == 0 and src == "built" and rc2 == 0 and src2 == "cache",
              f"{src} then {src2}" if rc == 0 else err)


def make_parser():
    """The options of one e2e case (tests/CMakeLists.txt canao_e2e);
    test_sanitized.py reads the same cases with it."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--canaoc", required=True, type=Path)
    p.add_argument("--work", required=True, type=Path)
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--minilm", action="store_true")
    p.add_argument("--opset", default="14")
    p.add_argument("--runtime-errors", action="store_true")
    p.add_argument("--determinism", action="store_true")
    p.add_argument("--threads", default="1")
    p.add_argument("--target", default="",
                   help="canaoc --target (default: canaoc's default)")
    p.add_argument("--max-kernels-per-layer", type=int, default=0)
    p.add_argument("--max-extra-kernels", type=int, default=4)
    p.add_argument("--max-arena-mb", type=float, default=0)
    p.add_argument("--each-pass-disabled", action="store_true")
    p.add_argument("--threads-identical", action="store_true",
                   help="also run with 2 threads; outputs must be identical")
    p.add_argument("--external-data", action="store_true",
                   help="compile a copy with the weights in external data")
    p.add_argument("--embed-weights", action="store_true",
                   help="compile with --embed-weights (no .weights file)")
    p.add_argument("--profile", action="store_true",
                   help="also build with -DCANAO_PROFILE=ON and check "
                   "NAME_run --profile")
    p.add_argument("--tune", action="store_true",
                   help="compile with --tune FILE; --tuning FILE must give "
                   "the same bytes; bad tuning files must be rejected")
    p.add_argument("--max-compile-seconds", type=float, default=0)
    p.add_argument("--max-compile-rss-mb", type=float, default=0)
    p.add_argument("--expect-sparse", default="",
                   help='layout of every encoder weight: "bsr_k 16x1", '
                        '"bsr_n 1x16", "dense", ... (canaoc --report)')
    p.add_argument("--aarch64-clang", action="store_true",
                   help="cross-build with clang (as the Android NDK does) "
                   "instead of aarch64-linux-gnu-g++")
    p.add_argument("--aarch64-qemu", action="store_true",
                   help="also cross-build OUTDIR for aarch64 and run it "
                   "under qemu (cortex-a76 and cortex-a53)")
    p.add_argument("--opencl-checks", action="store_true",
                   help="OpenCL targets: no-platform error, --fallback cpu, "
                   "the program cache")
    p.add_argument("--freeze", action="append", default=[],
                   help="compile with --freeze NAME=<fixture input> and run "
                   "without that input (repeatable)")
    p.add_argument("fixture_args", nargs="*")
    return p


def main():
    args = make_parser().parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    fixture = work / "fixture"
    if make_fixture(args, fixture):
        meta = json.loads((fixture / "meta.json").read_text())
        apply_freeze(args, meta)
        out, bdir, res = work / "out", work / "build", work / "result"
        tune = ["--tune", work / "tuning.json"] if args.tune else []
        r, seconds, rss = compile_model(args, fixture, out,
                                        meta["shape_args"], tune)
        if check("canaoc", r.returncode == 0,
                 f"{seconds:.1f}s, peak RSS {rss:.0f} MB"
                 if r.returncode == 0 else r.stderr.strip()[-800:]):
            if args.max_compile_seconds:
                check(f"compile time <= {args.max_compile_seconds:g} s",
                      seconds <= args.max_compile_seconds, f"{seconds:.1f}s")
            if args.max_compile_rss_mb:
                check(f"compile peak RSS <= {args.max_compile_rss_mb:g} MB",
                      rss <= args.max_compile_rss_mb, f"{rss:.0f} MB")
            if args.determinism:
                again = work / "out_again"
                shutil.rmtree(again, ignore_errors=True)
                compile_model(args, fixture, again, meta["shape_args"])
                cmp = filecmp.dircmp(out, again)
                same = all(filecmp.cmp(out / f, again / f, shallow=False)
                           for f in _files(out)) and _files(out) == _files(again)
                check("byte-identical output on recompile", same,
                      "" if same else str(cmp.diff_files))
            if args.freeze:
                check_frozen_api(args, out)
            if args.tune:
                tuning_checks(args, fixture, meta, out, work)
            if args.target == "neon":
                # Nothing to run natively: cross-build and run under qemu.
                cross_aarch64(args, fixture, meta, out, work)
            else:
                t0 = time.time()
                r = build(out, bdir)
                if check("cmake build", r.returncode == 0,
                         f"{time.time() - t0:.1f}s" if r.returncode == 0
                         else (r.stdout + r.stderr).strip()[-1500:]):
                    runner = bdir / "model_run"
                    shutil.rmtree(res, ignore_errors=True)
                    res.mkdir()
                    r = run([runner, *input_flags(fixture, meta), "--output-dir",
                             res, "--threads", args.threads])
                    if check("run", r.returncode == 0, r.stderr.strip()):
                        for oracle in ("ref_torch", "ref_ort"):
                            if (fixture / oracle).is_dir():
                                ok, text = compare(fixture / oracle, res,
                                                   meta["outputs"], args.atol)
                                check(f"matches {oracle}", ok, text)
                            else:
                                check(f"matches {oracle}", False, "no reference")
                        if args.minilm:
                            r = run([sys.executable, MODELS / "minilm.py", "demo",
                                     fixture, res])
                            check("paraphrase ranks above unrelated sentence",
                                  r.returncode == 0, r.stdout.strip().replace(
                                      "\n", " | ")[-400:])
                    if args.profile:
                        profile_checks(fixture, meta, out, work)
                    if args.threads_identical:
                        res2 = work / "result_threads2"
                        shutil.rmtree(res2, ignore_errors=True)
                        res2.mkdir()
                        r = run([runner, *input_flags(fixture, meta),
                                 "--output-dir", res2, "--threads", "2"])
                        same = r.returncode == 0 and all(
                            filecmp.cmp(res / f"{o}.npy", res2 / f"{o}.npy",
                                        shallow=False) for o in meta["outputs"])
                        check("bit-identical outputs with --threads 1 and 2",
                              same, r.stderr.strip())
                    if args.runtime_errors:
                        runtime_errors(runner, fixture, meta, work)
                    if args.opencl_checks:
                        opencl_checks(args, runner, fixture, meta, work)
                    if args.aarch64_qemu:
                        cross_aarch64(args, fixture, meta, out, work)
                    if args.each_pass_disabled:
                        each_pass_disabled(args, fixture, meta, work)
            if args.max_kernels_per_layer or args.max_arena_mb:
                check_structure(args, fixture, meta)
            if args.expect_sparse:
                check_sparse(args, fixture, meta)
    return summary()


def cross_aarch64(args, fixture, meta, out, work):
    """Cross-builds OUTDIR for aarch64 with the repo's toolchain file and
    runs it under qemu-aarch64 on a big and a little core: it must match
    the references, and 1 and 2 threads bit for bit."""
    need = ["aarch64-linux-gnu-g++", "qemu-aarch64"]
    need += ["clang++"] if args.aarch64_clang else []
    missing = [t for t in need if not shutil.which(t)]
    if not check("aarch64 toolchain and qemu present", not missing,
                 "missing " + ", ".join(missing) +
                 " (apt-get install g++-aarch64-linux-gnu qemu-user clang)"
                 if missing else ""):
        return
    bdir = work / "build_aarch64"
    shutil.rmtree(bdir, ignore_errors=True)
    t0 = time.time()
    r = build(out, bdir, "-DCMAKE_BUILD_TYPE=Release",
              f"-DCMAKE_TOOLCHAIN_FILE={AARCH64_TOOLCHAIN}",
              f"-DCANAO_AARCH64_CLANG={'ON' if args.aarch64_clang else 'OFF'}")
    compiler = "clang" if args.aarch64_clang else "gcc"
    if not check(f"aarch64 cross build ({compiler})", r.returncode == 0,
                 f"{time.time() - t0:.1f}s" if r.returncode == 0
                 else (r.stdout + r.stderr).strip()[-1500:]):
        return
    runner = bdir / "model_run"
    for cpu in QEMU_CPUS:
        results_by_threads = []
        for threads in ("1", "2"):
            res = work / f"result_aarch64_{cpu}_t{threads}"
            shutil.rmtree(res, ignore_errors=True)
            res.mkdir()
            r = run(["qemu-aarch64", "-cpu", cpu, "-L", "/usr/aarch64-linux-gnu",
                     runner, *input_flags(fixture, meta), "--output-dir", res,
                     "--threads", threads])
            if not check(f"qemu {cpu} run, {threads} thread(s)",
                         r.returncode == 0, r.stderr.strip()[-800:]):
                break
            results_by_threads.append(res)
        if len(results_by_threads) != 2:
            continue
        for oracle in ("ref_torch", "ref_ort"):
            if (fixture / oracle).is_dir():
                ok, text = compare(fixture / oracle, results_by_threads[0],
                                   meta["outputs"], args.atol)
                check(f"qemu {cpu} matches {oracle}", ok, text)
            else:
                check(f"qemu {cpu} matches {oracle}", False, "no reference")
        if args.minilm and cpu == QEMU_CPUS[0]:
            r = run([sys.executable, MODELS / "minilm.py", "demo", fixture,
                     results_by_threads[0]])
            check(f"qemu {cpu}: paraphrase ranks above unrelated sentence",
                  r.returncode == 0,
                  r.stdout.strip().replace("\n", " | ")[-400:])
        same = all(filecmp.cmp(results_by_threads[0] / f"{o}.npy",
                               results_by_threads[1] / f"{o}.npy",
                               shallow=False) for o in meta["outputs"])
        check(f"qemu {cpu}: 1 and 2 threads bit-identical", same)


def _files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*")
                  if p.is_file())


if __name__ == "__main__":
    sys.exit(main())
