//===- Passes.h - CUDA target passes ----------------------------*- C++ -*-===//
#ifndef LOOM_TARGET_CUDA_PASSES_H
#define LOOM_TARGET_CUDA_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::loom {

/// The gpu.module every Loom kernel is outlined into.
inline constexpr const char *kKernelModuleName = "loom_kernels";

#define GEN_PASS_DECL
#include "loom/Target/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "loom/Target/CUDA/Passes.h.inc"

} // namespace mlir::loom

#endif // LOOM_TARGET_CUDA_PASSES_H
