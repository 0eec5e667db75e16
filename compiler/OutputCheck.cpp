//===- OutputCheck.cpp - canaoc --check -----------------------------------===//
#include "OutputCheck.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <set>
#include <vector>

using namespace canao;

/// Relative paths of the regular files under `root`, sorted.
static bool listFiles(const std::string &root, std::set<std::string> &out) {
  std::error_code ec;
  if (!llvm::sys::fs::is_directory(root))
    return false;
  for (llvm::sys::fs::recursive_directory_iterator it(root, ec), end;
       it != end && !ec; it.increment(ec)) {
    if (it->type() != llvm::sys::fs::file_type::regular_file)
      continue;
    llvm::StringRef rel = llvm::StringRef(it->path()).drop_front(root.size());
    out.insert(rel.ltrim('/').str());
  }
  return !ec;
}

static std::vector<llvm::StringRef> lines(llvm::StringRef text) {
  std::vector<llvm::StringRef> out;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    out.push_back(line);
    text = rest;
  }
  return out;
}

/// One unified-diff hunk around the lines that differ (the common prefix
/// and suffix trimmed, 3 lines of context), at most `maxLines` of body.
static void printDiff(llvm::StringRef path, llvm::StringRef want,
                      llvm::StringRef have, llvm::raw_ostream &os) {
  constexpr size_t kContext = 3, kMaxLines = 24;
  std::vector<llvm::StringRef> a = lines(have), b = lines(want);
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre])
    ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  const size_t from = pre > kContext ? pre - kContext : 0;
  const size_t aEnd = std::min(a.size(), a.size() - suf + kContext);
  const size_t bEnd = std::min(b.size(), b.size() - suf + kContext);
  os << "--- " << path << " (OUTDIR)\n+++ " << path << " (canaoc now)\n"
     << "@@ -" << from + 1 << "," << aEnd - from << " +" << from + 1 << ","
     << bEnd - from << " @@\n";
  size_t printed = 0;
  auto emit = [&](char tag, llvm::StringRef line) {
    if (printed++ < kMaxLines)
      os << tag << line << "\n";
  };
  for (size_t i = from; i < pre; ++i)
    emit(' ', a[i]);
  for (size_t i = pre; i < a.size() - suf; ++i)
    emit('-', a[i]);
  for (size_t i = pre; i < b.size() - suf; ++i)
    emit('+', b[i]);
  for (size_t i = a.size() - suf; i < aEnd; ++i)
    emit(' ', a[i]);
  if (printed > kMaxLines)
    os << "... (" << printed - kMaxLines << " more lines)\n";
}

int canao::compareOutputDirs(const std::string &fresh,
                             const std::string &outDir,
                             const std::string &weightsFile,
                             llvm::raw_ostream &os) {
  std::set<std::string> want, have;
  if (!listFiles(outDir, have))
    return -1;
  listFiles(fresh, want);
  const bool haveRuntime = llvm::sys::fs::is_directory(outDir + "/runtime");
  bool skippedWeights = false, skippedRuntime = false;
  int differences = 0;
  bool diffShown = false;
  for (const std::string &rel : want) {
    if (!have.count(rel)) {
      if (rel == weightsFile) {
        skippedWeights = true;
        continue;
      }
      if (!haveRuntime && llvm::StringRef(rel).starts_with("runtime/")) {
        skippedRuntime = true;
        continue;
      }
      os << "  missing: " << rel << "\n";
      ++differences;
      continue;
    }
    auto a = llvm::MemoryBuffer::getFile(outDir + "/" + rel);
    auto b = llvm::MemoryBuffer::getFile(fresh + "/" + rel);
    if (a && b && (*a)->getBuffer() == (*b)->getBuffer())
      continue;
    os << "  changed: " << rel << "\n";
    ++differences;
    if (!diffShown && a && b && rel != weightsFile) {
      diffShown = true;
      std::string diff;
      llvm::raw_string_ostream ds(diff);
      printDiff(rel, (*b)->getBuffer(), (*a)->getBuffer(), ds);
      os << diff;
    }
  }
  for (const std::string &rel : have)
    if (!want.count(rel)) {
      os << "  extra: " << rel << " (canaoc does not write it)\n";
      ++differences;
    }
  if (skippedWeights)
    os << "  not compared: " << weightsFile
       << " (absent from OUTDIR; its checksum is in the generated source)\n";
  if (skippedRuntime)
    os << "  not compared: runtime/ (absent from OUTDIR)\n";
  return differences;
}
