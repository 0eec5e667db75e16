#!/usr/bin/env python3
"""Generates unicode_tables.inc, the Unicode data behind wordpiece.cpp.

    /work/main/.venv/bin/python gen_unicode_tables.py [-o unicode_tables.inc]

Each table is computed from Python's `unicodedata` and then checked, code
point by code point, against the matching building block of Hugging Face's
`tokenizers` (the same Rust code that all-MiniLM-L6-v2's tokenizer.json runs).
Where the two disagree, the table follows `tokenizers`, because that is what
the C++ tokenizer has to reproduce. They do disagree: the Rust crates behind
`tokenizers` embed Unicode data of different ages:
  - `unicode_categories` (control = Cc/Cf/Co, Mn, P*) is Unicode 8.0, so
    marks, format characters and punctuation added since are plain letters
    there (and U+166D is still punctuation);
  - `unicode-normalization-alignments` (NFD) predates Unicode 13 (it does
    not decompose U+11938);
  - Rust's `char::to_lowercase`/`is_whitespace` follow a newer Unicode than
    Python 3.11's 14.0 (e.g. U+1C89 -> U+1C8A, Unicode 16).
The header of the output lists how many code points each correction touched.

The output is deterministic for a given (Python, tokenizers) pair and both
versions are written into it. Needs `tokenizers` (the project's .venv has it).
"""

import argparse
import sys
import unicodedata as ud

try:
    import tokenizers
    from tokenizers import normalizers, pre_tokenizers
except ImportError:
    sys.exit("gen_unicode_tables.py: error: needs the `tokenizers` package "
             "(run it with /work/main/.venv/bin/python)")

MAX_CP = 0x110000
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3  # decomposed algorithmically


def code_points():
    """Every code point a Python str can hand to Rust (no surrogates)."""
    for cp in range(MAX_CP):
        if not 0xD800 <= cp <= 0xDFFF:
            yield cp


def to_ranges(cps):
    ranges = []
    for cp in sorted(cps):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


class Probes:
    """Single-purpose pipelines built from tokenizers' own components."""

    def __init__(self):
        bert = normalizers.BertNormalizer
        self.clean = bert(clean_text=True, handle_chinese_chars=False,
                          strip_accents=False, lowercase=False)
        self.strip = bert(clean_text=False, handle_chinese_chars=False,
                          strip_accents=True, lowercase=False)
        self.nfd = normalizers.NFD()
        self.lower = bert(clean_text=False, handle_chinese_chars=False,
                          strip_accents=False, lowercase=True)
        self.pre = pre_tokenizers.BertPreTokenizer()

    def split_class(self, ch):
        """'space', 'punct' or 'word', as BertPreTokenizer treats `ch`."""
        pieces = [p for p, _ in self.pre.pre_tokenize_str("a" + ch + "a")]
        if pieces == ["a", "a"]:
            return "space"
        if pieces == ["a", ch, "a"]:
            return "punct"
        assert pieces == ["a" + ch + "a"], (hex(ord(ch)), pieces)
        return "word"


class Corrections:
    def __init__(self):
        self.counts = {}

    def pick(self, table, cp, from_ucd, from_hf):
        if from_ucd != from_hf:
            self.counts[table] = self.counts.get(table, 0) + 1
        return from_hf


def ascii_punct(cp):
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or \
        123 <= cp <= 126


def canonical_decomposition(cp):
    """One step of the canonical mapping from UnicodeData.txt, or None."""
    fields = ud.decomposition(chr(cp)).split()
    if not fields or fields[0].startswith("<"):
        return None
    return [int(f, 16) for f in fields]


def full_nfd(cp):
    """Recursive decomposition + canonical ordering (no Hangul: not asked)."""
    out = []

    def walk(c):
        step = canonical_decomposition(c)
        if step is None:
            out.append(c)
        else:
            for d in step:
                walk(d)
    walk(cp)
    # Stable sort of each run of non-starters by combining class.
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and ud.combining(chr(out[j])):
            j += 1
        if j > i:
            out[i:j] = sorted(out[i:j], key=lambda c: ud.combining(chr(c)))
            i = j
        else:
            i += 1
    return out


def build(probes, fix):
    other, space, mark, punct = set(), set(), set(), set()
    decomp, ccc, lower = {}, {}, {}
    for cp in code_points():
        ch = chr(cp)
        cat = ud.category(ch)

        # clean_text: drop U+0000, U+FFFD and "other" (Cc/Cf/Co; \t\n\r are
        # exempt), then map whitespace to ' '.
        cleaned = probes.clean.normalize_str(ch)
        is_space = probes.split_class(ch) == "space"
        if fix.pick("whitespace", cp, cat == "Zs" or ch in "\t\n\x0b\x0c\r"
                    "\x85\u2028\u2029", is_space):
            space.add(cp)
        ucd_other = cat in ("Cc", "Cf", "Co") and ch not in "\t\n\r"
        hf_other = cleaned == "" and cp not in (0, 0xFFFD)
        if fix.pick("other", cp, ucd_other, hf_other):
            other.add(cp)
        if cleaned not in ("", " ", ch):
            raise SystemExit(f"unexpected clean_text result for U+{cp:04X}")

        # NFD. The table holds single canonical steps; the generator checks
        # that applying them recursively gives tokenizers' full result.
        hf_nfd = [ord(c) for c in probes.nfd.normalize_str(ch)]
        if not HANGUL_FIRST <= cp <= HANGUL_LAST:
            ours = full_nfd(cp)
            if fix.pick("nfd", cp, ours, hf_nfd) == ours:
                step = canonical_decomposition(cp)
                if step is not None:
                    decomp[cp] = step + [0] * (2 - len(step))
            elif hf_nfd != [cp]:
                raise SystemExit(f"NFD of U+{cp:04X} is neither ours nor id")

        # Combining classes, only for the non-starters tokenizers' NFD knows
        # (a class it does not know is 0 there). Probed by reordering
        # against U+0334 (class 1) or U+0301 (class 230).
        cls = ud.combining(ch)
        if cls and hf_nfd == [cp]:
            if cls > 1:
                known = probes.nfd.normalize_str("a" + ch + "\u0334") == \
                    "a\u0334" + ch
            else:
                known = probes.nfd.normalize_str("a\u0301" + ch) == \
                    "a" + ch + "\u0301"
            if fix.pick("combining class", cp, True, known):
                ccc[cp] = cls

        # Mn, as unicode_categories sees it; only matters for characters
        # NFD leaves alone (strip_accents filters NFD's output).
        if hf_nfd == [cp]:
            hf_mark = probes.strip.normalize_str(ch) == ""
        else:
            hf_mark = cat == "Mn"
        if fix.pick("nonspacing mark", cp, cat == "Mn", hf_mark):
            mark.add(cp)

        # Per-character lowercase (Rust's char::to_lowercase: no context, so
        # no final-sigma rule; Python's str.lower on one char agrees).
        hf_lower = [ord(c) for c in probes.lower.normalize_str(ch)]
        if fix.pick("lowercase", cp, [ord(c) for c in ch.lower()],
                    hf_lower) != [cp]:
            lower[cp] = hf_lower

        # BertPreTokenizer: ASCII punctuation or Unicode P*.
        is_punct = probes.split_class(ch) == "punct"
        if fix.pick("punctuation", cp, ascii_punct(cp) or cat[0] == "P",
                    is_punct):
            punct.add(cp)
    return other, space, mark, punct, decomp, ccc, lower


def lowercase_runs(simple):
    """[first, last, stride, delta] runs over the one-character mappings."""
    cps = sorted(simple)
    runs, i = [], 0
    while i < len(cps):
        best = None
        for stride in (1, 2):
            j = i
            # Stride-2 runs must not step over a mapped code point: the C++
            # lookup finds a run by binary search, so runs cannot overlap.
            while (j + 1 < len(cps) and cps[j + 1] == cps[j] + stride and
                   simple[cps[j + 1]] - cps[j + 1] == simple[cps[i]] - cps[i]
                   and (stride == 1 or cps[j] + 1 not in simple)):
                j += 1
            if best is None or j > best[0]:
                best = (j, stride)
        j, stride = best
        runs.append([cps[i], cps[j], stride if j > i else 1,
                     simple[cps[i]] - cps[i]])
        i = j + 1
    return runs


def decomposition_blocks(decomp, max_gap=3):
    """Groups nearby code points so that only their targets are stored."""
    blocks, pairs = [], []
    for cp in sorted(decomp):
        if blocks and cp - blocks[-1][1] <= max_gap + 1:
            pairs.extend([0, 0] * (cp - blocks[-1][1] - 1))
            blocks[-1][1] = cp
        else:
            blocks.append([cp, cp, len(pairs)])
        pairs.extend(decomp[cp])
    return blocks, pairs


def emit_array(out, ctype, name, rows, per_line, comment):
    out.append(f"// {comment}")
    out.append(f"static const {ctype} {name}[] = {{")
    cells = ["{" + ",".join(hex(v) if v >= 0 else str(v) for v in row) + "},"
             for row in rows]
    for i in range(0, len(cells), per_line):
        out.append("".join(cells[i:i + per_line]))
    out.append("};")
    out.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="unicode_tables.inc")
    args = ap.parse_args()

    fix = Corrections()
    other, space, mark, punct, decomp, ccc, lower = build(Probes(), fix)
    simple = {cp: m[0] for cp, m in lower.items() if len(m) == 1}
    special = {cp: m for cp, m in lower.items() if len(m) > 1}
    assert all(len(m) <= 3 for m in special.values())

    ccc_ranges = []
    for cp in sorted(ccc):
        if ccc_ranges and ccc_ranges[-1][1] == cp - 1 and \
                ccc_ranges[-1][2] == ccc[cp]:
            ccc_ranges[-1][1] = cp
        else:
            ccc_ranges.append([cp, cp, ccc[cp]])

    out = [
        "// Generated by gen_unicode_tables.py; do not edit.",
        f"// Sources: Python unicodedata {ud.unidata_version}, checked "
        f"against tokenizers {tokenizers.__version__}.",
        "// Code points where tokenizers differs from unicodedata (the",
        "// tables follow tokenizers):",
    ]
    for table in sorted(fix.counts):
        out.append(f"//   {table}: {fix.counts[table]}")
    out.append("")
    emit_array(out, "CodePointRange", "kOtherRanges", to_ranges(other), 8,
               "clean_text removes these (\"other\": Cc, Cf, Co).")
    emit_array(out, "CodePointRange", "kWhitespaceRanges", to_ranges(space),
               8, "Rust's char::is_whitespace (White_Space).")
    emit_array(out, "CodePointRange", "kNonspacingMarkRanges",
               to_ranges(mark), 8, "General category Mn.")
    emit_array(out, "CodePointRange", "kPunctuationRanges", to_ranges(punct),
               8, "BertPreTokenizer punctuation: ASCII punctuation or P*.")
    blocks, pairs = decomposition_blocks(decomp)
    emit_array(out, "DecompositionBlock", "kDecompositionBlocks", blocks, 6,
               "Canonical decompositions, one step. Code point cp of block "
               "{first, last, index}\n// decomposes to kDecompositionPairs"
               "[index + 2 * (cp - first)] and [... + 1]; a\n// second "
               "value of 0 means a singleton, a first of 0 no mapping.")
    out.append("static const char32_t kDecompositionPairs[] = {")
    cells = [hex(v) + "," for v in pairs]
    for i in range(0, len(cells), 16):
        out.append("".join(cells[i:i + 16]))
    out.append("};")
    out.append("")
    emit_array(out, "CombiningClassRange", "kCombiningClassRanges",
               ccc_ranges, 6, "Canonical combining classes (non-zero only).")
    emit_array(out, "LowercaseRun", "kLowercaseRuns", lowercase_runs(simple),
               5, "One-character lowercase mappings: every stride-th code "
               "point in [first, last] maps to cp + delta.")
    out.append("// Lowercase mappings to several characters.")
    out.append("static const SpecialLowercase kSpecialLowercases[] = {")
    for cp in sorted(special):
        lower = special[cp] + [0] * (3 - len(special[cp]))
        out.append("{" + hex(cp) + ",{" + ",".join(map(hex, lower)) + "}},")
    out.append("};")
    out.append("")
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(out))
    sizes = ", ".join(f"{k} {v}" for k, v in sorted(fix.counts.items()))
    print(f"wrote {args.output} (corrections: {sizes})")


if __name__ == "__main__":
    main()
