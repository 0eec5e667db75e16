//===- Target.h - what codegen knows about each target ---------*- C++ -*-===//
//
// One table entry per target (Target.cpp: one function each, every field
// named, the source of each number beside it): ISA, vector width,
// registers, caches, the compiler flags the generated library is built
// with, and the GEMM tile.
// Emitters read tile sizes from here; no constants are scattered in them.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_CODEGEN_TARGET_H
#define CANAO_CODEGEN_TARGET_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace canao {

/// The OpenCL kernels' geometry (OpenCLEmitter.cpp). Work-group sizes are
/// fixed at compile time: drivers specialise a kernel per local size (PoCL
/// rebuilds it), and the GEMM's bounds checks assume them.
struct GpuDesc {
  /// GEMM: each work-item computes tileRows x tileCols outputs (tileCols
  /// divides the packed panel width); a work-group is groupCols x groupRows
  /// work-items along N x M.
  int tileRows = 4, tileCols = 8;
  int groupCols = 8, groupRows = 16;
  /// Work-items per group of the 1-D kernels (element-wise, rows, heads).
  int groupSize = 64;
};

struct TargetDesc {
  std::string name;        ///< --target value: generic, x86-avx2, x86-avx512
  std::string isa;         ///< for reports and kernel names
  int vectorBits = 0;      ///< SIMD width the compiler may use
  int vectorRegisters = 0; ///< architectural vector registers
  int64_t l1Bytes = 0, l2Bytes = 0;
  std::vector<std::string> cxxFlags; ///< GCC/Clang flags for the library
  /// Preprocessor condition the generated library needs (empty: none); the
  /// library's source refuses to build with an #error without it, so a
  /// library generated for one ISA and built for another fails in one line.
  std::string requiredMacros;
  std::string requiredHint; ///< the #error's advice
  /// GEMM register tile: gemmRows x gemmCols accumulators live in
  /// registers (gemmCols a multiple of the vector lanes); weights are packed
  /// in gemmCols-wide panels.
  int gemmRows = 0;
  int gemmCols = 0;
  /// k block of the GEMM driver: the packed A block (M x gemmDepth) and a
  /// panel slice stay in L2 while the panels stream past.
  int gemmDepth = 0;
  /// The next weight panel is prefetched by the first 2^prefetchTilesLog2
  /// tiles of a panel, so it streams in at a rate memory sustains.
  int prefetchTilesLog2 = 3;
  /// Register tile of attention's per-head products (K = head dim, N = seq
  /// or head dim): NR should divide the head dim (64) so no panel is narrow.
  int attentionRows = 0;
  int attentionCols = 0;
  /// The register tiles (rows, cols) the runtime has a microkernel for on
  /// this ISA; `canaoc --tune` chooses among them.
  std::vector<std::pair<int, int>> gemmTiles;
  /// The tiles whose microkernel reads A in place (row-major) rather than
  /// from a packed copy (GemmArgs::direct_a): where packing costs more than
  /// the single broadcast stream saves.
  std::vector<std::pair<int, int>> directATiles = {};
  /// A block-sparse kernel's time relative to the dense kernel's as a
  /// function of the work it keeps (kept / dense FLOPs, padded tiles):
  /// fixed + perFlop x kept. `fixed` is what does not shrink with the
  /// weights (per output and token tile: accumulators, the transpose-add,
  /// loop exits; the epilogue); the canao-sparse cost model's input.
  struct SparseCost {
    double fixed = 0.07, perFlop = 1.2;
    double at(double kept) const { return fixed + perFlop * kept; }
  };
  /// Block-sparse kernels for blocks along K (BSR-K, runtime f32_bsr.h):
  /// block rows R, token rows MR, cost. Every dense tile also has a BSR-N
  /// instance (1xNR blocks, f32_bsr_1xNR), at bsrNCost.
  struct BsrKKernel {
    int r, mr;
    SparseCost cost;
  };
  std::vector<BsrKKernel> bsrKKernels = {};
  SparseCost bsrNCost = {};

  /// OpenCL targets: the GPU kernels' geometry. The rest of the entry is
  /// the CPU path the library also holds (generic's: --fallback cpu), whose
  /// packed weight layout the GPU kernels read too, so one blob serves both.
  std::optional<GpuDesc> gpu = std::nullopt;

  bool readsADirectly(int64_t rows, int64_t cols) const {
    for (auto [r, c] : directATiles)
      if (r == rows && c == cols)
        return true;
    return false;
  }
};

/// The tiling of one GEMM-based op (canao.dense, canao.attention), as the
/// canao-tile pass records it in the op's `canao.tile` attribute.
struct GemmTile {
  int64_t mr = 0, nr = 0, kc = 0, mc = 0;
  /// log2 of the tiles that prefetch the next panel (GemmArgs::pf_log2).
  int64_t pf = 3;
  /// Threads split row tiles instead of W panels (GemmArgs::split_rows).
  bool splitRows = false;
  /// The microkernel reads A in place, unpacked (GemmArgs::direct_a).
  bool directA = false;
  /// The runtime microkernel, f32_gemm_<mr>x<nr>_<isa>.
  std::string kernel;
};

/// How a dense weight is stored (canao-sparse's choice, `canao.sparse`).
/// The blob holds, in order: the values (kept x block floats), the
/// pointers (int32, one per panel or output and k block, plus one) and the
/// indices (int32, one per row or block kept, plus one); bsr_pack.h documents
/// both layouts.
struct SparseLayout {
  enum Format { Dense, BsrN, BsrK } format = Dense;
  int64_t block = 0; ///< BSR-N: the panel width NR; BSR-K: the rows R
  int64_t kc = 0, kept = 0, K = 0, N = 0;

  int64_t kBlocks() const { return kc >= K ? 1 : (K + kc - 1) / kc; }
  int64_t valueFloats() const { return kept * block; }
  int64_t pointers() const {
    return (format == BsrN ? (N + block - 1) / block : N) * kBlocks() + 1;
  }
  /// Indices: one per row or block kept, and one past the end that the
  /// kernels read ahead.
  int64_t indices() const { return kept + 1; }
  int64_t bytes() const { return (valueFloats() + pointers() + indices()) * 4; }
};

/// The tile `target` gives an op by default (mr, nr, kc from the table or
/// the overrides when non-zero; mc from L2; pf from the table). Empty kernel
/// when the overrides name a tile the target has no microkernel for.
GemmTile defaultTile(const TargetDesc &target, int64_t mr = 0, int64_t nr = 0,
                     int64_t kc = 0);

/// The tile of a dense op with reduction depth `k`: defaultTile with kc at
/// most k, and mc from that k block.
GemmTile denseTile(const TargetDesc &target, int64_t k, int64_t mr = 0,
                   int64_t nr = 0, int64_t kc = 0);

/// The register tile (rows, cols) among the target's for an M x N dense
/// op: the table's default unless another pads at least 5% less work
/// (ceil(M/mr) mr x ceil(N/nr) nr), e.g. N = 128 on a 24-wide tile.
std::pair<int, int> denseRegisterTile(const TargetDesc &target, int64_t m,
                                      int64_t n);

/// The tile of attention's two per-head GEMMs (kc and mc unused).
GemmTile attentionTile(const TargetDesc &target);

/// The BSR-N microkernel of a dense tile: f32_bsr_1x<nr>_<mr>x<nr>_<isa>.
std::string bsrNKernelName(const TargetDesc &target, int64_t mr, int64_t nr);

/// The BSR-K microkernel: f32_bsr_<r>x1_<mr>x<lanes>_<isa>.
std::string bsrKKernelName(const TargetDesc &target, int64_t r, int64_t mr);

/// Whether this machine runs code generated for `target` (--tune needs it).
bool runsOnThisMachine(const TargetDesc &target);

/// All targets, in the order --help lists them.
const std::vector<TargetDesc> &targets();

/// The entry named `name`, or nullptr. "host" resolves to the best entry
/// this machine runs, with the L1/L2 sizes this machine reports.
const TargetDesc *lookupTarget(const std::string &name);

} // namespace canao

#endif // CANAO_CODEGEN_TARGET_H
