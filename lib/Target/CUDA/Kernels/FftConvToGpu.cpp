//===- FftConvToGpu.cpp - fft_conv as shared-memory FFT kernels -----------===//
//
// y = ifft(fft(u, P) * fft(kernel, P))[:N] with P = 2N (causal: the zero
// padding makes the circular convolution a linear one) or P = N (circular).
// Three kernels:
//
//   fft_twiddles      W[j] = exp(-2 pi i j / P), j < P/2, computed in f64
//                     once per call.
//   fft_conv_filter   one block per channel: the filter's spectrum K[c]
//                     (P complex values) into a scratch buffer.
//   fft_conv          one block per (row pair, channel): two real rows
//                     packed as one complex sequence z = u_a + i u_b
//                     (the filter is real, so conv(z) = conv(u_a) +
//                     i conv(u_b): no separation step), loaded at
//                     bit-reversed positions; a decimation-in-time FFT
//                     (natural order out), the product with K[c], then a
//                     decimation-in-frequency inverse (natural order in,
//                     bit-reversed out), read back at bit-reversed
//                     positions. Everything between the load and the store
//                     stays in shared memory: P complex values and the
//                     P/2 twiddles, 12 P bytes.
//
// Where 12 P bytes exceed what a block may opt into, a direct O(N^2)
// convolution kernel (one thread per output) replaces the FFT.
//
//===----------------------------------------------------------------------===//

#include "Kernels/GpuKernelBuilders.h"
#include "Kernels/Kernels.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::cuda;

namespace {

struct FftPlan {
  int64_t rows, channels, n, p, logP, threads;
  bool causal;
};

/// A complex value as (re, im).
struct Complex {
  Value re, im;
};

Complex cmul(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  Value re = math::FmaOp::create(
      b, x.re, y.re, arith::NegFOp::create(b, arith::MulFOp::create(b, x.im, y.im)));
  Value im = math::FmaOp::create(b, x.re, y.im,
                                 arith::MulFOp::create(b, x.im, y.re));
  return {re, im};
}

Complex cadd(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  return {arith::AddFOp::create(b, x.re, y.re),
          arith::AddFOp::create(b, x.im, y.im)};
}

Complex csub(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  return {arith::SubFOp::create(b, x.re, y.re),
          arith::SubFOp::create(b, x.im, y.im)};
}

/// Element `i` of an interleaved complex buffer.
Complex loadComplex(ImplicitLocOpBuilder &b, Value buffer, Value i) {
  Value v = loadVector(b, buffer, mul(b, i, 2), 2, 8);
  return {vector::ExtractOp::create(b, v, ArrayRef<int64_t>{0}),
          vector::ExtractOp::create(b, v, ArrayRef<int64_t>{1})};
}

void storeComplex(ImplicitLocOpBuilder &b, Complex c, Value buffer, Value i) {
  Value v = vector::FromElementsOp::create(b, f32Vector(b.getContext(), 2),
                                           ValueRange{c.re, c.im});
  storeVector(b, v, buffer, mul(b, i, 2), 8);
}

/// The `bits`-bit reversal of i.
Value bitReverse(ImplicitLocOpBuilder &b, Value i, int64_t bits) {
  Value i32 = arith::IndexCastUIOp::create(b, b.getI32Type(), i);
  Value rev = LLVM::BitReverseOp::create(b, b.getI32Type(), i32);
  Value shifted = arith::ShRUIOp::create(
      b, rev, arith::ConstantIntOp::create(b, 32 - bits, 32));
  return arith::IndexCastUIOp::create(b, b.getIndexType(), shifted);
}

/// for (k = thread; k < count; k += threads) body(k)
void strided(ImplicitLocOpBuilder &b, Value thread, int64_t threads,
             int64_t count,
             function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  forLoop(b, thread, idx(b, count), idx(b, threads), body);
}

/// One radix-2 stage over the P/2 butterflies of half-size h.
/// Decimation in time: (a, b) -> (a + w b, a - w b); decimation in
/// frequency: (a, b) -> (a + b, (a - b) w). `conjugate` uses conj(w).
void stage(ImplicitLocOpBuilder &b, const FftPlan &plan, Value data,
           Value twiddles, Value thread, int64_t h, bool dit, bool conjugate) {
  strided(b, thread, plan.threads, plan.p / 2,
          [&](ImplicitLocOpBuilder &ib, Value k) {
            Value pos = remu(ib, k, h);
            Value i0 = add(ib, mul(ib, divu(ib, k, h), 2 * h), pos);
            Value i1 = add(ib, i0, h);
            Complex w = loadComplex(ib, twiddles, mul(ib, pos, plan.p / (2 * h)));
            if (conjugate)
              w.im = arith::NegFOp::create(ib, w.im);
            Complex x0 = loadComplex(ib, data, i0);
            Complex x1 = loadComplex(ib, data, i1);
            if (dit) {
              Complex t = cmul(ib, w, x1);
              storeComplex(ib, cadd(ib, x0, t), data, i0);
              storeComplex(ib, csub(ib, x0, t), data, i1);
            } else {
              storeComplex(ib, cadd(ib, x0, x1), data, i0);
              storeComplex(ib, cmul(ib, csub(ib, x0, x1), w), data, i1);
            }
          });
  barrier(b);
}

void forwardFft(ImplicitLocOpBuilder &b, const FftPlan &plan, Value data,
                Value twiddles, Value thread) {
  for (int64_t h = 1; h < plan.p; h *= 2)
    stage(b, plan, data, twiddles, thread, h, /*dit=*/true, /*conjugate=*/false);
}

void inverseFft(ImplicitLocOpBuilder &b, const FftPlan &plan, Value data,
                Value twiddles, Value thread) {
  for (int64_t h = plan.p / 2; h >= 1; h /= 2)
    stage(b, plan, data, twiddles, thread, h, /*dit=*/false, /*conjugate=*/true);
}

void loadTwiddles(ImplicitLocOpBuilder &b, const FftPlan &plan, Value global,
                  Value shared, Value thread) {
  strided(b, thread, plan.threads, plan.p, [&](ImplicitLocOpBuilder &ib, Value j) {
    store(ib, load(ib, global, j), shared, j);
  });
}

void buildTwiddleKernel(ImplicitLocOpBuilder &b, const FftPlan &plan,
                        Value twiddles) {
  KernelShape shape;
  shape.name = "fft_twiddles";
  shape.threads = 256;
  shape.grid = {(plan.p / 2 + 255) / 256, 1, 1};
  buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
    Value j = add(kb, mul(kb, ids.block[0], 256), ids.thread);
    ifThen(kb, lt(kb, j, idx(kb, plan.p / 2)), [&](ImplicitLocOpBuilder &ib) {
      Value jf = arith::UIToFPOp::create(
          ib, ib.getF64Type(),
          arith::IndexCastUIOp::create(ib, ib.getI64Type(), j));
      Value angle = arith::MulFOp::create(
          ib, jf,
          arith::ConstantOp::create(ib, ib.getF64FloatAttr(-2.0 * M_PI / plan.p)));
      Value re = arith::TruncFOp::create(ib, ib.getF32Type(),
                                         math::CosOp::create(ib, angle));
      Value im = arith::TruncFOp::create(ib, ib.getF32Type(),
                                         math::SinOp::create(ib, angle));
      storeComplex(ib, {re, im}, twiddles, j);
    });
  });
}

void buildFilterKernel(ImplicitLocOpBuilder &b, const FftPlan &plan,
                       Value kernel, Value twiddles, Value spectra) {
  KernelShape shape;
  shape.name = "fft_conv_filter";
  shape.threads = plan.threads;
  shape.grid = {plan.channels, 1, 1};
  shape.sharedRegions = {2 * plan.p, plan.p};
  buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
    Value data = ids.shared[0], tw = ids.shared[1];
    Value c = ids.block[0];
    loadTwiddles(kb, plan, twiddles, tw, ids.thread);
    strided(kb, ids.thread, plan.threads, plan.p,
            [&](ImplicitLocOpBuilder &ib, Value j) {
              Value inside = lt(ib, j, idx(ib, plan.n));
              Value at = add(ib, mul(ib, c, plan.n),
                             minIdx(ib, j, idx(ib, plan.n - 1)));
              Value re = select(ib, inside, load(ib, kernel, at), f32(ib, 0.0f));
              storeComplex(ib, {re, f32(ib, 0.0f)}, data,
                           bitReverse(ib, j, plan.logP));
            });
    barrier(kb);
    forwardFft(kb, plan, data, tw, ids.thread);
    strided(kb, ids.thread, plan.threads, plan.p,
            [&](ImplicitLocOpBuilder &ib, Value j) {
              storeComplex(ib, loadComplex(ib, data, j), spectra,
                           add(ib, mul(ib, c, plan.p), j));
            });
  });
}

void buildConvKernel(ImplicitLocOpBuilder &b, const FftPlan &plan, Value u,
                     Value twiddles, Value spectra, Value out) {
  KernelShape shape;
  shape.name = "fft_conv";
  shape.threads = plan.threads;
  shape.grid = {(plan.rows + 1) / 2, plan.channels, 1};
  shape.sharedRegions = {2 * plan.p, plan.p};
  buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
    Value data = ids.shared[0], tw = ids.shared[1];
    Value c = ids.block[1];
    Value r0 = mul(kb, ids.block[0], 2), r1 = add(kb, r0, 1);
    Value hasSecond = lt(kb, r1, idx(kb, plan.rows));
    Value base0 = mul(kb, add(kb, mul(kb, r0, plan.channels), c), plan.n);
    Value base1 = mul(kb, add(kb, mul(kb, minIdx(kb, r1, idx(kb, plan.rows - 1)),
                                      plan.channels),
                              c),
                      plan.n);
    loadTwiddles(kb, plan, twiddles, tw, ids.thread);
    strided(kb, ids.thread, plan.threads, plan.p,
            [&](ImplicitLocOpBuilder &ib, Value j) {
              Value inside = lt(ib, j, idx(ib, plan.n));
              Value t = minIdx(ib, j, idx(ib, plan.n - 1));
              Value zero = f32(ib, 0.0f);
              Value re = select(ib, inside, load(ib, u, add(ib, base0, t)), zero);
              Value im = select(ib, andI(ib, inside, hasSecond),
                                load(ib, u, add(ib, base1, t)), zero);
              storeComplex(ib, {re, im}, data, bitReverse(ib, j, plan.logP));
            });
    barrier(kb);
    forwardFft(kb, plan, data, tw, ids.thread);
    strided(kb, ids.thread, plan.threads, plan.p,
            [&](ImplicitLocOpBuilder &ib, Value j) {
              Complex k = loadComplex(ib, spectra, add(ib, mul(ib, c, plan.p), j));
              storeComplex(ib, cmul(ib, loadComplex(ib, data, j), k), data, j);
            });
    barrier(kb);
    inverseFft(kb, plan, data, tw, ids.thread);
    Value scale = f32(kb, 1.0f / static_cast<float>(plan.p));
    strided(kb, ids.thread, plan.threads, plan.n,
            [&](ImplicitLocOpBuilder &ib, Value t) {
              Complex y = loadComplex(ib, data, bitReverse(ib, t, plan.logP));
              store(ib, arith::MulFOp::create(ib, y.re, scale), out,
                    add(ib, base0, t));
              ifThen(ib, hasSecond, [&](ImplicitLocOpBuilder &sb) {
                store(sb, arith::MulFOp::create(sb, y.im, scale), out,
                      add(sb, base1, t));
              });
            });
  });
}

/// y[r, c, t] = sum_s k[c, s] u[r, c, t - s] (causal) or the circular sum;
/// one thread per output.
void buildDirectKernel(ImplicitLocOpBuilder &b, const FftPlan &plan, Value u,
                       Value kernel, Value out) {
  KernelShape shape;
  shape.name = "direct_conv";
  shape.threads = 256;
  shape.grid = {(plan.n + 255) / 256, plan.channels, plan.rows};
  buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
    Value t = add(kb, mul(kb, ids.block[0], 256), ids.thread);
    Value c = ids.block[1];
    Value row = mul(kb, add(kb, mul(kb, ids.block[2], plan.channels), c), plan.n);
    Value kRow = mul(kb, c, plan.n);
    ifThen(kb, lt(kb, t, idx(kb, plan.n)), [&](ImplicitLocOpBuilder &ib) {
      Value end = plan.causal ? add(ib, t, 1) : idx(ib, plan.n);
      SmallVector<Value> sum = forLoop(
          ib, idx(ib, 0), end, idx(ib, 1), ValueRange{f32(ib, 0.0f)},
          [&](ImplicitLocOpBuilder &lb, Value s, ValueRange acc) {
            // (t - s) mod N; only the circular form ever wraps.
            Value shifted = add(lb, sub(lb, t, s), plan.n);
            Value src = remu(lb, shifted, plan.n);
            Value v = math::FmaOp::create(lb, load(lb, kernel, add(lb, kRow, s)),
                                          load(lb, u, add(lb, row, src)), acc[0]);
            return SmallVector<Value>{v};
          });
      store(ib, sum[0], out, add(ib, row, t));
    });
  });
}

struct FftConvToGpu : OpRewritePattern<FftConvOp> {
  FftConvToGpu(MLIRContext *ctx, const CudaTargetDescription &target)
      : OpRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(FftConvOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto uType = cast<RankedTensorType>(op.getU().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    FftPlan plan;
    plan.n = uType.getShape().back();
    plan.channels = uType.getShape()[uType.getRank() - 2];
    plan.rows = 1;
    for (int64_t d : uType.getShape().drop_back(2))
      plan.rows *= d;
    plan.causal = op.getCausal();
    plan.p = plan.causal ? 2 * plan.n : plan.n;
    plan.logP = llvm::Log2_64(plan.p);
    plan.threads = std::min<int64_t>(256, plan.p / 2);

    Value out = allocBuffer(b, resultType.getShape());
    if (resultType.getNumElements() > 0) {
      Value u = flatView(b, tensorAsBuffer(b, op.getU()));
      Value kernel = flatView(b, tensorAsBuffer(b, op.getKernel()));
      Value outFlat = flatView(b, out);
      // Data and twiddles: 8 P + 4 P bytes of shared memory.
      if (12 * plan.p <= target.sharedMemoryPerBlockOptin) {
        Value twiddles = allocBuffer(b, {plan.p});
        Value spectra = allocBuffer(b, {plan.channels * plan.p * 2});
        buildTwiddleKernel(b, plan, twiddles);
        buildFilterKernel(b, plan, kernel, twiddles, spectra);
        buildConvKernel(b, plan, u, twiddles, spectra, outFlat);
      } else {
        buildDirectKernel(b, plan, u, kernel, outFlat);
      }
    }
    rewriter.replaceOp(op, bufferAsTensor(b, out));
    return success();
  }

  CudaTargetDescription target;
};

} // namespace

void cuda::populateFftConvToGpuPatterns(RewritePatternSet &patterns,
                                        const CudaTargetDescription &target) {
  patterns.add<FftConvToGpu>(patterns.getContext(), target);
}
