//===- FftConvToLoops.cpp - fft_conv as a direct convolution --------------===//
//
// The reference lowering of fft_conv: y[m, c, t] = sum_s kernel[c, s] *
// u[m, c, t - s], O(N^2) per channel. The circular form splits the sum at
// s = t so that no index needs a modulo: s <= t reads u[t - s], s > t reads
// u[t - s + N].
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

struct FftConvToLoops : OpRewritePattern<FftConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FftConvOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value u3d = collapseLeadingDims(b, b.getLoc(), op.getU(), 2);
    auto u3dType = cast<RankedTensorType>(u3d.getType());
    ArrayRef<int64_t> shape = u3dType.getShape();
    int64_t n = shape[2];
    Value u = toReadOnlyBuffer(b, b.getLoc(), u3d);
    Value kernel = toReadOnlyBuffer(b, b.getLoc(), op.getKernel());
    Value out = memref::AllocOp::create(
        b, MemRefType::get(shape, u3dType.getElementType()));

    auto idx = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, v);
    };
    Value c0 = idx(0), c1 = idx(1), cn = idx(n);
    bool causal = op.getCausal();
    scf::buildLoopNest(
        b, b.getLoc(), ValueRange{c0, c0, c0},
        ValueRange{idx(shape[0]), idx(shape[1]), cn}, ValueRange{c1, c1, c1},
        [&](OpBuilder &nb, Location loc, ValueRange ivs) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value m = ivs[0], c = ivs[1], t = ivs[2];
          auto accumulate = [&](Value lo, Value hi, Value offset, Value init) {
            auto loop = scf::ForOp::create(
                ib, lo, hi, c1, ValueRange{init},
                [&](OpBuilder &lb, Location lloc, Value s, ValueRange acc) {
                  ImplicitLocOpBuilder bb(lloc, lb);
                  Value src = arith::AddIOp::create(
                      bb, arith::SubIOp::create(bb, t, s), offset);
                  Value kv = memref::LoadOp::create(bb, kernel, ValueRange{c, s});
                  Value uv = memref::LoadOp::create(bb, u, ValueRange{m, c, src});
                  Value sum = arith::AddFOp::create(
                      bb, acc[0], arith::MulFOp::create(bb, kv, uv),
                      arith::FastMathFlags::contract);
                  scf::YieldOp::create(bb, sum);
                });
            return loop.getResult(0);
          };
          Value tEnd = arith::AddIOp::create(ib, t, c1);
          Value zero = arith::ConstantOp::create(ib, ib.getF32FloatAttr(0.0f));
          Value acc = accumulate(c0, tEnd, c0, zero);
          if (!causal)
            acc = accumulate(tEnd, cn, cn, acc);
          memref::StoreOp::create(ib, acc, out, ValueRange{m, c, t});
        });
    Value result = bufferization::ToTensorOp::create(
        b, u3dType, out, b.getUnitAttr(), b.getUnitAttr());
    rewriter.replaceOp(op, expandLeadingDims(b, b.getLoc(), result,
                                             cast<RankedTensorType>(op.getType()),
                                             2));
    return success();
  }
};

} // namespace

void mlir::loom::populateFftConvToLoopsPatterns(RewritePatternSet &patterns) {
  patterns.add<FftConvToLoops>(patterns.getContext());
}
