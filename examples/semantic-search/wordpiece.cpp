//===- wordpiece.cpp - BERT WordPiece tokenizer -----------------*- C++ -*-===//
//
// Reproduces, step by step, what Hugging Face's `tokenizers` (Rust) does
// with all-MiniLM-L6-v2's tokenizer.json:
//
//  1. Added tokens. The five special tokens are "added tokens" with
//     normalized = false, so they are found in the *raw* text before any
//     normalization (leftmost-longest match): "a [MASK] b" keeps [MASK] as
//     id 103 while "a [mask] b" is the three pieces "[", "mask", "]". The
//     text between matches is processed on its own (steps 2-4).
//  2. BertNormalizer, in this order:
//     a. clean_text: drop U+0000, U+FFFD and "other" characters (Cc, Cf,
//        Co; \t \n \r excepted), then map whitespace to ' '. Control
//        characters that are also whitespace (\v, \f, U+0085) are dropped,
//        not mapped, because the drop filter runs first.
//     b. handle_chinese_chars: put ' ' around each CJK ideograph, so that
//        each becomes its own word. The ranges are HF's, which skip
//        U+2B820..U+2B91F (the Python BERT uses U+2B820..U+2CEAF).
//     c. strip_accents (unset in tokenizer.json, so it follows lowercase =
//        true): NFD, then drop nonspacing marks (Mn). NFD also splits
//        Hangul syllables into conjoining jamo and maps CJK compatibility
//        ideographs to their unified forms.
//     d. lowercase: each character on its own (Rust's char::to_lowercase),
//        so there is no final-sigma rule and U+0130 becomes "i\u0307".
//  3. BertPreTokenizer: split on whitespace (removed) and around each
//     punctuation character (kept as its own word). Punctuation is ASCII
//     punctuation (which includes $ + < = > ^ ` | ~) or Unicode P*; other
//     symbols such as emoji, currency signs and math stay inside words.
//  4. WordPiece: a word of more than 100 characters (after normalization)
//     is [UNK]. Otherwise greedy longest-match-first from the left, later
//     pieces carrying the "##" prefix; if some position has no match, the
//     whole word becomes a single [UNK].
//  5. TemplateProcessing [CLS] A [SEP] with truncation: the word pieces are
//     cut to maxLen - 2 so that [CLS] and [SEP] fit.
//
// The Unicode tables come from gen_unicode_tables.py, which builds them
// with Python's unicodedata and corrects them to what the Rust crates under
// `tokenizers` use (these are of different Unicode versions).
//
//===----------------------------------------------------------------------===//
#include "wordpiece.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace canao_example {
namespace {

struct CodePointRange {
  char32_t first, last;
};
struct CombiningClassRange {
  char32_t first, last;
  uint8_t combiningClass;
};
struct DecompositionBlock {
  char32_t first, last;
  uint32_t index;
};
struct LowercaseRun {
  char32_t first, last;
  uint32_t stride;
  int32_t delta;
};
struct SpecialLowercase {
  char32_t codePoint;
  char32_t lower[3];
};

#include "unicode_tables.inc"

constexpr size_t kMaxInputCharsPerWord = 100;
constexpr char kContinuingSubwordPrefix[] = "##";
constexpr char32_t kReplacementChar = 0xFFFD;

/// The last element of the sorted `table` whose `first` is <= cp, or null.
template <typename T, size_t N>
const T *findLastStartingAtOrBefore(const T (&table)[N], char32_t cp) {
  const T *it = std::upper_bound(
      std::begin(table), std::end(table), cp,
      [](char32_t c, const T &entry) { return c < entry.first; });
  return it == std::begin(table) ? nullptr : it - 1;
}

template <size_t N>
bool inRanges(const CodePointRange (&ranges)[N], char32_t cp) {
  const CodePointRange *r = findLastStartingAtOrBefore(ranges, cp);
  return r && cp <= r->last;
}

bool isOther(char32_t cp) { return inRanges(kOtherRanges, cp); }
bool isWhitespace(char32_t cp) { return inRanges(kWhitespaceRanges, cp); }
bool isNonspacingMark(char32_t cp) {
  return inRanges(kNonspacingMarkRanges, cp);
}
bool isPunctuation(char32_t cp) { return inRanges(kPunctuationRanges, cp); }

/// The "Chinese character" ranges of HF's BertNormalizer, exactly.
bool isChineseChar(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) ||
         (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x2F800 && cp <= 0x2FA1F);
}

uint8_t combiningClass(char32_t cp) {
  const CombiningClassRange *r =
      findLastStartingAtOrBefore(kCombiningClassRanges, cp);
  return r && cp <= r->last ? r->combiningClass : 0;
}

// Hangul syllables decompose arithmetically (Unicode 3.12).
constexpr char32_t kHangulBase = 0xAC00, kLeadBase = 0x1100,
                   kVowelBase = 0x1161, kTrailBase = 0x11A7;
constexpr char32_t kVowelCount = 21, kTrailCount = 28,
                   kHangulCount = 19 * kVowelCount * kTrailCount;

/// Appends the full canonical decomposition of cp (not yet reordered).
void appendDecomposition(char32_t cp, std::u32string &out) {
  if (cp >= kHangulBase && cp < kHangulBase + kHangulCount) {
    char32_t index = cp - kHangulBase;
    out += kLeadBase + index / (kVowelCount * kTrailCount);
    out += kVowelBase + index % (kVowelCount * kTrailCount) / kTrailCount;
    if (index % kTrailCount)
      out += kTrailBase + index % kTrailCount;
    return;
  }
  const DecompositionBlock *block =
      findLastStartingAtOrBefore(kDecompositionBlocks, cp);
  if (block && cp <= block->last) {
    const char32_t *pair =
        &kDecompositionPairs[block->index + 2 * (cp - block->first)];
    if (pair[0]) {
      appendDecomposition(pair[0], out);
      if (pair[1])
        appendDecomposition(pair[1], out);
      return;
    }
  }
  out += cp;
}

/// NFD's canonical ordering: a stable sort of every run of non-starters
/// (combining class != 0) by combining class.
void canonicalOrder(std::u32string &text) {
  size_t i = 0;
  while (i < text.size()) {
    if (combiningClass(text[i]) == 0) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && combiningClass(text[end]) != 0)
      ++end;
    if (end - i > 1)
      std::stable_sort(text.begin() + static_cast<std::ptrdiff_t>(i),
                       text.begin() + static_cast<std::ptrdiff_t>(end),
                       [](char32_t a, char32_t b) {
                         return combiningClass(a) < combiningClass(b);
                       });
    i = end;
  }
}

void appendLowercase(char32_t cp, std::u32string &out) {
  const SpecialLowercase *special = std::find_if(
      std::begin(kSpecialLowercases), std::end(kSpecialLowercases),
      [cp](const SpecialLowercase &entry) { return entry.codePoint == cp; });
  if (special != std::end(kSpecialLowercases)) {
    for (char32_t c : special->lower)
      if (c)
        out += c;
    return;
  }
  const LowercaseRun *run = findLastStartingAtOrBefore(kLowercaseRuns, cp);
  if (run && cp <= run->last && (cp - run->first) % run->stride == 0)
    cp = static_cast<char32_t>(static_cast<int64_t>(cp) + run->delta);
  out += cp;
}

/// Step 2, BertNormalizer, on one stretch of text between added tokens.
std::u32string normalize(const char32_t *begin, const char32_t *end) {
  // a, b: clean_text, then handle_chinese_chars.
  std::u32string cleaned;
  cleaned.reserve(static_cast<size_t>(end - begin));
  for (const char32_t *p = begin; p != end; ++p) {
    char32_t cp = *p;
    if (cp == 0 || cp == kReplacementChar || isOther(cp))
      continue;
    if (isWhitespace(cp)) {
      cleaned += U' ';
    } else if (isChineseChar(cp)) {
      cleaned += U' ';
      cleaned += cp;
      cleaned += U' ';
    } else {
      cleaned += cp;
    }
  }
  // c: strip_accents = NFD, then drop Mn.
  std::u32string decomposed;
  decomposed.reserve(cleaned.size());
  for (char32_t cp : cleaned)
    appendDecomposition(cp, decomposed);
  canonicalOrder(decomposed);
  // d: lowercase what is left.
  std::u32string normalized;
  normalized.reserve(decomposed.size());
  for (char32_t cp : decomposed)
    if (!isNonspacingMark(cp))
      appendLowercase(cp, normalized);
  return normalized;
}

/// Decodes UTF-8 strictly (RFC 3629: no overlong forms, surrogates or
/// values above U+10FFFF). Each maximal ill-formed subsequence becomes one
/// U+FFFD, as with Python's errors="replace"; clean_text then drops it.
std::u32string decodeUtf8(const std::string &text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out += lead;
      ++i;
      continue;
    }
    size_t length;
    char32_t cp;
    // The allowed range of the second byte; later ones are 0x80..0xBF.
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      cp = lead & 0x0F;
      if (lead == 0xE0)
        low = 0xA0; // overlong
      if (lead == 0xED)
        high = 0x9F; // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      cp = lead & 0x07;
      if (lead == 0xF0)
        low = 0x90; // overlong
      if (lead == 0xF4)
        high = 0x8F; // above U+10FFFF
    } else {
      out += kReplacementChar; // stray continuation byte, C0, C1, F5..FF
      ++i;
      continue;
    }
    size_t taken = 1;
    for (; taken < length && i + taken < text.size(); ++taken) {
      unsigned char byte = static_cast<unsigned char>(text[i + taken]);
      if (byte < low || byte > high)
        break;
      cp = (cp << 6) | (byte & 0x3F);
      low = 0x80;
      high = 0xBF;
    }
    out += taken == length ? cp : kReplacementChar;
    i += taken;
  }
  return out;
}

void appendUtf8(char32_t cp, std::string &out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

} // namespace

bool WordPieceTokenizer::load(const std::string &vocabPath,
                              std::string *error) {
  auto fail = [&](const std::string &message) {
    if (error)
      *error = message;
    return false;
  };
  std::ifstream in(vocabPath, std::ios::binary);
  if (!in)
    return fail("cannot open vocab file '" + vocabPath + "'");
  std::unordered_map<std::string, int64_t> vocab;
  std::string line;
  int64_t id = 0;
  while (std::getline(in, line)) {
    // Like HF's WordPiece::read_file: the line number is the id and the end
    // of the line is trimmed (so CRLF files work); a repeated token keeps
    // its last id.
    while (!line.empty() && isAsciiSpace(line.back()))
      line.pop_back();
    vocab[line] = id++;
  }
  if (in.bad())
    return fail("cannot read vocab file '" + vocabPath + "'");
  if (id == 0)
    return fail("vocab file '" + vocabPath + "' is empty");

  auto idOf = [&vocab](const std::string &token) {
    auto it = vocab.find(token);
    return it == vocab.end() ? int64_t(-1) : it->second;
  };
  // These are tokenizer.json's added tokens; [MASK] is optional here.
  const char *const required[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
  for (const char *token : required)
    if (idOf(token) < 0)
      return fail("vocab file '" + vocabPath + "' has no " + token +
                  " token");
  std::vector<std::pair<std::u32string, int64_t>> added;
  for (const char *token : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
    if (idOf(token) >= 0)
      added.emplace_back(decodeUtf8(token), idOf(token));

  padId_ = idOf("[PAD]");
  unkId_ = idOf("[UNK]");
  clsId_ = idOf("[CLS]");
  sepId_ = idOf("[SEP]");
  vocab_ = std::move(vocab);
  addedTokens_ = std::move(added);
  return true;
}

/// Step 4, WordPiece, on one pre-tokenized word.
void WordPieceTokenizer::appendWordPieces(const std::u32string &word,
                                          std::vector<int64_t> &ids) const {
  if (word.size() > kMaxInputCharsPerWord) {
    ids.push_back(unkId_);
    return;
  }
  std::string utf8;
  std::vector<size_t> offsets{0}; // byte offset of each character boundary
  for (char32_t cp : word) {
    appendUtf8(cp, utf8);
    offsets.push_back(utf8.size());
  }
  std::vector<int64_t> pieces;
  std::string candidate;
  size_t start = 0;
  while (start < word.size()) {
    int64_t id = -1;
    size_t end = word.size();
    for (; end > start; --end) {
      candidate.assign(start > 0 ? kContinuingSubwordPrefix : "");
      candidate.append(utf8, offsets[start], offsets[end] - offsets[start]);
      auto it = vocab_.find(candidate);
      if (it != vocab_.end()) {
        id = it->second;
        break;
      }
    }
    if (id < 0) { // no piece starts here: the whole word is unknown
      ids.push_back(unkId_);
      return;
    }
    pieces.push_back(id);
    start = end;
  }
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

/// Steps 2-4 on the text between two added tokens; stops early once `ids`
/// holds `limit` ids, since truncation would drop the rest anyway.
void WordPieceTokenizer::appendTextPieces(const char32_t *begin,
                                          const char32_t *end,
                                          std::vector<int64_t> &ids,
                                          size_t limit) const {
  std::u32string word;
  auto flushWord = [&] {
    if (!word.empty())
      appendWordPieces(word, ids);
    word.clear();
  };
  // Step 3, BertPreTokenizer.
  for (char32_t cp : normalize(begin, end)) {
    if (ids.size() >= limit)
      return;
    if (isWhitespace(cp)) {
      flushWord();
    } else if (isPunctuation(cp)) {
      flushWord();
      word = cp;
      flushWord();
    } else {
      word += cp;
    }
  }
  flushWord();
}

std::vector<int64_t> WordPieceTokenizer::encode(const std::string &utf8Text,
                                                size_t maxLen) const {
  if (vocab_.empty())
    return {};
  const size_t limit = maxLen > 2 ? maxLen - 2 : 0;
  std::vector<int64_t> pieces;
  // Step 1: split off added tokens, leftmost-longest, in the raw text.
  const std::u32string text = decodeUtf8(utf8Text);
  size_t segmentStart = 0, pos = 0;
  while (pos < text.size() && pieces.size() < limit) {
    const std::pair<std::u32string, int64_t> *match = nullptr;
    for (const auto &token : addedTokens_)
      if ((!match || token.first.size() > match->first.size()) &&
          text.compare(pos, token.first.size(), token.first) == 0)
        match = &token;
    if (!match) {
      ++pos;
      continue;
    }
    appendTextPieces(text.data() + segmentStart, text.data() + pos, pieces,
                     limit);
    pieces.push_back(match->second);
    pos += match->first.size();
    segmentStart = pos;
  }
  appendTextPieces(text.data() + segmentStart, text.data() + text.size(),
                   pieces, limit);

  // Step 5: truncate, then [CLS] ... [SEP].
  if (pieces.size() > limit)
    pieces.resize(limit);
  std::vector<int64_t> ids;
  ids.reserve(pieces.size() + 2);
  ids.push_back(clsId_);
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  ids.push_back(sepId_);
  return ids;
}

} // namespace canao_example
