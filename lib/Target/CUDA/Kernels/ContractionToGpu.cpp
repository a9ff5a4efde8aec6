//===- ContractionToGpu.cpp - dense contractions as GEMM kernels ----------===//
//
// linalg.matmul (any operand transposed through its indexing maps, as the
// frontend's Linear layers emit it), linalg.batch_matmul and matmul-like
// linalg.generic ops: one m, one n and one k loop, any number of batch
// loops, f32 multiply-add bodies. Each operand is a contiguous row-major
// buffer, so the stride of a loop in an operand is the stride of the
// dimension its indexing map sends the loop to (0 when it does not appear:
// a broadcast). An init that is a zero fill is dropped; any other init is
// added in the GEMM's epilogue. Everything else is left to
// loom-gpu-map-linalg.
//
//===----------------------------------------------------------------------===//

#include "Kernels/GpuKernelBuilders.h"
#include "Kernels/Kernels.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::cuda;

namespace {

/// The stride, in `operand`'s row-major layout, of loop `dim`, or 0.
int64_t loopStride(AffineMap map, RankedTensorType type, unsigned dim) {
  int64_t stride = 1;
  for (int64_t r = map.getNumResults() - 1; r >= 0; --r) {
    if (map.getDimPosition(r) == dim)
      return stride;
    stride *= type.getDimSize(r);
  }
  return 0;
}

bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  std::optional<double> v;
  if (auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>())
    if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
      v = f.getValueAsDouble();
  return v && *v == 0.0;
}

struct ContractionToGpu : OpInterfaceRewritePattern<linalg::LinalgOp> {
  ContractionToGpu(MLIRContext *ctx, const CudaTargetDescription &target)
      : OpInterfaceRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a two-operand contraction");
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
        return rewriter.notifyMatchFailure(op, "needs static f32 tensors");
    }
    Block &body = op->getRegion(0).front();
    for (Operation &inner : body.without_terminator())
      if (!isa<arith::MulFOp, arith::AddFOp>(inner))
        return rewriter.notifyMatchFailure(op, "not an f32 multiply-add");
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(op);
    if (failed(dims) || dims->m.empty() || dims->n.empty() ||
        dims->k.size() != 1)
      return rewriter.notifyMatchFailure(op, "needs m, n loops and one k loop");

    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    Value aT = op.getDpsInputs()[0], bT = op.getDpsInputs()[1];
    Value initT = op.getDpsInits()[0];
    auto aType = cast<RankedTensorType>(aT.getType());
    auto bType = cast<RankedTensorType>(bT.getType());
    auto cType = cast<RankedTensorType>(initT.getType());
    // With several m (or n) loops, the one nearest C's contiguous end is the
    // matrix's and the others are batch loops whose stride is 0 in the
    // operand that does not read them: a projection written head-major,
    // y[b, h, l, e] = sum_k x[b, l, k] * W[h, e, k], is a batch of (b, h)
    // GEMMs (m = l, n = e).
    auto innermost = [&](ArrayRef<unsigned> candidates) {
      unsigned best = candidates.front();
      for (unsigned d : candidates)
        if (loopStride(maps[2], cType, d) < loopStride(maps[2], cType, best))
          best = d;
      return best;
    };
    unsigned m = innermost(dims->m), n = innermost(dims->n), k = dims->k[0];
    SmallVector<unsigned> batch(dims->batch.begin(), dims->batch.end());
    for (unsigned d : llvm::concat<const unsigned>(dims->m, dims->n))
      if (d != m && d != n)
        batch.push_back(d);

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    if (cType.getNumElements() == 0 || ranges[k] == 0) {
      // Nothing to add: the result is its init.
      rewriter.replaceOp(op, initT);
      return success();
    }
    bool zeroInit = isZeroFill(initT);
    GemmProblem g;
    g.m = ranges[m];
    g.n = ranges[n];
    g.k = ranges[k];
    auto matrix = [&](Value flat, AffineMap map, RankedTensorType type,
                      unsigned row, unsigned col) {
      StridedMatrix s;
      s.flat = flat;
      for (unsigned d : batch)
        s.batchStrides.push_back(loopStride(map, type, d));
      s.rowStride = loopStride(map, type, row);
      s.colStride = loopStride(map, type, col);
      return s;
    };
    for (unsigned d : batch)
      g.batch.push_back(ranges[d]);
    g.a = matrix(flatView(b, tensorAsBuffer(b, aT)), maps[0], aType, m, k);
    g.b = matrix(flatView(b, tensorAsBuffer(b, bT)), maps[1], bType, k, n);
    Value out = allocBuffer(b, cType.getShape());
    g.c = matrix(flatView(b, out), maps[2], cType, m, n);
    if (!zeroInit)
      g.init = matrix(flatView(b, tensorAsBuffer(b, initT)), maps[2], cType, m,
                      n);
    buildGemmKernel(b, g, target, "matmul");
    rewriter.replaceOp(op, bufferAsTensor(b, out));
    return success();
  }

  CudaTargetDescription target;
};

} // namespace

void cuda::populateContractionToGpuPatterns(
    RewritePatternSet &patterns, const CudaTargetDescription &target) {
  patterns.add<ContractionToGpu>(patterns.getContext(), target);
}
