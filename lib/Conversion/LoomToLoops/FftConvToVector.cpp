//===- FftConvToVector.cpp - fft_conv through a vectorized FFT ------------===//
//
// fft_conv multiplies spectra: causal = linear convolution through length
// L = 2N transforms of zero-padded sequences, circular = length L = N.
//
// The transform of length L = 2^n (complex, real and imaginary parts in
// separate f32 arrays) is split as L = (L/16) x 16, Bailey's form with the
// transpose left out:
//   - decimation-in-frequency stages of half-span h = L/2 ... 16, radix-4
//     passes (two radix-2 stages each; one radix-2 stage first when their
//     number is odd), butterflies over 16 consecutive j (one vector) with
//     the twiddle multiplies w_2h^j;
//   - a 16-point DFT of every contiguous block of 16, inside one vector:
//     four radix-2 stages of lane distance 8, 4, 2, 1, each a lane shuffle
//     and a multiply by per-lane compile-time constants (signs and
//     twiddles of F16, computed in double precision here).
// The result is the spectrum in a scrambled (block bit-reversed) order.
// Pointwise products do not care about the order as long as both spectra
// use the same one, and the inverse transform undoes exactly these steps
// (inverse 16-point blocks, then decimation-in-time stages h = 16 ... L/2
// with conjugate twiddles), so no transpose or bit reversal ever moves
// data. The forward 16-point blocks, the product with the kernel spectrum
// and the inverse blocks are fused in registers.
//
// Two rows of the same channel travel together as the real and imaginary
// parts of one complex sequence: the convolution is linear and the kernel
// real, so the real and imaginary parts of the result are the two rows'
// outputs. The kernel spectra (one per channel, scaled by 1/L) are
// computed once per call; the twiddle table w_2h^j (entry h + j), computed
// in double precision, is a constant memref.global up to L = 2^16 and is
// filled once per call beyond. Work items are (row pair, channel), one
// scf.parallel; each owns two heap buffers of L floats.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::loom;

namespace {

constexpr int64_t kLanes = 16;

Value idx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value addi(ImplicitLocOpBuilder &b, Value v, int64_t c) {
  if (c == 0)
    return v;
  return arith::AddIOp::create(b, v, idx(b, c));
}
VectorType laneType(OpBuilder &b) {
  return VectorType::get({kLanes}, b.getF32Type());
}

/// Emits `scf.for iv in [0, n) step s` (nothing when empty, inline when one
/// iteration).
void forRange(ImplicitLocOpBuilder &b, int64_t n, int64_t step,
              function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  if (n <= 0)
    return;
  if (n <= step) {
    body(b, idx(b, 0));
    return;
  }
  scf::ForOp::create(b, idx(b, 0), idx(b, n), idx(b, step), ValueRange{},
                     [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                       ImplicitLocOpBuilder ib(loc, nb);
                       body(ib, iv);
                       scf::YieldOp::create(ib);
                     });
}

/// One complex sequence of length L: buffers `re`/`im` indexed by
/// `prefix` followed by the position.
struct Seq {
  Value re, im;
  SmallVector<Value, 2> prefix;

  SmallVector<Value, 3> at(Value i) const {
    SmallVector<Value, 3> v(prefix.begin(), prefix.end());
    v.push_back(i);
    return v;
  }
};

struct Complex {
  Value re, im;
};

Complex loadVec(ImplicitLocOpBuilder &b, const Seq &s, Value i) {
  VectorType vt = laneType(b);
  return {vector::LoadOp::create(b, vt, s.re, s.at(i)),
          vector::LoadOp::create(b, vt, s.im, s.at(i))};
}

void storeVec(ImplicitLocOpBuilder &b, const Seq &s, Value i, Complex v) {
  vector::StoreOp::create(b, v.re, s.re, s.at(i));
  vector::StoreOp::create(b, v.im, s.im, s.at(i));
}

Value fma(ImplicitLocOpBuilder &b, Value x, Value y, Value acc) {
  return vector::FMAOp::create(b, x, y, acc);
}

/// a * b, or a * conj(b).
Complex cmul(ImplicitLocOpBuilder &b, Complex x, Complex y, bool conjY) {
  Value rr = arith::MulFOp::create(b, x.re, y.re);
  Value ri = arith::MulFOp::create(b, x.re, y.im);
  if (!conjY) {
    Value nIm = arith::NegFOp::create(b, x.im);
    return {fma(b, nIm, y.im, rr), fma(b, x.im, y.re, ri)};
  }
  Value nRi = arith::NegFOp::create(b, ri);
  return {fma(b, x.im, y.im, rr), fma(b, x.im, y.re, nRi)};
}

Complex cadd(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  return {arith::AddFOp::create(b, x.re, y.re),
          arith::AddFOp::create(b, x.im, y.im)};
}
Complex csub(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  return {arith::SubFOp::create(b, x.re, y.re),
          arith::SubFOp::create(b, x.im, y.im)};
}

/// x * (-i) (forward) or x * i.
Complex mulByI(ImplicitLocOpBuilder &b, Complex x, bool negative) {
  if (negative)
    return {x.im, arith::NegFOp::create(b, x.re)};
  return {arith::NegFOp::create(b, x.im), x.re};
}

/// Calls body(base of block, j) for every 16 positions j of the first
/// 1/radix of every block of radix*h in [0, L).
void forButterflies(ImplicitLocOpBuilder &b, int64_t L, int64_t h,
                    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> body,
                    int64_t radix = 2) {
  forRange(b, L, radix * h, [&](ImplicitLocOpBuilder &ob, Value base) {
    forRange(ob, h, kLanes, [&](ImplicitLocOpBuilder &ib, Value j) {
      body(ib, base, j);
    });
  });
}

/// Radix-2 DIF stage: a' = a + b, b' = (a - b) w^j.
void difStage(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw, int64_t L,
              int64_t h) {
  forButterflies(b, L, h, [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
    Value i0 = arith::AddIOp::create(ib, base, j);
    Value i1 = addi(ib, i0, h);
    Complex a = loadVec(ib, x, i0), c = loadVec(ib, x, i1);
    Complex w = loadVec(ib, tw, addi(ib, j, h));
    storeVec(ib, x, i0, cadd(ib, a, c));
    storeVec(ib, x, i1, cmul(ib, csub(ib, a, c), w, /*conjY=*/false));
  });
}

/// Radix-2 DIT stage, the inverse of difStage up to a factor 2:
/// a = a' + b' conj(w^j), b = a' - b' conj(w^j).
void ditStage(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw, int64_t L,
              int64_t h) {
  forButterflies(b, L, h, [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
    Value i0 = arith::AddIOp::create(ib, base, j);
    Value i1 = addi(ib, i0, h);
    Complex a = loadVec(ib, x, i0), c = loadVec(ib, x, i1);
    Complex w = loadVec(ib, tw, addi(ib, j, h));
    Complex t = cmul(ib, c, w, /*conjY=*/true);
    storeVec(ib, x, i0, cadd(ib, a, t));
    storeVec(ib, x, i1, csub(ib, a, t));
  });
}

/// Two radix-2 DIF stages (half-spans 2h, then h) in one pass, as a radix-4
/// butterfly on x0..x3 = x[j + {0,1,2,3}h] with W = w_4h:
///   x[j]      = (x0 + x2) + (x1 + x3)
///   x[j + h]  = ((x0 + x2) - (x1 + x3)) W^2j
///   x[j + 2h] = ((x0 - x2) - i (x1 - x3)) W^j
///   x[j + 3h] = ((x0 - x2) + i (x1 - x3)) W^3j
/// (the same values, in the same places, as the two radix-2 stages).
void dif4Stage(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw, int64_t L,
               int64_t h) {
  forButterflies(
      b, L, h,
      [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
        Value i0 = arith::AddIOp::create(ib, base, j);
        Value i1 = addi(ib, i0, h), i2 = addi(ib, i0, 2 * h),
              i3 = addi(ib, i0, 3 * h);
        Complex x0 = loadVec(ib, x, i0), x1 = loadVec(ib, x, i1),
                x2 = loadVec(ib, x, i2), x3 = loadVec(ib, x, i3);
        Complex w1 = loadVec(ib, tw, addi(ib, j, 2 * h)); // w_4h^j
        Complex w2 = loadVec(ib, tw, addi(ib, j, h));     // w_2h^j = W^2j
        Complex w3 = cmul(ib, w1, w2, /*conjY=*/false);
        Complex s02 = cadd(ib, x0, x2), d02 = csub(ib, x0, x2);
        Complex s13 = cadd(ib, x1, x3);
        Complex d13 = mulByI(ib, csub(ib, x1, x3), /*negative=*/true);
        storeVec(ib, x, i0, cadd(ib, s02, s13));
        storeVec(ib, x, i1, cmul(ib, csub(ib, s02, s13), w2, false));
        storeVec(ib, x, i2, cmul(ib, cadd(ib, d02, d13), w1, false));
        storeVec(ib, x, i3, cmul(ib, csub(ib, d02, d13), w3, false));
      },
      /*radix=*/4);
}

/// The inverse of dif4Stage up to a factor 4 (two radix-2 DIT stages,
/// half-spans h then 2h, with conjugate twiddles).
void dit4Stage(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw, int64_t L,
               int64_t h) {
  forButterflies(
      b, L, h,
      [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
        Value i0 = arith::AddIOp::create(ib, base, j);
        Value i1 = addi(ib, i0, h), i2 = addi(ib, i0, 2 * h),
              i3 = addi(ib, i0, 3 * h);
        Complex y0 = loadVec(ib, x, i0), y1 = loadVec(ib, x, i1),
                y2 = loadVec(ib, x, i2), y3 = loadVec(ib, x, i3);
        Complex w1 = loadVec(ib, tw, addi(ib, j, 2 * h));
        Complex w2 = loadVec(ib, tw, addi(ib, j, h));
        // Half-span h: (y0, y1) and (y2, y3) with conj(W^2j).
        Complex t = cmul(ib, y1, w2, /*conjY=*/true);
        Complex u = cadd(ib, y0, t), v = csub(ib, y0, t);
        Complex t2 = cmul(ib, y3, w2, /*conjY=*/true);
        Complex p = cadd(ib, y2, t2), q = csub(ib, y2, t2);
        // Half-span 2h: (u, p) with conj(W^j), (v, q) with conj(W^j (-i)).
        Complex pw = cmul(ib, p, w1, /*conjY=*/true);
        Complex qw = mulByI(ib, cmul(ib, q, w1, /*conjY=*/true), /*negative=*/false);
        storeVec(ib, x, i0, cadd(ib, u, pw));
        storeVec(ib, x, i2, csub(ib, u, pw));
        storeVec(ib, x, i1, cadd(ib, v, qw));
        storeVec(ib, x, i3, csub(ib, v, qw));
      },
      /*radix=*/4);
}

/// A vector constant from 16 doubles (rounded to f32).
Value laneConst(ImplicitLocOpBuilder &b, ArrayRef<double> v) {
  SmallVector<float> f(v.begin(), v.end());
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(laneType(b), ArrayRef<float>(f)));
}

/// Lane l of the result is lane l ^ d of `v`.
Value swapLanes(ImplicitLocOpBuilder &b, Value v, int64_t d) {
  SmallVector<int64_t> mask;
  for (int64_t l = 0; l < kLanes; ++l)
    mask.push_back(l ^ d);
  return vector::ShuffleOp::create(b, v, v, b.getDenseI64ArrayAttr(mask));
}

/// x * t for per-lane constants t (real when all imaginary parts are 0).
Complex mulLanes(ImplicitLocOpBuilder &b, Complex x, ArrayRef<double> tr,
                 ArrayRef<double> ti) {
  Value r = laneConst(b, tr);
  if (llvm::all_of(ti, [](double v) { return v == 0.0; }))
    return {arith::MulFOp::create(b, x.re, r), arith::MulFOp::create(b, x.im, r)};
  Value i = laneConst(b, ti);
  return cmul(b, x, {r, i}, /*conjY=*/false);
}

/// The 16-point DFT inside one vector (lanes = positions of a block of
/// 16), as the four radix-2 DIF stages of lane distance d = 8, 4, 2, 1:
/// lane l and its partner l ^ d, top lane (bit d clear) x + p, bottom lane
/// (p - x) w_2d^(l mod d), i.e. (x + s p) t with per-lane constants
/// s = +-1 and t = 1 or -w (computed in double precision). The result is
/// in bit-reversed lane order, which the inverse undoes.
Complex dft16(ImplicitLocOpBuilder &b, Complex x, double scale) {
  for (int64_t d = kLanes / 2; d >= 1; d /= 2) {
    SmallVector<double> sgn, tr, ti;
    for (int64_t l = 0; l < kLanes; ++l) {
      bool bottom = l & d;
      double angle = -M_PI * double(l % d) / double(d);
      double sc = d == 1 ? scale : 1.0;
      sgn.push_back(bottom ? -1.0 : 1.0);
      tr.push_back(sc * (bottom ? -std::cos(angle) : 1.0));
      ti.push_back(bottom ? -sc * std::sin(angle) : 0.0);
    }
    Value sv = laneConst(b, sgn);
    Complex p{swapLanes(b, x.re, d), swapLanes(b, x.im, d)};
    Complex u{fma(b, sv, p.re, x.re), fma(b, sv, p.im, x.im)};
    x = mulLanes(b, u, tr, ti);
  }
  return x;
}

/// The inverse of dft16 times 16: the DIT stages d = 1, 2, 4, 8, each
/// z = y c (c = 1 on top lanes, conj(w_2d^(l mod d)) on bottom lanes), then
/// top z + p, bottom p - z for the partner p of z.
Complex idft16(ImplicitLocOpBuilder &b, Complex y) {
  for (int64_t d = 1; d < kLanes; d *= 2) {
    SmallVector<double> sgn, cr, ci;
    bool identity = true;
    for (int64_t l = 0; l < kLanes; ++l) {
      bool bottom = l & d;
      double angle = -M_PI * double(l % d) / double(d);
      sgn.push_back(bottom ? -1.0 : 1.0);
      cr.push_back(bottom ? std::cos(angle) : 1.0);
      ci.push_back(bottom ? -std::sin(angle) : 0.0);
      identity &= cr.back() == 1.0 && ci.back() == 0.0;
    }
    Complex z = identity ? y : mulLanes(b, y, cr, ci);
    Value sv = laneConst(b, sgn);
    Complex p{swapLanes(b, z.re, d), swapLanes(b, z.im, d)};
    y = {fma(b, sv, z.re, p.re), fma(b, sv, z.im, p.im)};
  }
  return y;
}

/// The decimation stages of the forward transform: half-spans L/2 ... 16,
/// a radix-2 stage first when their number is odd, then radix-4 pairs.
void forwardStages(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw,
                   int64_t L) {
  int64_t h = L / 2;
  if (llvm::Log2_64(L / kLanes) % 2) {
    difStage(b, x, tw, L, h);
    h /= 2;
  }
  for (; h >= 2 * kLanes; h /= 4)
    dif4Stage(b, x, tw, L, h / 2);
}

/// Their inverse (times L/16), in the mirrored order.
void inverseStages(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw,
                   int64_t L) {
  bool radix2First = llvm::Log2_64(L / kLanes) % 2;
  int64_t hEnd = radix2First ? L / 4 : L / 2;
  for (int64_t h = 2 * kLanes; h <= hEnd; h *= 4)
    dit4Stage(b, x, tw, L, h / 2);
  if (radix2First)
    ditStage(b, x, tw, L, L / 2);
}

/// Forward transform, scrambled order, scaled by `scale`.
void forwardFft(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw, int64_t L,
                double scale) {
  forwardStages(b, x, tw, L);
  forRange(b, L, kLanes, [&](ImplicitLocOpBuilder &ib, Value base) {
    storeVec(ib, x, base, dft16(ib, loadVec(ib, x, base), scale));
  });
}

/// Forward 16-point blocks, product with the spectrum `k`, inverse blocks,
/// then the inverse stages: x becomes L * ifft(fft(x) * k) (k carries 1/L).
void convolveSpectra(ImplicitLocOpBuilder &b, const Seq &x, const Seq &k,
                     const Seq &tw, int64_t L) {
  forwardStages(b, x, tw, L);
  forRange(b, L, kLanes, [&](ImplicitLocOpBuilder &ib, Value base) {
    Complex y = dft16(ib, loadVec(ib, x, base), 1.0);
    Complex p = cmul(ib, y, loadVec(ib, k, base), /*conjY=*/false);
    storeVec(ib, x, base, idft16(ib, p));
  });
  inverseStages(b, x, tw, L);
}

/// Largest L whose twiddle table is a compile-time constant (2 x 256 KiB);
/// longer tables are computed at run time, so that the .so does not carry
/// 16 MiB of constants for N = 2^20.
constexpr int64_t kMaxConstTwiddles = 1 << 16;

/// tw[h + j] = exp(-i pi j / h) for 16 <= h < L, j < h, computed at run
/// time in double precision.
void fillTwiddles(ImplicitLocOpBuilder &b, const Seq &tw, int64_t L) {
  for (int64_t h = kLanes; h < L; h *= 2) {
    forRange(b, h, 1, [&](ImplicitLocOpBuilder &ib, Value j) {
      Value jf = arith::SIToFPOp::create(
          ib, ib.getF64Type(),
          arith::IndexCastOp::create(ib, ib.getI64Type(), j));
      Value angle = arith::MulFOp::create(
          ib, jf, arith::ConstantOp::create(ib, ib.getF64FloatAttr(-M_PI / double(h))));
      Value re = arith::TruncFOp::create(ib, ib.getF32Type(),
                                         math::CosOp::create(ib, angle));
      Value im = arith::TruncFOp::create(ib, ib.getF32Type(),
                                         math::SinOp::create(ib, angle));
      Value at = addi(ib, j, h);
      memref::StoreOp::create(ib, re, tw.re, tw.at(at));
      memref::StoreOp::create(ib, im, tw.im, tw.at(at));
    });
  }
}

/// The same table as a private constant memref.global of the module
/// (shared by every fft_conv of that length), computed here in double
/// precision.
Value constTwiddles(ImplicitLocOpBuilder &b, ModuleOp module, int64_t L,
                    bool imag) {
  std::string name = (Twine("__loom_fft_twiddles_") + (imag ? "im_" : "re_") +
                      Twine(L)).str();
  auto type = MemRefType::get({L}, b.getF32Type());
  if (!SymbolTable::lookupSymbolIn(module, name)) {
    SmallVector<float> values(L, 0.0f);
    for (int64_t h = kLanes; h < L; h *= 2)
      for (int64_t j = 0; j < h; ++j) {
        double angle = -M_PI * double(j) / double(h);
        values[h + j] = float(imag ? std::sin(angle) : std::cos(angle));
      }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, b.getStringAttr(name), b.getStringAttr("private"), TypeAttr::get(type),
        DenseElementsAttr::get(RankedTensorType::get({L}, b.getF32Type()),
                               ArrayRef<float>(values)),
        b.getUnitAttr(), b.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(b, type,
                                     FlatSymbolRefAttr::get(b.getContext(), name));
}

/// dst[0, n) = src row (or zeros when `src` is null), dst[n, L) = 0.
void loadPadded(ImplicitLocOpBuilder &b, Value dst, ValueRange dstPrefix,
                Value src, ValueRange srcPrefix, int64_t n, int64_t L) {
  VectorType vt = laneType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  auto with = [](ValueRange prefix, Value i) {
    SmallVector<Value, 3> v(prefix.begin(), prefix.end());
    v.push_back(i);
    return v;
  };
  forRange(b, n, kLanes, [&](ImplicitLocOpBuilder &ib, Value t) {
    Value v = src ? vector::LoadOp::create(ib, vt, src, with(srcPrefix, t))
                        .getResult()
                  : zero;
    vector::StoreOp::create(ib, v, dst, with(dstPrefix, t));
  });
  forRange(b, L - n, kLanes, [&](ImplicitLocOpBuilder &ib, Value t) {
    vector::StoreOp::create(ib, zero, dst, with(dstPrefix, addi(ib, t, n)));
  });
}

Value allocF32(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape) {
  return memref::AllocOp::create(b, MemRefType::get(shape, b.getF32Type()),
                                 b.getI64IntegerAttr(64));
}

struct FftConvToVector : OpRewritePattern<FftConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FftConvOp op,
                                PatternRewriter &rewriter) const override {
    // The verifier guarantees a power of two >= 16.
    int64_t n = op.getU().getType().getShape().back();
    if (n < kLanes || (n & (n - 1)) != 0)
      return rewriter.notifyMatchFailure(op, "N is not a power of two >= 16");
    // Constant twiddle tables live in the enclosing module.
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value u3d = collapseLeadingDims(b, b.getLoc(), op.getU(), 2);
    auto u3dType = cast<RankedTensorType>(u3d.getType());
    ArrayRef<int64_t> shape = u3dType.getShape();
    int64_t rows = shape[0], channels = shape[1];

    int64_t L = op.getCausal() ? 2 * n : n;
    Value u = toReadOnlyBuffer(b, b.getLoc(), u3d);
    Value kernel = toReadOnlyBuffer(b, b.getLoc(), op.getKernel());
    Value out = allocF32(b, shape);

    if (rows > 0 && channels > 0) {
      // No decimation stage (L = 16) needs no twiddle.
      Seq tw;
      if (L > kLanes && L <= kMaxConstTwiddles) {
        tw = {constTwiddles(b, module, L, false), constTwiddles(b, module, L, true),
              {}};
      } else if (L > kLanes) {
        tw = {allocF32(b, {L}), allocF32(b, {L}), {}};
        fillTwiddles(b, tw, L);
      }

      // Kernel spectra, [C, L], scaled by 1/L.
      Seq spec{allocF32(b, {channels, L}), allocF32(b, {channels, L}), {}};
      scf::ParallelOp::create(
          b, ValueRange{idx(b, 0)}, ValueRange{idx(b, channels)},
          ValueRange{idx(b, 1)}, [&](OpBuilder &nb, Location loc, ValueRange ivs) {
            ImplicitLocOpBuilder ib(loc, nb);
            Seq k = spec;
            k.prefix = {ivs[0]};
            loadPadded(ib, k.re, k.prefix, kernel, ValueRange{ivs[0]}, n, L);
            loadPadded(ib, k.im, k.prefix, nullptr, {}, n, L);
            forwardFft(ib, k, tw, L, 1.0 / double(L));
          });

      // Work items: (row pair, channel).
      int64_t pairs = (rows + 1) / 2;
      scf::ParallelOp::create(
          b, ValueRange{idx(b, 0), idx(b, 0)},
          ValueRange{idx(b, pairs), idx(b, channels)},
          ValueRange{idx(b, 1), idx(b, 1)},
          [&](OpBuilder &nb, Location loc, ValueRange ivs) {
            ImplicitLocOpBuilder ib(loc, nb);
            Value c = ivs[1];
            Value m0 = arith::MulIOp::create(ib, ivs[0], idx(ib, 2));
            Value m1 = addi(ib, m0, 1);
            Seq x{allocF32(ib, {L}), allocF32(ib, {L}), {}};
            loadPadded(ib, x.re, {}, u, ValueRange{m0, c}, n, L);
            // An odd row count leaves the last pair's second row empty.
            Value has;
            if (rows % 2)
              has = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, m1,
                                          idx(ib, rows));
            auto ifSecondRow = [&](function_ref<void(ImplicitLocOpBuilder &)> then,
                                   function_ref<void(ImplicitLocOpBuilder &)> other) {
              if (!has) {
                then(ib);
                return;
              }
              scf::IfOp::create(
                  ib, has,
                  [&](OpBuilder &tb, Location tl) {
                    ImplicitLocOpBuilder bb(tl, tb);
                    then(bb);
                    scf::YieldOp::create(bb);
                  },
                  [&](OpBuilder &eb, Location el) {
                    ImplicitLocOpBuilder bb(el, eb);
                    if (other)
                      other(bb);
                    scf::YieldOp::create(bb);
                  });
            };
            ifSecondRow(
                [&](ImplicitLocOpBuilder &bb) {
                  loadPadded(bb, x.im, {}, u, ValueRange{m1, c}, n, L);
                },
                [&](ImplicitLocOpBuilder &bb) {
                  loadPadded(bb, x.im, {}, nullptr, {}, n, L);
                });
            Seq k = spec;
            k.prefix = {c};
            convolveSpectra(ib, x, k, tw, L);
            VectorType vt = laneType(ib);
            forRange(ib, n, kLanes, [&](ImplicitLocOpBuilder &sb, Value t) {
              vector::StoreOp::create(
                  sb, vector::LoadOp::create(sb, vt, x.re, ValueRange{t}), out,
                  ValueRange{m0, c, t});
            });
            ifSecondRow(
                [&](ImplicitLocOpBuilder &bb) {
                  forRange(bb, n, kLanes, [&](ImplicitLocOpBuilder &sb, Value t) {
                    vector::StoreOp::create(
                        sb, vector::LoadOp::create(sb, vt, x.im, ValueRange{t}),
                        out, ValueRange{m1, c, t});
                  });
                },
                nullptr);
          });
    }

    Value result = bufferization::ToTensorOp::create(
        b, u3dType, out, b.getUnitAttr(), b.getUnitAttr());
    rewriter.replaceOp(op, expandLeadingDims(b, b.getLoc(), result,
                                             cast<RankedTensorType>(op.getType()),
                                             2));
    return success();
  }
};

} // namespace

void mlir::loom::populateFftConvToVectorPatterns(RewritePatternSet &patterns) {
  patterns.add<FftConvToVector>(patterns.getContext());
}
