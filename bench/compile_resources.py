#!/usr/bin/env python3
"""canaoc's compile time and peak memory on BERT-base and a BERT-large-shaped
export, asserted against bounds.

    .venv/bin/python bench/compile_resources.py [--canaoc build/compiler/canaoc]
        [--work /tmp/canao-compile] [--models base,large] [--runs 3]

Exports (once, cached in WORK) the two PyTorch BertModels at opset 14,
sequence 128, random weights (make_fixture.py --no-ort):
  base   12 layers, hidden 768, 12 heads, FFN 3072, vocab 30522 (438 MB)
  large  24 layers, hidden 1024, 16 heads, FFN 4096, vocab 30522 (1.34 GB)
then runs `canaoc MODEL -o OUT --target host` RUNS times and reports the
median wall time and the largest peak RSS (the child's own, from wait4),
next to the weight bytes. The bounds below are the issue's assertion:
compile memory stays near one copy of the weights (the weights are
memory-mapped views, the blob is streamed constant by constant), and time
grows with the weights, not worse. Exit 1 if a bound is exceeded.

Also runs `--max-memory` just below the model's need: it must refuse with
one line before writing anything.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "base": ["--layers", "12", "--hidden", "768", "--heads", "12",
             "--ffn", "3072"],
    "large": ["--layers", "24", "--hidden", "1024", "--heads", "16",
              "--ffn", "4096"],
}
COMMON = ["--opset", "14", "--vocab", "30522", "--batch", "1", "--seq",
          "128", "--no-ort"]
# name -> (max median seconds, max peak RSS as a multiple of the weights).
BOUNDS = {"base": (15.0, 2.0), "large": (45.0, 2.0)}


def export(name, work):
    fixture = work / name
    if (fixture / "meta.json").exists():
        return fixture
    shutil.rmtree(fixture, ignore_errors=True)
    t0 = time.time()
    r = subprocess.run([sys.executable, ROOT / "tests" / "models" /
                        "make_fixture.py", "--out", fixture, *MODELS[name],
                        *COMMON], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"export {name} failed: {r.stderr.strip()[-800:]}")
    print(f"exported {name} in {time.time() - t0:.0f} s", flush=True)
    return fixture


def compile_once(canaoc, fixture, out, extra=()):
    cmd = [str(canaoc), str(fixture / "model.onnx"), "-o", str(out), "-q",
           "--target", "host", "--shape", "input_ids=1x128", "--shape",
           "attention_mask=1x128", "--shape", "token_type_ids=1x128", *extra]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.time()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.time() - t0
        err.seek(0)
        return (os.waitstatus_to_exitcode(status), seconds,
                usage.ru_maxrss * 1024, err.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", type=Path,
                    default=ROOT / "build" / "compiler" / "canaoc")
    ap.add_argument("--work", type=Path, default=Path("/tmp/canao-compile"))
    ap.add_argument("--models", default="base,large")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    failed = 0
    rows = []
    for name in args.models.split(","):
        fixture = export(name, args.work)
        weights = sum(f.stat().st_size for f in fixture.glob("model.onnx*"))
        out = args.work / f"out_{name}"
        times, rss = [], 0
        for _ in range(args.runs):
            shutil.rmtree(out, ignore_errors=True)
            rc, seconds, peak, err = compile_once(args.canaoc, fixture, out)
            if rc != 0:
                sys.exit(f"canaoc failed on {name}: {err.strip()}")
            times.append(seconds)
            rss = max(rss, peak)
        blob = (out / "model.weights").stat().st_size
        median = statistics.median(times)
        max_s, max_rss = BOUNDS[name]
        ok_t = median <= max_s
        ok_m = rss <= max_rss * weights
        rows.append((name, weights, blob, median, min(times), max(times), rss,
                     ok_t and ok_m))
        print(f"{name}: model {weights / 1e6:.0f} MB, blob {blob / 1e6:.0f} "
              f"MB; compile median {median:.1f} s (range {min(times):.1f}-"
              f"{max(times):.1f}, bound {max_s:g}); peak RSS "
              f"{rss / 1e6:.0f} MB = {rss / weights:.2f}x the model (bound "
              f"{max_rss:g}x)", flush=True)
        failed += not (ok_t and ok_m)
        # Just below the need: refused, one line, nothing written.
        shutil.rmtree(out, ignore_errors=True)
        limit = f"{max(1, blob // (1 << 20) - 1)}M"
        rc, seconds, peak, err = compile_once(args.canaoc, fixture, out,
                                              ["--max-memory", limit])
        refused = (rc == 1 and len(err.strip().splitlines()) == 1 and
                   "--max-memory" in err and not out.exists())
        print(f"{name}: --max-memory {limit} refused in {seconds:.1f} s, peak "
              f"RSS {peak / 1e6:.0f} MB: {'yes' if refused else 'NO'} "
              f"({err.strip()})", flush=True)
        failed += not refused
    print("\n| model | ONNX bytes | blob | compile (median) | peak RSS | "
          "RSS / model |")
    print("|---|---|---|---|---|---|")
    for name, w, b, med, lo, hi, rss, ok in rows:
        print(f"| {name} | {w / 1e6:.0f} MB | {b / 1e6:.0f} MB | {med:.1f} s "
              f"({lo:.1f}-{hi:.1f}) | {rss / 1e6:.0f} MB | {rss / w:.2f}x |")
    print(f"\n{len(rows) * 2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
