#!/usr/bin/env python3
"""Compare canao outputs against reference .npy files (numpy only).

    compare.py REF_DIR OUT_DIR [--atol 1e-4] [--names a,b]

For every REF_DIR/*.npy (or only the given names), OUT_DIR/<name>.npy must
exist, have the same shape and dtype, and lie within --atol (max absolute
error; NaN/Inf anywhere counts as a failure).  Prints one line per output
and exits 1 if any check fails.
"""

import argparse
import sys
from pathlib import Path

import numpy as np


def compare_one(ref_path, out_path, atol):
    """Return (ok, message) for one reference/output pair."""
    if not out_path.is_file():
        return False, f"missing {out_path}"
    ref = np.load(ref_path)
    out = np.load(out_path)
    if ref.shape != out.shape:
        return False, f"shape {out.shape} != reference {ref.shape}"
    if ref.dtype != out.dtype:
        return False, f"dtype {out.dtype} != reference {ref.dtype}"
    if ref.size == 0:
        return True, f"max_abs_err=0 (atol {atol:g}, empty)"
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    if not np.all(np.isfinite(diff)):
        bad = int(np.size(diff) - np.count_nonzero(np.isfinite(diff)))
        return False, f"max_abs_err=nan ({bad} non-finite values)"
    err = float(diff.max())
    where = np.unravel_index(int(diff.argmax()), diff.shape)
    msg = f"max_abs_err={err:.3e} (atol {atol:g})"
    if err > atol:
        msg += f" at {tuple(int(i) for i in where)}"
    return err <= atol, msg


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ref_dir", type=Path)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--names", default="",
                   help="comma-separated output names (default: all refs)")
    args = p.parse_args(argv)

    if args.names:
        names = [n.strip() for n in args.names.split(",") if n.strip()]
    else:
        names = sorted(f.stem for f in args.ref_dir.glob("*.npy"))
    if not names:
        print(f"canao: compare: no reference .npy files in {args.ref_dir}")
        return 1

    all_ok = True
    for name in names:
        ref_path = args.ref_dir / f"{name}.npy"
        if not ref_path.is_file():
            ok, msg = False, f"missing reference {ref_path}"
        else:
            ok, msg = compare_one(ref_path, args.out_dir / f"{name}.npy",
                                  args.atol)
        all_ok &= ok
        print(f"{name}: {msg} {'OK' if ok else 'FAIL'}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
