//===- wordpiece.h - BERT WordPiece tokenizer -------------------*- C++ -*-===//
//
// A dependency-free (C++17 standard library only) BERT tokenizer that gives
// the same ids as Hugging Face's `tokenizers` running the tokenizer.json of
// sentence-transformers/all-MiniLM-L6-v2 (and other uncased BERT models):
//
//   added tokens  [PAD] [UNK] [CLS] [SEP] [MASK] matched in the raw text
//   normalizer    BertNormalizer(clean_text, handle_chinese_chars,
//                                strip_accents = lowercase = true)
//   pre-tokenizer BertPreTokenizer (split on whitespace, isolate punctuation)
//   model         WordPiece(unk "[UNK]", prefix "##", 100 chars per word)
//   post          [CLS] A [SEP], truncated to the maximum length
//
// wordpiece.cpp explains each step; tests/e2e/test_tokenizer.py checks the
// ids against Hugging Face's.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_EXAMPLES_WORDPIECE_H
#define CANAO_EXAMPLES_WORDPIECE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace canao_example {

class WordPieceTokenizer {
public:
  /// Loads a BERT vocab.txt: one token per line, id = line number (0-based).
  /// Returns false and sets *error (when error is non-null) if the file
  /// cannot be read, is empty or lacks [UNK], [CLS], [SEP] or [PAD]; the
  /// tokenizer is then left as it was.
  bool load(const std::string &vocabPath, std::string *error);

  /// Tokenizes utf8Text into [CLS] tokens... [SEP]. The result holds at
  /// most maxLen ids (but always [CLS] and [SEP]): like Hugging Face's
  /// truncation, the text's tokens are cut and [SEP] stays last. No padding.
  /// Invalid UTF-8 is read as U+FFFD, which the normalizer drops.
  std::vector<int64_t> encode(const std::string &utf8Text,
                              size_t maxLen) const;

  int64_t padId() const { return padId_; }
  int64_t clsId() const { return clsId_; }
  int64_t sepId() const { return sepId_; }
  int64_t unkId() const { return unkId_; }

private:
  void appendTextPieces(const char32_t *begin, const char32_t *end,
                        std::vector<int64_t> &ids, size_t limit) const;
  void appendWordPieces(const std::u32string &word,
                        std::vector<int64_t> &ids) const;

  std::unordered_map<std::string, int64_t> vocab_;
  /// Special tokens present in the vocab, as code points, with their ids.
  std::vector<std::pair<std::u32string, int64_t>> addedTokens_;
  int64_t padId_ = -1, clsId_ = -1, sepId_ = -1, unkId_ = -1;
};

} // namespace canao_example

#endif // CANAO_EXAMPLES_WORDPIECE_H
