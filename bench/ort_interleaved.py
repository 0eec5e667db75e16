#!/usr/bin/env python3
"""canao vs ONNX Runtime on one exported model, interleaved, medians.

    ort_interleaved.py MODEL_DIR [--target host] [--threads 1,2]
                       [--rounds 5] [--runs 10]

MODEL_DIR is a fixture written by tests/models/make_fixture.py (model.onnx,
inputs/*.npy, meta.json). ONNX Runtime: CPU provider, ORT_ENABLE_ALL,
intra_op_num_threads=T, inter_op_num_threads=1, sequential execution.
canao: canaoc --target T, NAME_run --bench RUNS --threads T (2 warm-ups).
Per round each system runs RUNS times (ORT after 3 warm-ups); the order
alternates between rounds; reported values are medians of round medians.
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model_dir", type=Path)
    p.add_argument("--canaoc", type=Path, default=ROOT / "build/compiler/canaoc")
    p.add_argument("--target", default="host")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=10)
    a = p.parse_args()
    meta = json.loads((a.model_dir / "meta.json").read_text())
    inputs = {n: np.load(a.model_dir / "inputs" / f"{n}.npy")
              for n in meta["inputs"]}
    work = Path(tempfile.mkdtemp())
    try:
        cmd = [str(a.canaoc), str(a.model_dir / "model.onnx"), "-o",
               str(work / "out"), "--name", "m", "-q", "--target", a.target,
               "--report=json"]
        for s in meta["shape_args"]:
            cmd += ["--shape", s]
        rep = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                        text=True).stdout)
        subprocess.run(["cmake", "-S", work / "out", "-B", work / "b", "-G",
                        "Ninja"], check=True, capture_output=True)
        subprocess.run(["ninja", "-C", work / "b"], check=True,
                       capture_output=True)
        flags = []
        for n in meta["inputs"]:
            flags += ["--input", f"{n}={a.model_dir / 'inputs' / (n + '.npy')}"]
        print(f"model {a.model_dir.name}: {rep['onnx_nodes']} ONNX nodes, "
              f"{rep['kernels']} canao kernels, {rep['flops'] / 1e9:.2f} GFLOP,"
              f" target {a.target}, ORT {ort.__version__}, "
              f"{a.rounds} rounds x {a.runs} runs")
        print("| threads | ORT ms | canao ms | canao/ORT | canao GFLOP/s |")
        print("|---|---|---|---|---|")
        for t in [int(x) for x in a.threads.split(",")]:
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.intra_op_num_threads = t
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            sess = ort.InferenceSession(str(a.model_dir / "model.onnx"), so,
                                        providers=["CPUExecutionProvider"])
            for _ in range(3):
                sess.run(None, inputs)
            o_med, c_med = [], []
            for r in range(a.rounds):
                def run_ort():
                    ts = []
                    for _ in range(a.runs):
                        t0 = time.perf_counter()
                        sess.run(None, inputs)
                        ts.append((time.perf_counter() - t0) * 1e3)
                    o_med.append(statistics.median(ts))

                def run_canao():
                    out = subprocess.run(
                        [str(work / "b" / "m_run"), *flags, "--bench",
                         str(a.runs), "--threads", str(t)],
                        check=True, capture_output=True, text=True).stdout
                    c_med.append(float(out.split("median=")[1].split()[0]))
                for f in ((run_ort, run_canao) if r % 2 == 0
                          else (run_canao, run_ort)):
                    f()
            o, c = statistics.median(o_med), statistics.median(c_med)
            print(f"| {t} | {o:.2f} | {c:.2f} | {c / o:.2f} | "
                  f"{rep['flops'] / c / 1e6:.1f} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
