//===- MonarchToGpu.cpp - blockdiag_matmul and monarch as GEMM kernels ----===//
//
// A Monarch factor is a GEMM batched over its k blocks:
//   y[m, b*q + j] = sum_i w[b, j, i] * x[m, b*p + i]
// i.e. A(b; m, i) = x at m*k*p + b*p + i, B(b; i, j) = w at b*q*p + j*p + i,
// C(b; m, j) = y at m*k*q + b*q + j. monarch is two such factors; its
// transposes are strides: the second factor reads h[m, i*l + a] as
// A(a; m, i) and writes out[m, c*l + a] as C(a; m, c), so no permutation is
// ever copied (SPEC 1.4). The only temporary is h, [rows, k*q], freed by
// the deallocation pipeline.
//
//===----------------------------------------------------------------------===//

#include "Kernels/GpuKernelBuilders.h"
#include "Kernels/Kernels.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::cuda;

namespace {

int64_t leadingRows(RankedTensorType type) {
  int64_t rows = 1;
  for (int64_t d : type.getShape().drop_back())
    rows *= d;
  return rows;
}

/// y = blockdiag(x, w) on flat buffers: x [rows, k*p], w [k, q, p],
/// y [rows, k*q].
GemmProblem blockdiagProblem(Value x, Value w, Value y, int64_t rows,
                             int64_t k, int64_t q, int64_t p) {
  GemmProblem g;
  g.batch = {k};
  g.m = rows;
  g.n = q;
  g.k = p;
  g.a = StridedMatrix{x, 0, {p}, k * p, 1};
  g.b = StridedMatrix{w, 0, {q * p}, 1, p};
  g.c = StridedMatrix{y, 0, {q}, k * q, 1};
  return g;
}

/// Writes zeros to every element of a flat buffer (a factor whose
/// reduction is empty still writes its whole result).
void buildZeroKernel(ImplicitLocOpBuilder &b, Value flat, int64_t elements,
                     StringRef name) {
  KernelShape shape;
  shape.name = name.str();
  shape.threads = 256;
  shape.grid = {(elements + 255) / 256, 1, 1};
  buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
    Value i = add(kb, mul(kb, ids.block[0], 256), ids.thread);
    ifThen(kb, lt(kb, i, idx(kb, elements)), [&](ImplicitLocOpBuilder &ib) {
      store(ib, f32(ib, 0.0f), flat, i);
    });
  });
}

/// Emits the GEMM, or zeros when the reduction is empty, or nothing when
/// the result is empty.
void buildGemmOrZeros(ImplicitLocOpBuilder &b, const GemmProblem &g,
                      int64_t resultElements,
                      const CudaTargetDescription &target, StringRef name) {
  if (resultElements == 0)
    return;
  if (g.k == 0 || g.m == 0 || g.n == 0) {
    buildZeroKernel(b, g.c.flat, resultElements, name);
    return;
  }
  buildGemmKernel(b, g, target, name);
}

struct BlockdiagToGpu : OpRewritePattern<BlockdiagMatmulOp> {
  BlockdiagToGpu(MLIRContext *ctx, const CudaTargetDescription &target)
      : OpRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(BlockdiagMatmulOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto wType = cast<RankedTensorType>(op.getW().getType());
    auto yType = cast<RankedTensorType>(op.getType());
    int64_t k = wType.getDimSize(0), q = wType.getDimSize(1),
            p = wType.getDimSize(2);
    Value x = flatView(b, tensorAsBuffer(b, op.getX()));
    Value w = flatView(b, tensorAsBuffer(b, op.getW()));
    Value out = allocBuffer(b, yType.getShape());
    buildGemmOrZeros(b,
                     blockdiagProblem(x, w, flatView(b, out), leadingRows(xType),
                                      k, q, p),
                     yType.getNumElements(), target, "blockdiag_matmul");
    rewriter.replaceOp(op, bufferAsTensor(b, out));
    return success();
  }

  CudaTargetDescription target;
};

struct MonarchToGpu : OpRewritePattern<MonarchOp> {
  MonarchToGpu(MLIRContext *ctx, const CudaTargetDescription &target)
      : OpRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto w1Type = cast<RankedTensorType>(op.getW1().getType());
    auto w2Type = cast<RankedTensorType>(op.getW2().getType());
    auto yType = cast<RankedTensorType>(op.getType());
    int64_t k = w1Type.getDimSize(0), q = w1Type.getDimSize(1),
            p = w1Type.getDimSize(2);
    int64_t l = w2Type.getDimSize(0), s = w2Type.getDimSize(1),
            r = w2Type.getDimSize(2);
    int64_t rows = leadingRows(xType);
    Value x = flatView(b, tensorAsBuffer(b, op.getX()));
    Value w1 = flatView(b, tensorAsBuffer(b, op.getW1()));
    Value w2 = flatView(b, tensorAsBuffer(b, op.getW2()));
    Value out = allocBuffer(b, yType.getShape());
    Value outFlat = flatView(b, out);
    Value h = allocBuffer(b, {rows * k * q});
    buildGemmOrZeros(b, blockdiagProblem(x, w1, h, rows, k, q, p), rows * k * q,
                     target, "monarch_factor1");
    // o[m, a, c] = sum_i w2[a, c, i] * h[m, i*l + a], written to
    // out[m, c*l + a].
    GemmProblem second;
    second.batch = {l};
    second.m = rows;
    second.n = s;
    second.k = r;
    second.a = StridedMatrix{h, 0, {1}, k * q, l};
    second.b = StridedMatrix{w2, 0, {s * r}, 1, r};
    second.c = StridedMatrix{outFlat, 0, {1}, s * l, l};
    buildGemmOrZeros(b, second, yType.getNumElements(), target,
                     "monarch_factor2");
    rewriter.replaceOp(op, bufferAsTensor(b, out));
    return success();
  }

  CudaTargetDescription target;
};

} // namespace

void cuda::populateMonarchToGpuPatterns(RewritePatternSet &patterns,
                                        const CudaTargetDescription &target) {
  patterns.add<BlockdiagToGpu, MonarchToGpu>(patterns.getContext(), target);
}
