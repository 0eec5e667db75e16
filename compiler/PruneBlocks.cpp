//===- PruneBlocks.cpp - which blocks canaoc prune zeroes -----------------===//
//
// The two schemes of canaoc prune on one matrix, seen as [K, N] =
// [in_features, out_features] whatever its storage order. Both score blocks
// (or strips) by L2 norm, order them by norm and then by position, so the
// result does not depend on the sort's tie handling, and pick how many to
// zero by the element count, so that partial blocks and zeros already in
// the matrix are counted exactly.
//
//===----------------------------------------------------------------------===//
#include "Prune.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace canao;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Element (k, n) of the [K, N] view is data[k * ks + n * ns].
struct View {
  float *data;
  int64_t K, N, ks, ns;
  float &at(int64_t k, int64_t n) const { return data[k * ks + n * ns]; }
};

/// A block or strip: its squared L2 norm, its position (the tie-break, so
/// the output does not depend on the sort), and its nonzero count.
struct Scored {
  double norm;
  int64_t index;
  int64_t nonzero;
  bool operator<(const Scored &o) const {
    return norm < o.norm || (norm == o.norm && index < o.index);
  }
};

/// Squared norm and nonzeros of rows [k0, k1) x columns [n0, n1). NaN sorts
/// last, so a NaN weight is never what makes its block look small.
Scored score(const View &w, int64_t k0, int64_t k1, int64_t n0, int64_t n1,
             int64_t index) {
  double sum = 0;
  int64_t nonzero = 0;
  for (int64_t k = k0; k < k1; ++k)
    for (int64_t n = n0; n < n1; ++n) {
      double v = w.at(k, n);
      sum += v * v;
      nonzero += v != 0;
    }
  return {std::isnan(sum) ? INFINITY : sum, index, nonzero};
}

/// Zeroes the region; values already zero are left alone, so that -0.0
/// stays -0.0 and a ratio of 0 leaves the bytes as they were.
void zero(const View &w, int64_t k0, int64_t k1, int64_t n0, int64_t n1) {
  for (int64_t k = k0; k < k1; ++k)
    for (int64_t n = n0; n < n1; ++n)
      if (w.at(k, n) != 0)
        w.at(k, n) = 0;
}

/// The count in [0, last] whose zero total, zerosAt(count) (nondecreasing),
/// is nearest `target`; the smaller count on a tie.
template <typename F>
int64_t nearestCount(int64_t last, double target, F zerosAt) {
  int64_t best = 0;
  double bestDiff = std::fabs(zerosAt(0) - target);
  for (int64_t c = 1; c <= last; ++c) {
    double z = zerosAt(c);
    if (z - target >= bestDiff)
      break;
    if (std::fabs(z - target) < bestDiff) {
      best = c;
      bestDiff = std::fabs(z - target);
    }
  }
  return best;
}

/// bsr: whole blocks, smallest norm first. Returns the nonzeros left.
int64_t pruneBsr(const View &w, BlockShape b, double ratio) {
  const int64_t br = ceilDiv(w.K, b.rows), bc = ceilDiv(w.N, b.cols);
  std::vector<Scored> blocks;
  blocks.reserve(br * bc);
  int64_t nonzero = 0;
  for (int64_t i = 0; i < br; ++i)
    for (int64_t j = 0; j < bc; ++j) {
      blocks.push_back(score(w, i * b.rows, std::min(w.K, (i + 1) * b.rows),
                             j * b.cols, std::min(w.N, (j + 1) * b.cols),
                             i * bc + j));
      nonzero += blocks.back().nonzero;
    }
  std::sort(blocks.begin(), blocks.end());
  // zeros[p]: the matrix's zeros once the first p blocks are zeroed
  // (zeros already there count toward the ratio).
  std::vector<int64_t> zeros(blocks.size() + 1, w.K * w.N - nonzero);
  for (size_t p = 0; p < blocks.size(); ++p)
    zeros[p + 1] = zeros[p] + blocks[p].nonzero;
  int64_t count = nearestCount(blocks.size(), ratio * double(w.K * w.N),
                               [&](int64_t p) { return double(zeros[p]); });
  for (int64_t p = 0; p < count; ++p) {
    int64_t i = blocks[p].index / bc, j = blocks[p].index % bc;
    zero(w, i * b.rows, std::min(w.K, (i + 1) * b.rows), j * b.cols,
         std::min(w.N, (j + 1) * b.cols));
  }
  return w.K * w.N - zeros[count];
}

/// bcr: in every block the same number of lowest-norm strips, Rx1 columns
/// if R >= C, else 1xC rows. A full block has S = min(R, C) strips; a
/// partial block at the edge with n < S strips zeroes round(s * n / S).
int64_t pruneBcr(const View &w, BlockShape b, double ratio) {
  const bool columns = b.rows >= b.cols;
  const int64_t S = std::min(b.rows, b.cols);
  const int64_t br = ceilDiv(w.K, b.rows), bc = ceilDiv(w.N, b.cols);
  struct Block {
    int64_t k0, k1, n0, n1;
    size_t first, count; ///< its strips in `strips`, sorted by norm
  };
  std::vector<Block> blocks;
  std::vector<Scored> strips;
  int64_t nonzero = 0;
  for (int64_t i = 0; i < br; ++i)
    for (int64_t j = 0; j < bc; ++j) {
      Block blk{i * b.rows,    std::min(w.K, (i + 1) * b.rows),
                j * b.cols,    std::min(w.N, (j + 1) * b.cols),
                strips.size(), 0};
      blk.count = columns ? blk.n1 - blk.n0 : blk.k1 - blk.k0;
      for (size_t t = 0; t < blk.count; ++t) {
        strips.push_back(
            columns ? score(w, blk.k0, blk.k1, blk.n0 + t, blk.n0 + t + 1, t)
                    : score(w, blk.k0 + t, blk.k0 + t + 1, blk.n0, blk.n1, t));
        nonzero += strips.back().nonzero;
      }
      std::sort(strips.begin() + blk.first, strips.end());
      blocks.push_back(blk);
    }
  auto stripsToZero = [&](const Block &blk, int64_t s) -> size_t {
    if (int64_t(blk.count) == S)
      return s;
    return (2 * s * blk.count + S) / (2 * S); // rounded, halves up
  };
  auto zerosAt = [&](int64_t s) {
    int64_t zeros = w.K * w.N - nonzero;
    for (const Block &blk : blocks)
      for (size_t t = 0, e = stripsToZero(blk, s); t < e; ++t)
        zeros += strips[blk.first + t].nonzero;
    return double(zeros);
  };
  int64_t s = nearestCount(S, ratio * double(w.K * w.N), zerosAt);
  int64_t left = w.K * w.N - int64_t(zerosAt(s));
  for (const Block &blk : blocks)
    for (size_t t = 0, e = stripsToZero(blk, s); t < e; ++t) {
      int64_t at = strips[blk.first + t].index;
      if (columns)
        zero(w, blk.k0, blk.k1, blk.n0 + at, blk.n0 + at + 1);
      else
        zero(w, blk.k0 + at, blk.k0 + at + 1, blk.n0, blk.n1);
    }
  return left;
}

} // namespace

int64_t canao::pruneMatrix(float *data, int64_t K, int64_t N, bool transposed,
                           BlockShape block, PruneScheme scheme, double ratio) {
  View view{data, K, N, transposed ? 1 : N, transposed ? K : 1};
  return scheme == PruneScheme::BSR ? pruneBsr(view, block, ratio)
                                    : pruneBcr(view, block, ratio);
}
