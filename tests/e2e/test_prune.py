#!/usr/bin/env python3
"""`canaoc prune`: block magnitude pruning of the encoder weights.

    test_prune.py --canaoc BUILD/compiler/canaoc --work DIR

Builds a small BERT fixture with ../models/make_fixture.py (a classifier
head, so a pooler and a classifier Gemm are there to be left alone), a copy
of it with the weights as external data, and a synthetic graph with a
transB=1 Gemm, partial blocks and weights that must be excluded. Prunes them
with several block shapes, both schemes and per-layer ratios, and checks
with onnx and numpy, independently of canaoc's own report:
  - the output passes onnx.checker and still runs in ONNX Runtime;
  - exactly the encoder's Q/K/V/attention-output/intermediate/output
    matrices are pruned, everything else is byte-identical;
  - bsr: every RxC block is all zero or equal to the original, the zeroed
    ones have the smallest norms, and their count is the one that brings
    the zero fraction nearest the ratio (so within one block of it);
  - bcr: within every block whole strips are zeroed, the same number in
    every full block (proportionally fewer in partial edge blocks), the
    lowest-norm ones, the count nearest the ratio;
  - external data stays external (small tensors stay inline), output is
    deterministic, ratio 0 gives back the input's bytes;
  - bad arguments give one `canaoc: error:` line, a non-zero exit and no
    output file.
Prints `PASS name` / `FAIL name: reason` per check, then `N passed, M
failed`; exits 1 on any failure.
"""

import argparse
import glob
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = Path(__file__).resolve().parent
MAKE_FIXTURE = HERE.parent / "models" / "make_fixture.py"
TIMEOUT_S = 120
# The encoder matrices of one BERT layer, by the node that consumes them.
LAYER_MATRICES = ["attention/self/query", "attention/self/key",
                  "attention/self/value", "attention/output/dense",
                  "intermediate/dense", "output/dense"]

results = []


def report(name, ok, detail=""):
    results.append(bool(ok))
    print(f"PASS {name}" if ok else f"FAIL {name}: {detail}", flush=True)
    return ok


def run(cmd):
    return subprocess.run([str(c) for c in cmd], capture_output=True,
                          text=True, timeout=TIMEOUT_S,
                          stdin=subprocess.DEVNULL)


# ---- reading models ----------------------------------------------------------

def weights(path):
    """{initializer name: TensorProto} with external data loaded."""
    model = onnx.load(str(path))
    return model, {t.name: t for t in model.graph.initializer}


def weight_views(model):
    """{init name: (node name, transposed)} for input 1 of MatMul / Gemm."""
    views = {}
    for n in model.graph.node:
        if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1:
            trans = any(a.name == "transB" and a.i for a in n.attribute)
            views.setdefault(n.input[1], (n.name, trans))
    return views


def logical(t, transposed):
    """The [K, N] view of a weight."""
    a = numpy_helper.to_array(t)
    return a.T if transposed else a


def zero_fraction(a):
    return float(np.count_nonzero(a == 0)) / a.size


# ---- the two schemes, checked from their definitions -------------------------

def tiles(K, N, R, C):
    for i in range(0, K, R):
        for j in range(0, N, C):
            yield slice(i, min(i + R, K)), slice(j, min(j + C, N))


def sq_norm(a):
    return float(np.sum(a.astype(np.float64) ** 2))


def nearest(zeros_at, count, target):
    """True if zeros_at(count) is at least as near target as its neighbours."""
    here = abs(zeros_at(count) - target)
    return all(abs(zeros_at(c) - target) >= here - 1e-9
               for c in (count - 1, count + 1) if zeros_at(c) is not None)


def check_bsr(orig, new, R, C, ratio):
    """Returns None if `new` is a valid bsr pruning of `orig`, else why."""
    K, N = orig.shape
    zeroed, kept = [], []
    for rs, cs in tiles(K, N, R, C):
        o, n = orig[rs, cs], new[rs, cs]
        if n.tobytes() == o.tobytes():
            kept.append((sq_norm(o), o.size))
        elif not n.any():
            zeroed.append((sq_norm(o), o.size))
        else:
            return f"block at ({rs.start}, {cs.start}) is partly zeroed"
    if zeroed and kept and max(z[0] for z in zeroed) > \
            min(k[0] for k in kept) * (1 + 1e-12):
        return "a zeroed block has a larger norm than a kept one"
    # Block sizes in norm order: the prefix of the first p is what bsr zeroes.
    order = [s for _, s in sorted(zeroed)] + [s for _, s in sorted(kept)]
    prefix = np.concatenate([[0], np.cumsum(order)])
    target = ratio * orig.size

    def zeros_at(p):
        return float(prefix[p]) if 0 <= p < len(prefix) else None

    z = zeros_at(len(zeroed))
    if abs(z - target) > R * C:
        return f"{z:.0f} zeros, target {target:.1f}: more than a block off"
    if not nearest(zeros_at, len(zeroed), target):
        return f"{len(zeroed)} blocks zeroed is not the count nearest {ratio}"
    return None


def check_bcr(orig, new, R, C, ratio):
    """Returns None if `new` is a valid bcr pruning of `orig`, else why."""
    K, N = orig.shape
    columns, S = R >= C, min(R, C)
    full, edge = set(), []
    for rs, cs in tiles(K, N, R, C):
        o, n = orig[rs, cs], new[rs, cs]
        if columns:
            o, n = o.T, n.T  # strips are rows from here on
        zeroed, kept = [], []
        for t in range(o.shape[0]):
            if n[t].tobytes() == o[t].tobytes():
                kept.append(sq_norm(o[t]))
            elif not n[t].any():
                zeroed.append(sq_norm(o[t]))
            else:
                return (f"block at ({rs.start}, {cs.start}): strip {t} is "
                        f"partly zeroed")
        if zeroed and kept and max(zeroed) > min(kept) * (1 + 1e-12):
            return (f"block at ({rs.start}, {cs.start}): a zeroed strip has "
                    f"a larger norm than a kept one")
        if o.shape[0] == S:
            full.add(len(zeroed))
        else:
            edge.append((o.shape[0], o.shape[1], len(zeroed)))
    if len(full) != 1:
        return f"full blocks zero different strip counts {sorted(full)}"
    s = full.pop()
    for strips, _, z in edge:
        if z != (2 * s * strips + S) // (2 * S):
            return f"an edge block with {strips} strips zeroes {z}, s={s}"
    # (strips, strip length) per block: the zeros for c strips per block.
    lengths = []
    for rs, cs in tiles(K, N, R, C):
        rows, cols = rs.stop - rs.start, cs.stop - cs.start
        lengths.append((cols, rows) if columns else (rows, cols))

    def zeros_at(c):
        if c < 0 or c > S:
            return None
        return float(sum(((2 * c * st + S) // (2 * S) if st != S else c) * ln
                         for st, ln in lengths))

    target = ratio * orig.size
    if not nearest(zeros_at, s, target):
        return f"{s} strips per block is not the count nearest {ratio}"
    if abs(zero_fraction(new) - ratio) > 1.0 / S:
        return f"zero fraction {zero_fraction(new):.4f}, ratio {ratio}"
    return None


# ---- one pruning run ---------------------------------------------------------

def prune(canaoc, model, out, *extra, quiet=False):
    for p in (out, Path(str(out) + ".data")):
        if p.exists():
            p.unlink()
    return run([canaoc, "prune", model, "-o", out, *extra] +
               (["-q"] if quiet else []))


def check_run(name, canaoc, model, out, block, scheme, ratios, candidates,
              extra=(), inputs=None):
    """Prunes `model` and checks everything about the result.

    `ratios(node name)` is the ratio a candidate should get; `candidates`
    the initializer names that must be pruned (all others untouched).
    """
    R, C = map(int, block.split("x"))
    r = prune(canaoc, model, out, "--block", block, "--scheme", scheme,
              *extra)
    if not report(f"{name}: exit 0", r.returncode == 0 and not r.stderr,
                  f"exit {r.returncode}, stderr {r.stderr.strip()!r}"):
        return None
    try:
        onnx.checker.check_model(str(out))
        report(f"{name}: onnx.checker", True)
    except Exception as e:  # noqa: BLE001 - report, don't trace back
        report(f"{name}: onnx.checker", False, str(e)[:300])
    src, before = weights(model)
    dst, after = weights(out)
    views = weight_views(src)
    problems = []
    for tname, t in before.items():
        if tname not in candidates:
            # External data is loaded into raw_data (and its entries
            # dropped) on both sides, so the protos compare whole.
            if t.SerializeToString() != after[tname].SerializeToString():
                problems.append(f"non-candidate {tname} changed")
            continue
        node, trans = views[tname]
        o, n = logical(t, trans), logical(after[tname], trans)
        check = check_bsr if scheme == "bsr" else check_bcr
        why = check(o, n, R, C, ratios(node))
        if why:
            problems.append(f"{tname} ({node}): {why}")
    report(f"{name}: blocks, densities, untouched tensors", not problems,
           "; ".join(problems[:4]))
    same_graph = ([x.SerializeToString() for x in src.graph.node] ==
                  [x.SerializeToString() for x in dst.graph.node] and
                  src.opset_import == dst.opset_import and
                  src.ir_version == dst.ir_version and
                  src.graph.input == dst.graph.input and
                  src.graph.output == dst.graph.output and
                  [t.name for t in src.graph.initializer] ==
                  [t.name for t in dst.graph.initializer])
    report(f"{name}: nodes, opset, names kept", same_graph)
    # The report: one line per pruned matrix, its density as measured.
    lines = r.stdout.splitlines()
    got = {}
    for line in lines[:-1]:
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "density":
            got[parts[0]] = float(parts[2])
    want = {k: round(1 - zero_fraction(numpy_helper.to_array(after[k])), 4)
            for k in candidates}
    report(f"{name}: report", got == want and lines and
           lines[-1].startswith(f"pruned {len(candidates)} matrices"),
           f"report {got}, measured {want}")
    if inputs is not None:
        ort_check(name, model, out, inputs)
    return dst


def ort_check(name, model, out, inputs):
    import onnxruntime as ort

    def outputs(path):
        s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return s.run(None, inputs)

    try:
        a, b = outputs(model), outputs(out)
        ok = all(x.shape == y.shape and np.isfinite(y).all()
                 for x, y in zip(a, b)) and \
            any(not np.array_equal(x, y) for x, y in zip(a, b))
        report(f"{name}: runs in ONNX Runtime", ok,
               "outputs not finite, reshaped, or unchanged by pruning")
    except Exception as e:  # noqa: BLE001
        report(f"{name}: runs in ONNX Runtime", False, str(e)[:300])


# ---- models ------------------------------------------------------------------

def make_fixture(work):
    out = work / "fixture"
    r = run([sys.executable, MAKE_FIXTURE, "--out", out, "--layers", "2",
             "--hidden", "48", "--heads", "2", "--ffn", "100", "--vocab",
             "200", "--max-pos", "64", "--seq", "16", "--batch", "2",
             "--head", "cls", "--no-ort"])
    if not report("make_fixture", r.returncode == 0, r.stderr[-600:]):
        return None
    return out


def external_copy(fixture, work, threshold):
    """The fixture with tensors >= `threshold` bytes in one external data
    file (0: all of them, Constant nodes' values too)."""
    ext = work / f"external{threshold}"
    shutil.rmtree(ext, ignore_errors=True)
    ext.mkdir()
    from onnx.external_data_helper import convert_model_to_external_data
    model = onnx.load(str(fixture / "model.onnx"))
    convert_model_to_external_data(model, all_tensors_to_one_file=True,
                                   location="model.bin",
                                   size_threshold=threshold,
                                   convert_attribute=threshold == 0)
    onnx.save_model(model, str(ext / "model.onnx"))
    return ext / "model.onnx"


def synthetic(work):
    """Gemm transB=1 / transB=0 and MatMul candidates with partial blocks,
    plus weights that must be excluded, one per reason."""
    rng = np.random.RandomState(7)

    def w(name, *shape):
        return numpy_helper.from_array(
            rng.standard_normal(shape).astype(np.float32), name)

    # fc3 is stored in float_data, not raw_data.
    fc3 = rng.standard_normal((40, 24)).astype(np.float32)
    inits = [w("fc1.weight", 72, 40), w("fc1.bias", 72), w("fc2", 72, 40),
             helper.make_tensor("fc3", TensorProto.FLOAT, fc3.shape,
                                fc3.ravel().tolist()),
             w("tied", 24, 24), w("used_twice", 24, 24),
             w("cube", 1, 24, 24), w("proj.weight", 24, 24),
             w("lm_head.weight", 24, 24)]
    N = helper.make_node
    nodes = [
        N("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h1"],
          name="/encoder/layer.0/fc1/Gemm", transB=1),
        N("MatMul", ["h1", "fc2"], ["h2"], name="/encoder/layer.0/fc2/MatMul"),
        N("Gemm", ["h2", "fc3"], ["h3"], name="/encoder/layer.0/fc3/Gemm"),
        N("MatMul", ["h3", "tied"], ["h4"], name="/encoder/layer.1/a/MatMul"),
        N("MatMul", ["h4", "tied"], ["h5"], name="/encoder/layer.1/b/MatMul"),
        N("MatMul", ["h5", "used_twice"], ["h6"],
          name="/encoder/layer.1/c/MatMul"),
        N("Add", ["used_twice", "used_twice"], ["twice"],
          name="/encoder/layer.1/c/Add"),
        N("MatMul", ["h6", "cube"], ["h7"], name="/encoder/layer.1/d/MatMul"),
        N("MatMul", ["h7", "proj.weight"], ["h8"], name="/proj/MatMul"),
        N("MatMul", ["h8", "lm_head.weight"], ["y"], name="/lm_head/MatMul"),
    ]
    graph = helper.make_graph(
        nodes, "synthetic",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 40])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 24]),
         helper.make_tensor_value_info("twice", TensorProto.FLOAT, [24, 24])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                        14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = work / "synthetic.onnx"
    onnx.save_model(model, str(path))
    return path


# ---- the checks --------------------------------------------------------------

def fixture_candidates(model_path):
    """Expected candidates, from the node names the exporter wrote."""
    model = onnx.load(str(model_path), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    found = {}
    for n in model.graph.node:
        if n.op_type == "MatMul" and len(n.input) > 1 and n.input[1] in inits:
            m = re.search(r"/encoder/layer\.(\d+)/(.*)/MatMul$", n.name)
            if m and m.group(2) in LAYER_MATRICES:
                found[n.input[1]] = n.name
    return found


def check_list(canaoc, fixture, candidates, work):
    r = run([canaoc, "prune", fixture, "--list"])
    listed = set()
    section = None
    for line in r.stdout.splitlines():
        if not line.startswith(" "):
            section = line.split(":")[0]
        elif section == "candidates":
            listed.add(line.split()[0])
    excluded = r.stdout.split("excluded:")[-1]
    ok = (r.returncode == 0 and listed == set(candidates) and
          "bert.pooler.dense.weight" in excluded and
          "classifier.weight" in excluded and "pooler" in excluded and
          not list(work.glob("*.canaoc-tmp-*")))
    report("--list: the 12 encoder matrices, pooler and classifier excluded",
           ok, f"exit {r.returncode}, listed {sorted(listed)}\n{r.stdout}")


def expect_error(name, canaoc, args, out, keyword="", keep=False):
    """`out` must not exist afterwards (unless `keep`: it is the input)."""
    if not keep and out.exists():
        out.unlink()
    r = run([canaoc, "prune", *args])
    lines = r.stderr.splitlines()
    left = ([str(out)] if not keep and out.exists() else []) + \
        glob.glob(glob.escape(str(out)) + "*.canaoc-tmp-*")
    ok = (0 < r.returncode < 128 and len(lines) == 1 and
          lines[0].startswith("canaoc: error: ") and keyword in lines[0] and
          not left)
    report(f"error: {name}", ok,
           f"exit {r.returncode}, stderr {r.stderr.strip()!r}, left {left}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--canaoc", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    args = ap.parse_args()
    canaoc = args.canaoc.resolve()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = time.monotonic()

    r = run([canaoc, "prune", "--help"])
    report("prune --help", r.returncode == 0 and "nn.Linear" in r.stdout and
           "[K, N]" in r.stdout and "bcr" in r.stdout)
    r = run([canaoc, "--help"])
    report("canaoc --help mentions prune", "canaoc prune" in r.stdout)

    fixture_dir = make_fixture(work)
    if fixture_dir is None:
        print("0 passed, 1 failed")
        return 1
    fixture = fixture_dir / "model.onnx"
    inputs = {p.stem: np.load(p) for p in (fixture_dir / "inputs").glob("*")}
    cands = fixture_candidates(fixture)
    report("fixture has 2 x 6 encoder matrices", len(cands) == 12,
           str(cands))
    check_list(canaoc, fixture, cands, work)

    out = work / "pruned.onnx"
    runs = [("16x1", "bsr", 0.5), ("1x16", "bsr", 0.75), ("4x4", "bsr", 0.6),
            ("32x1", "bsr", 0.3), ("1x4", "bsr", 0.9), ("4x4", "bcr", 0.5),
            ("8x4", "bcr", 0.7), ("4x16", "bcr", 0.4), ("16x1", "bsr", 0.0)]
    for block, scheme, ratio in runs:
        check_run(f"fixture {scheme} {block} ratio {ratio}", canaoc, fixture,
                  out, block, scheme, lambda node, r=ratio: r, cands,
                  extra=["--ratio", str(ratio)],
                  inputs=inputs if ratio else None)
    # A ratio of 0 changes nothing, so the output is the input's bytes.
    report("ratio 0: byte-identical to the input",
           out.read_bytes() == fixture.read_bytes())

    # --layer-ratio: the last matching pattern wins, on the node name (the
    # exporter's initializer names are anonymous).
    def layer_ratio(node):
        if "intermediate" in node:
            return 0.25
        return 0.8 if "/layer.1/" in node else 0.5
    check_run("fixture --layer-ratio", canaoc, fixture, out, "16x1", "bsr",
              layer_ratio, cands, inputs=inputs,
              extra=["--ratio", "0.5", "--layer-ratio", r"layer\.1/=0.8",
                     "--layer-ratio", "intermediate=0.25"])
    first = out.read_bytes()
    prune(canaoc, fixture, out, "--ratio", "0.5", "--layer-ratio",
          r"layer\.1/=0.8", "--layer-ratio", "intermediate=0.25", quiet=True)
    report("deterministic (inline)", out.read_bytes() == first)

    # External data: pruned and unpruned large tensors go to OUT.data,
    # small ones stay inline, the input's data file is not referenced.
    for threshold, block, scheme in ((1024, "16x1", "bsr"),
                                     (1024, "4x4", "bcr"), (0, "1x16", "bsr")):
        ext = external_copy(fixture_dir, work, threshold)
        eout = work / "ext_pruned.onnx"
        name = f"external (>= {threshold} B) {scheme} {block}"
        check_run(name, canaoc, ext, eout, block,
                  scheme, lambda node: 0.5, cands, extra=["--ratio", "0.5"],
                  # ORT cannot load external Constant values, even the input.
                  inputs=inputs if threshold else None)
        src = onnx.load(str(ext), load_external_data=False)
        dst = onnx.load(str(eout), load_external_data=False)
        problems = []
        for a, b in zip(src.graph.initializer, dst.graph.initializer):
            if a.data_location != b.data_location:
                problems.append(f"{a.name} moved")
            if b.data_location == TensorProto.EXTERNAL:
                kv = {e.key: e.value for e in b.external_data}
                if kv.get("location") != "ext_pruned.onnx.data" or \
                        int(kv.get("offset", 0)) % 64:
                    problems.append(f"{a.name}: {kv}")
            elif a.SerializeToString() != b.SerializeToString():
                if a.name not in cands:
                    problems.append(f"inline {a.name} changed")
        n_ext = sum(t.data_location == TensorProto.EXTERNAL
                    for t in dst.graph.initializer)
        n_inline = len(dst.graph.initializer) - n_ext
        n_ext += sum(a.t.data_location == TensorProto.EXTERNAL
                     for n in dst.graph.node for a in n.attribute)
        report(f"{name}: layout", not problems and n_ext > 12 and
               (n_inline > 0) == (threshold > 0) and
               (work / "ext_pruned.onnx.data").is_file(),
               "; ".join(problems[:4]) + f" ({n_ext} external)")
        first = (eout.read_bytes(),
                 (work / "ext_pruned.onnx.data").read_bytes())
        prune(canaoc, ext, eout, "--block", block, "--scheme", scheme,
              "--ratio", "0.5", quiet=True)
        report(f"{name}: deterministic",
               (eout.read_bytes(),
                (work / "ext_pruned.onnx.data").read_bytes()) == first)

    # The synthetic graph: transB=1 Gemm, partial blocks, exclusions.
    syn = synthetic(work)
    r = run([canaoc, "prune", syn, "--list"])
    reasons = {line.split()[0]: line for line in
               r.stdout.split("excluded:")[-1].splitlines()[1:]}
    want = {"tied": "shared", "used_twice": "shared", "cube": "rank 3",
            "proj.weight": "not in an encoder layer",
            "lm_head.weight": "name contains"}
    ok = r.returncode == 0 and all(
        k in reasons and v in reasons[k] for k, v in want.items())
    report("synthetic --list: exclusion reasons", ok, r.stdout)
    syn_cands = {"fc1.weight", "fc2", "fc3"}
    x = {"x": np.random.RandomState(1).standard_normal((3, 40)).astype(
        np.float32)}
    for block, scheme in (("16x1", "bsr"), ("1x16", "bsr"), ("32x1", "bsr"),
                          ("4x4", "bcr"), ("8x4", "bcr"), ("4x8", "bcr")):
        dst = check_run(f"synthetic {scheme} {block}", canaoc, syn,
                        work / "syn_pruned.onnx", block, scheme,
                        lambda node: 0.6, syn_cands, extra=["--ratio", "0.6"],
                        inputs=x)
    fc3 = [t for t in dst.graph.initializer if t.name == "fc3"][0] \
        if dst else None
    report("synthetic: float_data stays float_data",
           fc3 is not None and not fc3.raw_data and len(fc3.float_data))

    # Bad arguments: one error line, non-zero exit, nothing written.
    bad = work / "bad.onnx"
    cases = [
        ("ratio 1.0", ["--ratio", "1.0"], "outside [0, 1)"),
        ("ratio -0.1", ["--ratio", "-0.1"], "outside [0, 1)"),
        ("ratio abc", ["--ratio", "abc"], "not a number"),
        ("ratio missing", [], "--ratio is required"),
        ("block 0x4", ["--ratio", "0.5", "--block", "0x4"], "1 to 64"),
        ("block 65x1", ["--ratio", "0.5", "--block", "65x1"], "1 to 64"),
        ("block 3y4", ["--ratio", "0.5", "--block", "3y4"], "not RxC"),
        ("block empty", ["--ratio", "0.5", "--block", ""], "not RxC"),
        ("bcr 16x1", ["--ratio", "0.5", "--scheme", "bcr"], "R >= 2"),
        ("scheme csr", ["--ratio", "0.5", "--scheme", "csr"], "bsr or bcr"),
        ("pattern matching nothing",
         ["--ratio", "0.5", "--layer-ratio", "nosuchlayer=0.3"],
         "matches no candidate"),
        ("pattern matching only the pooler",
         ["--ratio", "0.5", "--layer-ratio", "pooler=0.3"], "only excluded"),
        ("bad regex", ["--ratio", "0.5", "--layer-ratio", "([=0.3"],
         "bad regex"),
        ("layer-ratio without =", ["--ratio", "0.5", "--layer-ratio", "x"],
         "PATTERN=FRACTION"),
        ("layer-ratio 1.5", ["--ratio", "0.5", "--layer-ratio", "query=1.5"],
         "outside [0, 1)"),
        ("unknown option", ["--ratio", "0.5", "--frobnicate"],
         "unknown option"),
    ]
    for name, extra, keyword in cases:
        expect_error(name, canaoc, [fixture, "-o", bad, *extra], bad, keyword)
    expect_error("missing -o", canaoc, [fixture, "--ratio", "0.5"], bad,
                 "no output")
    expect_error("missing model", canaoc,
                 [work / "no_such.onnx", "-o", bad, "--ratio", "0.5"], bad,
                 "cannot open")
    expect_error("no model", canaoc, ["-o", bad, "--ratio", "0.5"], bad,
                 "no model given")
    expect_error("output folder missing", canaoc,
                 [fixture, "-o", work / "no_dir" / "x.onnx", "--ratio", "0.5"],
                 work / "no_dir" / "x.onnx", "cannot write")
    same = work / "same.onnx"
    shutil.copy(fixture, same)
    before = same.read_bytes()
    expect_error("output is the input", canaoc,
                 [same, "-o", same, "--ratio", "0.5"], same, "is the input",
                 keep=True)
    report("output is the input: input untouched",
           same.read_bytes() == before)
    no_cands = work / "no_candidates.onnx"
    model = onnx.load(str(syn))
    del model.graph.node[:3]  # the only candidates, and what feeds the rest
    model.graph.input[0].name = "h3"
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 24
    onnx.save_model(model, str(no_cands))
    expect_error("no candidates", canaoc,
                 [no_cands, "-o", bad, "--ratio", "0.5"], bad,
                 "no prunable")

    passed = sum(results)
    failed = len(results) - passed
    print(f"# took {time.monotonic() - start:.2f} s", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
