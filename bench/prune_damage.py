#!/usr/bin/env python3
"""How much one-shot magnitude pruning (`canaoc prune`, no fine-tuning)
damages the real all-MiniLM-L6-v2 sentence embeddings.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/prune_damage.py
        [--variants 16x1:0.5,1x16:0.75,4x4:0.9:bsr,...] [--no-canao]
        [--canaoc build/compiler/canaoc] [--keep] [--no-docs]

1. Exports the real model (tests/models/minilm.py export --opset 14) to
   build/bench/damage/fixture, unless it is there already. Its inputs/ are
   the demo's 4 sentences (batch 4 x seq 128).
2. Tokenizes EVAL_PAIRS + EVAL_OTHERS below (52 sentences: 20 paraphrase
   pairs and 12 sentences that share a topic with a pair but not its
   meaning) with the model's bundled tokenizer, exactly as minilm.py does
   (minilm.tokenize), padded to the longest sentence.
3. For every variant BLOCK:RATIO[:SCHEME] (default: 16x1, 1x16, 4x4 and 1x1
   = unstructured, x ratios 0.5, 0.75, 0.9, all bsr) runs
   `canaoc prune model.onnx -o V.onnx --block BLOCK --ratio RATIO -q`, then
   the dense and the pruned model in ONNX Runtime on both sentence sets,
   mean-pools and L2-normalises (minilm.sentence_embeddings) and reports:
   - the encoder's density (nonzero fraction of the pruned matrices,
     counted in the pruned file);
   - demo set: mean / min cosine(dense, pruned) over the 4 sentences, the
     query's similarity to its paraphrase and to the unrelated sentence,
     and whether the paraphrase still ranks above the unrelated one (the
     check of `minilm.py demo`);
   - eval set: mean / min cosine(dense, pruned) over the 52 sentences; the
     fraction of the 40 pair members whose nearest neighbour among the 51
     other sentences is their partner (the dense model's own fraction is
     the baseline row); the Spearman correlation of all 1326 pairwise
     similarities with the dense model's.
4. Compiles one pruned file (1x16 at 0.75) with `canaoc --target host`,
   builds the CMake project (Ninja, Release), runs NAME_run on the demo
   inputs and checks its last_hidden_state against ONNX Runtime's on the
   same pruned file (max abs error <= 1e-4): the damage in the table is
   pruning's, not the compiler's.

Prints the markdown table and writes docs/prune-accuracy.md (unless
--no-docs) and build/bench/damage/results.json.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "models"
WORK = ROOT / "build" / "bench" / "damage"
DOC = ROOT / "docs" / "prune-accuracy.md"
sys.path.insert(0, str(MODELS))
import minilm  # noqa: E402  (SENTENCES, ROLES, tokenize, sentence_embeddings)

BLOCKS = ["1x1", "16x1", "1x16", "4x4"]
RATIOS = [0.5, 0.75, 0.9]
DEFAULT_VARIANTS = [f"{b}:{r}" for b in BLOCKS for r in RATIOS]
CANAO_VARIANT = "1x16:0.75"
CANAO_ATOL = 1e-4

# Paraphrase pairs: each sentence's nearest neighbour should be its partner.
EVAL_PAIRS = [
    ("The cat is sleeping on the sofa.",
     "A cat naps on the couch."),
    ("How can I reset my email password?",
     "What are the steps to change a forgotten email password?"),
    ("The train to Berlin was delayed by two hours.",
     "Our Berlin train arrived two hours late."),
    ("She plays the violin in the city orchestra.",
     "She is a violinist in the local symphony orchestra."),
    ("Drinking enough water is important for your health.",
     "Staying hydrated is good for the body."),
    ("The company reported record profits this quarter.",
     "The firm's quarterly earnings were the highest ever."),
    ("He fixed the leaking kitchen tap.",
     "He repaired the dripping faucet in the kitchen."),
    ("It is going to rain heavily tomorrow.",
     "Forecasters expect a lot of rain tomorrow."),
    ("The children built a sandcastle on the beach.",
     "The kids made a castle out of sand by the sea."),
    ("I need to renew my passport before the trip.",
     "My passport has to be renewed before I travel."),
    ("The museum opens at nine in the morning.",
     "The museum's doors open at 9 a.m."),
    ("Regular exercise lowers the risk of heart disease.",
     "Working out often reduces the chance of heart problems."),
    ("The new phone has a much better camera.",
     "The latest smartphone takes far better photos."),
    ("Please turn off the lights when you leave.",
     "Switch the lights off as you go out, please."),
    ("The football match ended in a draw.",
     "The soccer game finished with a tied score."),
    ("Scientists discovered a new species of frog in the rainforest.",
     "Researchers found a previously unknown frog in the jungle."),
    ("The restaurant was closed for renovations.",
     "The restaurant shut temporarily while it was being remodeled."),
    ("My laptop battery drains very quickly.",
     "The battery on my notebook computer runs out fast."),
    ("The bridge was built in the nineteenth century.",
     "The bridge dates from the 1800s."),
    ("He is learning to speak Japanese.",
     "He is studying the Japanese language."),
]
# Distractors: most share a topic (and words) with a pair, not its meaning.
EVAL_OTHERS = [
    "The dog barked at the mailman all morning.",
    "My email inbox is full of spam.",
    "The flight to Paris was cancelled because of a storm.",
    "The orchestra's concert hall is being renovated.",
    "The company plans to lay off two hundred workers.",
    "The kitchen walls were painted yellow.",
    "The museum has a large collection of ancient coins.",
    "This phone's screen cracked when I dropped it.",
    "Basketball is popular in many schools.",
    "Japanese cuisine uses a lot of rice and fish.",
    "Quantum computers use qubits instead of bits.",
    "The volcano erupted and covered the village in ash.",
]


def log(msg):
    print(f"prune_damage: {msg}", file=sys.stderr, flush=True)


def run(cmd, retry_start=False, **kw):
    """subprocess.run, capture_output, text; exits with the output on
    failure. retry_start: canaoc may be being relinked by someone else; if
    it cannot be started (missing, busy, killed by a signal, exit 126/127),
    wait a minute and try again, up to 5 times."""
    cmd = [str(c) for c in cmd]
    for attempt in range(6):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, **kw)
        except OSError as exc:  # ENOENT, ETXTBSY while it is relinked
            r = subprocess.CompletedProcess(cmd, 127, "", str(exc))
        start_failed = r.returncode in (126, 127) or r.returncode < 0
        if not (retry_start and start_failed) or attempt == 5:
            break
        log(f"{Path(cmd[0]).name} did not start ({r.returncode}: "
            f"{r.stderr.strip()[-200:]}); retrying in 60 s")
        time.sleep(60)
    if r.returncode:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit(f"prune_damage: failed ({r.returncode}): "
                         f"{shlex.join(cmd)}")
    return r.stdout


def export_fixture(fixture):
    if (fixture / "meta.json").is_file() and (fixture / "model.onnx").is_file():
        log(f"fixture {fixture.relative_to(ROOT)} exists, not re-exported")
        return
    shutil.rmtree(fixture, ignore_errors=True)
    t0 = time.time()
    run([sys.executable, MODELS / "minilm.py", "export", "--out", fixture,
         "--opset", "14"])
    log(f"exported {fixture.relative_to(ROOT)} ({time.time() - t0:.1f} s)")


def eval_inputs():
    """The eval set, tokenized as minilm.py does, padded to the longest."""
    from tokenizers import Tokenizer
    sentences = [s for pair in EVAL_PAIRS for s in pair] + EVAL_OTHERS
    path = minilm.model_dir() / "tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()  # tokenizer.json pads to 128 by itself
    seq = max(len(e.ids) for e in tok.encode_batch(sentences))
    partner = np.full(len(sentences), -1)
    for i in range(len(EVAL_PAIRS)):
        partner[2 * i], partner[2 * i + 1] = 2 * i + 1, 2 * i
    return sentences, minilm.tokenize(path, sentences, seq), partner


def session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so,
                                providers=["CPUExecutionProvider"])


def hidden_state(sess, inputs):
    names = {i.name for i in sess.get_inputs()}
    feed = {k: v for k, v in inputs.items() if k in names}
    return sess.run(["last_hidden_state"], feed)[0]


def rankdata(x):
    """Ranks 0..n-1, ties get their average rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(inv, ranks) / counts)[inv]


def spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float(ra @ rb / np.sqrt((ra @ ra) * (rb @ rb)))


def encoder_density(path):
    """Nonzero fraction of the encoder's MatMul/Gemm weights in the file."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(path))
    inits = {t.name: t for t in model.graph.initializer}
    nonzero = total = 0
    for node in model.graph.node:
        if (node.op_type in ("MatMul", "Gemm") and "/encoder/" in node.name
                and len(node.input) > 1 and node.input[1] in inits):
            w = numpy_helper.to_array(inits[node.input[1]])
            nonzero += int(np.count_nonzero(w))
            total += w.size
    return nonzero / total if total else float("nan")


def metrics(dense, pruned, demo_mask, ev_mask, partner):
    """dense/pruned: (demo hidden, eval hidden). See the module docstring."""
    d_demo = minilm.sentence_embeddings(dense[0], demo_mask)
    p_demo = minilm.sentence_embeddings(pruned[0], demo_mask)
    d_ev = minilm.sentence_embeddings(dense[1], ev_mask)
    p_ev = minilm.sentence_embeddings(pruned[1], ev_mask)
    cos_demo = np.sum(d_demo * p_demo, axis=1)
    cos_ev = np.sum(d_ev * p_ev, axis=1)
    sims = minilm.query_similarities(p_demo)
    roles = minilm.ROLES
    para, unrel = sims[roles["paraphrase"]], sims[roles["unrelated"]]

    def nn_partner(emb):
        s = emb @ emb.T
        np.fill_diagonal(s, -np.inf)
        members = partner >= 0
        return float(np.mean(np.argmax(s, axis=1)[members] == partner[members]))

    iu = np.triu_indices(len(d_ev), 1)
    return {
        "demo_cos_mean": float(cos_demo.mean()),
        "demo_cos_min": float(cos_demo.min()),
        "demo_sim_paraphrase": para, "demo_sim_unrelated": unrel,
        "demo_ranking_ok": bool(para > unrel),
        "eval_cos_mean": float(cos_ev.mean()),
        "eval_cos_min": float(cos_ev.min()),
        "eval_nn_partner": nn_partner(p_ev),
        "eval_spearman": spearman((d_ev @ d_ev.T)[iu], (p_ev @ p_ev.T)[iu]),
    }


def parse_variant(spec):
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise SystemExit(f"prune_damage: bad variant '{spec}' "
                         "(BLOCK:RATIO[:bsr|bcr])")
    scheme = parts[2] if len(parts) == 3 else "bsr"
    return {"spec": spec, "block": parts[0], "ratio": float(parts[1]),
            "scheme": scheme,
            "file": f"{scheme}_{parts[0]}_{float(parts[1]):g}.onnx"}


def label(v):
    if v is None:
        return "none (dense)"
    kind = " (unstructured)" if v["block"] == "1x1" else ""
    return f"`{v['scheme']} {v['block']}`{kind}, ratio {v['ratio']:g}"


def prune(a, fixture, v):
    out = WORK / "pruned" / v["file"]
    out.parent.mkdir(parents=True, exist_ok=True)
    run([a.canaoc, "prune", fixture / "model.onnx", "-o", out, "--block",
         v["block"], "--ratio", v["ratio"], "--scheme", v["scheme"], "-q"],
        retry_start=True)
    return out


def float64_reference(pruned_path, inputs):
    """last_hidden_state of the PyTorch mirror (tests/models/bert_mirror.py)
    in float64, with the pruned file's encoder weights: the exact answer
    both ORT and canao approximate in float32."""
    import onnx
    import torch
    from onnx import numpy_helper
    from bert_mirror import BertConfig, BertModel, load_safetensors
    src = minilm.model_dir()
    model = BertModel(BertConfig.from_hf_dict(
        json.loads((src / "config.json").read_text())))
    load_safetensors(model, src / "model.safetensors")
    model.eval()
    mods = dict(model.named_modules())
    pruned = onnx.load(str(pruned_path))
    inits = {t.name: t for t in pruned.graph.initializer}
    replaced = 0
    for node in pruned.graph.node:
        if (node.op_type == "MatMul" and "/encoder/" in node.name
                and node.input[1] in inits):
            # /encoder/layer.0/attention/self/query/MatMul -> module path
            mod = mods[node.name.strip("/").rsplit("/", 1)[0]
                       .replace("/", ".")]
            w = numpy_helper.to_array(inits[node.input[1]])  # [K, N]
            mod.weight.data = torch.from_numpy(np.ascontiguousarray(w.T))
            replaced += 1
    if replaced != 36:
        raise SystemExit(f"prune_damage: float64 reference: replaced "
                         f"{replaced} encoder weights, expected 36")
    model = model.double()
    with torch.no_grad():
        out = model(*(torch.from_numpy(inputs[n]) for n in
                      ("input_ids", "attention_mask", "token_type_ids")))
    return (out[0] if isinstance(out, (tuple, list)) else out).numpy()


def canao_check(a, fixture, meta, v, pruned_path):
    """Compile, build and run the pruned model; max abs error vs ORT (and
    both vs the float64 reference), over all positions and over the real
    (unpadded) tokens, the only ones the mean pooling reads."""
    gen = WORK / "canao"
    out, bdir, res = gen / "out", gen / "build", gen / "result"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(res, ignore_errors=True)
    res.mkdir(parents=True)
    cmd = [a.canaoc, pruned_path, "-o", out, "--name", "minilm_pruned",
           "--target", "host", "-q", "--report=json"]
    for s in meta["shape_args"]:
        cmd += ["--shape", s]
    t0 = time.time()
    rep = json.loads(run(cmd, retry_start=True))
    t_compile = time.time() - t0
    t0 = time.time()
    run(["cmake", "-S", out, "-B", bdir, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release"])
    run(["ninja", "-C", bdir, "-j", "2"])
    t_build = time.time() - t0
    flags = []
    for name in meta["inputs"]:
        flags += ["--input", f"{name}={fixture / 'inputs' / (name + '.npy')}"]
    run([bdir / "minilm_pruned_run", *flags, "--output-dir", res])
    # The same file on canao's dense kernels: the sparse ones must agree.
    dout, dbuild, dres = gen / "dense_out", gen / "dense_build", gen / "dense_result"
    shutil.rmtree(dout, ignore_errors=True)
    shutil.rmtree(dres, ignore_errors=True)
    dres.mkdir(parents=True)
    run(cmd[:3] + [dout] + [c for c in cmd[4:] if c != "--report=json"]
        + ["--dense"], retry_start=True)
    run(["cmake", "-S", dout, "-B", dbuild, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release"])
    run(["ninja", "-C", dbuild, "-j", "2"])
    run([dbuild / "minilm_pruned_run", *flags, "--output-dir", dres])
    sparse_vs_dense = float(np.max(np.abs(
        np.load(res / "last_hidden_state.npy").astype(np.float64)
        - np.load(dres / "last_hidden_state.npy"))))
    inputs = {n: np.load(fixture / "inputs" / f"{n}.npy")
              for n in meta["inputs"]}
    ref = hidden_state(session(pruned_path), inputs).astype(np.float64)
    got = np.load(res / "last_hidden_state.npy").astype(np.float64)
    if got.shape != ref.shape:
        raise SystemExit(f"prune_damage: canao output {got.shape} vs ORT "
                         f"{ref.shape}")
    exact = float64_reference(pruned_path, inputs)
    mask = inputs["attention_mask"]
    real = mask.astype(bool)

    def err(x, y):
        d = np.abs(x - y)
        return float(d.max()), float(d[real].max()), float(d[~real].max())

    cos = np.sum(minilm.sentence_embeddings(got, mask)
                 * minilm.sentence_embeddings(ref, mask), axis=1)
    enc = [m for m in rep.get("matrices", []) if "/encoder/" in m["name"]]
    formats = sorted({m["format"] if m["format"] == "dense"
                      else f"{m['format']} {m['block']}" for m in enc})
    e_all, e_real, e_pad = err(got, ref)
    return {"variant": v["spec"], "atol": CANAO_ATOL,
            "max_abs_err": e_all, "max_abs_err_real": e_real,
            "max_abs_err_pad": e_pad,
            "ok_all": e_all <= CANAO_ATOL, "ok_real": e_real <= CANAO_ATOL,
            "canao_vs_f64": err(got, exact), "ort_vs_f64": err(ref, exact),
            "min_cos_vs_ort": float(cos.min()),
            "sparse_vs_dense_kernels": sparse_vs_dense,
            "encoder_formats": formats, "encoder_matrices": len(enc),
            "work_flops_fraction": rep["work_flops"] / max(rep["flops"], 1),
            "compile_s": t_compile, "build_s": t_build}


def fmt_row(lbl, density, m):
    margin = m["demo_sim_paraphrase"] - m["demo_sim_unrelated"]
    first = "yes" if m["demo_ranking_ok"] else "**no**"
    return (f"| {lbl} | {density:.3f} | {m['demo_cos_mean']:.3f} / "
            f"{m['demo_cos_min']:.3f} | {m['demo_sim_paraphrase']:+.3f} / "
            f"{m['demo_sim_unrelated']:+.3f} | {first} ({margin:+.3f}) | "
            f"{m['eval_cos_mean']:.3f} / {m['eval_cos_min']:.3f} | "
            f"{m['eval_nn_partner']:.2f} | {m['eval_spearman']:.3f} |")


HEADER = ("| pruning (no fine-tuning) | encoder density | demo: cos(dense, "
          "pruned) mean / min | demo: query vs paraphrase / vs unrelated | "
          "demo: paraphrase first (margin) | eval: cos(dense, pruned) "
          "mean / min | eval: nearest neighbour = paraphrase | eval: "
          "Spearman vs dense |\n|---|---|---|---|---|---|---|---|")


def table(rows):
    return "\n".join([HEADER] + [fmt_row(*r) for r in rows])


def canao_table(c):
    block, ratio = c["variant"].split(":")
    head = (f"`bsr {block}`, ratio {float(ratio):g}: encoder weights run as "
            f"{', '.join(c['encoder_formats'])} ({c['encoder_matrices']} "
            f"matrices after Q/K/V merging), {c['work_flops_fraction']:.3f} "
            "of the FLOPs kept; min cosine(canao, ORT) of the 4 sentence "
            f"embeddings {c['min_cos_vs_ort']:.7f}.\n\n")
    rows = [("canao vs ONNX Runtime", (c["max_abs_err"],
             c["max_abs_err_real"], c["max_abs_err_pad"])),
            ("canao vs float64 PyTorch", c["canao_vs_f64"]),
            ("ONNX Runtime vs float64 PyTorch", c["ort_vs_f64"])]
    lines = ["| last_hidden_state, max abs error | all positions | real "
             "tokens (pooled) | padding positions |", "|---|---|---|---|"]
    lines += [f"| {n} | {e[0]:.2e} | {e[1]:.2e} | {e[2]:.2e} |"
              for n, e in rows]
    return head + "\n".join(lines)


def summary_lines(rows):
    """Sentences computed from the table, so they stay true on a rerun."""
    dense = rows[0][2]
    out = []
    margin = lambda m: m["demo_sim_paraphrase"] - m["demo_sim_unrelated"]  # noqa
    lost = [r[0] for r in rows[1:] if not r[2]["demo_ranking_ok"]]
    smallest = min(rows[1:], key=lambda r: margin(r[2]))
    out.append(
        "- The demo's own check (paraphrase above unrelated) is weak: it "
        + (f"fails for {', '.join(lost)}" if lost else "passes for every "
           "variant") + ", but the margin falls from "
        f"{margin(dense):+.3f} (dense) to as little as "
        f"{margin(smallest[2]):+.3f} ({smallest[0]}): all similarities rise "
        "together as the embeddings collapse towards a common direction.")
    for ratio in RATIOS:
        rs = [r for r in rows[1:] if r[0].endswith(f"ratio {ratio:g}")]
        if not rs:
            continue
        rs.sort(key=lambda r: -r[2]["eval_spearman"])
        out.append(
            f"- Ratio {ratio:g}, Spearman vs dense / mean cosine to the "
            "dense embedding (eval set): " + ", ".join(
                f"{r[0].split('`')[1].split()[1]} {r[2]['eval_spearman']:.3f}"
                f" / {r[2]['eval_cos_mean']:.3f}" for r in rs) + ".")
    best = [max((r for r in rows[1:] if r[0].endswith(f"ratio {x:g}")),
                key=lambda r: r[2]["eval_spearman"], default=None)
            for x in RATIOS]
    if all(b is not None and "1x1" in b[0] for b in best):
        out.append(
            "- Unstructured pruning damages least at a given density; blocks "
            "constrain which weights can go, so they remove more of the "
            "important ones (compare any block row with the `1x1` row of "
            "the same ratio).")
    out.append(
        f"- Nearest-neighbour retrieval of the paraphrase is the coarsest "
        f"measure (the dense model scores {dense['eval_nn_partner']:.2f} on "
        "this small set, whose pairs are easy to tell apart, so damaged "
        "embeddings often still keep them closest); the cosine to the "
        "dense embedding and the Spearman correlation show the damage long "
        "before retrieval fails.")
    return out


def write_doc(a, rows, canao, n_eval, seq_eval, elapsed):
    dense_nn = rows[0][2]["eval_nn_partner"]
    c = canao
    lines = [
        "# Accuracy of one-shot magnitude pruning (all-MiniLM-L6-v2)",
        "",
        "How much `canaoc prune` (block magnitude pruning, **no "
        "fine-tuning**) changes the real all-MiniLM-L6-v2 sentence "
        "embeddings, and whether canao runs the pruned weights it is "
        "given exactly. Generated by:",
        "",
        "```sh",
        "HF_HUB_OFFLINE=1 .venv/bin/python bench/prune_damage.py",
        "```",
        "",
        f"(about {elapsed:.0f} s on a {os.cpu_count()}-core machine, "
        f"{datetime.date.today().isoformat()}; the script's docstring "
        "defines every column.)",
        "",
        "## Summary",
        "",
        "**One-shot magnitude pruning without fine-tuning costs a lot of "
        "accuracy.** That is expected, and not a canao defect: oBERT "
        "(Kurtic et al., 2022) reports SQuAD v1.1 F1 falling from 88.5 to "
        "57.5 for BERT-base pruned one-shot to 80% sparsity, with no "
        "fine-tuning. Real use fine-tunes after pruning, or prunes "
        "gradually while fine-tuning: the CANAO and GRIM papers retrain "
        "their block-pruned BERTs, and movement pruning (Sanh et al., "
        "2020) and oBERT prune during training. `canaoc prune` gives the "
        "sparsity pattern and a starting point for that training, or a "
        "file to measure kernels with; it does not produce a usable model "
        "by itself.",
        "",
        "canao's job is to run whatever pruned weights it is given "
        "exactly. On the `" + (c["variant"] if c else "?") + "` file, "
        "canao's sentence embeddings match ONNX Runtime's on the same file "
        + (f"to a cosine of {c['min_cos_vs_ort']:.7f}, and its "
           f"last_hidden_state to {c['max_abs_err_real']:.1e} (max abs) on "
           f"the real tokens, {c['max_abs_err']:.1e} over all positions "
           "(see [below](#canao-runs-the-pruned-weights) for the padding "
           "positions)" if c else "(not run)")
        + ": the losses in the table are the pruning's, not the "
        "compiler's.",
        "",
        *summary_lines(rows),
        "",
        "## Setup",
        "",
        "- Model: the pretrained all-MiniLM-L6-v2 (6 layers, hidden 384, FFN "
        "1536), exported by `tests/models/minilm.py export --opset 14`.",
        "- Pruning: `canaoc prune model.onnx -o PRUNED.onnx --block B "
        "--ratio R` (`bsr`: whole blocks of smallest L2 norm, laid on the "
        "`[K, N] = [in, out]` MatMul weight; `1x1` is unstructured "
        "magnitude pruning). All 36 encoder matrices are pruned; "
        "embeddings, LayerNorms and biases are not (`docs/prune.md`). "
        "*Encoder density* is the nonzero fraction of those matrices, "
        "counted in the pruned file.",
        "- Both models run in ONNX Runtime; sentence embeddings follow the "
        "model's recipe: mean pooling over the real tokens, then L2 "
        "normalisation.",
        "- *demo*: the 4 sentences of `minilm.py` (a query, its paraphrase, "
        "an unrelated sentence, a related one; batch 4 x seq 128). "
        "*Paraphrase first*: the query is still closer to its paraphrase "
        "than to the unrelated sentence (the check `minilm.py demo` "
        "makes); the margin is the difference of the two similarities.",
        f"- *eval*: {n_eval} sentences written in the script: "
        f"{len(EVAL_PAIRS)} paraphrase pairs and {len(EVAL_OTHERS)} "
        "distractors, most sharing a topic with a pair but not its meaning "
        f"(padded to {seq_eval} tokens). *Nearest neighbour = paraphrase*: "
        f"the fraction of the {2 * len(EVAL_PAIRS)} pair members whose most "
        f"similar sentence among the other {n_eval - 1} is their partner "
        f"(the dense row, {dense_nn:.2f}, is the baseline). *Spearman*: "
        f"rank correlation of all {n_eval * (n_eval - 1) // 2} pairwise "
        "similarities with the dense model's.",
        "",
        "## Damage",
        "",
        table(rows),
        "",
    ]
    if c:
        lines += [
            "## canao runs the pruned weights",
            "",
            f"`canaoc PRUNED.onnx --target host` on the `{c['variant']}` "
            "file, built with CMake + Ninja (Release) and run with "
            "`minilm_pruned_run --input ... --output-dir ...` on the demo "
            "inputs, against ONNX Runtime on the same pruned file and "
            "against the float64 PyTorch mirror (`tests/models/"
            "bert_mirror.py`) with the pruned weights, the exact answer "
            "both approximate:",
            "",
            canao_table(c),
            "",
            "The real tokens, the only ones the mean pooling reads, agree "
            f"to {c['max_abs_err_real']:.1e}, far inside the 1e-4 bound of "
            "the end-to-end tests (which apply it to all positions). The "
            "padding positions (their outputs "
            "are computed but masked out of every embedding) are more "
            "sensitive to rounding in the pruned model, and there canao's "
            f"float32 error against float64 ({c['canao_vs_f64'][2]:.1e}) is "
            f"larger than ONNX Runtime's ({c['ort_vs_f64'][2]:.1e})"
            + ("; over all positions canao vs ORT is therefore "
               f"{c['max_abs_err']:.2e}, above 1e-4" if not c["ok_all"] else
               f"; over all positions canao vs ORT is {c['max_abs_err']:.2e}")
            + ". Compiled with `--dense` (canao's dense kernels on the same "
            "weights) the file gives "
            + ("bit-identical outputs, so the sparse kernels add no error "
               "of their own." if c["sparse_vs_dense_kernels"] == 0 else
               f"outputs within {c['sparse_vs_dense_kernels']:.1e} of the "
               "sparse kernels'."),
            "",
        ]
    DOC.write_text("\n".join(lines))
    log(f"wrote {DOC.relative_to(ROOT)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--canaoc", default=str(ROOT / "build" / "compiler" /
                                           "canaoc"))
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help="comma-separated BLOCK:RATIO[:bsr|bcr]")
    p.add_argument("--no-canao", action="store_true",
                   help=f"skip the compile/build/run check of {CANAO_VARIANT}")
    p.add_argument("--keep", action="store_true",
                   help="keep every pruned file under build/bench/damage/"
                        "pruned (default: only the compiled one)")
    p.add_argument("--no-docs", action="store_true",
                   help=f"do not write {DOC.relative_to(ROOT)}")
    a = p.parse_args(argv)
    start = time.time()
    variants = [parse_variant(s) for s in a.variants.split(",") if s]
    if not a.no_docs and (a.no_canao or a.variants != p.get_default(
            "variants")):
        log("non-default run: not writing the docs (use the defaults)")
        a.no_docs = True

    fixture = WORK / "fixture"
    export_fixture(fixture)
    meta = json.loads((fixture / "meta.json").read_text())
    demo = {n: np.load(fixture / "inputs" / f"{n}.npy") for n in meta["inputs"]}
    sentences, ev, partner = eval_inputs()
    log(f"eval set: {len(sentences)} sentences, {len(EVAL_PAIRS)} pairs, "
        f"padded to {ev['input_ids'].shape[1]} tokens")

    dense_sess = session(fixture / "model.onnx")
    dense = (hidden_state(dense_sess, demo), hidden_state(dense_sess, ev))
    del dense_sess
    args = (demo["attention_mask"], ev["attention_mask"], partner)
    rows = [("none (dense)", encoder_density(fixture / "model.onnx"),
             metrics(dense, dense, *args))]
    pruned_paths = {}
    for v in variants:
        t0 = time.time()
        path = prune(a, fixture, v)
        pruned_paths[v["spec"]] = path
        sess = session(path)
        pr = (hidden_state(sess, demo), hidden_state(sess, ev))
        del sess
        m = metrics(dense, pr, *args)
        rows.append((label(v), encoder_density(path), m))
        if not a.keep and v["spec"] != CANAO_VARIANT:
            path.unlink()  # 90 MB each; only the compiled one is kept
            del pruned_paths[v["spec"]]
        log(f"{v['spec']}: density {rows[-1][1]:.3f}, demo cos "
            f"{m['demo_cos_mean']:.3f}, NN {m['eval_nn_partner']:.2f}, "
            f"Spearman {m['eval_spearman']:.3f} ({time.time() - t0:.1f} s)")

    canao = None
    if not a.no_canao:
        v = parse_variant(CANAO_VARIANT)
        path = pruned_paths.get(v["spec"]) or prune(a, fixture, v)
        canao = canao_check(a, fixture, meta, v, path)
        log(f"canao vs ORT on {v['spec']}: max abs err "
            f"{canao['max_abs_err_real']:.2e} on real tokens, "
            f"{canao['max_abs_err']:.2e} over all positions (compile "
            f"{canao['compile_s']:.1f} s, build {canao['build_s']:.1f} s)")

    elapsed = time.time() - start
    print(table(rows))
    if canao:
        print()
        print(canao_table(canao))
    (WORK / "results.json").write_text(json.dumps({
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "eval_sentences": sentences,
        "rows": [{"label": r[0], "density": r[1], **r[2]} for r in rows],
        "canao": canao, "seconds": elapsed}, indent=2) + "\n")
    if not a.no_docs:
        write_doc(a, rows, canao, len(sentences), ev["input_ids"].shape[1],
                  elapsed)
    log(f"done in {elapsed:.1f} s")
    if canao and not canao["ok_all"]:
        log(f"note: canao vs ORT over all positions "
            f"{canao['max_abs_err']:.2e} > {CANAO_ATOL:g} (padding "
            f"positions only; real tokens {canao['max_abs_err_real']:.2e})")
    if canao and not canao["ok_real"]:
        log(f"FAIL: canao vs ORT on the real tokens "
            f"{canao['max_abs_err_real']:.2e} > {CANAO_ATOL:g}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
