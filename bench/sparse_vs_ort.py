#!/usr/bin/env python3
"""Block-pruned BERT-base: canao's sparse kernels vs ONNX Runtime and vs
canao dense, on the same pruned file, in one run.

    .venv/bin/python bench/sparse_vs_ort.py [--variants 16x1:0.75,...]
        [--threads 1,2] [--rounds 5] [--runs 5] [--quick] [--target host]

The dense BERT-base fixture (12L/768, random weights, batch 1 x seq 128,
opset 14) is exported once (bench/bert_vs_ort.py's cache); each variant
BLOCK:RATIO is made with `canaoc prune --block BLOCK --ratio RATIO` (1x1 =
unstructured: single weights by magnitude). Per variant and thread count T,
three contestants run ROUNDS interleaved rounds of RUNS runs, the order
rotating every round: ONNX Runtime on the pruned file (ORT_ENABLE_ALL,
intra-op T, inter-op 1, sequential), canao on the pruned file (canaoc
--target), and canao dense (the same model compiled with --dense, so its
time does not depend on the zeros). Reported: medians of round medians.
Every variant's canao output is checked against ONNX Runtime's on the same
file (max abs error, bound 1e-3 for the 12-layer model).

The roofline column: canao dense's time with the linear layers scaled by
the density the kernels keep (FLOPs the sparse kernels do / dense FLOPs,
from canaoc --report=json) and everything else (attention, LayerNorm,
GELU, embedding) unchanged.

Writes docs/sparse-benchmark.md and docs/sparse-benchmark.svg.
"""
import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bert_vs_ort import (BENCH, ROOT, cpu_model, export, log,  # noqa: E402
                         measure_peak, run)

CURVE = [f"{b}:{r}" for b in ("16x1", "1x16") for r in (0.5, 0.75, 0.9, 0.95)]
DEFAULT = CURVE + ["1x1:0.5", "4x4:0.75", "32x1:0.75"]


def compile_model(onnx, meta, name, a, dense=False):
    gen = BENCH / "sparse" / name
    cmd = [a.canaoc, onnx, "-o", gen / "out", "--name", "m", "-q",
           "--target", a.target, "--report=json"]
    for s in meta["shape_args"]:
        cmd += ["--shape", s]
    if dense:
        cmd.append("--dense")
    rep = json.loads(run(cmd))
    run(["cmake", "-S", gen / "out", "-B", gen / "b", "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release"])
    run(["ninja", "-C", gen / "b"])
    return gen / "b" / "m_run", rep, gen / "out" / "m.weights"


def linear_flops(rep):
    dense = sum(k["flops"] for k in rep["kernel_list"] if k["op"] == "canao.dense")
    return dense, rep["work_flops"] - (rep["flops"] - dense)


def session(path, t):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = t
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def check(exe, fx, meta, onnx, inputs, flags):
    """Max abs error of canao's outputs against ORT's on the same file."""
    out = BENCH / "sparse" / "check"
    out.mkdir(parents=True, exist_ok=True)
    run([exe, *flags, "--output-dir", out])
    ref = session(onnx, 1).run(None, inputs)
    return max(float(np.max(np.abs(np.load(out / f"{n}.npy") - r)))
               for n, r in zip(meta["outputs"], ref))


def bench_variant(name, onnx, exe, dense_exe, fx, meta, threads, a):
    inputs = {n: np.load(fx / "inputs" / f"{n}.npy") for n in meta["inputs"]}
    flags = []
    for n in meta["inputs"]:
        flags += ["--input", f"{n}={fx / 'inputs' / (n + '.npy')}"]
    err = check(exe, fx, meta, onnx, inputs, flags)
    rows = []
    for t in threads:
        sess = session(onnx, t)
        for _ in range(2):
            sess.run(None, inputs)
        med = {"ort": [], "canao": [], "dense": []}

        def ort_round():
            ts = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                sess.run(None, inputs)
                ts.append((time.perf_counter() - t0) * 1e3)
            med["ort"].append(statistics.median(ts))

        def canao_round(key, e):
            out = run([e, *flags, "--bench", a.runs, "--threads", t])
            med[key].append(float(out.split("median=")[1].split()[0]))

        order = [ort_round, lambda: canao_round("canao", exe),
                 lambda: canao_round("dense", dense_exe)]
        for r in range(a.rounds):
            for f in order[r % 3:] + order[:r % 3]:
                f()
        rows.append({k: statistics.median(v) for k, v in med.items()} | {"t": t})
        del sess
        log(f"{name} T{t}: ORT {rows[-1]['ort']:.1f} ms, canao "
            f"{rows[-1]['canao']:.1f} ms, canao dense {rows[-1]['dense']:.1f} ms")
    return rows, err


def svg(results, threads, path):
    """Latency vs density: canao per block shape, the roofline, ORT."""
    w, h, l, b = 760, 360, 60, 40
    colors = {"16x1": "#1f77b4", "1x16": "#d62728"}
    dens = [0.05, 0.1, 0.25, 0.5]
    ymax = max(max(r["ort"] for v in results.values() for r in v["rows"]), 1)
    panes = []
    pw = (w - l - 20) / len(threads)
    for i, t in enumerate(threads):
        x0 = l + i * pw

        def x(d):
            return x0 + 10 + (d / 0.5) * (pw - 40)

        def y(ms):
            return h - b - ms / ymax * (h - b - 30)

        g = [f'<text x="{x0 + pw / 2:.0f}" y="18" text-anchor="middle" '
             f'font-size="13">{t} thread{"s" if t > 1 else ""}</text>',
             f'<line x1="{x0 + 10}" y1="{h - b}" x2="{x0 + pw - 20}" '
             f'y2="{h - b}" stroke="#000"/>']
        for d in dens:
            g.append(f'<text x="{x(d):.0f}" y="{h - b + 16}" font-size="11" '
                     f'text-anchor="middle">{d:g}</text>')
        series = {}
        for v in results.values():
            blk = v["block"]
            row = next(r for r in v["rows"] if r["t"] == t)
            if blk in colors:
                series.setdefault(blk, []).append((1 - v["ratio"], row))
        for blk, pts in series.items():
            pts.sort()
            path_c = " ".join(f"{x(d):.1f},{y(r['canao']):.1f}" for d, r in pts)
            path_r = " ".join(f"{x(d):.1f},{y(r['roof']):.1f}" for d, r in pts)
            g.append(f'<polyline points="{path_c}" fill="none" stroke='
                     f'"{colors[blk]}" stroke-width="2"/>')
            g.append(f'<polyline points="{path_r}" fill="none" stroke='
                     f'"{colors[blk]}" stroke-dasharray="4 3"/>')
            ort_ms = statistics.median(r["ort"] for _, r in pts)
            g.append(f'<line x1="{x0 + 10}" x2="{x0 + pw - 20}" y1="{y(ort_ms):.1f}" '
                     f'y2="{y(ort_ms):.1f}" stroke="#888" stroke-dasharray="2 2"/>')
        panes.append("\n".join(g))
    legend = ('<text x="70" y="{}" font-size="11">solid: canao (blue 16x1, red '
              '1x16); dashed: roofline; grey: ONNX Runtime; x: density kept; '
              'y: ms (0 to {:.0f})</text>').format(h - 6, ymax)
    path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" '
                    f'height="{h}" font-family="sans-serif">\n'
                    + "\n".join(panes) + "\n" + legend + "\n</svg>\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variants", default=",".join(DEFAULT))
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true",
                   help="16x1:0.75 and 1x16:0.75 only, 3 rounds")
    p.add_argument("--target", default="host")
    p.add_argument("--canaoc", type=Path, default=ROOT / "build/compiler/canaoc")
    p.add_argument("--peak-cmd", default="build/bench/canao-gemm-bench --peak")
    p.add_argument("--md", type=Path, default=ROOT / "docs/sparse-benchmark.md")
    p.add_argument("--svg", type=Path, default=ROOT / "docs/sparse-benchmark.svg")
    a = p.parse_args()
    if a.quick:
        a.variants, a.rounds = "16x1:0.75,1x16:0.75", 3
    threads = [int(t) for t in a.threads.split(",")]
    # The machine's fp32 peak before and after: a shared VM's speed drifts.
    peaks = [measure_peak(a.peak_cmd)]
    fx = export("bert-base")
    meta = json.loads((fx / "meta.json").read_text())
    log("compiling canao dense ...")
    dense_exe, dense_rep, dense_w = compile_model(fx / "model.onnx", meta,
                                                  "dense", a, dense=True)
    lin_dense, _ = linear_flops(dense_rep)
    results = {}
    for v in a.variants.split(","):
        block, ratio = v.split(":")
        name = f"bsr_{block}_{ratio}"
        onnx = BENCH / "sparse" / f"{name}.onnx"
        onnx.parent.mkdir(parents=True, exist_ok=True)
        log(f"pruning {v} ...")
        run([a.canaoc, "prune", fx / "model.onnx", "-o", onnx, "--block", block,
             "--ratio", ratio, "-q"])
        exe, rep, wfile = compile_model(onnx, meta, name, a)
        lin_dense, lin_work = linear_flops(rep)
        kept = lin_work / lin_dense
        formats = sorted({f"{m['format']} {m['block']}" for m in rep["matrices"]
                          if m["format"] != "dense"}) or ["dense"]
        rows, err = bench_variant(name, onnx, exe, dense_exe, fx, meta,
                                  threads, a)
        share = lin_dense / dense_rep["flops"]
        for r in rows:
            # The dense run's linear share of time is taken as its FLOP share.
            r["roof"] = r["dense"] * (1 - share + share * kept)
        results[v] = {"block": block, "ratio": float(ratio), "rows": rows,
                      "err": err, "kept": kept, "formats": formats,
                      "weights": wfile.stat().st_size,
                      "dense_weights": dense_w.stat().st_size}
        (BENCH / "sparse" / "results.json").write_text(json.dumps(results, indent=1))
    peaks.append(measure_peak(a.peak_cmd))
    peak_txt = "; ".join(
        f"FMA loop {t}t " + "/".join(f"{p[('peak', t)]:.0f}" for p in peaks
                                      if ('peak', t) in p) + " GFLOP/s"
        for t in threads) + " (before/after)"
    md = [f"# Block-sparse BERT-base vs ONNX Runtime\n",
          f"{datetime.date.today()}; {cpu_model()}; ONNX Runtime "
          f"{ort.__version__}; canaoc --target {a.target}; {a.rounds} rounds x "
          f"{a.runs} runs, interleaved, medians. BERT-base 12L/768, batch 1 x "
          f"seq 128, random weights pruned with `canaoc prune`. Peak: "
          f"{peak_txt}.\n",
          f"Command: `.venv/bin/python bench/sparse_vs_ort.py "
          f"{' '.join(sys.argv[1:])}`\n",
          "| pruned | T | kernels | kept | ORT ms | canao ms | canao dense ms "
          "| vs ORT | vs dense | roofline ms | % of roofline | max err vs ORT "
          "| weights |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for v, res in results.items():
        for r in res["rows"]:
            md.append(f"| {v} | {r['t']} | {', '.join(res['formats'])} | "
                      f"{res['kept']:.3f} | {r['ort']:.1f} | {r['canao']:.1f} | "
                      f"{r['dense']:.1f} | {r['ort'] / r['canao']:.2f}x | "
                      f"{r['dense'] / r['canao']:.2f}x | {r['roof']:.1f} | "
                      f"{100 * r['roof'] / r['canao']:.0f}% | {res['err']:.1e} | "
                      f"{res['weights'] / res['dense_weights']:.1%} |")
    md.append("\nkept: FLOPs the linear layers' kernels do / their dense FLOPs "
              "(BSR-N keeps a panel row if any of its NR columns is nonzero, "
              "BSR-K a block if any of its R weights is). weights: the weight "
              "blob against the dense one (the embeddings, 94 MB of BERT-base's "
              "438, are never pruned).\n")
    a.md.write_text("\n".join(md) + "\n")
    svg(results, threads, a.svg)
    print("\n".join(md))


if __name__ == "__main__":
    main()
