//===- CanaoDialect.h - canao dialect ---------------------------*- C++ -*-===//
#ifndef CANAO_DIALECT_CANAODIALECT_H
#define CANAO_DIALECT_CANAODIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dialect.h"

#include "Canao/CanaoDialect.h.inc"

#endif // CANAO_DIALECT_CANAODIALECT_H
