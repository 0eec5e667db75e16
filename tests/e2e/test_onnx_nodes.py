#!/usr/bin/env python3
"""ONNX's own backend node tests, canaoc vs the expected outputs.

    test_onnx_nodes.py --canaoc BUILD/compiler/canaoc --work DIR
                       [--data NODE_DIR] [--only SUBSTRING ...] [--list]
                       [--shard I/N] [--no-freeze] [--min-pass-rate PCT]
                       [--keep] [--exact-build]

NODE_DIR (default: Debian's libonnx-testdata,
/usr/share/libonnx-testdata/data/node) holds test_*/model.onnx and
test_*/test_data_set_*/{input,output}_N.pb (serialized onnx.TensorProto).

Selection: a test is run when every node of its model (all of them:
`_expanded` tests use several op types; subgraphs included) is in the
default ONNX domain and its op type is in OP_TYPES below; decided from the
model, never from the directory name.

Skips: a selected test is skipped ONLY when a graph input or output, an
initializer, a Constant value, a Cast `to` or a ConstantOfShape value has
a dtype outside float32, int64, int32, bool (a sequence / optional graph
input or output counts as such a dtype too). Skips are counted by dtype.
Anything else that goes wrong is a FAIL with a one-line reason.

Per test: the input_N.pb become DIR/cases/<test>/data/<set>/input_N.npy,
mapped in order to the graph inputs (initializers excluded), as ONNX's
backend runner does. Frozen inputs: every int64/int32 graph input consumed
at an input position ONNX defines as shape / axes / parameter-like
(SHAPE_LIKE_INPUTS below: Reshape's shape, Slice's starts..steps, ...) is
passed to canaoc as `--freeze NAME=FILE.npy` (a compile-time constant, gone
from the run-time inputs); data inputs are never frozen. If canaoc still
fails with a message naming `--freeze NAME=`, the compile is retried with
that NAME frozen as well, while canaoc names new inputs. --no-freeze does neither (canaoc without
--freeze support rejects the flag).

canaoc compiles each test (`canaoc MODEL -o OUT --name op_<test> -q
[--freeze ...]`, a thread pool), all outputs are built through one CMake
super-project (test_ops.build_all: precompiled standard headers, the
driver at -O0, unless --exact-build), each `op_<test>_run` runs on every
data set and its <output>.npy files are compared with the output_N.pb:

  - dtype and shape exactly; int64 / int32 / bool outputs exactly;
  - float outputs elementwise |got - want| <= ATOL + RTOL * |want| with
    RTOL = 1e-3, ATOL = 1e-5 (ONNX's own backend tests use
    assert_allclose(rtol=1e-3, atol=1e-7)); equal infinities match, NaN
    positions must match.

Prints `PASS name` / `FAIL name: reason` / `SKIP name: reason` per test,
then `#` summary lines: counts and pass rate P/(P+F), skips by dtype, the
failure reasons grouped by message pattern, canaoc / runner crashes
(a signal, a timeout, or a non-zero exit without a `canaoc: error:` line),
pass/total per op type (a test counts for every op type in its model) and
the time taken by reference conversion, canaoc, the build and the runs.
Exit status 1 when the pass rate is below --min-pass-rate (default 95) or
nothing was selected, else 0; 77 when NODE_DIR does not exist.

Reuses tests/e2e/test_ops.py (imported): compile_model, build_all,
compare_outputs, run_model. DIR/cases and DIR/super are removed at
the end unless --keep. Needs numpy and onnx; no onnxruntime, no pytest.
"""

import argparse
import os
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, numpy_helper  # noqa: E402

import test_ops as ops  # noqa: E402

DEFAULT_DATA = Path("/usr/share/libonnx-testdata/data/node")
RTOL = 1e-3
ATOL = 1e-5

# Op types canao targets: its own list, then the BERT-family ops.
OP_TYPES = frozenset("""
    Pad CumSum Not And Or Xor Less Greater LessOrEqual GreaterOrEqual Min Max
    Clip Abs Log Reciprocal Ceil Floor ReduceMax ReduceSum ReduceMin
    ReduceMean Split Tile Trilu ArgMax Einsum LayerNormalization Pow
    Add Sub Mul Div Equal Where Cast Sqrt Erf Tanh Relu Exp Neg Sigmoid
    Softmax Reshape Unsqueeze Squeeze Flatten Transpose Expand Slice Concat
    Gather MatMul Gemm Shape Size ConstantOfShape Range Identity Constant
""".split())

# Element types a test may use; anything else skips it.
ALLOWED_DTYPES = frozenset({TensorProto.FLOAT, TensorProto.INT64,
                            TensorProto.INT32, TensorProto.BOOL})
INT_DTYPES = frozenset({TensorProto.INT64, TensorProto.INT32})

# op type -> {input position: ONNX's name for it}: the inputs that ONNX
# defines as shapes, axes or scalar parameters (the positions only exist in
# the opsets that take them as inputs rather than attributes). An int64 /
# int32 graph input consumed at one of these is frozen.
SHAPE_LIKE_INPUTS = {
    "Reshape": {1: "shape"},
    "Expand": {1: "shape"},
    "Tile": {1: "repeats"},
    "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},   # opset 10+
    "Unsqueeze": {1: "axes"},                                    # opset 13+
    "Squeeze": {1: "axes"},                                      # opset 13+
    "Pad": {1: "pads", 3: "axes"},                  # opset 11+ / 18+
    "Split": {1: "split"},                                       # opset 13+
    "CumSum": {1: "axis"},
    "ConstantOfShape": {0: "input"},
    "ReduceSum": {1: "axes"},                                    # opset 13+
    "ReduceMax": {1: "axes"},                                    # opset 18+
    "ReduceMin": {1: "axes"},                                    # opset 18+
    "ReduceMean": {1: "axes"},                                   # opset 18+
    "Range": {0: "start", 1: "limit", 2: "delta"},
    "TopK": {1: "K"},
    "Trilu": {1: "k"},
    "Clip": {1: "min", 2: "max"},                                # opset 11+
    "OneHot": {1: "depth"},
}

FREEZE_HINT = re.compile(r"--freeze ([^\s=]+)=")


def dtype_name(elem):
    try:
        return TensorProto.DataType.Name(elem).lower()
    except ValueError:
        return f"dtype#{elem}"


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------

class NodeTest:
    """One test_* directory. `name` and the `op_<name>` target follow
    test_ops' Case naming, so test_ops.build_all takes it."""

    def __init__(self, tdir):
        self.dir = tdir
        self.name = tdir.name
        self.model = onnx.load(str(tdir / "model.onnx"),
                               load_external_data=False)
        g = self.model.graph
        inits = {t.name for t in g.initializer}
        self.inputs = [vi for vi in g.input if vi.name not in inits]
        self.outputs = [vi.name for vi in g.output]
        self.op_types = sorted({n.op_type for n in walk_nodes(g)})
        self.domains = {n.domain for n in walk_nodes(g)}
        self.sets = sorted((p for p in tdir.glob("test_data_set_*")
                            if p.is_dir()), key=lambda p: p.name)
        self.skip = self.dtype_skip()
        self.policy_frozen = [] if self.skip else self.shape_like_inputs()
        self.frozen = []            # names actually frozen (filled later)
        self.fallback = False       # a retry on canaoc's --freeze hint
        self.data = []              # [(set dir, {input: npy path}, refs)]

    def selected(self):
        return (self.domains <= {"", "ai.onnx"}
                and set(self.op_types) <= OP_TYPES)

    def dtype_skip(self):
        """None, or (dtype key, reason) for the first offending value."""
        g = self.model.graph

        def vi_check(vi, what):
            t = vi.type
            kind = t.WhichOneof("value")
            if kind != "tensor_type":
                kind = kind.replace("_type", "")
                article = "an" if kind[0] in "aeiou" else "a"
                return kind, f"{what} '{vi.name}' is {article} {kind}"
            if t.tensor_type.elem_type not in ALLOWED_DTYPES:
                d = dtype_name(t.tensor_type.elem_type)
                return d, f"{what} '{vi.name}' is {d}"
            return None

        for vi in self.inputs:
            r = vi_check(vi, "input")
            if r:
                return r
        for vi in g.output:
            r = vi_check(vi, "output")
            if r:
                return r
        for t in g.initializer:
            if t.data_type not in ALLOWED_DTYPES:
                d = dtype_name(t.data_type)
                return d, f"initializer '{t.name}' is {d}"
        for n in walk_nodes(g):
            for a in n.attribute:
                if n.op_type == "Cast" and a.name == "to" and \
                        a.i not in ALLOWED_DTYPES:
                    d = dtype_name(a.i)
                    return d, f"Cast to {d}"
                if n.op_type in ("Constant", "ConstantOfShape") and \
                        a.type == onnx.AttributeProto.TENSOR and \
                        a.t.data_type not in ALLOWED_DTYPES:
                    d = dtype_name(a.t.data_type)
                    return d, f"{n.op_type} value is {d}"
        return None

    def shape_like_inputs(self):
        """Graph inputs (int64/int32) consumed at a SHAPE_LIKE_INPUTS
        position, in graph input order."""
        ints = {vi.name for vi in self.inputs
                if vi.type.tensor_type.elem_type in INT_DTYPES}
        hit = set()
        for n in walk_nodes(self.model.graph):
            for pos, name in enumerate(n.input):
                if name in ints and pos in SHAPE_LIKE_INPUTS.get(n.op_type,
                                                                 {}):
                    hit.add(name)
        return [vi.name for vi in self.inputs if vi.name in hit]


def walk_nodes(graph):
    for n in graph.node:
        yield n
        for a in n.attribute:
            subs = [a.g] if a.type == onnx.AttributeProto.GRAPH else \
                list(a.graphs)
            for sg in subs:
                yield from walk_nodes(sg)


def discover(data_dir):
    tests = []
    for tdir in sorted(data_dir.glob("test_*")):
        if (tdir / "model.onnx").is_file():
            tests.append(NodeTest(tdir))
    return tests


# ---------------------------------------------------------------------------
# Pipeline
# ---------------------------------------------------------------------------

def load_pb(path):
    t = TensorProto()
    t.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(t)


def numbered(set_dir, prefix):
    files = list(set_dir.glob(f"{prefix}_*.pb"))
    return sorted(files, key=lambda p: int(p.stem.split("_")[-1]))


def prepare(test, cdir):
    """input_N.pb -> .npy per data set, output_N.pb -> refs. Returns None
    or the failure reason."""
    shutil.rmtree(cdir, ignore_errors=True)
    if not test.sets:
        return "no test_data_set_* directory"
    names = [vi.name for vi in test.inputs]
    for sdir in test.sets:
        ddir = cdir / "data" / sdir.name
        ddir.mkdir(parents=True)
        ins = numbered(sdir, "input")
        outs = numbered(sdir, "output")
        if len(ins) != len(names):
            return (f"{sdir.name}: {len(ins)} input_N.pb for "
                    f"{len(names)} graph inputs")
        if len(outs) != len(test.outputs):
            return (f"{sdir.name}: {len(outs)} output_N.pb for "
                    f"{len(test.outputs)} graph outputs")
        paths = {}
        for name, pb in zip(names, ins):
            path = ddir / (pb.stem + ".npy")
            np.save(path, load_pb(pb))
            paths[name] = path
        refs = {name: load_pb(pb) for name, pb in zip(test.outputs, outs)}
        test.data.append((sdir, paths, refs))
    return None


def canaoc_error(err, proc):
    """One line from compile_model's (error, proc), and whether it looks
    like a crash (signal, timeout, no `canaoc: error:` line)."""
    if proc is None:
        return err, True
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines()
             if ln.strip()]
    msgs = [ln for ln in lines if ln.startswith("canaoc: error:")]
    if proc.returncode < 0:
        return (f"canaoc killed by signal {-proc.returncode}: "
                f"{lines[-1] if lines else '(no stderr)'}"[:300], True)
    if proc.returncode != 0 and not msgs:
        return (f"canaoc exit {proc.returncode} without a 'canaoc: error:' "
                f"line: {lines[-1] if lines else '(no stderr)'}"[:300], True)
    if msgs:
        return msgs[0][:300], False
    return err, False


def compile_test(canaoc, test, cdir, no_freeze):
    """canaoc with the policy's --freeze flags, retried on each new
    --freeze hint. Returns (error line or None, crashed)."""
    out = cdir / "out"
    fdir = cdir / "frozen"
    _, first_inputs, _ = test.data[0]

    def freeze_args(names):
        fdir.mkdir(exist_ok=True)
        args = []
        for k, name in enumerate(names):
            # The value is the first data set's; the others must agree.
            src = first_inputs[name]
            val = np.load(src)
            for sdir, paths, _ in test.data[1:]:
                other = np.load(paths[name])
                if other.dtype != val.dtype or other.shape != val.shape or \
                        (other != val).any():
                    raise ValueError(f"frozen input '{name}' differs in "
                                     f"{sdir.name}")
            dst = fdir / f"{k}.npy"
            shutil.copyfile(src, dst)
            args += ["--freeze", f"{name}={dst}"]
        return args

    frozen = [] if no_freeze else list(test.policy_frozen)
    try:
        err, proc = ops.compile_model(canaoc, test.dir / "model.onnx", out,
                                      ops.target_name(test),
                                      freeze_args(frozen))
        # canaoc names one unfrozen input per run: retry while it names a
        # new one (at most once per graph input).
        known = {vi.name for vi in test.inputs}
        for _ in range(len(known)):
            if not err or proc is None or no_freeze:
                break
            hint = [n.strip("'\"") for n in FREEZE_HINT.findall(proc.stderr)]
            more = [n for n in dict.fromkeys(hint)
                    if n in known and n not in frozen]
            if not more:
                break
            frozen += more
            test.fallback = True
            err, proc = ops.compile_model(
                canaoc, test.dir / "model.onnx", out,
                ops.target_name(test), freeze_args(frozen))
    except ValueError as e:
        return str(e), False
    test.frozen = frozen
    if err:
        return canaoc_error(err, proc)
    return None, False


def one_line(text, limit=300):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    for ln in lines:
        if "error" in ln.lower() and not ln.startswith("ninja"):
            return ln[:limit]
    return lines[-1][:limit]


def execute(test, cdir, exe):
    """Runs every data set; returns (ok, one-line detail, crashed)."""
    frozen = set(test.frozen)
    for sdir, paths, refs in test.data:
        outdir = cdir / "result" / sdir.name
        err = ops.run_model(exe, {k: p for k, p in paths.items()
                                  if k not in frozen}, outdir)
        if err:
            m = re.match(r"runner exit (-?\d+)", err)
            crashed = err.startswith("runner timed out") or \
                bool(m and int(m.group(1)) < 0)
            head, sep, rest = err.partition(":")
            return False, (f"{head}: {one_line(rest)}" if sep else err), \
                crashed
        ok, detail = ops.compare_outputs(test.outputs, refs, outdir,
                                         atol=ATOL, rtol=RTOL)
        if not ok:
            if len(test.data) > 1:
                detail = f"{sdir.name}: {detail}"
            return False, " ".join(detail.split()), False
    return True, "", False


def pattern(reason):
    """The failure's message pattern (names, numbers and the op in
    parentheses abstracted) and the tokens abstracted away first."""
    tokens = re.findall(r"'([^']*)'", reason)
    ops_in = re.findall(r"\(([A-Z][A-Za-z]+)\)", reason)
    pat = re.sub(r"'[^']*'", "'X'", reason)
    pat = re.sub(r"--freeze [^\s=]+=", "--freeze X=", pat)
    pat = re.sub(r"\(([A-Z][A-Za-z]+)\)", "(OP)", pat)
    pat = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "N", pat)
    pat = re.sub(r"\[[^\]]*\]", "[..]", pat)
    pat = re.sub(r"got .*", "got ...", pat)
    if ops_in:
        m = re.search(r"input #(\d+)", reason)
        key = ops_in[0] + (f"#{m.group(1)}" if m else "")
    else:
        key = next((t for t in tokens if t), "")
    return pat, key


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", type=Path)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help=f"node test directory (default {DEFAULT_DATA})")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only tests whose name contains one of these")
    ap.add_argument("--shard", metavar="I/N", default=None,
                    help="run only every N-th selected test starting at the "
                    "I-th (1-based), to split the suite across CI jobs")
    ap.add_argument("--list", action="store_true",
                    help="print the selected tests and exit")
    ap.add_argument("--no-freeze", action="store_true",
                    help="never pass --freeze to canaoc (no policy, no "
                    "retry)")
    ap.add_argument("--min-pass-rate", type=float, default=95.0,
                    help="exit 1 below this pass rate in %% (default 95)")
    ap.add_argument("--keep", action="store_true",
                    help="keep DIR/cases and DIR/super")
    ap.add_argument("--exact-build", action="store_true",
                    help="build the generated projects exactly as generated")
    args = ap.parse_args()
    if not args.list and (args.canaoc is None or args.work is None):
        ap.error("--canaoc and --work are required (unless --list)")
    if not args.data.is_dir():
        print(f"no ONNX node test data at {args.data} (Debian: apt install "
              "libonnx-testdata)", file=sys.stderr)
        return 77

    start = time.monotonic()
    every = discover(args.data)
    tests = [t for t in every if t.selected()]
    print(f"# selected {len(tests)} of {len(every)} node tests in "
          f"{args.data} (every node's op type in the {len(OP_TYPES)}-op "
          "list)", flush=True)
    if args.only:
        tests = [t for t in tests if any(s in t.name for s in args.only)]
        print(f"# --only: {len(tests)} of them", flush=True)
    if args.shard:
        m = re.fullmatch(r"(\d+)/(\d+)", args.shard)
        if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
            ap.error("--shard expects I/N with 1 <= I <= N")
        i, n = int(m.group(1)), int(m.group(2))
        tests = tests[i - 1::n]
        print(f"# --shard {i}/{n}: {len(tests)} of them", flush=True)
    if args.list:
        for t in tests:
            extra = f"  (skip: {t.skip[1]})" if t.skip else ""
            frz = f"  freeze: {','.join(t.policy_frozen)}" \
                if t.policy_frozen else ""
            print(f"{t.name}: {' '.join(t.op_types)}{frz}{extra}")
        return 0
    if not tests:
        print("# nothing selected")
        return 1

    canaoc = args.canaoc.resolve()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    t_scan = time.monotonic()

    verdict = {}        # name -> ("PASS"|"FAIL"|"SKIP", detail)
    crashes = []        # (name, reason)
    prepared = []
    for t in tests:
        if t.skip:
            verdict[t.name] = ("SKIP", f"dtype: {t.skip[1]}")
            continue
        cdir = work / "cases" / t.name
        try:
            err = prepare(t, cdir)
        except Exception as e:  # noqa: BLE001 - a broken test is a FAIL
            err = f"reference conversion: {type(e).__name__}: {e}"
        if err:
            verdict[t.name] = ("FAIL", " ".join(str(err).split())[:300])
        else:
            prepared.append((t, cdir))
    t_ref = time.monotonic()

    workers = max(1, min(os.cpu_count() or 2, 8))
    with ThreadPoolExecutor(workers) as pool:
        res = list(pool.map(
            lambda tc: compile_test(canaoc, tc[0], tc[1], args.no_freeze),
            prepared))
    compiled = []
    for (t, cdir), (err, crashed) in zip(prepared, res):
        if err:
            verdict[t.name] = ("FAIL", err)
            if crashed:
                crashes.append((t.name, err))
        else:
            compiled.append((t, cdir))
    t_compile = time.monotonic()

    exes = ops.build_all(work, compiled, args.exact_build) if compiled \
        else {}
    t_build = time.monotonic()

    runnable = []
    for t, cdir in compiled:
        exe = exes[t.name]
        if isinstance(exe, str):
            verdict[t.name] = ("FAIL", "build failed: " + one_line(
                exe[len("build failed: "):]
                if exe.startswith("build failed: ") else exe))
        else:
            runnable.append((t, cdir, exe))
    with ThreadPoolExecutor(workers) as pool:
        outs = list(pool.map(lambda x: execute(*x), runnable))
    for (t, _, _), (ok, detail, crashed) in zip(runnable, outs):
        verdict[t.name] = ("PASS", "") if ok else ("FAIL", detail)
        if crashed:
            crashes.append((t.name, detail))
    end = time.monotonic()

    # ---- report ---------------------------------------------------------
    counts = Counter()
    skips = Counter()
    per_op = defaultdict(Counter)
    groups = defaultdict(list)
    for t in tests:
        kind, detail = verdict[t.name]
        counts[kind] += 1
        print(f"{kind} {t.name}" + (f": {detail}" if detail else ""),
              flush=True)
        if kind == "SKIP":
            skips[t.skip[0]] += 1
        elif kind == "FAIL":
            pat, key = pattern(detail)
            groups[pat].append((t.name, key or t.name))
        for op in t.op_types:
            per_op[op][kind] += 1
    p, f, k = counts["PASS"], counts["FAIL"], counts["SKIP"]
    rate = 100.0 * p / (p + f) if p + f else 100.0
    print(f"# node tests: {len(tests)} selected, {p} passed, {f} failed, "
          f"{k} skipped (dtype), pass rate P/(P+F) = {rate:.1f}%")
    print(f"# float tolerance: |got - want| <= {ATOL:g} + {RTOL:g}*|want| "
          "elementwise (ONNX's backend tests: rtol 1e-3, atol 1e-7); ints "
          "and bools exact; NaN positions must match")
    if skips:
        print("# skipped by dtype: " + ", ".join(
            f"{d} {n}" for d, n in sorted(skips.items(),
                                          key=lambda x: (-x[1], x[0]))))
    ran = [t for t, _ in prepared]
    frz = [t for t in ran if t.frozen]
    print(f"# frozen inputs: {len(frz)} tests compiled with --freeze "
          f"({sum(t.fallback for t in ran)} after canaoc's --freeze hint)"
          + (" [--no-freeze]" if args.no_freeze else ""))
    if groups:
        print("# failures by reason:")
        for pat, items in sorted(groups.items(),
                                 key=lambda x: (-len(x[1]), x[0])):
            keys = sorted({key for _, key in items if key})
            print(f"#   {len(items):4d}  {pat}"
                  + (f"  [{', '.join(keys)}]" if keys else ""))
    if crashes:
        print(f"# crashes / timeouts ({len(crashes)}):")
        for name, reason in crashes:
            print(f"#   {name}: {reason}")
    print("# per op type (a test counts for each op type in its model): "
          "passed/run, skipped")
    for op in sorted(per_op):
        c = per_op[op]
        line = f"#   {op:20s} {c['PASS']:3d}/{c['PASS'] + c['FAIL']}"
        if c["SKIP"]:
            line = f"{line:30s} ({c['SKIP']} skipped)"
        print(line)
    print(f"# time: scan {t_scan - start:.1f} s, reference conversion "
          f"{t_ref - t_scan:.1f} s, canaoc {t_compile - t_ref:.1f} s "
          f"({len(prepared)} tests, {workers} threads), build "
          f"{t_build - t_compile:.1f} s ({len(compiled)} projects), run+compare "
          f"{end - t_build:.1f} s, total {end - start:.1f} s")
    if not args.keep:
        shutil.rmtree(work / "cases", ignore_errors=True)
        shutil.rmtree(work / "super", ignore_errors=True)
    return 1 if rate < args.min_pass_rate else 0


if __name__ == "__main__":
    sys.exit(main())
