//===- ConvertLinalgToVector.cpp - the convert-linalg-to-vector pass ------===//

#include "Kernels/ElementwiseKernels.h"
#include "loom/Target/CPU/CachedScratch.h"
#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "convert-linalg-to-vector"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLINALGTOVECTORPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Polynomial approximations of the math ops the kernels created, and of
/// any scalar erf (LLVM has no erf to lower it to).
void approximateMath(func::FuncOp func, SmallVectorImpl<Operation *> &mathOps) {
  func.walk([&](math::ErfOp op) { mathOps.push_back(op); });
  if (mathOps.empty())
    return;
  RewritePatternSet patterns(func.getContext());
  kernel::populateFastErfPattern(patterns);
  populateMathPolynomialApproximationPatterns(
      patterns, [](StringRef name) {
        return llvm::is_contained({"math.exp", "math.expm1",
                                   "math.tanh", "math.log", "math.log1p",
                                   "math.log2"},
                                  name);
      });
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(mathOps, std::move(patterns), config);
}

/// A buffer the function returns through a reshape of its own shape (a
/// Linear's [B·L, N] result expanded back to [B, L, N]) is allocated in the
/// returned shape instead, and the function writes it through the inverse
/// reshape: the result is then the allocation itself, which
/// buffer-results-to-out-params turns into the caller's buffer, where
/// otherwise the result would be copied there at the end of every call.
void allocateReturnedShapes(func::FuncOp func) {
  func.walk([](func::ReturnOp ret) {
    for (OpOperand &operand : ret->getOpOperands()) {
      Operation *reshape = operand.get().getDefiningOp();
      if (!isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp>(
              reshape))
        continue;
      auto alloc = reshape->getOperand(0).getDefiningOp<memref::AllocOp>();
      auto returned = cast<MemRefType>(operand.get().getType());
      if (!alloc || alloc->getBlock() != ret->getBlock() ||
          !alloc.getDynamicSizes().empty() || !returned.hasStaticShape() ||
          !returned.getLayout().isIdentity() ||
          !alloc.getType().getLayout().isIdentity())
        continue;
      OpBuilder b(alloc);
      auto whole = memref::AllocOp::create(b, alloc.getLoc(), returned,
                                           alloc.getAlignmentAttr());
      Value view;
      if (auto expand = dyn_cast<memref::ExpandShapeOp>(reshape))
        view = memref::CollapseShapeOp::create(
            b, alloc.getLoc(), alloc.getType(), whole,
            expand.getReassociationIndices());
      else
        view = memref::ExpandShapeOp::create(
            b, alloc.getLoc(), alloc.getType(), whole,
            cast<memref::CollapseShapeOp>(reshape).getReassociationIndices());
      alloc.getResult().replaceAllUsesWith(view);
      alloc.erase();
      operand.set(whole);
      if (reshape->use_empty())
        reshape->erase();
    }
  });
}

/// A temporary of the function and the top-level ops (by position in the
/// function's block) from its first to its last use.
struct Temporary {
  memref::AllocOp alloc;
  int64_t bytes = 0, first = 0, last = 0, offset = 0;
};

/// The live range of `alloc` over the ops of `body`, through every view of
/// it, or std::nullopt when the buffer may outlive them or be aliased by
/// something that is not a view: a return, a yield, a call, a dealloc, or
/// any op with memref results that is not a view of it.
std::optional<std::pair<int64_t, int64_t>>
liveRange(memref::AllocOp alloc, Block &body,
          const DenseMap<Operation *, int64_t> &position) {
  int64_t first = std::numeric_limits<int64_t>::max(), last = -1;
  SmallVector<Value> worklist{alloc.getResult()};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top)
        return std::nullopt;
      int64_t p = position.lookup(top);
      first = std::min(first, p);
      last = std::max(last, p);
      auto view = dyn_cast<ViewLikeOpInterface>(user);
      if (view && view.getViewSource() == v) {
        llvm::append_range(worklist, user->getResults());
        continue;
      }
      if (user->hasTrait<OpTrait::IsTerminator>() ||
          isa<memref::DeallocOp, CallOpInterface>(user) ||
          llvm::any_of(user->getResultTypes(),
                       llvm::IsaPred<BaseMemRefType>))
        return std::nullopt;
    }
  }
  if (last < 0)
    return std::nullopt;
  return std::make_pair(first, last);
}

/// The temporaries of `func` as views of one arena (docs/dense.md): each
/// gets the lowest offset whose bytes no temporary live at the same time
/// uses, largest first. The arena is kept across calls by
/// loom-cache-scratch.
void planTemporaries(func::FuncOp func, int64_t minBytes) {
  constexpr int64_t kAlign = 64;
  if (minBytes <= 0 || !func.getBody().hasOneBlock())
    return;
  Block &body = func.getBody().front();
  DenseMap<Operation *, int64_t> position;
  for (Operation &op : body)
    position[&op] = position.size();
  SmallVector<Temporary> temps;
  for (auto alloc : body.getOps<memref::AllocOp>()) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        type.getMemorySpace() || alloc->hasAttr(kCachedScratchAttr) ||
        !type.getElementType().isIntOrFloat() ||
        alloc.getAlignment().value_or(1) > kAlign)
      continue;
    int64_t bytes =
        type.getNumElements() *
        llvm::divideCeil(type.getElementType().getIntOrFloatBitWidth(), 8);
    if (bytes < minBytes)
      continue;
    std::optional<std::pair<int64_t, int64_t>> range =
        liveRange(alloc, body, position);
    if (!range)
      continue;
    Temporary t;
    t.alloc = alloc;
    t.bytes = llvm::alignTo(bytes, kAlign);
    std::tie(t.first, t.last) = *range;
    temps.push_back(t);
  }
  if (temps.size() < 2)
    return;
  // Largest first, each at the lowest offset clear of the temporaries
  // placed so far that are live at the same time.
  llvm::stable_sort(temps, [](const Temporary &a, const Temporary &b) {
    return a.bytes > b.bytes;
  });
  int64_t total = 0;
  for (size_t i = 0; i < temps.size(); ++i) {
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (size_t j = 0; j < i; ++j)
      if (temps[j].first <= temps[i].last && temps[i].first <= temps[j].last)
        taken.push_back({temps[j].offset, temps[j].offset + temps[j].bytes});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [lo, hi] : taken) {
      if (offset + temps[i].bytes <= lo)
        break;
      offset = std::max(offset, hi);
    }
    temps[i].offset = offset;
    total = std::max(total, offset + temps[i].bytes);
  }
  int64_t sum = 0;
  for (const Temporary &t : temps)
    sum += t.bytes;
  LDBG() << "@" << func.getName() << ": " << temps.size()
         << " temporaries of " << sum << " bytes in an arena of " << total;
  OpBuilder b(func.getContext());
  b.setInsertionPointToStart(&body);
  Location loc = func.getLoc();
  auto arena = memref::AllocOp::create(
      b, loc, MemRefType::get({total}, b.getI8Type()),
      b.getI64IntegerAttr(4096));
  arena->setAttr(kCachedScratchAttr, b.getUnitAttr());
  for (Temporary &t : temps) {
    b.setInsertionPoint(t.alloc);
    Value offset = arith::ConstantIndexOp::create(b, t.alloc.getLoc(), t.offset);
    Value view = memref::ViewOp::create(b, t.alloc.getLoc(), t.alloc.getType(),
                                        arena, offset, ValueRange{});
    t.alloc.getResult().replaceAllUsesWith(view);
    t.alloc.erase();
  }
}

struct ConvertLinalgToVectorPass
    : loom::impl::ConvertLinalgToVectorPassBase<ConvertLinalgToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    FailureOr<CpuTargetDescription> cpu =
        CpuTargetDescription::parseOption(target, func,
                                          "convert-linalg-to-vector");
    if (failed(cpu))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    // Bufferizing an scf.forall leaves a copy of each tile onto itself
    // (through a second, identical view).
    func.walk([&](memref::CopyOp copy) {
      if (kernel::sameBuffer(copy.getSource(), copy.getTarget()))
        rewriter.eraseOp(copy);
    });
    allocateReturnedShapes(func);
    SmallVector<Operation *> mathOps;
    if (failed(lowerContractionsToVector(rewriter, func, *cpu, mathOps)) ||
        failed(vectorizeElementwiseOps(rewriter, func, *cpu, mathOps)))
      return signalPassFailure();
    approximateMath(func, mathOps);
    planTemporaries(func, arenaMinBytes);
  }
};

} // namespace
