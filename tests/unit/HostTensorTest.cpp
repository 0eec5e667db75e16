// Import-time evaluation of the exporter's shape plumbing.
#include "onnx/HostTensor.h"
#include "Canao/ShapeUtils.h"

#include <catch2/catch.hpp>

using namespace canao;

TEST_CASE("broadcastShapes follows NumPy", "[shape]") {
  auto s = broadcastShapes({2, 1, 4}, {3, 1});
  REQUIRE(s);
  CHECK(std::vector<int64_t>(s->begin(), s->end()) ==
        std::vector<int64_t>{2, 3, 4});
  CHECK_FALSE(broadcastShapes({2, 3}, {4}));
  auto strides = broadcastStrides({3, 1}, {2, 3, 4});
  CHECK(std::vector<int64_t>(strides.begin(), strides.end()) ==
        std::vector<int64_t>{0, 1, 0});
}

TEST_CASE("evalElementwise broadcasts and rounds to the dtype", "[host]") {
  HostTensor a = HostTensor::fromValues(DType::I64, {2, 1}, {10, 20});
  HostTensor b = HostTensor::fromValues(DType::I64, {3}, {1, 2, 3});
  std::vector<const HostTensor *> in = {&a, &b};
  HostTensor c = evalElementwise(in, DType::I64, {2, 3},
                                 [](const double *v) { return v[0] / v[1]; });
  // Integer division result is truncated by roundTo.
  CHECK(c.toInts() == std::vector<int64_t>{10, 5, 3, 20, 10, 6});
  HostTensor f = HostTensor::fromValues(DType::F32, {}, {0.1});
  CHECK(f.toDoubles()[0] == static_cast<double>(0.1f));
}

TEST_CASE("INT64_MAX slice ends survive the round trip", "[host]") {
  HostTensor t = HostTensor::fromValues(DType::I64, {1}, {9.3e18});
  CHECK(t.toInts()[0] > (int64_t(1) << 62));
  std::vector<char> bytes = t.toBytes();
  int64_t v;
  std::memcpy(&v, bytes.data(), 8);
  CHECK(v == INT64_MAX);
}

TEST_CASE("gather, slice, concat and transpose on host tensors", "[host]") {
  HostTensor data =
      HostTensor::fromValues(DType::F32, {3, 2}, {0, 1, 2, 3, 4, 5});
  HostTensor idx = HostTensor::fromValues(DType::I64, {2}, {2, -3});
  CHECK(evalGather(data, idx, 0, {2, 2}).toDoubles() ==
        std::vector<double>{4, 5, 0, 1});
  // Shape -> Gather(1) of a shape vector, as the exporter writes it.
  HostTensor shape = HostTensor::fromValues(DType::I64, {3}, {1, 128, 768});
  HostTensor one = HostTensor::fromValues(DType::I64, {}, {1});
  CHECK(evalGather(shape, one, 0, {}).toInts() == std::vector<int64_t>{128});
  CHECK(evalSlice(data, {1, 0}, {1, 1}, {2, 2}).toDoubles() ==
        std::vector<double>{2, 3, 4, 5});
  CHECK(evalSlice(data, {2, 1}, {-1, -1}, {3, 1}).toDoubles() ==
        std::vector<double>{5, 3, 1});
  std::vector<const HostTensor *> parts = {&data, &data};
  CHECK(evalConcat(parts, 1, {3, 4}).toDoubles() ==
        std::vector<double>{0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5});
  CHECK(evalTranspose(data, {1, 0}).toDoubles() ==
        std::vector<double>{0, 2, 4, 1, 3, 5});
}

TEST_CASE("raw views decode little-endian weights", "[host]") {
  float values[3] = {1.5f, -2.0f, 3.25f};
  HostTensor t;
  t.dtype = DType::F32;
  t.shape = {3};
  t.raw = llvm::ArrayRef<char>(reinterpret_cast<const char *>(values), 12);
  CHECK(t.toDoubles() == std::vector<double>{1.5, -2.0, 3.25});
  CHECK(t.toBytes().size() == 12);
}
