//===- CanaoDialect.cpp - canao dialect registration ----------------------===//
#include "Canao/CanaoDialect.h"
#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"

#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace canao;

#include "Canao/CanaoDialect.cpp.inc"

void CanaoDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Canao/CanaoOps.cpp.inc"
      >();
}

Operation *CanaoDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

size_t canao::elementByteSize(Type type) {
  if (type.isInteger(1))
    return 1;
  return type.getIntOrFloatBitWidth() / 8;
}

std::vector<char> canao::constantBytes(ElementsAttr attr) {
  size_t elemSize = elementByteSize(attr.getElementType());
  size_t total = static_cast<size_t>(attr.getNumElements()) * elemSize;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != total)
      return {};
    ArrayRef<char> data = blob->getData();
    return std::vector<char>(data.begin(), data.end());
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return {};
  std::vector<char> out(total);
  if (attr.getElementType().isInteger(1)) {
    size_t i = 0;
    for (bool b : dense.getValues<bool>())
      out[i++] = b ? 1 : 0;
    return out;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (size_t off = 0; off < total; off += elemSize)
      std::memcpy(out.data() + off, raw.data(), elemSize);
  } else {
    std::memcpy(out.data(), raw.data(), total);
  }
  return out;
}

ElementsAttr canao::makeConstant(ShapedType type, ArrayRef<char> bytes,
                                 StringRef nameHint) {
  // Keep small constants inline so lit tests and --emit=mlir stay readable.
  constexpr size_t kInlineLimit = 256;
  if (bytes.size() <= kInlineLimit || type.getElementType().isInteger(1)) {
    if (type.getElementType().isInteger(1)) {
      SmallVector<bool> values(bytes.begin(), bytes.end());
      return DenseElementsAttr::get(type, values);
    }
    bool detectedSplat = false;
    if (DenseElementsAttr::isValidRawBuffer(type, bytes, detectedSplat))
      return DenseElementsAttr::getFromRawBuffer(type, bytes);
  }
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      bytes, alignof(int64_t), /*dataIsMutable=*/false);
  return DenseResourceElementsAttr::get(type, nameHint, std::move(blob));
}

ElementsAttr canao::reshapeConstant(ElementsAttr attr, ShapedType type) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    return DenseResourceElementsAttr::get(type, resource.getRawHandle());
  return cast<DenseElementsAttr>(attr).reshape(type);
}

std::vector<char> canao::transposeBytes(ArrayRef<char> bytes,
                                        ArrayRef<int64_t> shape,
                                        ArrayRef<int64_t> perm,
                                        size_t elementSize) {
  size_t rank = shape.size();
  SmallVector<int64_t> inStrides(rank, 1), outShape(rank);
  for (int64_t i = static_cast<int64_t>(rank) - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * shape[i + 1];
  for (size_t i = 0; i < rank; ++i)
    outShape[i] = shape[perm[i]];
  std::vector<char> out(bytes.size());
  SmallVector<int64_t> index(rank, 0);
  size_t count = bytes.size() / elementSize;
  for (size_t n = 0; n < count; ++n) {
    int64_t src = 0;
    for (size_t i = 0; i < rank; ++i)
      src += index[i] * inStrides[perm[i]];
    std::memcpy(out.data() + n * elementSize, bytes.data() + src * elementSize,
                elementSize);
    for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i) {
      if (++index[i] < outShape[i])
        break;
      index[i] = 0;
    }
  }
  return out;
}
