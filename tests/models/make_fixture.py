#!/usr/bin/env python3
"""Generate a BERT-family test fixture for canao: ONNX model, inputs, refs.

Run with the venv python made by scripts/setup-python.sh::

    VENV/bin/python tests/models/make_fixture.py --out build/fx/tiny \
        [--arch bert|roberta|electra|mpnet|mobilebert] \
        [--layers 2] [--hidden 64] [--heads 2] [--ffn 256] [--vocab 1000] \
        [--max-pos 512] [--opset 14] [--batch 1] [--seq 128] [--pad 0] \
        [--head none|cls] [--gelu erf|tanh] [--seed 0] [--no-ort] \
        [--embedding-size N] [--bottleneck N]

--arch picks the model (default bert: bert_mirror.BertModel); the others are
the HF mirrors in <arch>_mirror.py, each with its own inputs (roberta and
mpnet have no token_type_ids), outputs (electra: last_hidden_state only) and
size defaults (mobilebert: hidden 128, heads 4, ffn 128, embedding 64,
bottleneck 32; electra: embedding hidden/2).  --head cls and --mask3d are
BERT only.

Layout of DIR (all .npy are plain numpy arrays)::

    model.onnx                 dynamic batch/sequence axes
    inputs/<input>.npy         int64 [batch, seq]: the arch's inputs
    ref_torch/<output>.npy     float32, PyTorch eager (the primary oracle)
    ref_ort/<output>.npy       float32, ONNX Runtime CPU (unless --no-ort)
    meta.json                  inputs, outputs, shape_args, config, op counts
                               (config["arch"] is absent for bert)

The helpers here (export_onnx, run_ort, write_fixture, ...) are reused by
minilm.py.  Everything is deterministic given --seed.
"""

import argparse
import collections
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_mirror import (BertConfig, BertForSequenceClassification,  # noqa
                         BertModel, init_hashed_weights,
                         init_random_weights)
import electra_mirror  # noqa: E402
import mobilebert_mirror  # noqa: E402
import mpnet_mirror  # noqa: E402
import roberta_mirror  # noqa: E402

INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
BASE_OUTPUTS = ["last_hidden_state", "pooler_output"]
CLS_OUTPUTS = ["logits"]
# torch and ORT must agree this closely or the export itself is suspect.
EXPORT_TOL = 1e-4
# --arch -> mirror module (build(args), INPUT_NAMES, OUTPUT_NAMES,
# INPUT_SPECIALS for make_inputs, DEFAULTS for the size options).
ARCHES = {"bert": None, "roberta": roberta_mirror, "electra": electra_mirror,
          "mpnet": mpnet_mirror, "mobilebert": mobilebert_mirror}
SIZE_DEFAULTS = {"hidden": 64, "heads": 2, "ffn": 256, "embedding_size": None,
                 "bottleneck": None}


def export_onnx(model, path, opset, output_names, vocab_size, max_pos,
                mask3d=False, input_names=INPUT_NAMES):
    """torch.onnx.export ``model`` with dynamic batch and sequence axes.

    The trace uses a (2, 16) dummy so no dimension is specialised to 1; the
    fixture's real shape is only fed at run time.  ``input_names`` are the
    model's positional arguments, in order.
    """
    seq = min(16, max_pos)
    gen = torch.Generator().manual_seed(1234)
    all_dummies = {
        "input_ids": torch.randint(0, vocab_size, (2, seq), generator=gen),
        "attention_mask": torch.ones(*((2, seq, seq) if mask3d else (2, seq)),
                                     dtype=torch.int64),
        "token_type_ids": torch.zeros(2, seq, dtype=torch.int64)}
    dummy = tuple(all_dummies[n] for n in input_names)
    axes = {n: {0: "batch", 1: "sequence"} for n in input_names}
    if mask3d:
        axes["attention_mask"] = {0: "batch", 1: "sequence", 2: "sequence"}
    for name in output_names:
        axes[name] = ({0: "batch"} if name != "last_hidden_state"
                      else {0: "batch", 1: "sequence"})
    with torch.no_grad():
        torch.onnx.export(model, dummy, str(path), export_params=True,
                          do_constant_folding=True, opset_version=opset,
                          input_names=list(input_names),
                          output_names=output_names,
                          dynamic_axes=axes)


def onnx_op_counts(path):
    """{op_type: count} over the main graph of the ONNX file at ``path``."""
    import onnx
    model = onnx.load(str(path), load_external_data=False)
    counts = collections.Counter(n.op_type for n in model.graph.node)
    return dict(sorted(counts.items()))


def run_torch(model, inputs, output_names, input_names=INPUT_NAMES):
    """Eager PyTorch outputs as float32 numpy arrays, keyed by name."""
    with torch.no_grad():
        outs = model(*(torch.from_numpy(inputs[n]) for n in input_names))
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    return {n: o.numpy().astype(np.float32)
            for n, o in zip(output_names, outs)}


def run_ort(path, inputs, output_names, input_names=INPUT_NAMES):
    """ONNX Runtime CPU outputs (all graph optimisations enabled)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), opts,
                                providers=["CPUExecutionProvider"])
    outs = sess.run(output_names, {n: inputs[n] for n in input_names})
    return dict(zip(output_names, outs))


def make_inputs(batch, seq, vocab, pad, seed, mask3d=False, cls_id=1,
                pad_id=None):
    """Random int64 inputs.

    Row ``b`` has its last ``pad + b`` positions masked (0 in the mask, pad id
    0 in input_ids) when ``pad > 0``, always keeping >= 1 real token; the
    first token is ``cls_id`` (1: a CLS stand-in).  With ``pad_id`` (RoBERTa
    vocabularies: <pad> = 1, <s> = cls_id 0) the padded positions hold
    ``pad_id`` and no real token is ``pad_id``, as from a real tokenizer.
    token_type_ids: 0 for the first half of the sequence, 1 for the second.
    With ``mask3d`` the mask is [batch, seq, seq]: causal, with the same
    padding.
    """
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, vocab, size=(batch, seq)).astype(np.int64)
    if pad_id is not None:
        ids[ids == pad_id] = (pad_id + 1) % vocab
    ids[:, 0] = min(cls_id, vocab - 1)
    mask = np.ones((batch, seq), dtype=np.int64)
    for b in range(batch):
        n_pad = min(pad + b, seq - 1) if pad > 0 else 0
        if n_pad:
            mask[b, seq - n_pad:] = 0
            ids[b, seq - n_pad:] = 0 if pad_id is None else pad_id
    types = np.zeros((batch, seq), dtype=np.int64)
    types[:, seq // 2:] = 1
    if mask3d:
        # One row of keys per query: causal, and the padding masked too.
        mask = np.tril(np.ones((seq, seq), dtype=np.int64))[None] * mask[:, None]
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _save_dir(directory, arrays):
    directory.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        np.save(directory / f"{name}.npy", arr)


def max_abs_diff(a, b):
    """Largest |a[k] - b[k]| over the shared keys of two output dicts."""
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k])))
               for k in a)


def write_fixture(out, model, inputs, output_names, config, use_ort=True,
                  input_names=INPUT_NAMES):
    """Export ``model`` and write inputs, references and meta.json to ``out``.

    ``input_names`` (the model's arguments, in order) pick what of ``inputs``
    is saved, exported and fed.

    Returns (torch-vs-ORT max abs diff or None, op counts).  Raises
    RuntimeError if ORT disagrees with PyTorch by more than EXPORT_TOL.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("inputs", "ref_torch", "ref_ort"):  # e.g. after --no-ort
        shutil.rmtree(out / stale, ignore_errors=True)
    model.eval()
    onnx_path = out / "model.onnx"
    export_onnx(model, onnx_path, config["opset"], output_names,
                config["vocab_size"], config["max_position_embeddings"],
                mask3d=config.get("mask3d", False), input_names=input_names)
    ops = onnx_op_counts(onnx_path)

    inputs = {n: inputs[n] for n in input_names}
    _save_dir(out / "inputs", inputs)
    ref = run_torch(model, inputs, output_names, input_names)
    _save_dir(out / "ref_torch", ref)

    diff = None
    if use_ort:
        ort_out = run_ort(onnx_path, inputs, output_names, input_names)
        _save_dir(out / "ref_ort", ort_out)
        diff = max_abs_diff(ort_out, ref)
        if diff > EXPORT_TOL:
            raise RuntimeError(f"torch vs ORT max abs diff {diff:.3g} > "
                               f"{EXPORT_TOL}: export looks wrong")

    meta = {
        "inputs": {n: list(inputs[n].shape) for n in input_names},
        "outputs": list(output_names),
        "shape_args": ["{}={}".format(n, "x".join(map(str, inputs[n].shape)))
                       for n in input_names],
        "config": config,
        "torch_vs_ort_max_abs": diff,
        "onnx_op_counts": ops,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return diff, ops


def prune_encoder(model, spec, seed):
    """Zeros RxC blocks of the encoder's Linear weights in place (`spec` is
    BLOCK:RATIO[:random]). The block is laid on the ONNX MatMul operand
    [K, N] = [in, out], the transpose of nn.Linear.weight [N, K]. Blocks go
    by smallest L2 norm; `random` zeros random single weights instead
    (unstructured), so no block is empty. Returns the zero fraction."""
    parts = spec.split(":")
    (r, c), ratio = map(int, parts[0].split("x")), float(parts[1])
    unstructured = len(parts) > 2 and parts[2] == "random"
    gen = torch.Generator().manual_seed(seed + 7)
    zeros = total = 0
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear) or ".layer." not in name + ".":
            continue
        with torch.no_grad():
            w = mod.weight.data.t()  # [K, N], a view
            K, N = w.shape
            if unstructured:
                keep = torch.rand(K, N, generator=gen) >= ratio
                w.mul_(keep.to(w.dtype))
            else:
                norms = (w.reshape(K // r, r, N // c, c) ** 2).sum((1, 3))
                drop = int(round(ratio * norms.numel()))
                order = torch.argsort(norms.flatten(), stable=True)[:drop]
                mask = torch.ones(norms.numel())
                mask[order] = 0
                mask = mask.reshape(K // r, 1, N // c, 1).expand(
                    K // r, r, N // c, c).reshape(K, N)
                w.mul_(mask)
            zeros += int((w == 0).sum())
            total += w.numel()
    return zeros / max(total, 1)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="fixture directory")
    p.add_argument("--arch", choices=list(ARCHES), default="bert")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, help="default 64 (mobilebert 128)")
    p.add_argument("--heads", type=int, help="default 2 (mobilebert 4)")
    p.add_argument("--ffn", type=int, help="default 256 (mobilebert 128)")
    p.add_argument("--embedding-size", type=int,
                   help="electra (default hidden/2), mobilebert (default 64)")
    p.add_argument("--bottleneck", type=int,
                   help="mobilebert intra_bottleneck_size (default 32)")
    p.add_argument("--vocab", type=int, default=1000)
    p.add_argument("--max-pos", type=int, default=512)
    p.add_argument("--opset", type=int, default=14)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--pad", type=int, default=0,
                   help="masked trailing positions in row 0 (row b: pad+b)")
    p.add_argument("--head", choices=["none", "cls"], default="none",
                   help="cls: BertForSequenceClassification -> logits")
    p.add_argument("--num-labels", type=int, default=2)
    p.add_argument("--gelu", choices=["erf", "tanh"], default="erf")
    p.add_argument("--mask3d", action="store_true",
                   help="attention_mask is [batch, seq, seq] (causal + pad)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", choices=["random", "hashed"], default="random",
                   help="hashed: every value an exact function of its index, "
                   "the same bits on any machine (golden copies)")
    p.add_argument("--prune", default="",
                   help="BLOCK:RATIO[:random], e.g. 16x1:0.75: zero blocks "
                        "of the encoder's Linear weights before export")
    p.add_argument("--no-ort", action="store_true",
                   help="skip the ONNX Runtime reference")
    args = p.parse_args(argv)
    mirror = ARCHES[args.arch]
    for key, value in dict(SIZE_DEFAULTS,
                           **(mirror.DEFAULTS if mirror else {})).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.seq > args.max_pos:
        p.error("--seq must be <= --max-pos")
    if args.arch == "mobilebert":
        if args.bottleneck % args.heads:
            p.error("--bottleneck must be a multiple of --heads")
    elif args.hidden % args.heads:
        p.error("--hidden must be a multiple of --heads")
    if args.arch != "bert" and (args.head != "none" or args.mask3d):
        p.error("--head cls and --mask3d are for --arch bert only")
    if args.batch < 1 or args.seq < 1 or args.pad < 0:
        p.error("--batch and --seq must be >= 1, --pad >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    torch.manual_seed(args.seed)
    mirror = ARCHES[args.arch]
    if mirror is not None:
        model = mirror.build(args)
        cfg, outputs = model.config, mirror.OUTPUT_NAMES
        input_names, specials = mirror.INPUT_NAMES, mirror.INPUT_SPECIALS
    else:
        model, cfg, outputs = bert_model(args)
        input_names, specials = INPUT_NAMES, {}
    if args.weights == "hashed":
        init_hashed_weights(model, seed=args.seed)
    else:
        init_random_weights(model, seed=args.seed)
    if args.prune:
        zero = prune_encoder(model, args.prune, args.seed)
        print(f"canao: pruned the encoder's Linear weights ({args.prune}): "
              f"{zero:.1%} zeros")

    inputs = make_inputs(args.batch, args.seq, args.vocab, args.pad,
                         args.seed, args.mask3d, **specials)
    config = dict(cfg.to_dict(), opset=args.opset, head=args.head,
                  gelu=args.gelu, seed=args.seed, batch=args.batch,
                  seq=args.seq, pad=args.pad, weights=args.weights,
                  mask3d=args.mask3d, prune=args.prune)
    if mirror is not None:
        config["arch"] = args.arch
    try:
        diff, ops = write_fixture(args.out, model, inputs, outputs, config,
                                  use_ort=not args.no_ort,
                                  input_names=input_names)
    except RuntimeError as exc:
        print(f"canao: make_fixture: FAILED: {exc}", file=sys.stderr)
        return 1

    size_mb = os.path.getsize(Path(args.out) / "model.onnx") / 2**20
    ort_txt = "skipped" if diff is None else f"{diff:.2e}"
    arch = "" if mirror is None else f" arch={args.arch}"
    print(f"canao: fixture {args.out}:{arch} L{args.layers} H{args.hidden} "
          f"A{args.heads} F{args.ffn} V{args.vocab} opset{args.opset} "
          f"{args.batch}x{args.seq} pad{args.pad} head={args.head} "
          f"gelu={args.gelu} model={size_mb:.1f}MB nodes={sum(ops.values())} "
          f"torch-vs-ort={ort_txt} ({time.time() - start:.1f}s)")
    return 0


def bert_model(args):
    """-> (model, config, output names) for --arch bert."""
    cfg = BertConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                     num_hidden_layers=args.layers,
                     num_attention_heads=args.heads,
                     intermediate_size=args.ffn,
                     max_position_embeddings=args.max_pos,
                     hidden_act="gelu" if args.gelu == "erf" else "gelu_new",
                     num_labels=args.num_labels)
    if args.head == "cls":
        return BertForSequenceClassification(cfg), cfg, CLS_OUTPUTS
    return BertModel(cfg), cfg, BASE_OUTPUTS


if __name__ == "__main__":
    sys.exit(main())
