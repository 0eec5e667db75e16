//===- ModelMutator.h - structure-aware mutations of ONNX models -*- C++
//-*-===//
//
// Byte flips rarely get past protobuf parsing to the importer's interesting
// checks; these mutations keep the file a valid ModelProto and change what
// the importer reasons about: dims, dtypes, attributes, raw_data lengths,
// node wiring, op types and opsets.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_TESTS_FUZZ_MODELMUTATOR_H
#define CANAO_TESTS_FUZZ_MODELMUTATOR_H

#include <cstdint>
#include <random>
#include <string>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace canao::fuzz {

/// Applies one random structural mutation to `model`. Returns its name (for
/// the mutation statistics), or nullptr if nothing applied (an empty graph).
const char *mutateModel(onnx::ModelProto &model, std::mt19937_64 &rng);

} // namespace canao::fuzz

#endif // CANAO_TESTS_FUZZ_MODELMUTATOR_H
