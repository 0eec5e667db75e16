// The runtime copied into every generated library: blobs, npy, checks.
#include "canao/runtime.h"
#include "canao/npy.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace canao_rt;

static std::vector<char> makeBlob(const std::vector<char> &payload) {
  std::vector<char> blob(kBlobHeaderBytes, 0);
  std::memcpy(blob.data(), kBlobMagic, 8);
  uint32_t version = kBlobVersion, header = kBlobHeaderBytes;
  uint64_t size = payload.size(), sum = checksum64(payload.data(), size);
  std::memcpy(&blob[8], &version, 4);
  std::memcpy(&blob[12], &header, 4);
  std::memcpy(&blob[16], &size, 8);
  std::memcpy(&blob[24], &sum, 8);
  blob.insert(blob.end(), payload.begin(), payload.end());
  return blob;
}

TEST_CASE("checksum64 sees every byte, tail included", "[runtime]") {
  std::vector<char> a(13, 7), b = a;
  b[12] = 8;
  CHECK(checksum64(a.data(), a.size()) != checksum64(b.data(), b.size()));
  b = a;
  b[0] = 8;
  CHECK(checksum64(a.data(), a.size()) != checksum64(b.data(), b.size()));
}

TEST_CASE("weight blobs are verified before use", "[runtime]") {
  std::vector<char> payload(100);
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i * 7);
  std::vector<char> blob = makeBlob(payload);
  uint64_t sum = checksum64(payload.data(), payload.size());
  ContextBase ok;
  CHECK(ok.use_blob(blob.data(), blob.size(), 100, sum, "blob") == CANAO_OK);
  CHECK(ok.weights() == blob.data() + kBlobHeaderBytes);

  ContextBase foreign;
  CHECK(foreign.use_blob(blob.data(), blob.size(), 100, sum + 1, "blob") ==
        CANAO_ERROR_WEIGHTS);
  CHECK(std::string(foreign.last_error()).find("another model") !=
        std::string::npos);

  std::vector<char> corrupt = blob;
  corrupt[kBlobHeaderBytes + 50] ^= 1;
  ContextBase bad;
  CHECK(bad.use_blob(corrupt.data(), corrupt.size(), 100, sum, "blob") ==
        CANAO_ERROR_WEIGHTS);
  CHECK(std::string(bad.last_error()).find("corrupt") != std::string::npos);

  ContextBase truncated;
  CHECK(truncated.use_blob(blob.data(), blob.size() - 1, 100, sum, "blob") ==
        CANAO_ERROR_WEIGHTS);
  ContextBase notBlob;
  CHECK(notBlob.use_blob(payload.data(), payload.size(), 100, sum, "blob") ==
        CANAO_ERROR_WEIGHTS);

  std::vector<char> future = blob;
  const uint32_t version = kBlobVersion + 1;
  std::memcpy(future.data() + 8, &version, 4);
  ContextBase newer;
  CHECK(newer.use_blob(future.data(), future.size(), 100, sum, "blob") ==
        CANAO_ERROR_WEIGHTS);
  CHECK(std::string(newer.last_error()).find("format version") !=
        std::string::npos);
  ContextBase null;
  CHECK(null.use_blob(nullptr, 0, 100, sum, "blob") == CANAO_ERROR_WEIGHTS);
}

TEST_CASE("tensor checks name the input, the expectation and the value",
          "[runtime]") {
  canao_tensor_info info[1] = {{"input_ids", CANAO_INT64, 2, {1, 128}}};
  int64_t data[128] = {};
  canao_tensor t = {CANAO_INT64, 2, {1, 128}, data};
  ContextBase ctx;
  CHECK(ctx.check_tensors(&t, 1, info, 1, "input") == CANAO_OK);
  t.dims[1] = 64;
  CHECK(ctx.check_tensors(&t, 1, info, 1, "input") == CANAO_ERROR_SHAPE);
  CHECK(std::string(ctx.last_error()) ==
        "input 'input_ids': expected shape [1x128], got [1x64]");
  t.dims[1] = 128;
  t.dtype = CANAO_INT32;
  CHECK(ctx.check_tensors(&t, 1, info, 1, "input") == CANAO_ERROR_DTYPE);
  CHECK(ctx.check_tensors(&t, 0, info, 1, "input") ==
        CANAO_ERROR_INVALID_ARGUMENT);
  t.dtype = CANAO_INT64;
  CHECK(ctx.check_tensors(nullptr, 1, info, 1, "input") ==
        CANAO_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(ctx.last_error()) == "inputs is null");
  t.data = nullptr;
  CHECK(ctx.check_tensors(&t, 1, info, 1, "input") ==
        CANAO_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(ctx.last_error()) == "input 'input_ids' has no data");
  // A rank beyond CANAO_MAX_RANK is a shape error, not a read past dims.
  t.data = data;
  t.rank = 1000;
  CHECK(ctx.check_tensors(&t, 1, info, 1, "input") == CANAO_ERROR_SHAPE);
}

TEST_CASE("a context admits one call at a time", "[runtime]") {
  canao_rt::ContextBase base;
  {
    canao_rt::ContextBase::Exclusive first(base);
    REQUIRE(first.held());
    canao_rt::ContextBase::Exclusive second(base);
    CHECK_FALSE(second.held());
    // The refused call leaves the holder's flag alone.
    canao_rt::ContextBase::Exclusive third(base);
    CHECK_FALSE(third.held());
  }
  canao_rt::ContextBase::Exclusive again(base);
  CHECK(again.held());
  CHECK(std::string(canao_status_name(CANAO_ERROR_BUSY)) ==
        "context busy on another thread");
  CHECK(std::string(canao_status_name(static_cast<canao_status>(99))) ==
        "unknown status");
}

TEST_CASE("npy files round-trip", "[npy]") {
  std::string path = "canao_npy_roundtrip_test.npy";
  int64_t dims[2] = {2, 3};
  float values[6] = {1, 2, 3, 4, 5, -6.5f};
  std::string err;
  REQUIRE(write_npy(path, CANAO_FLOAT32, dims, 2, values, err));
  NpyArray a;
  REQUIRE(read_npy(path, a, err));
  CHECK(a.dtype == CANAO_FLOAT32);
  CHECK(a.shape == std::vector<int64_t>{2, 3});
  REQUIRE(a.data.size() == sizeof values);
  CHECK(std::memcmp(a.data.data(), values, sizeof values) == 0);

  // A truncated file is an error, not a short read.
  std::FILE *f = std::fopen(path.c_str(), "r+b");
  REQUIRE(f);
  std::fclose(f);
  REQUIRE(write_npy(path, CANAO_FLOAT32, dims, 2, values, err));
  std::FILE *g = std::fopen(path.c_str(), "rb");
  std::vector<char> bytes(1000);
  size_t n = std::fread(bytes.data(), 1, bytes.size(), g);
  std::fclose(g);
  g = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, n - 4, g);
  std::fclose(g);
  CHECK_FALSE(read_npy(path, a, err));
  CHECK(err.find("truncated") != std::string::npos);
  std::remove(path.c_str());
}
