//===- tokenize_main.cpp - print WordPiece ids, one line per line -*- C++ -*-=//
//
//   tokenize_main VOCAB MAXLEN < sentences.txt
//
// Reads UTF-8 text from stdin and prints, for each '\n'-terminated line, the
// ids of WordPieceTokenizer::encode(line, MAXLEN) separated by spaces. A
// line is everything up to '\n' ('\r' and other characters included, as
// Python's str.split("\n") sees it). Exits 1 with one line on stderr if the
// arguments or the vocab are bad.
//
//===----------------------------------------------------------------------===//
#include "wordpiece.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tokenize_main VOCAB MAXLEN < TEXT\n");
    return 1;
  }
  char *end = nullptr;
  errno = 0;
  unsigned long long maxLen = std::strtoull(argv[2], &end, 10);
  if (errno || end == argv[2] || *end || argv[2][0] == '-') {
    std::fprintf(stderr, "tokenize_main: error: bad MAXLEN '%s'\n", argv[2]);
    return 1;
  }
  canao_example::WordPieceTokenizer tokenizer;
  std::string error;
  if (!tokenizer.load(argv[1], &error)) {
    std::fprintf(stderr, "tokenize_main: error: %s\n", error.c_str());
    return 1;
  }
  std::ios::sync_with_stdio(false);
  std::string line, out;
  while (std::getline(std::cin, line)) {
    out.clear();
    for (int64_t id : tokenizer.encode(line, static_cast<size_t>(maxLen))) {
      if (!out.empty())
        out += ' ';
      out += std::to_string(id);
    }
    out += '\n';
    std::cout << out;
  }
  return std::cout.flush() ? 0 : 1;
}
