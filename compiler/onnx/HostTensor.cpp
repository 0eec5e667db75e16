//===- HostTensor.cpp - compile-time tensor evaluation --------------------===//
#include "onnx/HostTensor.h"
#include "Canao/ShapeUtils.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace canao;

const char *canao::dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "float32";
  case DType::I64:
    return "int64";
  case DType::I32:
    return "int32";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

size_t canao::dtypeSize(DType t) {
  switch (t) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I64:
    return 8;
  case DType::Bool:
    return 1;
  }
  return 0;
}

int64_t HostTensor::numElements() const { return canao::numElements(shape); }

double canao::roundTo(DType dtype, double v) {
  switch (dtype) {
  case DType::F32:
    return static_cast<double>(static_cast<float>(v));
  case DType::Bool:
    return v != 0 ? 1 : 0;
  case DType::I32:
  case DType::I64: {
    if (std::isnan(v))
      return 0;
    // Slice ends are often INT64_MAX; saturate instead of overflowing.
    double lim = dtype == DType::I32 ? 2147483647.0 : 9.2233720368547748e18;
    return std::trunc(std::max(-lim, std::min(lim, v)));
  }
  }
  return v;
}

std::vector<double> HostTensor::toDoubles() const {
  if (raw.empty())
    return values;
  int64_t n = numElements();
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    const char *p = raw.data() + i * dtypeSize(dtype);
    switch (dtype) {
    case DType::F32: {
      float f;
      std::memcpy(&f, p, 4);
      out[i] = f;
      break;
    }
    case DType::I64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      out[i] = static_cast<double>(v);
      break;
    }
    case DType::I32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      out[i] = v;
      break;
    }
    case DType::Bool:
      out[i] = *p ? 1 : 0;
      break;
    }
  }
  return out;
}

std::vector<int64_t> HostTensor::toInts() const {
  if (!raw.empty() && dtype == DType::I64) {
    std::vector<int64_t> out(numElements());
    std::memcpy(out.data(), raw.data(), out.size() * 8);
    return out;
  }
  std::vector<int64_t> out;
  for (double v : toDoubles())
    out.push_back(static_cast<int64_t>(roundTo(DType::I64, v)));
  return out;
}

std::vector<char> HostTensor::toBytes() const {
  if (!raw.empty())
    return std::vector<char>(raw.begin(), raw.end());
  size_t es = dtypeSize(dtype);
  std::vector<char> out(values.size() * es);
  for (size_t i = 0; i < values.size(); ++i) {
    char *p = out.data() + i * es;
    double v = values[i];
    switch (dtype) {
    case DType::F32: {
      float f = static_cast<float>(v);
      std::memcpy(p, &f, 4);
      break;
    }
    case DType::I64: {
      int64_t x = static_cast<int64_t>(roundTo(DType::I64, v));
      if (v >= 9.2233720368547748e18)
        x = std::numeric_limits<int64_t>::max();
      std::memcpy(p, &x, 8);
      break;
    }
    case DType::I32: {
      int32_t x = static_cast<int32_t>(roundTo(DType::I32, v));
      std::memcpy(p, &x, 4);
      break;
    }
    case DType::Bool:
      *p = v != 0 ? 1 : 0;
      break;
    }
  }
  return out;
}

HostTensor HostTensor::fromValues(DType dtype, llvm::ArrayRef<int64_t> shape,
                                  std::vector<double> values) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  for (double &v : values)
    v = roundTo(dtype, v);
  t.values = std::move(values);
  return t;
}

/// Calls `fn(outIndex, inputOffsets)` for every element of `outShape`.
template <typename Fn>
static void forEachBroadcast(llvm::ArrayRef<const HostTensor *> inputs,
                             llvm::ArrayRef<int64_t> outShape, Fn fn) {
  size_t rank = outShape.size();
  std::vector<llvm::SmallVector<int64_t>> strides;
  for (const HostTensor *t : inputs)
    strides.push_back(broadcastStrides(t->shape, outShape));
  llvm::SmallVector<int64_t> index(rank, 0);
  llvm::SmallVector<int64_t> offsets(inputs.size(), 0);
  int64_t n = numElements(outShape);
  for (int64_t e = 0; e < n; ++e) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t off = 0;
      for (size_t i = 0; i < rank; ++i)
        off += index[i] * strides[k][i];
      offsets[k] = off;
    }
    fn(e, offsets);
    for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i) {
      if (++index[i] < outShape[i])
        break;
      index[i] = 0;
    }
  }
}

HostTensor
canao::evalElementwise(llvm::ArrayRef<const HostTensor *> inputs, DType outType,
                       llvm::ArrayRef<int64_t> outShape,
                       llvm::function_ref<double(const double *)> fn) {
  std::vector<std::vector<double>> vals;
  for (const HostTensor *t : inputs)
    vals.push_back(t->toDoubles());
  std::vector<double> out(numElements(outShape));
  llvm::SmallVector<double> args(inputs.size());
  forEachBroadcast(inputs, outShape,
                   [&](int64_t e, llvm::ArrayRef<int64_t> offsets) {
                     for (size_t k = 0; k < inputs.size(); ++k)
                       args[k] = vals[k][offsets[k]];
                     out[e] = fn(args.data());
                   });
  return HostTensor::fromValues(outType, outShape, std::move(out));
}

HostTensor canao::evalGather(const HostTensor &data, const HostTensor &indices,
                             int64_t axis, llvm::ArrayRef<int64_t> outShape) {
  std::vector<double> d = data.toDoubles();
  std::vector<int64_t> idx = indices.toInts();
  int64_t outer =
      numElements(llvm::ArrayRef<int64_t>(data.shape).take_front(axis));
  int64_t inner =
      numElements(llvm::ArrayRef<int64_t>(data.shape).drop_front(axis + 1));
  int64_t dim = data.shape[axis];
  std::vector<double> out;
  out.reserve(numElements(outShape));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx) {
      int64_t j = i < 0 ? i + dim : i; // range checked by the caller
      for (int64_t k = 0; k < inner; ++k)
        out.push_back(d[(o * dim + j) * inner + k]);
    }
  return HostTensor::fromValues(data.dtype, outShape, std::move(out));
}

HostTensor canao::evalSlice(const HostTensor &in,
                            llvm::ArrayRef<int64_t> starts,
                            llvm::ArrayRef<int64_t> steps,
                            llvm::ArrayRef<int64_t> outShape) {
  std::vector<double> d = in.toDoubles();
  size_t rank = in.shape.size();
  llvm::SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * in.shape[i + 1];
  std::vector<double> out(numElements(outShape));
  llvm::SmallVector<int64_t> index(rank, 0);
  for (size_t e = 0; e < out.size(); ++e) {
    int64_t off = 0;
    for (size_t i = 0; i < rank; ++i)
      off += (starts[i] + index[i] * steps[i]) * inStrides[i];
    out[e] = d[off];
    for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i) {
      if (++index[i] < outShape[i])
        break;
      index[i] = 0;
    }
  }
  return HostTensor::fromValues(in.dtype, outShape, std::move(out));
}

HostTensor canao::evalConcat(llvm::ArrayRef<const HostTensor *> inputs,
                             int64_t axis, llvm::ArrayRef<int64_t> outShape) {
  int64_t outer = numElements(outShape.take_front(axis));
  std::vector<double> out;
  out.reserve(numElements(outShape));
  std::vector<std::vector<double>> vals;
  for (const HostTensor *t : inputs)
    vals.push_back(t->toDoubles());
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t chunk = numElements(
          llvm::ArrayRef<int64_t>(inputs[k]->shape).drop_front(axis));
      out.insert(out.end(), vals[k].begin() + o * chunk,
                 vals[k].begin() + (o + 1) * chunk);
    }
  return HostTensor::fromValues(inputs.front()->dtype, outShape,
                                std::move(out));
}

HostTensor canao::evalTranspose(const HostTensor &in,
                                llvm::ArrayRef<int64_t> perm) {
  llvm::SmallVector<int64_t> outShape;
  llvm::SmallVector<int64_t> starts(in.shape.size(), 0), steps;
  for (int64_t p : perm)
    outShape.push_back(in.shape[p]);
  // A transpose is a slice over permuted strides.
  std::vector<double> d = in.toDoubles();
  size_t rank = in.shape.size();
  llvm::SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * in.shape[i + 1];
  std::vector<double> out(d.size());
  llvm::SmallVector<int64_t> index(rank, 0);
  for (size_t e = 0; e < out.size(); ++e) {
    int64_t off = 0;
    for (size_t i = 0; i < rank; ++i)
      off += index[i] * inStrides[perm[i]];
    out[e] = d[off];
    for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i) {
      if (++index[i] < outShape[i])
        break;
      index[i] = 0;
    }
  }
  return HostTensor::fromValues(in.dtype, outShape, std::move(out));
}
