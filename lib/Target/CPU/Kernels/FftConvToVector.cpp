//===- FftConvToVector.cpp - fft_conv through a vectorized FFT ------------===//
//
// fft_conv multiplies spectra: causal = linear convolution through length
// L = 2N transforms of zero-padded rows, circular = length L = N.
//
// Every row is real, so it is transformed on its own as a complex sequence
// of half the length, z[j] = x[2j] + i x[2j + 1] (L/2 = M positions), and
// the product with the kernel's spectrum is formed from Z[k] and its
// mirror partner conj(Z[-k]): W = A Z + Q (conj(Z[-k]) - Z), with A the
// kernel's half-length transform and Q = (1 + v)(A - conj(A[-k])) / 4,
// v = exp(-2 pi i k / M) (kernelCoefficients), is the split of the real
// transform, the product and the merge of the inverse in one step. No
// two rows, and no two channels, ever share a transform: a NaN or a large
// value in one (row, channel) cannot reach another's outputs. The kernels
// are transformed the same way, each on its own: inside the work item
// when there is one row, else once per tile into stored coefficients
// [C, 2, M] that the rows of a channel read (channel-major work items, so
// that they stay in L2).
//
// The kernel takes one loom.fft_conv_tile on buffers (loom-tile-fft-conv
// cuts an fft_conv into a forall of them, one per block of rows and
// channel): inside that forall the tile's lines run in order; a tile in no
// parallel loop is one scf.parallel over (channel, row) itself.
//
// The complex transform of length M = 2^m (real and imaginary parts in
// separate f32 arrays) is split as M = (M/W) x W, W the f32 lanes of one
// vector (16 for AVX-512, 8 for AVX2), Bailey's form with the transpose
// left out:
//   - decimation-in-frequency stages of half-span h = M/2 ... W, radix-4
//     passes (two radix-2 stages each; one radix-2 stage first when their
//     number is odd), butterflies over W consecutive j (one vector) with
//     the twiddle multiplies w_2h^j;
//   - a W-point DFT of every contiguous block of W, inside one vector:
//     radix-2 stages of lane distance W/2, ..., 1, each a lane shuffle and
//     a multiply by per-lane compile-time constants (signs and twiddles,
//     computed in double precision here).
// The result is the spectrum in bit-reversed order. Pointwise products do
// not care about the order as long as every factor uses the same one, and
// the inverse transform undoes exactly these steps (inverse W-point
// blocks, then decimation-in-time stages h = W ... M/2 with conjugate
// twiddles), so no transpose or bit reversal ever moves data. The forward
// W-point blocks, the product and the inverse blocks are fused in
// registers. When M is longer than a cache block (sized from the target's
// L1, halved when that saves a pass) the stages of half-span below it, the
// product and their inverses run on pairs of mirror blocks while they are
// in L1; only the longer stages pass over the whole buffer.
//
// The twiddle table w_2h^j (entry h + j), computed in double precision, is
// a constant memref.global up to M = 2^16; beyond, it is expanded once per
// call from two small constant factor tables. Each work item (row,
// channel) owns one heap buffer of M complex positions. The first forward
// pass reads the input row itself (the causal zero padding is never
// stored) and the last inverse pass writes the first N outputs straight
// into the result.
//
// Non-finite inputs: the FFT spreads a NaN or Inf of a row (or of its
// channel's kernel) over every output of that row. That is the right
// answer for a circular convolution; a causal output t only sees inputs
// up to t, so when the first output of a causal row is not finite, the
// row is recomputed with its input and kernel cut at their first
// non-finite position p (zeros from there) and NaN written from p on.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilders.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Target/CPU/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::kernel;

namespace {

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

/// One complex sequence: buffers `re`/`im` indexed by `prefix` followed by
/// the position.
struct Seq {
  Value re, im;
  SmallVector<Value, 2> prefix;

  SmallVector<Value, 3> at(Value i) const {
    SmallVector<Value, 3> v(prefix.begin(), prefix.end());
    v.push_back(i);
    return v;
  }
  /// The same buffers at another prefix.
  Seq row(ValueRange p) const {
    return {re, im, SmallVector<Value, 2>(p.begin(), p.end())};
  }
};

/// A complex vector; null parts: known to be zero (the causal padding),
/// which the arithmetic below folds away.
struct Complex {
  Value re, im;

  bool isZero() const { return !re; }
};

Value fma(ImplicitLocOpBuilder &b, Value x, Value y, Value acc) {
  return vector::FMAOp::create(b, x, y, acc);
}

Complex cneg(ImplicitLocOpBuilder &b, Complex x) {
  if (x.isZero())
    return x;
  return {arith::NegFOp::create(b, x.re), arith::NegFOp::create(b, x.im)};
}

/// a * b, or a * conj(b).
Complex cmul(ImplicitLocOpBuilder &b, Complex x, Complex y, bool conjY) {
  if (x.isZero() || y.isZero())
    return {};
  Value rr = arith::MulFOp::create(b, x.re, y.re);
  Value ri = arith::MulFOp::create(b, x.re, y.im);
  if (!conjY) {
    Value nIm = arith::NegFOp::create(b, x.im);
    return {fma(b, nIm, y.im, rr), fma(b, x.im, y.re, ri)};
  }
  Value nRi = arith::NegFOp::create(b, ri);
  return {fma(b, x.im, y.im, rr), fma(b, x.im, y.re, nRi)};
}

/// acc + x * y, or acc - x * y, as chains of fused multiply-adds: with
/// s = +-x, re = acc.re + s.re y.re - s.im y.im, im = acc.im + s.re y.im +
/// s.im y.re.
Complex cmulAdd(ImplicitLocOpBuilder &b, Complex acc, Complex x, Complex y,
                bool subtract = false) {
  Complex s = subtract ? cneg(b, x) : x;
  Value nsIm = subtract ? x.im : arith::NegFOp::create(b, x.im).getResult();
  return {fma(b, s.re, y.re, fma(b, nsIm, y.im, acc.re)),
          fma(b, s.re, y.im, fma(b, s.im, y.re, acc.im))};
}

Complex cadd(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  if (x.isZero())
    return y;
  if (y.isZero())
    return x;
  return {arith::AddFOp::create(b, x.re, y.re),
          arith::AddFOp::create(b, x.im, y.im)};
}
Complex csub(ImplicitLocOpBuilder &b, Complex x, Complex y) {
  if (y.isZero())
    return x;
  if (x.isZero())
    return cneg(b, y);
  return {arith::SubFOp::create(b, x.re, y.re),
          arith::SubFOp::create(b, x.im, y.im)};
}

/// x * (-i) (forward) or x * i.
Complex mulByI(ImplicitLocOpBuilder &b, Complex x, bool negative) {
  if (x.isZero())
    return x;
  if (negative)
    return {x.im, arith::NegFOp::create(b, x.re)};
  return {arith::NegFOp::create(b, x.im), x.re};
}

/// Positions [lo, lo + len) of a sequence (lo null: 0): the whole
/// transform, or one cache block of it.
struct Span {
  Value lo;
  int64_t len;
};

/// Where a stage reads its inputs and writes its outputs: position i
/// (= block base + j + off) with `off` the static offset of the butterfly
/// slot (0, h, 2h, 3h). Every stage but the first reads, and every stage
/// but the last writes, the work buffer; the first and last may read the
/// input row and write the output row instead.
using Loader = std::function<Complex(ImplicitLocOpBuilder &, Value, int64_t)>;
using Storer =
    std::function<void(ImplicitLocOpBuilder &, Value, int64_t, Complex)>;

struct Io {
  Loader load;
  Storer store;
};

/// The operands of a radix-2 or radix-4 butterfly over j: positions
/// i0 + {0, .., radix-1}h (i0 = base + j), their values, the twiddle
/// w_2h^j and, for radix 4, w_4h^j.
struct ButterflyOperands {
  Value at[4];
  Complex x[4];
  Complex w2h, w4h;
};

/// The coefficients of the product at a block p and its mirror block q,
/// in p's lane order (kernelCoefficients): the kernel's half-length
/// transform at p and, conjugated and permuted, at q, and Q.
struct PairCoefficients {
  Complex a, b, q;
};

/// The inner stages of a blocked transform: `forward(b, lo)` runs the
/// forward stages of half-span cacheBlock/2 ... W on the block at lo,
/// `inverse(b, lo)` their inverse.
struct BlockStages {
  std::function<void(ImplicitLocOpBuilder &, Value)> forward, inverse;
};

/// The FFT of length `len` with blocks of `lanes` positions (one vector)
/// and cache blocks of `cacheBlock` positions, over the twiddle table `tw`
/// (entry h + j = w_2h^j; unused when len == lanes).
class Fft {
public:
  Fft(int64_t len, int64_t lanes, int64_t cacheBlock, Seq tw)
      : len(len), lanes(lanes), cacheBlock(cacheBlock), tw(std::move(tw)) {}

  const int64_t len, lanes, cacheBlock;
  const Seq tw;

  VectorType vecType(OpBuilder &b) const {
    return VectorType::get({lanes}, b.getF32Type());
  }

  Value splat(ImplicitLocOpBuilder &b, float v) const {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vecType(b), v));
  }

  Complex load(ImplicitLocOpBuilder &b, const Seq &s, Value i) const {
    return {vector::LoadOp::create(b, vecType(b), s.re, s.at(i)),
            vector::LoadOp::create(b, vecType(b), s.im, s.at(i))};
  }

  void store(ImplicitLocOpBuilder &b, const Seq &s, Value i, Complex v) const {
    if (v.isZero())
      v = {splat(b, 0.0f), splat(b, 0.0f)};
    vector::StoreOp::create(b, v.re, s.re, s.at(i));
    vector::StoreOp::create(b, v.im, s.im, s.at(i));
  }

  /// A vector constant from `lanes` doubles (rounded to f32).
  Value laneConst(ImplicitLocOpBuilder &b, ArrayRef<double> v) const {
    SmallVector<float> f(v.begin(), v.end());
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(vecType(b), ArrayRef<float>(f)));
  }

  /// Lane l of the result is lane mask[l] of `v`.
  static Value permute(ImplicitLocOpBuilder &b, Value v,
                       ArrayRef<int64_t> mask) {
    return vector::ShuffleOp::create(b, v, v, b.getDenseI64ArrayAttr(mask));
  }

  /// conj(z[mask[l]]) for every lane l.
  static Complex conjPermuted(ImplicitLocOpBuilder &b, Complex z,
                              ArrayRef<int64_t> mask) {
    return {permute(b, z.re, mask),
            arith::NegFOp::create(b, permute(b, z.im, mask))};
  }

  /// Lane l of the result is lane l ^ d of `v`.
  Value swapLanes(ImplicitLocOpBuilder &b, Value v, int64_t d) const {
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < lanes; ++l)
      mask.push_back(l ^ d);
    return permute(b, v, mask);
  }

  /// x * t for per-lane constants t (real when all imaginary parts are 0).
  Complex mulLanes(ImplicitLocOpBuilder &b, Complex x, ArrayRef<double> tr,
                   ArrayRef<double> ti) const {
    Value r = laneConst(b, tr);
    if (llvm::all_of(ti, [](double v) { return v == 0.0; }))
      return {arith::MulFOp::create(b, x.re, r),
              arith::MulFOp::create(b, x.im, r)};
    return cmul(b, x, {r, laneConst(b, ti)}, /*conjY=*/false);
  }

  //===--------------------------------------------------------------------===//
  // Decimation stages
  //===--------------------------------------------------------------------===//

  /// Calls body(base of block, j) for every `lanes` positions j of the
  /// first 1/radix of every block of radix*h in the span.
  void
  forButterflies(ImplicitLocOpBuilder &b, Span span, int64_t h,
                 function_ref<void(ImplicitLocOpBuilder &, Value, Value)> body,
                 int64_t radix) const {
    forRange(b, span.len, radix * h, [&](ImplicitLocOpBuilder &ob, Value base) {
      if (span.lo)
        base = arith::AddIOp::create(ob, span.lo, base);
      forRange(ob, h, lanes,
               [&](ImplicitLocOpBuilder &ib, Value j) { body(ib, base, j); });
    });
  }

  ButterflyOperands loadButterfly(ImplicitLocOpBuilder &b, const Io &io,
                                  Value base, Value j, int64_t h,
                                  int64_t radix) const {
    ButterflyOperands r;
    r.at[0] = arith::AddIOp::create(b, base, j);
    for (int64_t k = 1; k < radix; ++k)
      r.at[k] = addi(b, r.at[0], k * h);
    for (int64_t k = 0; k < radix; ++k)
      r.x[k] = io.load(b, r.at[k], k * h);
    if (radix == 4)
      r.w4h = load(b, tw, addi(b, j, 2 * h));
    r.w2h = load(b, tw, addi(b, j, h));
    return r;
  }

  /// Radix-2 DIF stage: a' = a + b, b' = (a - b) w^j.
  void difStage(ImplicitLocOpBuilder &b, const Io &io, Span span,
                int64_t h) const {
    forButterflies(
        b, span, h,
        [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
          ButterflyOperands r = loadButterfly(ib, io, base, j, h, 2);
          io.store(ib, r.at[0], 0, cadd(ib, r.x[0], r.x[1]));
          io.store(ib, r.at[1], h,
                   cmul(ib, csub(ib, r.x[0], r.x[1]), r.w2h, /*conjY=*/false));
        },
        2);
  }

  /// Radix-2 DIT stage, the inverse of difStage up to a factor 2:
  /// a = a' + b' conj(w^j), b = a' - b' conj(w^j).
  void ditStage(ImplicitLocOpBuilder &b, const Io &io, Span span,
                int64_t h) const {
    forButterflies(
        b, span, h,
        [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
          ButterflyOperands r = loadButterfly(ib, io, base, j, h, 2);
          Complex t = cmul(ib, r.x[1], r.w2h, /*conjY=*/true);
          io.store(ib, r.at[0], 0, cadd(ib, r.x[0], t));
          io.store(ib, r.at[1], h, csub(ib, r.x[0], t));
        },
        2);
  }

  /// Two radix-2 DIF stages (half-spans 2h, then h) in one pass, as a
  /// radix-4 butterfly on x0..x3 = x[j + {0,1,2,3}h] with W = w_4h:
  ///   x[j]      = (x0 + x2) + (x1 + x3)
  ///   x[j + h]  = ((x0 + x2) - (x1 + x3)) W^2j
  ///   x[j + 2h] = ((x0 - x2) - i (x1 - x3)) W^j
  ///   x[j + 3h] = ((x0 - x2) + i (x1 - x3)) W^3j
  /// (the same values, in the same places, as the two radix-2 stages).
  void dif4Stage(ImplicitLocOpBuilder &b, const Io &io, Span span,
                 int64_t h) const {
    forButterflies(
        b, span, h,
        [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
          ButterflyOperands r = loadButterfly(ib, io, base, j, h, 4);
          auto [x0, x1, x2, x3] = r.x;
          Complex w3 = cmul(ib, r.w4h, r.w2h, /*conjY=*/false);
          Complex s02 = cadd(ib, x0, x2), d02 = csub(ib, x0, x2);
          Complex s13 = cadd(ib, x1, x3);
          Complex d13 = mulByI(ib, csub(ib, x1, x3), /*negative=*/true);
          io.store(ib, r.at[0], 0, cadd(ib, s02, s13));
          io.store(ib, r.at[1], h, cmul(ib, csub(ib, s02, s13), r.w2h, false));
          io.store(ib, r.at[2], 2 * h,
                   cmul(ib, cadd(ib, d02, d13), r.w4h, false));
          io.store(ib, r.at[3], 3 * h, cmul(ib, csub(ib, d02, d13), w3, false));
        },
        4);
  }

  /// The inverse of dif4Stage up to a factor 4 (two radix-2 DIT stages,
  /// half-spans h then 2h, with conjugate twiddles).
  void dit4Stage(ImplicitLocOpBuilder &b, const Io &io, Span span,
                 int64_t h) const {
    forButterflies(
        b, span, h,
        [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
          ButterflyOperands r = loadButterfly(ib, io, base, j, h, 4);
          auto [y0, y1, y2, y3] = r.x;
          // Half-span h: (y0, y1) and (y2, y3) with conj(W^2j).
          Complex t = cmul(ib, y1, r.w2h, /*conjY=*/true);
          Complex u = cadd(ib, y0, t), v = csub(ib, y0, t);
          Complex t2 = cmul(ib, y3, r.w2h, /*conjY=*/true);
          Complex p = cadd(ib, y2, t2), q = csub(ib, y2, t2);
          // Half-span 2h: (u, p) with conj(W^j), (v, q) with conj(W^j (-i)).
          Complex pw = cmul(ib, p, r.w4h, /*conjY=*/true);
          Complex qw = mulByI(ib, cmul(ib, q, r.w4h, /*conjY=*/true),
                              /*negative=*/false);
          io.store(ib, r.at[0], 0, cadd(ib, u, pw));
          io.store(ib, r.at[2], 2 * h, csub(ib, u, pw));
          io.store(ib, r.at[1], h, cadd(ib, v, qw));
          io.store(ib, r.at[3], 3 * h, csub(ib, v, qw));
        },
        4);
  }

  Io bufferIo(const Seq &x) const {
    return {[this, x](ImplicitLocOpBuilder &b, Value i, int64_t) {
              return load(b, x, i);
            },
            [this, x](ImplicitLocOpBuilder &b, Value i, int64_t, Complex v) {
              store(b, x, i, v);
            }};
  }

  /// The decimation stages of the forward transform with half-spans hHi,
  /// hHi/2, ..., hLo over `span`: a radix-2 stage first when their number
  /// is odd, then radix-4 pairs. The first stage reads through `first`, or
  /// the buffer when null.
  void forwardStages(ImplicitLocOpBuilder &b, const Seq &x, Span span,
                     int64_t hHi, int64_t hLo, const Loader &first = {}) const {
    Io buf = bufferIo(x);
    bool isFirst = true;
    auto io = [&]() {
      Io r{isFirst && first ? first : buf.load, buf.store};
      isFirst = false;
      return r;
    };
    int64_t h = hHi;
    if (llvm::Log2_64(hHi / hLo) % 2 == 0) { // an odd number of stages
      difStage(b, io(), span, h);
      h /= 2;
    }
    for (; h >= 2 * hLo; h /= 4)
      dif4Stage(b, io(), span, h / 2);
  }

  /// Their inverse (times the product of the radices), in the mirrored
  /// order; the last stage writes through `last`, or the buffer when null.
  void inverseStages(ImplicitLocOpBuilder &b, const Seq &x, Span span,
                     int64_t hHi, int64_t hLo, const Storer &last = {}) const {
    Io buf = bufferIo(x);
    Storer lastStore = last ? last : buf.store;
    bool radix2Last = llvm::Log2_64(hHi / hLo) % 2 == 0;
    int64_t hEnd = radix2Last ? hHi / 2 : hHi;
    for (int64_t h = 2 * hLo; h <= hEnd; h *= 4) {
      bool isLast = !radix2Last && h == hEnd;
      dit4Stage(b, Io{buf.load, isLast ? lastStore : buf.store}, span, h / 2);
    }
    if (radix2Last)
      ditStage(b, Io{buf.load, lastStore}, span, hHi);
  }

  //===--------------------------------------------------------------------===//
  // W-point blocks inside one vector
  //===--------------------------------------------------------------------===//

  /// The W-point DFT inside one vector (lanes = positions of a block), as
  /// the radix-2 DIF stages of lane distance d = W/2, ..., 1: lane l and
  /// its partner l ^ d, top lane (bit d clear) x + p, bottom lane
  /// (p - x) w_2d^(l mod d), i.e. (x + s p) t with per-lane constants
  /// s = +-1 and t = 1 or -w (computed in double precision). The result is
  /// in bit-reversed lane order, which the inverse undoes.
  Complex dft(ImplicitLocOpBuilder &b, Complex x, double scale) const {
    for (int64_t d = lanes / 2; d >= 1; d /= 2) {
      SmallVector<double> sgn, tr, ti;
      for (int64_t l = 0; l < lanes; ++l) {
        bool bottom = l & d;
        double angle = -M_PI * double(l % d) / double(d);
        double sc = d == 1 ? scale : 1.0;
        sgn.push_back(bottom ? -1.0 : 1.0);
        tr.push_back(sc * (bottom ? -std::cos(angle) : 1.0));
        ti.push_back(bottom ? -sc * std::sin(angle) : 0.0);
      }
      Value sv = laneConst(b, sgn);
      Complex p{swapLanes(b, x.re, d), swapLanes(b, x.im, d)};
      if (d == 1 && scale == 1.0) {
        // t = s: (x + s p) s = s x + p.
        x = {fma(b, sv, x.re, p.re), fma(b, sv, x.im, p.im)};
        continue;
      }
      Complex u{fma(b, sv, p.re, x.re), fma(b, sv, p.im, x.im)};
      x = mulLanes(b, u, tr, ti);
    }
    return x;
  }

  /// The inverse of dft times W: the DIT stages d = 1, ..., W/2, each
  /// z = y c (c = 1 on top lanes, conj(w_2d^(l mod d)) on bottom lanes),
  /// then top z + p, bottom p - z for the partner p of z.
  Complex idft(ImplicitLocOpBuilder &b, Complex y) const {
    for (int64_t d = 1; d < lanes; d *= 2) {
      SmallVector<double> sgn, cr, ci;
      bool identity = true;
      for (int64_t l = 0; l < lanes; ++l) {
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

  /// Calls body(position) for every block of W in the span.
  void forBlocks(ImplicitLocOpBuilder &b, Span span,
                 function_ref<void(ImplicitLocOpBuilder &, Value)> body) const {
    forRange(b, span.len, lanes, [&](ImplicitLocOpBuilder &ib, Value base) {
      body(ib, span.lo ? arith::AddIOp::create(ib, span.lo, base) : base);
    });
  }

  /// The W-point blocks of the forward transform, scaled by `scale`.
  void forwardBlocks(ImplicitLocOpBuilder &b, const Seq &x, Span span,
                     double scale) const {
    forBlocks(b, span, [&](ImplicitLocOpBuilder &ib, Value base) {
      store(ib, x, base, dft(ib, load(ib, x, base), scale));
    });
  }

  //===--------------------------------------------------------------------===//
  // Mirror partners and the product
  //===--------------------------------------------------------------------===//

  /// The spectrum is in bit-reversed order: position p holds Z[rev(p)].
  /// The partner Z[-k] of position p > 0 is at 3 * 2^m - 1 - p (2^m <= p <
  /// 2^(m+1)), the mirror image inside the same power-of-two group. Calls
  /// body(P, Pm, mask) for every block of W at P in [0, extent) with its
  /// mirror block Pm (null when the block is its own mirror): lane l's
  /// partner is lane mask[l] of the mirror block (of the block itself when
  /// Pm is null).
  void forMirrorBlocks(ImplicitLocOpBuilder &b, int64_t extent,
                       function_ref<void(ImplicitLocOpBuilder &, Value, Value,
                                         ArrayRef<int64_t>)>
                           body) const {
    SmallVector<int64_t> inBlock0;
    for (int64_t l = 0; l < lanes; ++l) {
      int64_t m = l ? llvm::Log2_64(l) : 0;
      inBlock0.push_back(l ? 3 * (int64_t(1) << m) - 1 - l : 0);
    }
    body(b, idx(b, 0), Value(), inBlock0);
    if (extent > lanes)
      body(b, idx(b, lanes), Value(), reversedLanes());
    // Groups [G, 2G) of two or more blocks: block G + j pairs with
    // 2G - W - j, lanes reversed; one loop over all of them.
    forRange(
        b, extent / (2 * lanes) - 1, 1, [&](ImplicitLocOpBuilder &ib, Value v) {
          auto [p, q] =
              mirrorPair(ib, arith::AddIOp::create(ib, v, idx(ib, 1)), lanes);
          body(ib, p, q, reversedLanes());
        });
  }

  /// Pair v >= 1 of the mirror pairs of units (blocks of `unit` positions)
  /// in the groups [G, 2G) of two or more units, counted from group 2: the
  /// unit i = v + 2^k (k = floor(log2 v)) of the lower half of group
  /// G = 2^(k+1) and its mirror 3G - 1 - i; their first positions.
  static std::pair<Value, Value> mirrorPair(ImplicitLocOpBuilder &b, Value v,
                                            int64_t unit) {
    auto i64 = [&](int64_t c) {
      return arith::ConstantOp::create(b, b.getI64IntegerAttr(c));
    };
    Value v64 = arith::IndexCastUIOp::create(b, b.getI64Type(), v);
    Value k = arith::SubIOp::create(b, i64(63),
                                    math::CountLeadingZerosOp::create(b, v64));
    Value half = arith::IndexCastUIOp::create(
        b, b.getIndexType(), arith::ShLIOp::create(b, i64(1), k));
    Value i = arith::AddIOp::create(b, v, half);
    Value mirror = arith::SubIOp::create(
        b, arith::SubIOp::create(b, muli(b, half, 6), idx(b, 1)), i);
    return {muli(b, i, unit), muli(b, mirror, unit)};
  }

  SmallVector<int64_t> reversedLanes() const {
    SmallVector<int64_t> r;
    for (int64_t l = 0; l < lanes; ++l)
      r.push_back(lanes - 1 - l);
    return r;
  }

  /// v = exp(-2 pi i k / len) at the lanes of the block at `base`, whose
  /// lane l holds k = rev(base + l): rev(base + l) = rev_w(l) len/W +
  /// rev(base / W), so v is the per-lane constant exp(-2 pi i rev_w(l) / W)
  /// times the table entry len/2 + rev(base / W) (= w_len^rev(base / W)).
  Complex twist(ImplicitLocOpBuilder &b, Value base) const {
    int64_t laneBits = llvm::Log2_64(lanes);
    SmallVector<double> cr, ci;
    for (int64_t l = 0; l < lanes; ++l) {
      double angle =
          -2.0 * M_PI * double(reverseBits(l, laneBits)) / double(lanes);
      cr.push_back(std::cos(angle));
      ci.push_back(std::sin(angle));
    }
    Complex lane{laneConst(b, cr), laneConst(b, ci)};
    if (len == lanes)
      return lane;
    Value block = arith::ShRUIOp::create(b, base, idx(b, laneBits));
    Value at =
        addi(b, reverseBits(b, block, llvm::Log2_64(len) - laneBits), len / 2);
    Complex s{vector::BroadcastOp::create(
                  b, vecType(b), memref::LoadOp::create(b, tw.re, tw.at(at))),
              vector::BroadcastOp::create(
                  b, vecType(b), memref::LoadOp::create(b, tw.im, tw.at(at)))};
    return cmul(b, s, lane, /*conjY=*/false);
  }

  static int64_t reverseBits(int64_t v, int64_t bits) {
    int64_t r = 0;
    for (int64_t i = 0; i < bits; ++i)
      r |= ((v >> i) & 1) << (bits - 1 - i);
    return r;
  }

  /// The low `bits` bits of the index `v` (< 2^bits) reversed: swaps of
  /// ever wider bit groups inside the smallest power-of-two word that
  /// holds them, then a shift.
  static Value reverseBits(ImplicitLocOpBuilder &b, Value v, int64_t bits) {
    if (bits == 0)
      return idx(b, 0);
    int64_t word = int64_t(llvm::PowerOf2Ceil(bits));
    auto i64 = [&](uint64_t c) {
      return arith::ConstantOp::create(b, b.getI64IntegerAttr(int64_t(c)));
    };
    Value x = arith::IndexCastUIOp::create(b, b.getI64Type(), v);
    uint64_t wordMask = word == 64 ? ~uint64_t(0) : (uint64_t(1) << word) - 1;
    for (int64_t s = 1; s < word; s *= 2) {
      // Bits whose position has bit s clear: 0x5555..., 0x3333..., ...
      uint64_t m = 0;
      for (int64_t i = 0; i < 64; ++i)
        if (!(i & s))
          m |= uint64_t(1) << i;
      m &= wordMask;
      Value lo = arith::AndIOp::create(b, arith::ShRUIOp::create(b, x, i64(s)),
                                       i64(m));
      Value hi =
          arith::ShLIOp::create(b, arith::AndIOp::create(b, x, i64(m)), i64(s));
      x = arith::OrIOp::create(b, lo, hi);
    }
    if (word > bits)
      x = arith::ShRUIOp::create(b, x, i64(word - bits));
    return arith::IndexCastUIOp::create(b, b.getIndexType(), x);
  }

  /// The coefficients of the product at blocks p and its mirror q (null
  /// when p is its own mirror; then b is unused).
  using CoefficientsAt = std::function<PairCoefficients(
      ImplicitLocOpBuilder &, Value p, Value q, ArrayRef<int64_t> mask)>;

  /// The middle of the transform of one real row x travelling as z[j] =
  /// x[2j] + i x[2j + 1]: forward W-point blocks Z, then the product of
  /// every pair of mirror blocks (kernelCoefficients), then the inverse
  /// blocks. With M = conj(Z[-k]) at p's lanes and T = Q (M - Z(p)):
  /// W(p) = A Z(p) + T and, conjugated and permuted back, W(q) = B M + T.
  void multiplyMirrorBlocks(ImplicitLocOpBuilder &b, const Seq &x,
                            const CoefficientsAt &coefficients,
                            const BlockStages *blocked) const {
    auto pair = [&](ImplicitLocOpBuilder &ib, Value p, Value q,
                    ArrayRef<int64_t> mask) {
      Complex zp = dft(ib, load(ib, x, p), 1.0);
      Complex zq = q ? dft(ib, load(ib, x, q), 1.0) : zp;
      PairCoefficients c = coefficients(ib, p, q, mask);
      Complex m = conjPermuted(ib, zq, mask);
      Complex t = cmul(ib, csub(ib, m, zp), c.q, /*conjY=*/false);
      if (q) {
        Complex wq = cmulAdd(ib, t, c.b, m);
        store(ib, x, q, idft(ib, conjPermuted(ib, wq, mask)));
      }
      store(ib, x, p, idft(ib, cmulAdd(ib, t, c.a, zp)));
    };
    if (!blocked) {
      forMirrorBlocks(b, len, pair);
      return;
    }
    // Mirror partners stay in one power-of-two group, so cache blocks pair
    // up too: blocks 0 and 1 hold every group shorter than two blocks; in
    // a longer group the block at G + a mirrors the one at 2G - B - a
    // (W-block G + a + j with 2G - W - a - j). Each pair of blocks runs
    // its inner forward stages, the product and the inverse stages while
    // it is in L1: one loop over the pairs, with one copy of each.
    const int64_t B = cacheBlock;
    forRange(b, len / (2 * B), 1, [&](ImplicitLocOpBuilder &ub, Value u) {
      Value first =
          arith::CmpIOp::create(ub, arith::CmpIPredicate::eq, u, idx(ub, 0));
      // Plain variables, not structured bindings: the lambdas below
      // capture them (C++20 only for bindings).
      std::pair<Value, Value> mirror =
          mirrorPair(ub, arith::MaxUIOp::create(ub, u, idx(ub, 1)), B);
      Value lo1 = arith::SelectOp::create(ub, first, idx(ub, 0), mirror.first);
      Value lo2 = arith::SelectOp::create(ub, first, idx(ub, B), mirror.second);
      auto both = [&](const std::function<void(ImplicitLocOpBuilder &, Value)>
                          &stages) {
        forRange(ub, 2, 1, [&](ImplicitLocOpBuilder &sb, Value t) {
          Value isFirst = arith::CmpIOp::create(sb, arith::CmpIPredicate::eq, t,
                                                idx(sb, 0));
          stages(sb, arith::SelectOp::create(sb, isFirst, lo1, lo2));
        });
      };
      both(blocked->forward);
      kernel::ifThen(
          ub, first,
          [&](ImplicitLocOpBuilder &ib) { forMirrorBlocks(ib, 2 * B, pair); },
          [&](ImplicitLocOpBuilder &ib) {
            Value mirrorEnd = addi(ib, lo2, B - lanes);
            forRange(ib, B, lanes, [&](ImplicitLocOpBuilder &jb, Value j) {
              pair(jb, arith::AddIOp::create(jb, lo1, j),
                   arith::SubIOp::create(jb, mirrorEnd, j), reversedLanes());
            });
          });
      both(blocked->inverse);
    });
  }

  /// The product coefficients from a kernel's half-length transform Zk
  /// (scaled by 1/len) at a block p: with A = Zk, B = conj(Zk[-k]) (the
  /// mirror partners' values at p's lanes) and v = exp(-2 pi i k / len)
  /// (twist), Q = (1 + v) (A - B) / 4. Then W = A Z + Q (conj(Z[-k]) - Z)
  /// is the half-length transform of the even and odd samples of
  /// x * kernel (times 1/len): the split of both real spectra (X = E + v O
  /// and X[k + len] = E - v O from the even and odd parts E, O), their
  /// product and the merge of the inverse, in one step. At the mirror
  /// block the same holds with B in the place of A (in p's lane order).
  PairCoefficients kernelCoefficients(ImplicitLocOpBuilder &b, const Seq &kz,
                                      Value p, Value q,
                                      ArrayRef<int64_t> mask) const {
    Complex a = load(b, kz, p);
    Complex bm = conjPermuted(b, q ? load(b, kz, q) : a, mask);
    Value quarter = splat(b, 0.25f);
    Complex d = csub(b, a, bm);
    d = {arith::MulFOp::create(b, d.re, quarter),
         arith::MulFOp::create(b, d.im, quarter)};
    return {a, bm, cmulAdd(b, d, d, twist(b, p))};
  }

  /// Stores Q at every block p in `qs` and replaces the kernel transform in
  /// `a` at every mirror block q by B (one pass over mirror pairs; what the
  /// rows read when a kernel has many of them).
  void storeCoefficients(ImplicitLocOpBuilder &b, const Seq &a,
                         const Seq &qs) const {
    forMirrorBlocks(b, len,
                    [&](ImplicitLocOpBuilder &ib, Value p, Value q,
                        ArrayRef<int64_t> mask) {
                      PairCoefficients c =
                          kernelCoefficients(ib, a, p, q, mask);
                      if (q)
                        store(ib, a, q, c.b);
                      store(ib, qs, p, c.q);
                    });
  }

  /// The coefficients storeCoefficients left.
  PairCoefficients storedCoefficients(ImplicitLocOpBuilder &b, const Seq &a,
                                      const Seq &qs, Value p, Value q) const {
    Complex ap = load(b, a, p);
    return {ap, q ? load(b, a, q) : ap, load(b, qs, p)};
  }

  //===--------------------------------------------------------------------===//
  // Whole transforms
  //===--------------------------------------------------------------------===//

  /// The forward transform of `x` times `scale`, its first stage reading
  /// through `first` (W-point blocks included); `blocked` as in convolve.
  void forward(ImplicitLocOpBuilder &b, const Seq &x, const Loader &first,
               double scale, bool blocked = true) const {
    Span whole{{}, len};
    if (blocked && len > cacheBlock) {
      forwardStages(b, x, whole, len / 2, cacheBlock, first);
      forRange(b, len, cacheBlock, [&](ImplicitLocOpBuilder &bb, Value lo) {
        Span block{lo, cacheBlock};
        forwardStages(bb, x, block, cacheBlock / 2, lanes);
        forwardBlocks(bb, x, block, scale);
      });
      return;
    }
    if (len > lanes) {
      forwardStages(b, x, whole, len / 2, lanes, first);
    } else {
      Value c0 = idx(b, 0);
      store(b, x, c0, first(b, c0, 0));
    }
    forwardBlocks(b, x, whole, scale);
  }

  /// The convolution of one row in the work buffer `x`: the forward
  /// transform (first stage through `first`), the product (`coefficients`,
  /// fused with the W-point blocks), the inverse transform (last stage
  /// through `last`). `blocked`: in cache blocks when len is longer than
  /// one (otherwise every stage passes over the whole buffer: slower, less
  /// code).
  void convolve(ImplicitLocOpBuilder &b, const Seq &x, const Loader &first,
                const Storer &last, const CoefficientsAt &coefficients,
                bool blocked = true) const {
    Span whole{{}, len};
    if (blocked && len > cacheBlock) {
      // The outer stages pass over the whole buffer; the inner ones run
      // block by block inside the product.
      forwardStages(b, x, whole, len / 2, cacheBlock, first);
      BlockStages inner{
          [&](ImplicitLocOpBuilder &bb, Value lo) {
            forwardStages(bb, x, Span{lo, cacheBlock}, cacheBlock / 2, lanes);
          },
          [&](ImplicitLocOpBuilder &bb, Value lo) {
            inverseStages(bb, x, Span{lo, cacheBlock}, cacheBlock / 2, lanes);
          }};
      multiplyMirrorBlocks(b, x, coefficients, &inner);
      inverseStages(b, x, whole, len / 2, cacheBlock, last);
    } else if (len > lanes) {
      forwardStages(b, x, whole, len / 2, lanes, first);
      multiplyMirrorBlocks(b, x, coefficients, nullptr);
      inverseStages(b, x, whole, len / 2, lanes, last);
    } else {
      Value c0 = idx(b, 0);
      store(b, x, c0, first(b, c0, 0));
      multiplyMirrorBlocks(b, x, coefficients, nullptr);
      last(b, c0, 0, load(b, x, c0));
    }
  }
};

/// Largest transform length whose twiddle table is a compile-time constant
/// (2 x 256 KiB). Longer tables are expanded once per call from two small
/// constant factor tables, so that the .so does not carry 8 MiB of
/// constants for N = 2^20.
constexpr int64_t kMaxConstTwiddles = 1 << 16;

/// `memref.get_global` of the private constant global `name` of the
/// module, created from values() on first use.
Value constGlobal(ImplicitLocOpBuilder &b, ModuleOp module, StringRef name,
                  function_ref<DenseElementsAttr()> values) {
  auto global = SymbolTable::lookupSymbolIn(module, name);
  if (!global) {
    DenseElementsAttr init = values();
    auto shaped = cast<ShapedType>(init.getType());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    global = memref::GlobalOp::create(
        b, b.getStringAttr(name), b.getStringAttr("private"),
        TypeAttr::get(
            MemRefType::get(shaped.getShape(), shaped.getElementType())),
        init, b.getUnitAttr(), b.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(
      b, cast<memref::GlobalOp>(global).getType(),
      FlatSymbolRefAttr::get(b.getContext(), name));
}

/// A private constant f64 memref.global of the module, values(i) for
/// i < count (computed here in double precision).
Value constF64Table(ImplicitLocOpBuilder &b, ModuleOp module, StringRef name,
                    int64_t count, function_ref<double(int64_t)> values) {
  return constGlobal(b, module, name, [&] {
    SmallVector<double> v;
    for (int64_t i = 0; i < count; ++i)
      v.push_back(values(i));
    return DenseElementsAttr::get(
        RankedTensorType::get({count}, b.getF64Type()), ArrayRef<double>(v));
  });
}

/// tw[h + j] = exp(-i pi j / h) for 1 <= h < L, j < h, at run time: every
/// entry is a power w_L^e (e = j L / 2h < L/2), and e = t S + u splits it
/// into a product of two compile-time constant tables, w_L^(tS) and w_L^u
/// (about sqrt(L/2) entries each, f64), multiplied in double precision and
/// rounded once. One scf.parallel over blocks of the table.
void fillTwiddles(ImplicitLocOpBuilder &b, ModuleOp module, const Seq &tw,
                  int64_t L) {
  int64_t logHalf = llvm::Log2_64(L / 2);
  int64_t loBits = (logHalf + 1) / 2, loCount = int64_t(1) << loBits;
  int64_t hiCount = (L / 2) >> loBits;
  auto angle = [&](int64_t e) { return -2.0 * M_PI * double(e) / double(L); };
  auto table = [&](StringRef part, int64_t count, int64_t step, bool imag) {
    std::string name = (Twine("__loom_fft_twiddle_") + part +
                        (imag ? "_im_" : "_re_") + Twine(L))
                           .str();
    return constF64Table(b, module, name, count, [&](int64_t i) {
      return imag ? std::sin(angle(i * step)) : std::cos(angle(i * step));
    });
  };
  Value hiRe = table("hi", hiCount, loCount, false),
        hiIm = table("hi", hiCount, loCount, true),
        loRe = table("lo", loCount, 1, false),
        loIm = table("lo", loCount, 1, true);

  constexpr int64_t kBlock = 1024; // divides L > 2^16
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0)}, ValueRange{idx(b, L / kBlock)},
      ValueRange{idx(b, 1)}, [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder pb(loc, nb);
        Value base = muli(pb, ivs[0], kBlock);
        forRange(pb, kBlock, 1, [&](ImplicitLocOpBuilder &ib, Value u) {
          Value at = arith::AddIOp::create(ib, base, u);
          // Entry 0 is never read; treat it as entry 1 (h = 1, j = 0).
          Value i = arith::IndexCastOp::create(
              ib, ib.getI64Type(), arith::MaxUIOp::create(ib, at, idx(ib, 1)));
          auto i64 = [&](int64_t v) {
            return arith::ConstantOp::create(ib, ib.getI64IntegerAttr(v));
          };
          // log2 h = 63 - ctlz(i), j = i - h, e = j << (log2(L/2) - log2 h).
          Value logH = arith::SubIOp::create(
              ib, i64(63), math::CountLeadingZerosOp::create(ib, i));
          Value h = arith::ShLIOp::create(ib, i64(1), logH);
          Value e = arith::ShLIOp::create(
              ib, arith::SubIOp::create(ib, i, h),
              arith::SubIOp::create(ib, i64(logHalf), logH));
          auto toIndex = [&](Value v) {
            return arith::IndexCastOp::create(ib, ib.getIndexType(), v);
          };
          Value t = toIndex(arith::ShRUIOp::create(ib, e, i64(loBits)));
          Value s = toIndex(arith::AndIOp::create(ib, e, i64(loCount - 1)));
          Value ar = memref::LoadOp::create(ib, hiRe, ValueRange{t});
          Value ai = memref::LoadOp::create(ib, hiIm, ValueRange{t});
          Value br = memref::LoadOp::create(ib, loRe, ValueRange{s});
          Value bi = memref::LoadOp::create(ib, loIm, ValueRange{s});
          Value re =
              arith::SubFOp::create(ib, arith::MulFOp::create(ib, ar, br),
                                    arith::MulFOp::create(ib, ai, bi));
          Value im =
              arith::AddFOp::create(ib, arith::MulFOp::create(ib, ar, bi),
                                    arith::MulFOp::create(ib, ai, br));
          auto f32 = ib.getF32Type();
          memref::StoreOp::create(ib, arith::TruncFOp::create(ib, f32, re),
                                  tw.re, tw.at(at));
          memref::StoreOp::create(ib, arith::TruncFOp::create(ib, f32, im),
                                  tw.im, tw.at(at));
        });
      });
}

/// The same table as a private constant memref.global of the module
/// (shared by every fft_conv of that length), computed here in double
/// precision.
Value constTwiddles(ImplicitLocOpBuilder &b, ModuleOp module, int64_t L,
                    bool imag) {
  std::string name =
      (Twine("__loom_fft_twiddles_") + (imag ? "im_" : "re_") + Twine(L)).str();
  return constGlobal(b, module, name, [&] {
    SmallVector<float> values(L, 0.0f);
    for (int64_t h = 1; h < L; h *= 2)
      for (int64_t j = 0; j < h; ++j) {
        double angle = -M_PI * double(j) / double(h);
        values[h + j] = float(imag ? std::sin(angle) : std::cos(angle));
      }
    return DenseElementsAttr::get(RankedTensorType::get({L}, b.getF32Type()),
                                  ArrayRef<float>(values));
  });
}

Value allocF32(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape) {
  return memref::AllocOp::create(b, MemRefType::get(shape, b.getF32Type()),
                                 b.getI64IntegerAttr(64));
}

/// A complex buffer of `shape` as one allocation [2, shape...] (real part,
/// then imaginary part; the last dim padded by `pad` positions, so that re
/// and im, and rows, are not a power of two apart and do not share L1
/// sets): one heap block instead of two halves the malloc/free pairs, and
/// glibc's adaptive thresholds then keep a repeated call's block on the
/// heap instead of trimming it and page-faulting it back on every call.
/// `perCall`: the buffer lives for the whole call (not one work item), so
/// from 32 MiB it is kept across calls (allocCallScratch).
Seq allocComplex(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape, int64_t pad,
                 bool perCall = false) {
  SmallVector<int64_t> full{2};
  full.append(shape.begin(), shape.end());
  full.back() += pad;
  Value buf =
      perCall ? allocCallScratch(b, MemRefType::get(full, b.getF32Type()), 64)
              : allocF32(b, full);
  auto half = [&](int64_t part) -> Value {
    SmallVector<OpFoldResult> offsets(full.size(), b.getIndexAttr(0)), sizes,
        strides(full.size(), b.getIndexAttr(1));
    offsets[0] = b.getIndexAttr(part);
    sizes.push_back(b.getIndexAttr(1));
    for (int64_t d : shape)
      sizes.push_back(b.getIndexAttr(d));
    auto type = memref::SubViewOp::inferRankReducedResultType(
        shape, cast<MemRefType>(buf.getType()), offsets, sizes, strides);
    return memref::SubViewOp::create(b, cast<MemRefType>(type), buf, offsets,
                                     sizes, strides);
  };
  return {half(0), half(1), {}};
}

/// Reads and writes rows of length n as half-length complex sequences
/// z[j] = x[2j] + i x[2j + 1]: the vector at position j holds x[2j ...
/// 2j + 2W) de-interleaved (two loads and two two-source shuffles).
struct EvenOdd {
  const Fft &fft;
  int64_t n;

  /// z[i .. i + W) of row `prefix` of `src`; x positions >= `limit` read
  /// as zeros when `limit` is given. When n = W (one vector of z covers
  /// the whole row and its causal padding) the upper half is zeros.
  Complex load(ImplicitLocOpBuilder &b, Value src, ValueRange prefix, Value i,
               Value limit) const {
    int64_t W = fft.lanes;
    VectorType vt = fft.vecType(b);
    Value x0 = muli(b, i, 2);
    auto part = [&](Value at) -> Value {
      SmallVector<Value, 3> indices(prefix.begin(), prefix.end());
      indices.push_back(at);
      Value v = vector::LoadOp::create(b, vt, src, indices);
      if (limit)
        v = arith::SelectOp::create(b, laneMask(b, at, limit), v,
                                    fft.splat(b, 0.0f));
      return v;
    };
    Value lo = part(x0);
    Value hi = n >= 2 * W ? part(addi(b, x0, W)) : fft.splat(b, 0.0f);
    SmallVector<int64_t> even, odd;
    for (int64_t l = 0; l < W; ++l) {
      even.push_back(2 * l);
      odd.push_back(2 * l + 1);
    }
    return {vector::ShuffleOp::create(b, lo, hi, b.getDenseI64ArrayAttr(even)),
            vector::ShuffleOp::create(b, lo, hi, b.getDenseI64ArrayAttr(odd))};
  }

  /// Writes z[i .. i + W) = v to x[2i ...] of row `prefix` of `dst`
  /// (nothing past n); NaN at x positions >= `limit` when it is given.
  void store(ImplicitLocOpBuilder &b, Value dst, ValueRange prefix, Value i,
             Complex v, Value limit) const {
    int64_t W = fft.lanes;
    Value x0 = muli(b, i, 2);
    auto part = [&](Value at, int64_t first) {
      SmallVector<int64_t> mask;
      for (int64_t l = 0; l < W / 2; ++l) {
        mask.push_back(first + l);
        mask.push_back(W + first + l);
      }
      Value y = vector::ShuffleOp::create(b, v.re, v.im,
                                          b.getDenseI64ArrayAttr(mask));
      if (limit)
        y = arith::SelectOp::create(
            b, laneMask(b, at, limit), y,
            fft.splat(b, std::numeric_limits<float>::quiet_NaN()));
      SmallVector<Value, 3> indices(prefix.begin(), prefix.end());
      indices.push_back(at);
      vector::StoreOp::create(b, y, dst, indices);
    };
    part(x0, 0);
    if (n >= 2 * W)
      part(addi(b, x0, W), W / 2);
  }

  /// Lane l: at + l < limit.
  Value laneMask(ImplicitLocOpBuilder &b, Value at, Value limit) const {
    return vector::CreateMaskOp::create(
        b, VectorType::get({fft.lanes}, b.getI1Type()),
        ValueRange{arith::SubIOp::create(b, limit, at)});
  }
};

/// The first position of a non-finite value in row `prefix` of `src`
/// (length n), or n.
Value firstNonFinite(ImplicitLocOpBuilder &b, Value src, ValueRange prefix,
                     int64_t n) {
  Value inf = arith::ConstantOp::create(
      b, b.getF32FloatAttr(std::numeric_limits<float>::infinity()));
  auto loop = scf::ForOp::create(
      b, idx(b, 0), idx(b, n), idx(b, 1), ValueRange{idx(b, n)},
      [&](OpBuilder &nb, Location loc, Value i, ValueRange iter) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value, 3> indices(prefix.begin(), prefix.end());
        indices.push_back(i);
        Value v = memref::LoadOp::create(ib, src, indices);
        // Unordered or equal: NaN, or |v| = inf.
        Value bad = arith::CmpFOp::create(ib, arith::CmpFPredicate::UGE,
                                          math::AbsFOp::create(ib, v), inf);
        Value first = arith::SelectOp::create(
            ib, bad, arith::MinUIOp::create(ib, iter[0], i), iter[0]);
        scf::YieldOp::create(ib, first);
      });
  return loop.getResult(0);
}

/// Lanes per W-point block: one vector register of the target (at least
/// 4, at most 16 positions).
int64_t blockLanes(const CpuTargetDescription &target) {
  return std::clamp<int64_t>(target.lanes(), 4, 16);
}

/// Positions per cache block: the largest power of two whose re and im
/// (8 bytes a position) fill at most a third of L1, so that the pair of
/// mirror blocks the product works on, and for one row the kernel's, stay
/// in L1 with room to spare: 2048 for a 48 KiB L1, 1024 for 32 KiB.
int64_t cacheBlockPositions(const CpuTargetDescription &target) {
  return std::max<int64_t>(
      int64_t(llvm::bit_floor(uint64_t(target.l1Bytes / 24))), 256);
}

/// One fft_conv_tile on buffers: u [R, C, N], kernel [C, N] and out, row
/// slices with a unit innermost stride. Inside a parallel loop (a work
/// item of loom-tile-fft-conv's forall) its lines run in order, channel by
/// channel; outside one, one scf.parallel over (channel, row).
LogicalResult lowerFftConvTile(RewriterBase &rewriter, FftConvTileOp op,
                               const CpuTargetDescription &target) {
  if (!isa<MemRefType>(op.getU().getType()))
    return op.emitOpError()
           << "must be bufferized before convert-fft-conv-tiles-to-vector";
  for (Value v : {op.getU(), op.getKernel(), op.getOut()})
    if (!cast<MemRefType>(v.getType()).isLastDimUnitStride())
      return op.emitOpError()
             << "needs lines with a unit innermost stride, got " << v.getType();
  // The verifier guarantees a power of two >= 16.
  ArrayRef<int64_t> shape = cast<MemRefType>(op.getU().getType()).getShape();
  int64_t n = shape[2];
  // Constant twiddle tables live in the enclosing module.
  auto module = op->getParentOfType<ModuleOp>();
  if (!module)
    return op.emitOpError() << "must be inside a module";
  Operation *loop = outermostParallelLoop(op);
  rewriter.setInsertionPoint(op);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  int64_t rows = shape[0], channels = shape[1];
  bool causal = op.getCausal();

  // Real rows of length L (the causal ones zero-padded to 2N) travel as
  // complex sequences of M = L/2 positions; z positions >= zCount (the
  // causal padding) are zeros.
  int64_t M = causal ? n : n / 2;
  int64_t zCount = n / 2;
  int64_t lanes = std::min(blockLanes(target), M);
  int64_t cacheBlock = std::max(cacheBlockPositions(target), 2 * lanes);
  // The stages inside a cache block and the ones outside run as radix-4
  // passes, with one radix-2 pass where their number is odd. When both
  // numbers are odd, half the block makes both even: one pass less.
  if (M > cacheBlock && cacheBlock >= 4 * lanes &&
      llvm::Log2_64(cacheBlock / lanes) % 2 == 1 &&
      llvm::Log2_64(M / cacheBlock) % 2 == 1)
    cacheBlock /= 2;

  Value u = op.getU();
  Value kernel = op.getKernel();
  Value out = op.getOut();

  if (rows > 0 && channels > 0) {
    // No decimation stage (M = W) needs no twiddle.
    Seq tw;
    if (M > lanes && M <= kMaxConstTwiddles) {
      tw = {constTwiddles(b, module, M, false),
            constTwiddles(b, module, M, true),
            {}};
    } else if (M > lanes) {
      // Once per call: before the tiles' parallel loop.
      OpBuilder::InsertionGuard guard(rewriter);
      if (loop)
        rewriter.setInsertionPoint(loop);
      ImplicitLocOpBuilder tb(op.getLoc(), rewriter);
      tw = allocComplex(tb, {M}, lanes, /*perCall=*/true);
      fillTwiddles(tb, module, tw, M);
    }
    Fft fft(M, lanes, cacheBlock, tw);
    EvenOdd io{fft, n};
    // Zk = fft(k) / M of the kernels, the scale of the product's
    // coefficients (kernelCoefficients).
    const double kernelScale = 1.0 / double(M);

    // Loaders of the first stage and storers of the last one: nothing
    // past the row (z positions >= zCount).
    auto loader = [&](Value src, SmallVector<Value, 2> prefix,
                      Value limit) -> Loader {
      return [&io, src, prefix, limit, zCount](ImplicitLocOpBuilder &lb,
                                               Value i, int64_t off) {
        if (off >= zCount)
          return Complex{};
        return io.load(lb, src, prefix, i, limit);
      };
    };
    auto storer = [&](SmallVector<Value, 2> prefix, Value limit) -> Storer {
      return [&io, out, prefix, limit, zCount](
                 ImplicitLocOpBuilder &sb, Value i, int64_t off, Complex v) {
        if (off < zCount)
          io.store(sb, out, prefix, i, v, limit);
      };
    };
    // The product's coefficients from a kernel transform in the work
    // item, or from the stored ones.
    auto fromKernel = [&](Seq kz) -> Fft::CoefficientsAt {
      return [&fft, kz](ImplicitLocOpBuilder &cb, Value p, Value q,
                        ArrayRef<int64_t> mask) {
        return fft.kernelCoefficients(cb, kz, p, q, mask);
      };
    };

    // With more than one row, the coefficients of every channel once per
    // tile ([C, 2, M]: A and B in row 0, Q in row 1), each kernel
    // transformed on its own.
    Seq coef;
    if (rows > 1) {
      auto channelCoefficients = [&](ImplicitLocOpBuilder &ib, Value c) {
        Seq a = coef.row({c, idx(ib, 0)}), qs = coef.row({c, idx(ib, 1)});
        fft.forward(ib, a, loader(kernel, {c}, Value()), kernelScale);
        fft.storeCoefficients(ib, a, qs);
      };
      if (loop) {
        coef = allocComplex(b, {channels, 2, M}, lanes);
        forRange(b, channels, 1, channelCoefficients);
      } else {
        coef = allocComplex(b, {channels, 2, M}, lanes, /*perCall=*/true);
        scf::ParallelOp::create(
            b, ValueRange{idx(b, 0)}, ValueRange{idx(b, channels)},
            ValueRange{idx(b, 1)},
            [&](OpBuilder &nb, Location loc, ValueRange ivs) {
              ImplicitLocOpBuilder ib(loc, nb);
              channelCoefficients(ib, ivs[0]);
            });
      }
    }

    // One work item: row (m, c). With a single row the item transforms
    // its channel's kernel itself (no [C, M] spectra buffer), into the
    // same allocation as its work buffer.
    auto item = [&](ImplicitLocOpBuilder &ib, Value m, Value c) {
      Seq x;
      Fft::CoefficientsAt coefficients;
      if (rows == 1) {
        Seq both = allocComplex(ib, {2, M}, lanes);
        Seq kz = both.row(idx(ib, 0));
        x = both.row(idx(ib, 1));
        fft.forward(ib, kz, loader(kernel, {c}, Value()), kernelScale);
        coefficients = fromKernel(kz);
      } else {
        x = allocComplex(ib, {M}, lanes);
        Seq a = coef.row({c, idx(ib, 0)}), qs = coef.row({c, idx(ib, 1)});
        coefficients = [&fft, a, qs](ImplicitLocOpBuilder &cb, Value p, Value q,
                                     ArrayRef<int64_t>) {
          return fft.storedCoefficients(cb, a, qs, p, q);
        };
      }
      fft.convolve(ib, x, loader(u, {m, c}, Value()), storer({m, c}, Value()),
                   coefficients);
      if (!causal)
        return;
      // A non-finite first output: some input of the row or its kernel
      // is not finite. Recompute with both cut at the first such
      // position p and NaN from p on.
      Value y0 = memref::LoadOp::create(ib, out, ValueRange{m, c, idx(ib, 0)});
      Value inf = arith::ConstantOp::create(
          ib, ib.getF32FloatAttr(std::numeric_limits<float>::infinity()));
      Value bad = arith::CmpFOp::create(ib, arith::CmpFPredicate::UGE,
                                        math::AbsFOp::create(ib, y0), inf);
      kernel::ifThen(ib, bad, [&](ImplicitLocOpBuilder &fb) {
        Value limit = arith::MinUIOp::create(
            fb, firstNonFinite(fb, u, ValueRange{m, c}, n),
            firstNonFinite(fb, kernel, ValueRange{c}, n));
        Seq both = allocComplex(fb, {2, M}, lanes);
        Seq kzCut = both.row(idx(fb, 0)), xCut = both.row(idx(fb, 1));
        // Rare: the smaller code of whole-buffer stages.
        fft.forward(fb, kzCut, loader(kernel, {c}, limit), kernelScale,
                    /*blocked=*/false);
        fft.convolve(fb, xCut, loader(u, {m, c}, limit), storer({m, c}, limit),
                     fromKernel(kzCut),
                     /*blocked=*/false);
      });
    };
    // Channel-major: the rows of one channel follow each other (on each
    // thread), so that its coefficients stay in L2.
    if (loop) {
      forRange(b, channels, 1, [&](ImplicitLocOpBuilder &cb, Value c) {
        forRange(cb, rows, 1,
                 [&](ImplicitLocOpBuilder &ib, Value m) { item(ib, m, c); });
      });
    } else {
      scf::ParallelOp::create(b, ValueRange{idx(b, 0), idx(b, 0)},
                              ValueRange{idx(b, channels), idx(b, rows)},
                              ValueRange{idx(b, 1), idx(b, 1)},
                              [&](OpBuilder &nb, Location loc, ValueRange ivs) {
                                ImplicitLocOpBuilder ib(loc, nb);
                                item(ib, ivs[1], ivs[0]);
                              });
    }
  }
  rewriter.eraseOp(op);
  return success();
}

} // namespace

LogicalResult
mlir::loom::lowerFftConvTilesToVector(RewriterBase &rewriter, Operation *root,
                                      const CpuTargetDescription &target) {
  SmallVector<FftConvTileOp> tiles;
  root->walk([&](FftConvTileOp op) { tiles.push_back(op); });
  if (tiles.empty())
    return success();
  eraseSelfCopies(rewriter, root);
  for (FftConvTileOp op : tiles)
    if (failed(lowerFftConvTile(rewriter, op, target)))
      return failure();
  return success();
}
