#!/usr/bin/env python3
"""--target opencl on PoCL's CPU device next to the CPU paths, interleaved.

    opencl_pocl.py MODEL_DIR [--threads 1,2] [--rounds 5] [--runs 10]
                   [--target opencl]

MODEL_DIR is a fixture (tests/models/make_fixture.py or minilm.py export).
One library is compiled with --target opencl (it holds the OpenCL kernels
and generic's CPU kernels); a second with --target host. Per thread count
(PoCL: POCL_MAX_PTHREAD_COUNT=T; CPU: --threads T) and round, each of
  OpenCL (PoCL)   NAME_run --bench RUNS
  CPU fallback    the same library, OCL_ICD_VENDORS empty, --fallback cpu
  CPU host        the --target host library
runs RUNS times after 2 warm-ups (the runner's own), in an order that
rotates between rounds; the table has medians of round medians.

First create (NAME_create: device, weight upload, program build, kernels):
cold = fresh PoCL cache and fresh --cl-cache directory, warm = the program
binary from --cl-cache; medians of 3. PoCL's speed says nothing about a
phone GPU; this checks that the path is not absurd.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(canaoc, model_dir, meta, out, target):
    cmd = [str(canaoc), str(model_dir / "model.onnx"), "-o", str(out),
           "--name", "m", "-q", "--target", target]
    for s in meta["shape_args"]:
        cmd += ["--shape", s]
    subprocess.run(cmd, check=True, capture_output=True)
    subprocess.run(["cmake", "-S", out, "-B", out / "b", "-G", "Ninja"],
                   check=True, capture_output=True)
    subprocess.run(["ninja", "-C", out / "b"], check=True, capture_output=True)
    return out / "b" / "m_run"


def bench(cmd, env):
    r = subprocess.run(cmd, check=True, capture_output=True, text=True,
                       env=env)
    return float(r.stdout.split("median=")[1].split()[0]), r.stderr


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model_dir", type=Path)
    p.add_argument("--canaoc", type=Path,
                   default=ROOT / "build/compiler/canaoc")
    p.add_argument("--target", default="opencl")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=10)
    a = p.parse_args()
    meta = json.loads((a.model_dir / "meta.json").read_text())
    work = Path(tempfile.mkdtemp())
    try:
        cl_run = build(a.canaoc, a.model_dir, meta, work / "cl", a.target)
        host_run = build(a.canaoc, a.model_dir, meta, work / "host", "host")
        flags = []
        for n in meta["inputs"]:
            flags += ["--input", f"{n}={a.model_dir / 'inputs' / (n + '.npy')}"]
        empty = work / "no_icd"
        empty.mkdir()

        # First create, cold and warm.
        cold, warm = [], []
        for i in range(3):
            env = {**os.environ, "POCL_CACHE_DIR": str(work / f"pocl{i}")}
            cache = work / f"clcache{i}"
            cache.mkdir()
            for into in (cold, warm):
                _, err = bench([cl_run, *flags, "--bench", "1", "--cl-cache",
                                cache], env)
                into.append(float(re.search(r"create_ms=([0-9.]+)",
                                            err).group(1)))
        device = re.search(r"running on (OpenCL: [^(]*)", err).group(1).strip()
        print(f"model {a.model_dir.name} ({', '.join(meta['shape_args'])}), "
              f"--target {a.target} on {device}, {a.rounds} rounds x "
              f"{a.runs} runs")
        print(f"first create: cold {statistics.median(cold):.0f} ms, warm "
              f"(program from --cl-cache) {statistics.median(warm):.0f} ms "
              f"(medians of 3)\n")
        print("| threads | OpenCL (PoCL) ms | CPU fallback (generic) ms | "
              "CPU --target host ms | PoCL / host |")
        print("|---|---|---|---|---|")
        for t in [int(x) for x in a.threads.split(",")]:
            pocl = {**os.environ, "POCL_MAX_PTHREAD_COUNT": str(t),
                    "POCL_CACHE_DIR": str(work / "pocl0")}
            no_icd = {**os.environ, "OCL_ICD_VENDORS": str(empty)}
            runs = ["--bench", str(a.runs), "--threads", str(t)]
            systems = [
                ("cl", [cl_run, *flags, *runs, "--cl-cache", work / "clcache0"],
                 pocl),
                ("fallback", [cl_run, *flags, *runs, "--fallback", "cpu"],
                 no_icd),
                ("host", [host_run, *flags, *runs], dict(os.environ)),
            ]
            med = {name: [] for name, _, _ in systems}
            for r in range(a.rounds):
                order = systems[r % 3:] + systems[:r % 3]
                for name, cmd, env in order:
                    med[name].append(bench(cmd, env)[0])
            m = {k: statistics.median(v) for k, v in med.items()}
            print(f"| {t} | {m['cl']:.2f} | {m['fallback']:.2f} | "
                  f"{m['host']:.2f} | {m['cl'] / m['host']:.2f} |",
                  flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
