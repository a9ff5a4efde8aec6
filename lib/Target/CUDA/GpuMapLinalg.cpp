//===- GpuMapLinalg.cpp - the loom-gpu-map-linalg pass --------------------===//
//
// Every linalg op left on the host after bufferization (elementwise ops,
// reductions, transposes, fills, copies) becomes one gpu.launch: the op's
// loops are interchanged so that the parallel ones come first, lowered to
// scf.for, and the parallel loops replaced by the thread's position in the
// flattened parallel space (innermost fastest, so neighbouring threads
// touch neighbouring elements of a row-major result). Reductions stay
// sequential inside the thread.
//
//===----------------------------------------------------------------------===//

#include "loom/Target/CUDA/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define DEBUG_TYPE "loom-gpu-map-linalg"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMGPUMAPLINALGPASS
#include "loom/Target/CUDA/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

bool insideKernel(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() != nullptr;
}

/// Puts the parallel loops of `op` first. Returns the op to lower (a
/// generic when loops had to move) and the number of leading parallel
/// loops.
FailureOr<std::pair<linalg::LinalgOp, unsigned>>
parallelFirst(RewriterBase &rewriter, linalg::LinalgOp op) {
  SmallVector<unsigned> order;
  unsigned parallel = 0;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (auto [d, it] : llvm::enumerate(iterators))
    if (it == utils::IteratorType::parallel)
      order.push_back(d), ++parallel;
  for (auto [d, it] : llvm::enumerate(iterators))
    if (it != utils::IteratorType::parallel)
      order.push_back(d);
  bool identity = llvm::all_of(llvm::enumerate(order), [](auto p) {
    return p.index() == p.value();
  });
  if (identity)
    return std::make_pair(op, parallel);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, op);
    if (failed(g))
      return failure();
    generic = *g;
  }
  FailureOr<linalg::GenericOp> moved =
      linalg::interchangeGenericOp(rewriter, generic, order);
  if (failed(moved))
    return failure();
  return std::make_pair(cast<linalg::LinalgOp>(moved->getOperation()),
                        parallel);
}

LogicalResult mapToKernel(RewriterBase &rewriter, linalg::LinalgOp op,
                          int64_t threads) {
  if (!op.hasPureBufferSemantics())
    return op.emitOpError("must work on buffers when it is mapped to the GPU");
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return op.emitOpError("needs static loop ranges to run on the GPU");
  rewriter.setInsertionPoint(op);
  FailureOr<std::pair<linalg::LinalgOp, unsigned>> moved =
      parallelFirst(rewriter, op);
  if (failed(moved))
    return op.emitOpError("cannot put its parallel loops first");
  auto [target, parallel] = *moved;
  ranges = target.getStaticLoopRanges();
  int64_t points = 1;
  for (unsigned d = 0; d < parallel; ++d)
    points *= ranges[d];
  if (points == 0) {
    rewriter.eraseOp(target);
    return success();
  }

  ImplicitLocOpBuilder b(target.getLoc(), rewriter);
  auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  int64_t blockThreads = std::min(threads, points);
  auto launch = gpu::LaunchOp::create(
      b, cst((points + blockThreads - 1) / blockThreads), cst(1), cst(1),
      cst(blockThreads), cst(1), cst(1));
  StringRef name = target->getName().stripDialect();
  launch.setFunctionAttr(FlatSymbolRefAttr::get(
      b.getContext(), ("linalg_" + name.str()).c_str()));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value linear = arith::AddIOp::create(
        b, arith::MulIOp::create(b, launch.getBlockIds().x, cst(blockThreads)),
        launch.getThreadIds().x);
    Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear,
                                          cst(points));
    auto guardIf = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
    gpu::TerminatorOp::create(b);
    b.setInsertionPointToStart(guardIf.thenBlock());
    // The point's coordinates, innermost fastest.
    SmallVector<Value> ivs(parallel);
    Value rest = linear;
    for (int64_t d = static_cast<int64_t>(parallel) - 1; d >= 0; --d) {
      ivs[d] = d == 0 ? rest
                      : arith::RemUIOp::create(b, rest, cst(ranges[d])).getResult();
      if (d > 0)
        rest = arith::DivUIOp::create(b, rest, cst(ranges[d]));
    }
    Operation *clone = b.clone(*target.getOperation());
    rewriter.setInsertionPoint(clone);
    FailureOr<linalg::LinalgLoops> loops =
        linalg::linalgOpToLoops(rewriter, cast<linalg::LinalgOp>(clone));
    if (failed(loops))
      return target.emitOpError("cannot be lowered to loops for the GPU");
    rewriter.eraseOp(clone);
    // Replace the parallel loops, outermost first, by the coordinates.
    for (unsigned d = 0; d < parallel; ++d) {
      auto loop = cast<scf::ForOp>((*loops)[d]);
      Block *body = loop.getBody();
      rewriter.eraseOp(body->getTerminator());
      rewriter.inlineBlockBefore(body, loop, ValueRange{ivs[d]});
      rewriter.eraseOp(loop);
    }
  }
  rewriter.eraseOp(target);
  return success();
}

/// Whether `op` reads or writes memory (a buffer the host cannot touch).
bool touchesMemory(Operation *op) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> list;
  effects.getEffects(list);
  return llvm::any_of(list, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect());
  });
}

struct LoomGpuMapLinalgPass
    : loom::impl::LoomGpuMapLinalgPassBase<LoomGpuMapLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (threads < 32 || threads > 1024) {
      func.emitError() << "loom-gpu-map-linalg: threads must be 32..1024";
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) {
      if (!insideKernel(copy))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    }
    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (!insideKernel(op))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      if (failed(mapToKernel(rewriter, op, threads)))
        return signalPassFailure();

    // Nothing on the host may touch a buffer: they are device pointers.
    bool bad = false;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (touchesMemory(op)) {
        op->emitError() << "'" << op->getName()
                        << "' would access device memory from the host; "
                           "--target=cuda runs loom ops, linalg ops and "
                           "copies as GPU kernels, and nothing else that "
                           "reads or writes a tensor";
        bad = true;
      }
      return WalkResult::advance();
    });
    if (bad)
      signalPassFailure();
  }
};

} // namespace
