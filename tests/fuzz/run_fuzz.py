#!/usr/bin/env python3
"""Runs a canao libFuzzer target for a bounded time, or over saved inputs.

    run_fuzz.py --fuzzer BIN --work DIR --seeds DIR [--seeds DIR ...]
                --seconds S [--max-len N]
    run_fuzz.py --fuzzer BIN --work DIR --replay DIR

Fuzz mode copies the seeds into DIR/corpus (kept between runs, so coverage
accumulates on one machine) and runs the fuzzer with a 10 s per-input
timeout, leak detection and a 2 GB RSS limit. It prints the executions,
their rate, the coverage (edges and features) and the corpus size, then
`N passed, M failed`. A crash, leak, timeout or out-of-memory input is
saved under DIR/artifacts/; fix the bug and add the file to
tests/fuzz/regressions/<target>/ so that replay mode keeps it fixed.

Replay mode runs every file of DIR once (the regression inputs) and fails
if any of them crashes.
"""

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path


def fuzz_flags(work):
    artifacts = work / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    return ["-timeout=10", "-rss_limit_mb=2048", "-detect_leaks=1",
            "-print_final_stats=1", f"-artifact_prefix={artifacts}/"]


def fuzz(args):
    corpus = args.work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = 0
    for d in args.seeds:
        for f in sorted(Path(d).rglob("*")):
            if f.is_file():
                shutil.copy(f, corpus / f"seed-{f.parent.name}-{f.name}")
                seeds += 1
    if seeds == 0:
        print("FAIL no seed inputs in " + ", ".join(map(str, args.seeds)))
        return 1
    cmd = [str(args.fuzzer), *fuzz_flags(args.work),
           f"-max_total_time={args.seconds}", f"-max_len={args.max_len}",
           str(corpus)]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                       timeout=args.seconds + 300)
    wall = time.monotonic() - t0
    log = p.stdout + p.stderr
    (args.work / "fuzz.log").write_text(log)
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", log))
    done = re.findall(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)", log)
    execs = int(stats.get("number_of_executed_units", 0))
    cov = done[-1][1] if done else "?"
    ft = done[-1][2] if done else "?"
    corp = done[-1][3] if done else "?"
    print(f"{args.fuzzer.name}: {execs} inputs in {wall:.0f} s "
          f"({stats.get('average_exec_per_sec', '?')}/s), coverage {cov} "
          f"edges, {ft} features, corpus {corp} ({seeds} seeds)")
    ok = p.returncode == 0 and done
    if not ok:
        tail = "\n".join(log.splitlines()[-40:])
        print(tail)
        found = sorted((args.work / "artifacts").glob("*"))
        print("FAIL fuzzing: exit %d; inputs saved: %s" % (
            p.returncode, ", ".join(map(str, found)) or "none"))
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


def replay(args):
    files = sorted(f for f in Path(args.replay).rglob("*") if f.is_file())
    if not files:
        print(f"FAIL no inputs in {args.replay}")
        return 1
    failed = 0
    for f in files:
        # One input per process: a crash names its file.
        p = subprocess.run([str(args.fuzzer), *fuzz_flags(args.work), str(f)],
                           capture_output=True, text=True, errors="replace",
                           timeout=120)
        if p.returncode == 0:
            print(f"PASS {f.name}")
        else:
            failed += 1
            print(f"FAIL {f.name}: exit {p.returncode}")
            print("\n".join((p.stdout + p.stderr).splitlines()[-30:]))
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzzer", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--seeds", action="append", default=[], type=Path)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--max-len", type=int, default=262144)
    ap.add_argument("--replay", type=Path)
    args = ap.parse_args()
    if not args.fuzzer.exists():
        print(f"FAIL {args.fuzzer} does not exist (build the sanitizer tree)")
        return 1
    args.work.mkdir(parents=True, exist_ok=True)
    return replay(args) if args.replay else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
