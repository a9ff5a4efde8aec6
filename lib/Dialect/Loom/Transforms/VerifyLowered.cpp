//===- VerifyLowered.cpp - the loom-verify-lowered pass --------------------===//
//
// The last check of a pipeline: everything left must translate to LLVM IR.
// Without it an op no pass lowers surfaced as a translation error at the
// enclosing function (or not at all from loom-opt).
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMVERIFYLOWEREDPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

struct LoomVerifyLoweredPass
    : loom::impl::LoomVerifyLoweredPassBase<LoomVerifyLoweredPass> {
  using Base::Base;

  void runOnOperation() override {
    Operation *root = getOperation();
    // One error per op kind: a model with a hundred unsupported ops of one
    // kind needs one message. The casts a type conversion leaves around an
    // unsupported op follow from it: they are reported only when nothing
    // else is.
    llvm::StringSet<> reported;
    SmallVector<UnrealizedConversionCastOp> casts;
    root->walk([&](Operation *op) {
      StringRef dialect = op->getName().getDialectNamespace();
      if (op == root || dialect == "llvm" || dialect == "omp" ||
          dialect == "nvvm")
        return;
      if (auto cast = dyn_cast<UnrealizedConversionCastOp>(op)) {
        casts.push_back(cast);
        return;
      }
      StringRef name = op->getName().getStringRef();
      if (reported.insert(name).second)
        op->emitError() << "'" << name
                        << "' is not supported by this target: " << pipeline
                        << " has no lowering for it";
    });
    if (!reported.empty())
      return signalPassFailure();
    if (casts.empty())
      return;
    UnrealizedConversionCastOp cast = casts.front();
    InFlightDiagnostic diag =
        cast.emitError()
        << pipeline
        << " could not convert every value to an LLVM type: a cast from ";
    llvm::interleaveComma(cast.getOperandTypes(), diag);
    diag << " to ";
    llvm::interleaveComma(cast.getResultTypes(), diag);
    diag << " is left (a type or layout the target does not support)";
    signalPassFailure();
  }
};

} // namespace
