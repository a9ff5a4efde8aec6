//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//
#ifndef LOOM_TARGET_CPU_PASSES_H
#define LOOM_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::loom {

/// The artifact-internal function that returns the thread count to use.
inline constexpr const char *kThreadCountFunction = "loom_thread_count";

#define GEN_PASS_DECL
#include "loom/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "loom/Target/CPU/Passes.h.inc"

} // namespace mlir::loom

#endif // LOOM_TARGET_CPU_PASSES_H
