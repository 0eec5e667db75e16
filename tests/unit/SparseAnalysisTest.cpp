// The canao-sparse cost model's choice on BERT-sized weights (lit's
// tests/passes/canao-sparse.mlir shows it on small hand-made ones), and the
// kernel plan packing the chosen layout into exactly its bytes.
#include "KernelEmitter.h"
#include "KernelPlan.h"

#include "Canao/CanaoDialect.h"
#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>

using namespace canao;

namespace {

const char *kDense = R"mlir(
func.func @main(%x: tensor<1x128x768xf32> {canao.name = "x"}) -> (tensor<1x128x768xf32> {canao.name = "y"}) {
  %w = canao.constant dense<1.0> : tensor<768x768xf32>
  %b = canao.constant dense<0.5> : tensor<768xf32>
  %y = canao.dense %x, %w bias %b : (tensor<1x128x768xf32>, tensor<768x768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32> {}
  return %y : tensor<1x128x768xf32>
}
)mlir";

// A 768 x 768 weight ([K, N]) with RxC blocks kept at random with
// probability `keep` (R = C = 1: single weights).
std::vector<float> blockWeight(int r, int c, double keep, unsigned seed) {
  const int K = 768, N = 768;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> val(0.1f, 1.0f);
  std::bernoulli_distribution kept(keep);
  std::vector<float> w(K * N, 0.0f);
  for (int k0 = 0; k0 < K; k0 += r)
    for (int n0 = 0; n0 < N; n0 += c)
      if (kept(rng))
        for (int k = k0; k < k0 + r; ++k)
          for (int n = n0; n < n0 + c; ++n)
            w[k * N + n] = val(rng);
  return w;
}

struct Choice {
  std::string format, block;
  int64_t kept = 0;
  double cost = 0;
  std::string kernel;
  int64_t chunkBytes = 0, layoutBytes = 0;
};

// Runs canao-tile and canao-sparse for `target` on the dense op with weight
// `w`, then plans it: the choice, and the weight chunk's size.
Choice choose(const std::vector<float> &w, const std::string &target) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<CanaoDialect, mlir::func::FuncDialect>();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(kDense, &ctx);
  REQUIRE(module);
  ConstantOp weight;
  module->walk([&](ConstantOp c) {
    if (llvm::cast<mlir::RankedTensorType>(c.getType()).getRank() == 2)
      weight = c;
  });
  REQUIRE(weight);
  llvm::ArrayRef<char> bytes(reinterpret_cast<const char *>(w.data()),
                             w.size() * sizeof(float));
  weight.setValueAttr(
      makeConstant(llvm::cast<mlir::ShapedType>(weight.getType()), bytes, "w"));
  mlir::PassManager pm(&ctx);
  TileOptions tile;
  tile.target = target;
  SparseOptions sparse;
  sparse.target = target;
  pm.addNestedPass<mlir::func::FuncOp>(createTile(tile));
  pm.addNestedPass<mlir::func::FuncOp>(createSparse(sparse));
  REQUIRE(mlir::succeeded(pm.run(*module)));
  Choice ch;
  module->walk([&](DenseOp d) {
    auto s = d->getAttrOfType<mlir::DictionaryAttr>("canao.sparse");
    REQUIRE(s);
    ch.format = s.getAs<mlir::StringAttr>("format").str();
    if (auto b = s.getAs<mlir::StringAttr>("block"))
      ch.block = b.str();
    if (auto k = s.getAs<mlir::IntegerAttr>("kept"))
      ch.kept = k.getInt();
    if (auto c = s.getAs<mlir::FloatAttr>("cost"))
      ch.cost = c.getValueAsDouble();
    auto t = d->getAttrOfType<mlir::DictionaryAttr>("canao.tile");
    ch.kernel = t.getAs<mlir::StringAttr>("kernel").str();
    ch.layoutBytes = sparseLayoutOf(d).bytes();
  });
  auto plan = buildKernelPlan(*module, lookupTarget(target));
  REQUIRE(static_cast<bool>(plan));
  for (const WeightChunk &c : plan->weights)
    if (c.sparse.format != SparseLayout::Dense)
      ch.chunkBytes = c.bytes;
  // The packed layout streams, and the blocks agree with the analysis.
  REQUIRE(!streamWeights(*plan, [](const char *, size_t) {}));
  return ch;
}

} // namespace

TEST_CASE("canao-sparse picks the layout of the weight's blocks", "[sparse]") {
  SECTION("16x1 blocks, 25% kept: BSR-K 16x1") {
    std::vector<float> w = blockWeight(16, 1, 0.25, 1);
    Choice c = choose(w, "x86-avx2");
    CHECK(c.format == "bsr_k");
    CHECK(c.block == "16x1");
    CHECK(c.kernel == "f32_bsr_16x1_6x8_avx2");
    int64_t blocks = 0;
    for (int n = 0; n < 768; ++n)
      for (int k0 = 0; k0 < 768; k0 += 16)
        blocks += w[k0 * 768 + n] != 0.0f;
    CHECK(c.kept == blocks);
    CHECK(c.cost < 0.5);
    // Values, one pointer per output (one k block) + 1, indices + 1.
    CHECK(c.chunkBytes == (blocks * 16 + 768 + 1 + blocks + 1) * 4);
    CHECK(c.chunkBytes == c.layoutBytes);
    CHECK(double(c.chunkBytes) < 0.3 * 768 * 768 * 4);
  }
  SECTION("16x1 blocks, half kept: still BSR-K (the affine model)") {
    Choice c = choose(blockWeight(16, 1, 0.5, 2), "x86-avx2");
    CHECK(c.format == "bsr_k");
    CHECK(c.cost < 0.95);
  }
  SECTION("1x16 blocks, 25% kept: BSR-N on the 6x16 tile") {
    Choice c = choose(blockWeight(1, 16, 0.25, 3), "x86-avx2");
    CHECK(c.format == "bsr_n");
    CHECK(c.block == "1x16");
    CHECK(c.kernel == "f32_bsr_1x16_6x16_avx2");
    CHECK(c.chunkBytes == c.layoutBytes);
  }
  SECTION("half the weights zero at random: dense") {
    Choice c = choose(blockWeight(1, 1, 0.5, 4), "x86-avx2");
    CHECK(c.format == "dense");
    CHECK(c.kernel == "f32_gemm_4x24_avx2");
    CHECK(c.cost > 1.0); // the closest sparse layout would be slower
    CHECK(c.chunkBytes == 0);
  }
  SECTION("portable target: its own kernels") {
    Choice k = choose(blockWeight(16, 1, 0.25, 5), "generic");
    CHECK(k.format == "bsr_k");
    CHECK(k.kernel == "f32_bsr_16x1_3x4_generic");
    Choice n = choose(blockWeight(1, 16, 0.25, 6), "generic");
    CHECK(n.format == "bsr_n");
    CHECK(n.block == "1x8");
  }
  SECTION("an all-zero weight keeps nothing") {
    Choice c = choose(std::vector<float>(768 * 768, 0.0f), "x86-avx2");
    CHECK(c.format != "dense");
    CHECK(c.kept == 0);
  }
}
