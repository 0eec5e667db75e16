#!/usr/bin/env python3
"""canao vs ONNX Runtime on a set of BERT models, one command.

    .venv/bin/python bench/bert_vs_ort.py [--models bert-tiny,bert-mini,...]
        [--rounds 7] [--runs N] [--threads 1,2] [--quick] [--target host]
        [--peak-cmd 'build/bench/canao-gemm-bench --peak'] [--tuning FILE]

Models: bert-tiny (2L/128), bert-mini (4L/256), bert-base (12L/768), random
weights, batch 1 x seq 128, opset 14 (tests/models/make_fixture.py --no-ort),
and minilm (all-MiniLM-L6-v2 real weights, tests/models/minilm.py export).
Fixtures are cached under build/bench/fixtures/ (skipped if meta.json exists);
generated code is built under build/bench/gen/.

Per model and thread count T: ONNX Runtime (CPU provider, ORT_ENABLE_ALL,
intra_op_num_threads=T, inter_op_num_threads=1, sequential, 3 warm-ups) and
canao (canaoc --target, m_run --bench RUNS --threads T) run ROUNDS
interleaved rounds of RUNS runs each, alternating the order; reported values
are medians of round medians.  RUNS defaults to 20 (5 for bert-base).

Peaks come from --peak-cmd (lines peak_gflops_Tt=X: an FMA loop;
kernel_gflops_Tt=Y: the GEMM microkernel with its operands in L1, about
0.5 s), measured after every interleaved round, so each model's "% of
peak" uses the peak of the minutes it ran in (the speed of a shared
machine drifts); the header gives the median over all rounds.  If that
executable is missing, "% of peak" is n/a.  % of peak = canao GFLOP/s /
(the T-thread peak if measured, else T x the 1-thread peak).  FLOPs are
canaoc --report=json "flops".

Writes the markdown table to stdout and docs/benchmark.md, and a bar chart
of canao/ORT latency ratios to docs/benchmark.svg.  --quick: bert-tiny and
bert-mini, 3 rounds.
"""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "bench"
BERT = {  # name: (layers, hidden, heads, ffn)
    "bert-tiny": (2, 128, 2, 512),
    "bert-mini": (4, 256, 4, 1024),
    "bert-base": (12, 768, 12, 3072),
}
ALL_MODELS = ["bert-tiny", "bert-mini", "bert-base", "minilm"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    """subprocess.run(check=True, capture_output=True, text=True); on failure
    show the command's output before raising."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       **kw)
    if r.returncode:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"bench: failed ({r.returncode}): "
                         f"{shlex.join(str(c) for c in cmd)}")
    return r.stdout


def export(name):
    """Fixture directory for ``name``, exporting it unless cached."""
    out = BENCH / "fixtures" / name
    if (out / "meta.json").exists():
        return out
    log(f"exporting {name} ...")
    t0 = time.time()
    if name == "minilm":
        cmd = [sys.executable, ROOT / "tests/models/minilm.py", "export",
               "--out", out, "--opset", "14", "--seq", "128"]
    else:
        layers, hidden, heads, ffn = BERT[name]
        cmd = [sys.executable, ROOT / "tests/models/make_fixture.py",
               "--out", out, "--layers", layers, "--hidden", hidden,
               "--heads", heads, "--ffn", ffn, "--vocab", 30522,
               "--opset", 14, "--batch", 1, "--seq", 128, "--no-ort"]
    run(cmd)
    log(f"exported {name} in {time.time() - t0:.0f}s")
    return out


def measure_peak(cmd, quiet=False):
    """{(kind, threads): GFLOP/s} parsed from the peak command, or {} if
    missing."""
    argv = shlex.split(cmd)
    if os.sep in argv[0]:
        argv[0] = str(ROOT / argv[0])  # ROOT / absolute path = that path
    if not (os.access(argv[0], os.X_OK) and Path(argv[0]).is_file()
            or shutil.which(argv[0])):
        return {}
    if not quiet:
        log(f"measuring peak: {cmd}")
    r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        log(f"peak command failed ({r.returncode}): {r.stderr.strip()}")
        return {}
    return {(kind, int(t)): float(v) for kind, t, v in
            re.findall(r"^(peak|kernel)_gflops_(\d+)t=([0-9.eE+-]+)",
                       r.stdout, re.M)}


def compile_model(fx, name, a):
    """canaoc + cmake + ninja; returns (path to m_run, report dict)."""
    meta = json.loads((fx / "meta.json").read_text())
    gen = BENCH / "gen" / name
    cmd = [a.canaoc, fx / "model.onnx", "-o", gen / "out", "--name", "m",
           "-q", "--target", a.target, "--report=json"]
    for s in meta["shape_args"]:
        cmd += ["--shape", s]
    if a.tuning:
        cmd += ["--tuning", a.tuning]
    log(f"compiling {name} ...")
    rep = json.loads(run(cmd))
    run(["cmake", "-S", gen / "out", "-B", gen / "b", "-G", "Ninja"])
    run(["ninja", "-C", gen / "b"])
    return gen / "b" / "m_run", rep, meta


def bench_model(fx, exe, meta, threads, rounds, runs, after_round):
    """[(T, ORT ms, canao ms)], interleaved medians of round medians;
    after_round() runs after every round (the peak measurement)."""
    inputs = {n: np.load(fx / "inputs" / f"{n}.npy") for n in meta["inputs"]}
    flags = []
    for n in meta["inputs"]:
        flags += ["--input", f"{n}={fx / 'inputs' / (n + '.npy')}"]
    res = []
    for t in threads:
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = t
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(str(fx / "model.onnx"), so,
                                    providers=["CPUExecutionProvider"])
        for _ in range(3):
            sess.run(None, inputs)
        o_med, c_med = [], []

        def run_ort():
            ts = []
            for _ in range(runs):
                t0 = time.perf_counter()
                sess.run(None, inputs)
                ts.append((time.perf_counter() - t0) * 1e3)
            o_med.append(statistics.median(ts))

        def run_canao():
            out = run([exe, *flags, "--bench", runs, "--threads", t])
            c_med.append(float(out.split("median=")[1].split()[0]))

        for r in range(rounds):
            for f in (run_ort, run_canao) if r % 2 == 0 else (run_canao,
                                                               run_ort):
                f()
            after_round()
        res.append((t, statistics.median(o_med), statistics.median(c_med)))
        del sess
    return res


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def markdown(rows, peak, a, runs, cmdline):
    """rows: (model, T, ort_ms, canao_ms, flops, peaks of the model's
    rounds); runs: runs per round; peak: over all rounds, for the header."""
    names = {"peak": "FMA loop", "kernel": "GEMM microkernel in L1"}
    peaks = ("; ".join(f"{names[k]} {t}t {v:.1f} GFLOP/s"
                       for (k, t), v in sorted(peak.items()))
             or "not measured")
    lines = [f"{datetime.date.today().isoformat()}; {cpu_model()}; "
             f"ONNX Runtime {ort.__version__}; canaoc --target {a.target}; "
             f"{a.rounds} rounds x {runs} runs; "
             f"fp32 peak: {peaks}", "",
             f"Command: `{cmdline}`", "",
             "| model | threads | ORT ms | canao ms | canao/ORT | "
             "canao GFLOP/s | % of FMA peak | % of kernel peak |",
             "|---|---|---|---|---|---|---|---|"]

    def pct(own, kind, t, gf):
        p = own.get((kind, t)) or (t * own[(kind, 1)]
                                   if (kind, 1) in own else None)
        return f"{100 * gf / p:.1f}%" if p else "n/a"
    for m, t, o, c, flops, own in rows:
        gf = flops / c / 1e6
        lines.append(f"| {m} | {t} | {o:.2f} | {c:.2f} | {c / o:.2f} | "
                     f"{gf:.1f} | {pct(own, 'peak', t, gf)} | "
                     f"{pct(own, 'kernel', t, gf)} |")
    # A roofline check of the latency goals: the throughput a goal needs
    # against the peaks measured in the same minutes. Above 100% of the FMA
    # loop, no fp32 code with these FLOPs can meet it on this machine.
    goal_rows = [(m, t, o, c, flops, own, target(m, t))
                 for m, t, o, c, flops, own in rows if target(m, t)]
    if goal_rows:
        lines += ["", "What the latency goals need (goal x ORT ms, at these "
                  "FLOPs):", "",
                  "| model | threads | goal | canao/ORT now | needs ms | "
                  "needs GFLOP/s | % of FMA peak | % of kernel peak |",
                  "|---|---|---|---|---|---|---|---|"]
        for m, t, o, c, flops, own, goal in goal_rows:
            ms = goal * o
            gf = flops / ms / 1e6
            lines.append(f"| {m} | {t} | {goal:.2f} | {c / o:.2f} | "
                         f"{ms:.2f} | {gf:.1f} | {pct(own, 'peak', t, gf)} | "
                         f"{pct(own, 'kernel', t, gf)} |")
    return "\n".join(lines) + "\n"


def target(model, threads):
    """The latency goal canao/ORT for a table row (docs/performance.md):
    BERT-base 0.85 at 1 thread and 0.9 at 2, BERT-tiny and BERT-mini 0.6;
    None for the others."""
    name = model.split(" ")[0]
    if name == "bert-base":
        return 0.85 if threads == 1 else 0.9 if threads == 2 else None
    return 0.6 if name in ("bert-tiny", "bert-mini") else None


def svg_chart(rows, threads):
    """Grouped bars of canao/ORT latency per model, one bar per T."""
    models = list(dict.fromkeys(r[0] for r in rows))
    ratio = {(r[0], r[1]): r[3] / r[2] for r in rows}
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    bw, gap, left, top, ph = 44, 40, 70, 40, 260
    gw = bw * len(threads) + gap
    width = left + gw * len(models) + 20 + 110
    height = top + ph + 70
    ymax = max([1.2] + [v * 1.15 for v in ratio.values()])
    step = 0.25 if ymax <= 2 else 0.5 if ymax <= 4 else 1.0
    ymax = step * -(-ymax // step)

    def y(v):
        return top + ph - v / ymax * ph

    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
         f'height="{height}" font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" '
         f'font-size="14">canao / ONNX Runtime latency (lower is better)'
         f'</text>']
    k = 0
    while k * step <= ymax + 1e-9:
        v = k * step
        e.append(f'<line x1="{left}" x2="{left + gw * len(models)}" '
                 f'y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        e.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" '
                 f'text-anchor="end">{v:.2f}</text>')
        k += 1
    for i, m in enumerate(models):
        x0 = left + gap / 2 + i * gw
        for j, t in enumerate(threads):
            if (m, t) not in ratio:
                continue
            v = ratio[(m, t)]
            x = x0 + j * bw
            e.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bw - 4}" '
                     f'height="{y(0) - y(v):.1f}" fill="{colors[j % 4]}"/>')
            e.append(f'<text x="{x + (bw - 4) / 2:.1f}" y="{y(v) - 4:.1f}" '
                     f'text-anchor="middle" font-size="11">{v:.2f}</text>')
        e.append(f'<text x="{x0 + bw * len(threads) / 2:.1f}" '
                 f'y="{top + ph + 18}" text-anchor="middle">{m}</text>')
    e.append(f'<line x1="{left}" x2="{left + gw * len(models)}" '
             f'y1="{y(1):.1f}" y2="{y(1):.1f}" stroke="black" '
             f'stroke-dasharray="6,4"/>')
    e.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{y(0):.1f}" '
             f'stroke="black"/>')
    e.append(f'<line x1="{left}" x2="{left + gw * len(models)}" '
             f'y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="black"/>')
    e.append(f'<text x="{left + gw * len(models) / 2:.1f}" '
             f'y="{top + ph + 45}" text-anchor="middle">model</text>')
    e.append(f'<text transform="translate(18,{top + ph / 2:.1f}) rotate(-90)"'
             f' text-anchor="middle">latency ratio canao / ORT</text>')
    lx = left + gw * len(models) + 20
    for j, t in enumerate(threads):
        e.append(f'<rect x="{lx}" y="{top + 20 * j}" width="12" height="12" '
                 f'fill="{colors[j % 4]}"/>')
        e.append(f'<text x="{lx + 18}" y="{top + 20 * j + 11}">'
                 f'{t} thread{"s" if t > 1 else ""}</text>')
    e.append("</svg>")
    return "\n".join(e) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", help=f"comma list (default: {','.join(ALL_MODELS)})")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 7)")
    p.add_argument("--runs", type=int,
                   help="runs per round (default 20, 5 for bert-base)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--quick", action="store_true",
                   help="bert-tiny and bert-mini, 3 rounds")
    p.add_argument("--target", default="host")
    p.add_argument("--canaoc", type=Path, default=ROOT / "build/compiler/canaoc")
    p.add_argument("--peak-cmd", default="build/bench/canao-gemm-bench --peak")
    p.add_argument("--tuning", help="passed to canaoc as --tuning FILE")
    p.add_argument("--md", type=Path, default=ROOT / "docs/benchmark.md")
    p.add_argument("--svg", type=Path, default=ROOT / "docs/benchmark.svg")
    a = p.parse_args()
    exe = Path(sys.executable)
    exe = exe.relative_to(ROOT) if exe.is_relative_to(ROOT) else exe
    script = Path(sys.argv[0]).resolve()
    script = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    cmdline = shlex.join([str(exe), str(script), *sys.argv[1:]])
    models = (a.models.split(",") if a.models else
              ["bert-tiny", "bert-mini"] if a.quick else ALL_MODELS)
    bad = [m for m in models if m not in ALL_MODELS]
    if bad:
        p.error(f"unknown model(s) {bad}; choose from {ALL_MODELS}")
    if a.rounds is None:
        a.rounds = 3 if a.quick else 7
    threads = [int(t) for t in a.threads.split(",")]
    if not a.canaoc.exists():
        p.error(f"{a.canaoc} not found; build canao first")

    fixtures = {m: export(m) for m in models}
    first = measure_peak(a.peak_cmd)
    have_peak = bool(first)
    if not have_peak:
        log("peak benchmark not found; % of peak will be n/a")
    peaks = [first] if first else []

    def median_peak(ps):
        return {k: statistics.median(p[k] for p in ps if k in p)
                for k in sorted({k for p in ps for k in p})}
    rows, runs_used = [], {}
    for m in models:
        exe_m, rep, meta = compile_model(fixtures[m], m, a)
        runs = a.runs or (5 if m == "bert-base" else 20)
        runs_used[m] = runs
        shape = "x".join(map(str, meta["inputs"]["input_ids"]))
        log(f"benchmarking {m} ({shape}, {rep['flops'] / 1e9:.2f} GFLOP, "
            f"{a.rounds} rounds x {runs} runs) ...")
        own = []
        after = (lambda: own.append(measure_peak(a.peak_cmd, quiet=True))
                 ) if have_peak else (lambda: None)
        for t, o, c in bench_model(fixtures[m], exe_m, meta, threads,
                                   a.rounds, runs, after):
            rows.append((f"{m} ({shape})", t, o, c, rep["flops"], own))
            log(f"  T={t}: ORT {o:.2f} ms, canao {c:.2f} ms")
        peaks += own
    rows = [r[:5] + (median_peak(r[5]),) for r in rows]
    peak = median_peak(peaks)

    runs = ", ".join(sorted({str(r) for r in runs_used.values()}, key=int))
    if len(set(runs_used.values())) > 1:
        runs = ", ".join(f"{r} ({m})" for m, r in runs_used.items())
    md = markdown(rows, peak, a, runs, cmdline)
    sys.stdout.write(md)
    a.md.parent.mkdir(parents=True, exist_ok=True)
    a.md.write_text("# canao vs ONNX Runtime\n\n" + md +
                    f"\n![canao/ORT latency]({a.svg.name})\n",
                    encoding="utf-8")
    a.svg.write_text(svg_chart(rows, threads))
    log(f"wrote {a.md} and {a.svg}")


if __name__ == "__main__":
    sys.exit(main())
