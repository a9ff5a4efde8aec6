//===- BindOpenMPThreads.cpp - the loom-bind-openmp-threads pass ----------===//

#include "loom/Target/CPU/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMBINDOPENMPTHREADSPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {
struct LoomBindOpenMPThreadsPass
    : loom::impl::LoomBindOpenMPThreadsPassBase<LoomBindOpenMPThreadsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<omp::ParallelOp> regions;
    module.walk([&](omp::ParallelOp op) {
      if (!op.getNumThreads())
        regions.push_back(op);
    });
    module.walk([&](omp::WsloopOp loop) {
      // Guided, not dynamic: libomp's dynamic schedule calls
      // __kmpc_dispatch_next once per work item (about 1.4 us each with
      // Debian's libomp, which formats a string in it), while guided hands
      // out shrinking chunks, about 2 * threads * ln(items) calls per loop,
      // and still balances uneven items at the end.
      if (!loop.getScheduleKind())
        loop.setScheduleKind(omp::ClauseScheduleKind::Guided);
    });
    if (regions.empty())
      return;

    OpBuilder b(&getContext());
    Type i32 = b.getI32Type();
    auto fnType = LLVM::LLVMFunctionType::get(i32, {});
    auto callee = module.lookupSymbol<LLVM::LLVMFuncOp>(loom::kThreadCountFunction);
    if (!callee) {
      b.setInsertionPointToStart(module.getBody());
      callee = LLVM::LLVMFuncOp::create(b, module.getLoc(),
                                        loom::kThreadCountFunction, fnType);
    } else if (callee.getFunctionType() != fnType) {
      callee.emitError() << "'" << loom::kThreadCountFunction
                         << "' is reserved for Loom's runtime and must have "
                            "type () -> i32";
      return signalPassFailure();
    }
    for (omp::ParallelOp op : regions) {
      b.setInsertionPoint(op);
      Value count = LLVM::CallOp::create(b, op.getLoc(), callee, ValueRange{})
                        .getResult();
      op.getNumThreadsMutable().assign(count);
    }
  }
};
} // namespace
