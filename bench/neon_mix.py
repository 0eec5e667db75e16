#!/usr/bin/env python3
"""Static instruction mix of the NEON microkernels' inner loops.

qemu cannot time a phone, so this counts instead: it compiles the runtime's
NEON instances with the cross compiler and the flags a generated library
uses (-O3, Armv8.0-A), disassembles them with aarch64-linux-gnu-objdump,
finds each full tile's hottest loop (the backward branch whose body holds the
most FMLA) and counts FMLA, vector loads and everything else in it. From
that mix and Cortex-A76's published widths (2 x 128-bit FMA pipes, 2 load
pipes, 4-wide decode) it bounds the cycles per iteration and projects
GFLOP/s on one A76 core at 2.8 GHz, and BERT-base / all-MiniLM-L6-v2 latency
at that rate (GEMM FLOPs only: a lower bound).

    bench/neon_mix.py [--cxx aarch64-linux-gnu-g++] [--ghz 2.8]
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (instance, demangled tile function of its full MR-row tile, FLOPs per FMLA)
KERNELS = [
    ("f32_gemm_8x8_neon", "F32Gemm<canao_rt::isa::Neon, 8, 8>::tile<8, false, true, false>"),
    ("f32_gemm_12x8_neon", "F32Gemm<canao_rt::isa::Neon, 12, 8>::tile<12, false, true, false>"),
    ("f32_gemm_6x8_neon", "F32Gemm<canao_rt::isa::Neon, 6, 8>::tile<6, false, false, false>"),
    ("f32_gemm_6x8_generic (broadcast, for contrast)",
     "canao_rt::ukernel::f32_gemm_6x8_generic"),  # all of it inlined here
    ("f32_bsr_1x8_8x8_neon", "F32Gemm<canao_rt::isa::Neon, 8, 8>::tile<8, false, true, true>"),
    ("f32_bsr_16x1_8x4_neon", "F32BsrK<canao_rt::isa::Neon, 16, 8, 2>::tile<8>"),
]

SOURCE = """
#include "canao/ukernels/f32_bsr.h"
#include "canao/ukernels/f32_gemm.h"
using namespace canao_rt::ukernel;
void *keep[] = {(void *)&f32_gemm_8x8_neon, (void *)&f32_gemm_12x8_neon,
                (void *)&f32_gemm_6x8_neon, (void *)&f32_gemm_6x8_generic,
                (void *)&f32_bsr_1x8_8x8_neon, (void *)&f32_bsr_16x1_8x4_neon};
"""

# GEMM FLOPs at batch 1, seq 128 (4 H^2 + 2 H F per token per layer, times
# 2 for multiply-add; attention's products add 2 * 2 * S * H per token).
def model_gflop(layers, hidden, ffn, seq=128):
    per_token = 2 * (4 * hidden * hidden + 2 * hidden * ffn + 2 * seq * hidden)
    return layers * seq * per_token / 1e9


def functions(asm):
    """{demangled name: [(address, mnemonic, operands)]}"""
    out, cur = {}, None
    for line in asm.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m and cur is not None:
            cur.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return out


def hot_loop(insns):
    """The innermost loop (a backward branch's body holding no other
    backward branch) with the most FMLA."""
    loops = []
    for addr, op, args in insns:
        if not (op.startswith("b.") or op in ("b", "cbnz", "cbz", "tbnz", "tbz")):
            continue
        m = re.search(r"\b([0-9a-f]+) <", args)
        if m and int(m.group(1), 16) < addr:
            loops.append((int(m.group(1), 16), addr))
    inner = [(a, b) for a, b in loops
             if not any(a <= c < b and (c, d) != (a, b) and d < b
                        for c, d in loops)]
    best = []
    for a, b in inner:
        body = [x for x in insns if a <= x[0] <= b]
        if sum(x[1] == "fmla" for x in body) > sum(x[1] == "fmla" for x in best):
            best = body
    return best


def mix(body):
    fmla = sum(op == "fmla" for _, op, _ in body)
    loads = [(op, args) for _, op, args in body
             if op.startswith("ld") and re.search(r"\b[qv]\d+|\{v", args)]
    scalar_loads = sum(op.startswith("ld") for _, op, _ in body) - len(loads)
    regs = 0
    for op, args in loads:
        regs += 2 if op == "ldp" else max(1, args.count("v") if "{" in args else 1)
    prfm = sum(op == "prfm" for _, op, _ in body)
    return dict(insns=len(body), fmla=fmla, vloads=len(loads), vregs=regs,
                sloads=scalar_loads, prfm=prfm,
                other=len(body) - fmla - len(loads) - scalar_loads - prfm)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cxx", default="aarch64-linux-gnu-g++")
    p.add_argument("--objdump", default="aarch64-linux-gnu-objdump")
    p.add_argument("--ghz", type=float, default=2.8)
    args = p.parse_args()
    for tool in (args.cxx, args.objdump):
        if not shutil.which(tool):
            sys.exit(f"neon_mix: {tool} not found "
                     "(apt-get install g++-aarch64-linux-gnu)")
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = Path(tmp) / "k.cpp", Path(tmp) / "k.o"
        src.write_text(SOURCE)
        subprocess.run([args.cxx, "-std=c++17", "-O3", "-I", ROOT / "runtime",
                        "-c", src, "-o", obj], check=True)
        asm = subprocess.run([args.objdump, "-d", "-C", "--no-show-raw-insn",
                              obj], check=True, capture_output=True,
                             text=True).stdout
    fns = functions(asm)
    peak = 16 * args.ghz  # 2 pipes x 4 lanes x 2 FLOP
    print(f"Cortex-A76 model: 2 FMLA, 2 loads and 4 instructions per cycle; "
          f"peak {peak:.1f} GFLOP/s at {args.ghz} GHz")
    print("per innermost loop (one or more k steps): FMLA, vector load "
          "instructions (an LDP counts once), q registers they fill, other "
          "instructions")
    print(f"{'kernel':48} {'FMLA':>4} {'vld':>4} {'q regs':>6} {'other':>5} "
          f"{'FMLA/vld':>8} {'FMLA/q':>6} {'cycles':>6} {'GFLOP/s':>7} "
          f"{'% peak':>6}")
    rates = {}
    for name, fn in KERNELS:
        # The function or its clones (.isra, .constprop): the hottest loop.
        loops = [hot_loop(v) for k, v in fns.items() if fn + "(" in k]
        if not loops:
            sys.exit(f"neon_mix: {fn} not found in the disassembly")
        m = mix(max(loops, key=lambda b: sum(x[1] == "fmla" for x in b)))
        if not m["fmla"]:
            sys.exit(f"neon_mix: no FMLA loop in {fn}")
        cycles = max(m["fmla"] / 2, (m["vloads"] + m["sloads"]) / 2,
                     m["insns"] / 4)
        gflops = m["fmla"] * 8 / cycles * args.ghz
        rates[name] = gflops
        print(f"{name:48} {m['fmla']:4} {m['vloads'] + m['sloads']:4} "
              f"{m['vregs'] + m['sloads']:6} {m['other'] + m['prfm']:5} "
              f"{m['fmla'] / (m['vloads'] + m['sloads']):8.2f} "
              f"{m['fmla'] / (m['vregs'] + m['sloads']):6.2f} {cycles:6.1f} "
              f"{gflops:7.1f} {100 * gflops / peak:5.0f}%")
    g = rates["f32_gemm_8x8_neon"]
    for label, gf in (("BERT-base", model_gflop(12, 768, 3072)),
                      ("all-MiniLM-L6-v2", model_gflop(6, 384, 1536))):
        print(f"{label} s128 b1: {gf:.1f} GFLOP in GEMMs -> >= "
              f"{1000 * gf / g:.0f} ms on one A76 core at f32_gemm_8x8_neon's "
              f"{g:.1f} GFLOP/s, >= {1000 * gf / (g * 4):.0f} ms on 4")
    return 0


if __name__ == "__main__":
    sys.exit(main())
