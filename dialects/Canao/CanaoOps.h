//===- CanaoOps.h - canao dialect ops ---------------------------*- C++ -*-===//
#ifndef CANAO_DIALECT_CANAOOPS_H
#define CANAO_DIALECT_CANAOOPS_H

#include "Canao/CanaoDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "Canao/CanaoOps.h.inc"

#endif // CANAO_DIALECT_CANAOOPS_H
