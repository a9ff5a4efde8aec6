//===- VerifyConstantIndices.cpp - the loom-verify-constant-indices pass --===//
//
// An element access whose index is a constant outside its dimension reads
// or writes memory that is not the tensor's: after bufferization it is a
// plain load or store at that address, so the compiled library would read
// garbage or corrupt its caller's memory instead of failing. Upstream
// verifiers check static slices (tensor.extract_slice) but not single
// elements; this pass, first in both pipelines, does.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/TypeSwitch.h"

#define DEBUG_TYPE "loom-verify-constant-indices"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMVERIFYCONSTANTINDICESPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

/// Reports the first constant index of `op` outside its dim of `type`
/// (negative, or at least a static size).
LogicalResult checkIndices(Operation *op, ShapedType type, ValueRange indices,
                           StringRef access) {
  for (auto [dim, index] : llvm::enumerate(indices)) {
    std::optional<int64_t> value = getConstantIntValue(index);
    if (!value)
      continue;
    bool negative = *value < 0;
    bool past = !type.isDynamicDim(dim) && *value >= type.getDimSize(dim);
    if (!negative && !past)
      continue;
    InFlightDiagnostic diag = op->emitError()
                              << "index " << *value << " of dimension " << dim
                              << " is out of bounds";
    if (past)
      diag << " (size " << type.getDimSize(dim) << ")";
    diag << ": the compiled code would " << access
         << " memory outside the " << (isa<TensorType>(type) ? "tensor" : "memref");
    return failure();
  }
  return success();
}

struct LoomVerifyConstantIndicesPass
    : loom::impl::LoomVerifyConstantIndicesPassBase<
          LoomVerifyConstantIndicesPass> {
  void runOnOperation() override {
    bool failed = false;
    getOperation()->walk([&](Operation *op) {
      LogicalResult result =
          TypeSwitch<Operation *, LogicalResult>(op)
              .Case([](tensor::ExtractOp e) {
                return checkIndices(e, e.getTensor().getType(), e.getIndices(),
                                    "read");
              })
              .Case([](tensor::InsertOp i) {
                return checkIndices(i, i.getDest().getType(), i.getIndices(),
                                    "write");
              })
              .Case([](memref::LoadOp l) {
                return checkIndices(l, l.getMemRefType(), l.getIndices(),
                                    "read");
              })
              .Case([](memref::StoreOp s) {
                return checkIndices(s, s.getMemRefType(), s.getIndices(),
                                    "write");
              })
              .Default([](Operation *) { return success(); });
      failed |= mlir::failed(result);
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
