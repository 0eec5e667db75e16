// Static memory planning over the kernel list.
#include "KernelPlan.h"

#include "Canao/CanaoDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace canao;

static const char *kChain = R"mlir(
func.func @main(%x: tensor<4x8xf32> {canao.name = "x"}) -> (tensor<32xf32> {canao.name = "y"}) {
  %w = canao.constant dense<1.0> : tensor<8x8xf32>
  %0 = canao.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = canao.relu %0 : tensor<4x8xf32>
  %2 = canao.tanh %1 : tensor<4x8xf32>
  %3 = canao.add %2, %0 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = canao.reshape %3 : tensor<4x8xf32> to tensor<32xf32>
  return %4 : tensor<32xf32>
}
)mlir";

TEST_CASE("memory planning reuses dead buffers and never overlaps live ones",
          "[plan]") {
  mlir::MLIRContext ctx;
  ctx.loadDialect<CanaoDialect, mlir::func::FuncDialect>();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(kChain, &ctx);
  REQUIRE(module);
  auto plan = buildKernelPlan(*module);
  REQUIRE(static_cast<bool>(plan));
  REQUIRE(plan->kernels.size() == 4); // the reshape is an alias, not a kernel
  CHECK(plan->weightBytes == 256);
  size_t streamed = 0, calls = 0;
  REQUIRE(!streamWeights(*plan, [&](const char *, size_t size) {
    streamed += size;
    calls += size % 64 == 0;
  }));
  CHECK(streamed == 256);
  CHECK(calls == plan->weights.size());
  CHECK(plan->inputNames == std::vector<std::string>{"x"});
  REQUIRE(plan->outputs.size() == 1);
  CHECK(plan->outputs[0].name == "y");
  // The reshape output views the add's bytes.
  CHECK(&plan->storage(plan->outputs[0].buffer) ==
        &plan->buffers[plan->kernels[3].result]);

  std::vector<const Buffer *> arena;
  for (const Buffer &b : plan->buffers)
    if (b.kind == BufferKind::Arena && b.aliasOf < 0)
      arena.push_back(&b);
  REQUIRE(arena.size() == 4);
  for (size_t i = 0; i < arena.size(); ++i)
    for (size_t j = i + 1; j < arena.size(); ++j) {
      const Buffer &a = *arena[i], &b = *arena[j];
      bool liveTogether = a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;
      bool overlap =
          a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      CHECK_FALSE((liveTogether && overlap));
    }
  // matmul (live to the end), relu (dead after tanh), tanh, add: relu's slot
  // is reused, so three 128-byte buffers are enough.
  CHECK(plan->arenaBytes == 3 * 128);
}

TEST_CASE("dense weights are packed into zero-padded column panels", "[plan]") {
  // W = [[0, 1, 2], [3, 4, 5]] (K = 2, N = 3), panels of 2 columns:
  // panel 0 = [[0, 1], [3, 4]], panel 1 = [[2, pad], [5, pad]].
  std::vector<float> w = {0, 1, 2, 3, 4, 5};
  llvm::ArrayRef<char> bytes(reinterpret_cast<const char *>(w.data()), 24);
  std::vector<char> packed = packPanels(bytes, 2, 3, 2);
  REQUIRE(packed.size() == 2 * 2 * 2 * 4);
  std::vector<float> got(8);
  std::memcpy(got.data(), packed.data(), packed.size());
  CHECK(got == std::vector<float>{0, 1, 3, 4, 2, 0, 5, 0});
}
