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
// and the inverse blocks are fused in registers. When L > 2048 the stages
// of half-span < 2048, the product and their inverses run block by block
// (kCacheBlock) while a block is in L1; only the longer stages pass over
// the whole buffer.
//
// Two rows of the same channel travel together as the real and imaginary
// parts of one complex sequence: the convolution is linear and the kernel
// real, so the real and imaginary parts of the result are the two rows'
// outputs. The last row of an odd row count pairs two channels instead,
// and their spectra are told apart in the product by the mirror partner
// conj(Z[-k]) of every position (multiplyMirrorBlocks); the kernel spectra
// are computed two channels per transform the same way (once per call, or
// inside each work item when there is one row). The twiddle table w_2h^j
// (entry h + j), computed in double precision, is a constant memref.global
// up to L = 2^16; beyond, it is expanded once per call from two small
// constant factor tables. Each work item owns one heap buffer of 2L
// floats. The first forward pass reads the input rows themselves (the
// causal zero padding is never stored) and the last inverse pass writes
// the first N outputs straight into the result.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilders.h"
#include "loom/Target/CPU/Kernels.h"
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
#include <functional>

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

/// Positions [lo, lo + len) of a sequence (lo null: 0): the whole
/// transform, or one cache block of it.
struct Span {
  Value lo;
  int64_t len;
};

/// Calls body(base of block, j) for every 16 positions j of the first
/// 1/radix of every block of radix*h in the span.
void forButterflies(ImplicitLocOpBuilder &b, Span span, int64_t h,
                    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> body,
                    int64_t radix = 2) {
  forRange(b, span.len, radix * h, [&](ImplicitLocOpBuilder &ob, Value base) {
    if (span.lo)
      base = arith::AddIOp::create(ob, span.lo, base);
    forRange(ob, h, kLanes, [&](ImplicitLocOpBuilder &ib, Value j) {
      body(ib, base, j);
    });
  });
}

/// Where a stage reads its inputs and writes its outputs: position i
/// (= block base + j + off) with `off` the static offset of the butterfly
/// slot (0, h, 2h, 3h). Every stage but the first reads, and every stage
/// but the last writes, the work buffer; the first and last may read the
/// input rows and write the output rows instead.
using Loader = function_ref<Complex(ImplicitLocOpBuilder &, Value, int64_t)>;
using Storer = function_ref<void(ImplicitLocOpBuilder &, Value, int64_t, Complex)>;

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

ButterflyOperands loadButterfly(ImplicitLocOpBuilder &b, Io io, const Seq &tw,
                                Value base, Value j, int64_t h, int64_t radix) {
  ButterflyOperands r;
  r.at[0] = arith::AddIOp::create(b, base, j);
  for (int64_t k = 1; k < radix; ++k)
    r.at[k] = addi(b, r.at[0], k * h);
  for (int64_t k = 0; k < radix; ++k)
    r.x[k] = io.load(b, r.at[k], k * h);
  if (radix == 4)
    r.w4h = loadVec(b, tw, addi(b, j, 2 * h));
  r.w2h = loadVec(b, tw, addi(b, j, h));
  return r;
}

/// Radix-2 DIF stage: a' = a + b, b' = (a - b) w^j.
void difStage(ImplicitLocOpBuilder &b, Io io, const Seq &tw, Span span,
              int64_t h) {
  forButterflies(b, span, h, [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
    ButterflyOperands r = loadButterfly(ib, io, tw, base, j, h, 2);
    io.store(ib, r.at[0], 0, cadd(ib, r.x[0], r.x[1]));
    io.store(ib, r.at[1], h,
             cmul(ib, csub(ib, r.x[0], r.x[1]), r.w2h, /*conjY=*/false));
  });
}

/// Radix-2 DIT stage, the inverse of difStage up to a factor 2:
/// a = a' + b' conj(w^j), b = a' - b' conj(w^j).
void ditStage(ImplicitLocOpBuilder &b, Io io, const Seq &tw, Span span,
              int64_t h) {
  forButterflies(b, span, h, [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
    ButterflyOperands r = loadButterfly(ib, io, tw, base, j, h, 2);
    Complex t = cmul(ib, r.x[1], r.w2h, /*conjY=*/true);
    io.store(ib, r.at[0], 0, cadd(ib, r.x[0], t));
    io.store(ib, r.at[1], h, csub(ib, r.x[0], t));
  });
}

/// Two radix-2 DIF stages (half-spans 2h, then h) in one pass, as a radix-4
/// butterfly on x0..x3 = x[j + {0,1,2,3}h] with W = w_4h:
///   x[j]      = (x0 + x2) + (x1 + x3)
///   x[j + h]  = ((x0 + x2) - (x1 + x3)) W^2j
///   x[j + 2h] = ((x0 - x2) - i (x1 - x3)) W^j
///   x[j + 3h] = ((x0 - x2) + i (x1 - x3)) W^3j
/// (the same values, in the same places, as the two radix-2 stages).
void dif4Stage(ImplicitLocOpBuilder &b, Io io, const Seq &tw, Span span,
               int64_t h) {
  forButterflies(
      b, span, h,
      [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
        ButterflyOperands r = loadButterfly(ib, io, tw, base, j, h, 4);
        auto [x0, x1, x2, x3] = r.x;
        Complex w3 = cmul(ib, r.w4h, r.w2h, /*conjY=*/false);
        Complex s02 = cadd(ib, x0, x2), d02 = csub(ib, x0, x2);
        Complex s13 = cadd(ib, x1, x3);
        Complex d13 = mulByI(ib, csub(ib, x1, x3), /*negative=*/true);
        io.store(ib, r.at[0], 0, cadd(ib, s02, s13));
        io.store(ib, r.at[1], h, cmul(ib, csub(ib, s02, s13), r.w2h, false));
        io.store(ib, r.at[2], 2 * h, cmul(ib, cadd(ib, d02, d13), r.w4h, false));
        io.store(ib, r.at[3], 3 * h, cmul(ib, csub(ib, d02, d13), w3, false));
      },
      /*radix=*/4);
}

/// The inverse of dif4Stage up to a factor 4 (two radix-2 DIT stages,
/// half-spans h then 2h, with conjugate twiddles).
void dit4Stage(ImplicitLocOpBuilder &b, Io io, const Seq &tw, Span span,
               int64_t h) {
  forButterflies(
      b, span, h,
      [&](ImplicitLocOpBuilder &ib, Value base, Value j) {
        ButterflyOperands r = loadButterfly(ib, io, tw, base, j, h, 4);
        auto [y0, y1, y2, y3] = r.x;
        // Half-span h: (y0, y1) and (y2, y3) with conj(W^2j).
        Complex t = cmul(ib, y1, r.w2h, /*conjY=*/true);
        Complex u = cadd(ib, y0, t), v = csub(ib, y0, t);
        Complex t2 = cmul(ib, y3, r.w2h, /*conjY=*/true);
        Complex p = cadd(ib, y2, t2), q = csub(ib, y2, t2);
        // Half-span 2h: (u, p) with conj(W^j), (v, q) with conj(W^j (-i)).
        Complex pw = cmul(ib, p, r.w4h, /*conjY=*/true);
        Complex qw =
            mulByI(ib, cmul(ib, q, r.w4h, /*conjY=*/true), /*negative=*/false);
        io.store(ib, r.at[0], 0, cadd(ib, u, pw));
        io.store(ib, r.at[2], 2 * h, csub(ib, u, pw));
        io.store(ib, r.at[1], h, cadd(ib, v, qw));
        io.store(ib, r.at[3], 3 * h, csub(ib, v, qw));
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

/// Loads and stores of the work buffer x, as a Loader and a Storer.
struct BufferIo {
  explicit BufferIo(const Seq &x)
      : load([&x](ImplicitLocOpBuilder &b, Value i, int64_t) {
          return loadVec(b, x, i);
        }),
        store([&x](ImplicitLocOpBuilder &b, Value i, int64_t, Complex v) {
          storeVec(b, x, i, v);
        }) {}
  std::function<Complex(ImplicitLocOpBuilder &, Value, int64_t)> load;
  std::function<void(ImplicitLocOpBuilder &, Value, int64_t, Complex)> store;
};

/// The decimation stages of the forward transform with half-spans hHi,
/// hHi/2, ..., hLo over `span` (all of them: L/2 ... 16 over [0, L)): a
/// radix-2 stage first when their number is odd, then radix-4 pairs. The
/// first stage reads through `first`, or the buffer when null.
void forwardStages(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw,
                   Span span, int64_t hHi, int64_t hLo, Loader first = {}) {
  BufferIo buf(x);
  bool isFirst = true;
  auto io = [&]() {
    Io r{isFirst && first ? first : Loader(buf.load), buf.store};
    isFirst = false;
    return r;
  };
  int64_t h = hHi;
  if (llvm::Log2_64(hHi / hLo) % 2 == 0) { // an odd number of stages
    difStage(b, io(), tw, span, h);
    h /= 2;
  }
  for (; h >= 2 * hLo; h /= 4)
    dif4Stage(b, io(), tw, span, h / 2);
}

/// Their inverse (times the product of the radices), in the mirrored
/// order; the last stage writes through `last`, or the buffer when null.
void inverseStages(ImplicitLocOpBuilder &b, const Seq &x, const Seq &tw,
                   Span span, int64_t hHi, int64_t hLo, Storer last = {}) {
  BufferIo buf(x);
  Storer lastStore = last ? last : Storer(buf.store);
  bool radix2Last = llvm::Log2_64(hHi / hLo) % 2 == 0;
  int64_t hEnd = radix2Last ? hHi / 2 : hHi;
  for (int64_t h = 2 * hLo; h <= hEnd; h *= 4) {
    bool isLast = !radix2Last && h == hEnd;
    dit4Stage(b, Io{buf.load, isLast ? lastStore : Storer(buf.store)}, tw,
              span, h / 2);
  }
  if (radix2Last)
    ditStage(b, Io{buf.load, lastStore}, tw, span, hHi);
}

/// Calls body(position) for every block of 16 in the span.
void forBlocks(ImplicitLocOpBuilder &b, Span span,
               function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  forRange(b, span.len, kLanes, [&](ImplicitLocOpBuilder &ib, Value base) {
    body(ib, span.lo ? arith::AddIOp::create(ib, span.lo, base) : base);
  });
}

/// The 16-point blocks of the forward transform, scaled by `scale`.
void forwardBlocks(ImplicitLocOpBuilder &b, const Seq &x, Span span,
                   double scale) {
  forBlocks(b, span, [&](ImplicitLocOpBuilder &ib, Value base) {
    storeVec(ib, x, base, dft16(ib, loadVec(ib, x, base), scale));
  });
}

/// Forward 16-point blocks, product with the spectrum `k`, inverse blocks:
/// the middle of L * ifft(fft(x) * k) (k carries 1/L).
void multiplyBlocks(ImplicitLocOpBuilder &b, const Seq &x, const Seq &k,
                    Span span) {
  forBlocks(b, span, [&](ImplicitLocOpBuilder &ib, Value base) {
    Complex y = dft16(ib, loadVec(ib, x, base), 1.0);
    Complex p = cmul(ib, y, loadVec(ib, k, base), /*conjY=*/false);
    storeVec(ib, x, base, idft16(ib, p));
  });
}

/// Largest L whose twiddle table is a compile-time constant (2 x 256 KiB).
/// Longer tables are expanded once per call from two small constant
/// factor tables, so that the .so does not carry 16 MiB of constants for
/// N = 2^20.
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
        TypeAttr::get(MemRefType::get(shaped.getShape(), shaped.getElementType())),
        init, b.getUnitAttr(), b.getI64IntegerAttr(64));
  }
  return memref::GetGlobalOp::create(b, cast<memref::GlobalOp>(global).getType(),
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
                        (imag ? "_im_" : "_re_") + Twine(L)).str();
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
          Value re = arith::SubFOp::create(ib, arith::MulFOp::create(ib, ar, br),
                                           arith::MulFOp::create(ib, ai, bi));
          Value im = arith::AddFOp::create(ib, arith::MulFOp::create(ib, ar, bi),
                                           arith::MulFOp::create(ib, ai, br));
          auto f32 = ib.getF32Type();
          memref::StoreOp::create(ib, arith::TruncFOp::create(ib, f32, re), tw.re,
                                  tw.at(at));
          memref::StoreOp::create(ib, arith::TruncFOp::create(ib, f32, im), tw.im,
                                  tw.at(at));
        });
      });
}

/// The same table as a private constant memref.global of the module
/// (shared by every fft_conv of that length), computed here in double
/// precision.
Value constTwiddles(ImplicitLocOpBuilder &b, ModuleOp module, int64_t L,
                    bool imag) {
  std::string name = (Twine("__loom_fft_twiddles_") + (imag ? "im_" : "re_") +
                      Twine(L)).str();
  return constGlobal(b, module, name, [&] {
    SmallVector<float> values(L, 0.0f);
    for (int64_t h = kLanes; h < L; h *= 2)
      for (int64_t j = 0; j < h; ++j) {
        double angle = -M_PI * double(j) / double(h);
        values[h + j] = float(imag ? std::sin(angle) : std::cos(angle));
      }
    return DenseElementsAttr::get(RankedTensorType::get({L}, b.getF32Type()),
                                  ArrayRef<float>(values));
  });
}

/// The spectrum is in bit-reversed order: position p holds X[rev(p)]. The
/// partner X[-k] of position p > 0 is at 3 * 2^m - 1 - p (2^m <= p <
/// 2^(m+1)), the mirror image inside the same power-of-two group. Calls
/// body(P, Pm, mask) for every block of 16 at P with its mirror block Pm
/// (null when the block is its own mirror): lane l's partner is lane
/// mask[l] of the mirror block (of the block itself when Pm is null).
void forMirrorBlocks(
    ImplicitLocOpBuilder &b, int64_t L,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value, ArrayRef<int64_t>)>
        body) {
  SmallVector<int64_t> inBlock0, reversed;
  for (int64_t l = 0; l < kLanes; ++l) {
    int64_t m = l ? llvm::Log2_64(l) : 0;
    inBlock0.push_back(l ? 3 * (int64_t(1) << m) - 1 - l : 0);
    reversed.push_back(kLanes - 1 - l);
  }
  body(b, idx(b, 0), Value(), inBlock0);
  if (L > kLanes)
    body(b, idx(b, kLanes), Value(), reversed);
  // Groups [G, 2G) of two or more blocks: block G + j pairs with
  // 2G - 16 - j, lanes reversed.
  for (int64_t g = 2 * kLanes; g < L; g *= 2)
    forRange(b, g / 2, kLanes, [&](ImplicitLocOpBuilder &ib, Value j) {
      Value p = addi(ib, j, g);
      Value pm = arith::SubIOp::create(ib, idx(ib, 2 * g - kLanes), j);
      body(ib, p, pm, reversed);
    });
}

/// conj(z[mask[l]]) for every lane l.
Complex conjPermuted(ImplicitLocOpBuilder &b, Complex z, ArrayRef<int64_t> mask) {
  auto attr = b.getDenseI64ArrayAttr(mask);
  Value re = vector::ShuffleOp::create(b, z.re, z.re, attr);
  Value im = vector::ShuffleOp::create(b, z.im, z.im, attr);
  return {re, arith::NegFOp::create(b, im)};
}

/// Z = fft(x1 + i x2) of two real sequences holds both spectra:
/// 2 X1 = Z + conj(Z[-k]) and 2 X2 = -i (Z - conj(Z[-k])). Splits row `z`
/// of `spec` (in place) into rows c1 (X1) and c2 (X2); `z` carries the 1/2.
void splitSpectra(ImplicitLocOpBuilder &b, const Seq &spec, Value c1, Value c2,
                  int64_t L) {
  Seq s1 = spec, s2 = spec;
  s1.prefix = {c1};
  s2.prefix = {c2};
  forMirrorBlocks(b, L, [&](ImplicitLocOpBuilder &ib, Value p, Value pm,
                            ArrayRef<int64_t> mask) {
    Complex zp = loadVec(ib, s1, p);
    Complex zq = pm ? loadVec(ib, s1, pm) : zp;
    auto split = [&](Value at, Complex z, Complex partner) {
      Complex m = conjPermuted(ib, partner, mask);
      storeVec(ib, s1, at, cadd(ib, z, m));
      storeVec(ib, s2, at, mulByI(ib, csub(ib, z, m), /*negative=*/true));
    };
    split(p, zp, zq);
    if (pm)
      split(pm, zq, zp);
  });
}

/// Coefficients (A, B) of block `at`, given its mirror partner's lanes.
using MirrorCoefficients = function_ref<std::pair<Complex, Complex>(
    ImplicitLocOpBuilder &, Value at, Value partnerAt, ArrayRef<int64_t> mask)>;

/// Positions per cache block: when L is longer, the decimation stages of
/// half-span < kCacheBlock (and the middle) run block by block, each block
/// (re and im: 16 KiB) staying in L1 from its first inner stage to its
/// last, instead of every stage passing over the whole buffer.
constexpr int64_t kCacheBlock = 2048;

/// The inner stages of a blocked transform: `forward(b, lo)` runs the
/// forward stages of half-span kCacheBlock/2 ... 16 on the block at lo,
/// `inverse(b, lo)` their inverse.
struct BlockStages {
  std::function<void(ImplicitLocOpBuilder &, Value)> forward, inverse;
};

/// The middle of the transform for two real rows of different channels
/// c1, c2 travelling as x = x1 + i x2: forward 16-point blocks Z, then
/// W = (Z + M) A + (Z - M) B with M = conj(Z[-k]), then the inverse blocks.
/// With A = K1 / 2 and B = K2 / 2 (the kernel spectra, 1/L included), W is
/// the spectrum of x1 * k1 + i x2 * k2.
void multiplyMirrorBlocks(ImplicitLocOpBuilder &b, const Seq &x, int64_t L,
                          MirrorCoefficients coefficients,
                          const BlockStages *blocked = nullptr) {
  auto pair = [&](ImplicitLocOpBuilder &ib, Value p, Value pm,
                  ArrayRef<int64_t> mask) {
    Complex zp = dft16(ib, loadVec(ib, x, p), 1.0);
    Complex zq = pm ? dft16(ib, loadVec(ib, x, pm), 1.0) : zp;
    auto multiply = [&](Value at, Value partnerAt, Complex z, Complex partner) {
      Complex m = conjPermuted(ib, partner, mask);
      auto [ca, cb] = coefficients(ib, at, partnerAt, mask);
      Complex w = cadd(ib, cmul(ib, cadd(ib, z, m), ca, false),
                       cmul(ib, csub(ib, z, m), cb, false));
      storeVec(ib, x, at, idft16(ib, w));
    };
    multiply(p, pm ? pm : p, zp, zq);
    if (pm)
      multiply(pm, p, zq, zp);
  };
  if (!blocked) {
    forMirrorBlocks(b, L, pair);
    return;
  }
  // Mirror partners stay in one power-of-two group, so cache blocks pair
  // up too: block 0 holds every group shorter than a block; the group
  // [G, 2G) of one block is its own mirror; in a longer group the block
  // at G + a mirrors the one at 2G - B - a (16-block G + a + j with
  // 2G - 16 - a - j). Each block or pair of blocks runs its inner forward
  // stages, the product, and the inverse stages while it is in L1.
  constexpr int64_t B = kCacheBlock;
  SmallVector<int64_t> reversed;
  for (int64_t l = 0; l < kLanes; ++l)
    reversed.push_back(kLanes - 1 - l);
  Value zero = idx(b, 0);
  blocked->forward(b, zero);
  forMirrorBlocks(b, B, pair);
  blocked->inverse(b, zero);
  Value self = idx(b, B);
  blocked->forward(b, self);
  forRange(b, B / 2, kLanes, [&](ImplicitLocOpBuilder &ib, Value j) {
    pair(ib, addi(ib, j, B), arith::SubIOp::create(ib, idx(ib, 2 * B - kLanes), j),
         reversed);
  });
  blocked->inverse(b, self);
  for (int64_t g = 2 * B; g < L; g *= 2)
    forRange(b, g / 2, B, [&](ImplicitLocOpBuilder &ab, Value a) {
      Value lo1 = addi(ab, a, g);
      Value lo2 = arith::SubIOp::create(ab, idx(ab, 2 * g - B), a);
      blocked->forward(ab, lo1);
      blocked->forward(ab, lo2);
      Value mirrorEnd = arith::SubIOp::create(ab, idx(ab, 2 * g - kLanes), a);
      forRange(ab, B, kLanes, [&](ImplicitLocOpBuilder &ib, Value j) {
        pair(ib, arith::AddIOp::create(ib, lo1, j),
             arith::SubIOp::create(ib, mirrorEnd, j), reversed);
      });
      blocked->inverse(ab, lo1);
      blocked->inverse(ab, lo2);
    });
}

/// (A, B) = (K1 / 2, K2 / 2) from rows c1 and c2 of the kernel spectra.
std::pair<Complex, Complex> halfSpectra(ImplicitLocOpBuilder &b, const Seq &spec,
                                        Value c1, Value c2, Value at) {
  Seq k1 = spec, k2 = spec;
  k1.prefix = {c1};
  k2.prefix = {c2};
  Value half = arith::ConstantOp::create(
      b, DenseElementsAttr::get(laneType(b), 0.5f));
  auto scale = [&](Complex v) -> Complex {
    return {arith::MulFOp::create(b, v.re, half),
            arith::MulFOp::create(b, v.im, half)};
  };
  return {scale(loadVec(b, k1, at)), scale(loadVec(b, k2, at))};
}

/// (A, B) straight from Zk = fft(k1 + i k2) / 4L (not split):
/// A = Zk + Mk = K1 / 2L, B = -i (Zk - Mk) = K2 / 2L, Mk = conj(Zk[-k]).
std::pair<Complex, Complex> pairedSpectra(ImplicitLocOpBuilder &b, const Seq &kz,
                                          Value at, Value partnerAt,
                                          ArrayRef<int64_t> mask) {
  Complex k = loadVec(b, kz, at);
  Complex mk = conjPermuted(b, loadVec(b, kz, partnerAt), mask);
  return {cadd(b, k, mk), mulByI(b, csub(b, k, mk), /*negative=*/true)};
}

Value allocF32(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape) {
  return memref::AllocOp::create(b, MemRefType::get(shape, b.getF32Type()),
                                 b.getI64IntegerAttr(64));
}

/// A complex buffer of `shape` as one allocation [2, shape...] (real part,
/// then imaginary part; the last dim padded by one line, so that re and
/// im, and rows, are not a power of two apart and do not share L1 sets):
/// one heap block instead of two halves the malloc/free pairs, and glibc's
/// adaptive thresholds then keep a repeated call's block on the heap
/// instead of trimming it and page-faulting it back on every call.
/// `perCall`: the buffer lives for the whole call (not one work item), so
/// from 32 MiB it is kept across calls (allocCallScratch).
Seq allocComplex(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                 bool perCall = false) {
  SmallVector<int64_t> full{2};
  full.append(shape.begin(), shape.end());
  full.back() += kLanes; // one line of padding: re and im not 2^k apart
  Value buf = perCall ? allocCallScratch(
                            b, MemRefType::get(full, b.getF32Type()), 64)
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
        tw = allocComplex(b, {L}, /*perCall=*/true);
        fillTwiddles(b, module, tw, L);
      }

      VectorType vt = laneType(b);
      Value zeroVec = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
      Complex zero{zeroVec, zeroVec};
      int64_t channelPairs = (channels + 1) / 2;

      // The second sequence of a pair may not exist (odd row or channel
      // count): it reads a clamped index, selects zeros and stores under an
      // empty mask, without a branch.
      struct Partner {
        Value index, has, mask;
      };
      auto partner = [&](ImplicitLocOpBuilder &ib, Value second,
                         int64_t count) -> Partner {
        Value has = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, second,
                                          idx(ib, count));
        Value lanes =
            arith::SelectOp::create(ib, has, idx(ib, kLanes), idx(ib, 0));
        return {arith::MinUIOp::create(ib, second, idx(ib, count - 1)), has,
                vector::CreateMaskOp::create(
                    ib, VectorType::get({kLanes}, ib.getI1Type()),
                    ValueRange{lanes})};
      };

      // fft(k[c1] + i k[c2]) * scale into `k` (blocks included); zeros for
      // the second kernel when `has` is false. The first stage reads the
      // kernel rows themselves; positions >= N (causal padding) are zeros.
      auto transformKernels = [&](ImplicitLocOpBuilder &ib, const Seq &k,
                                  Value c1, Value c2, Value has, double scale) {
        auto loadKernels = [&](ImplicitLocOpBuilder &lb, Value i,
                               int64_t off) -> Complex {
          if (off >= n)
            return zero;
          Value re = vector::LoadOp::create(lb, vt, kernel, ValueRange{c1, i});
          Value im = vector::LoadOp::create(lb, vt, kernel, ValueRange{c2, i});
          if (has)
            im = arith::SelectOp::create(lb, has, im, zeroVec);
          return {re, im};
        };
        if (L > kCacheBlock) {
          forwardStages(ib, k, tw, Span{{}, L}, L / 2, kCacheBlock, loadKernels);
          forRange(ib, L, kCacheBlock, [&](ImplicitLocOpBuilder &bb, Value lo) {
            Span block{lo, kCacheBlock};
            forwardStages(bb, k, tw, block, kCacheBlock / 2, kLanes);
            forwardBlocks(bb, k, block, scale);
          });
          return;
        }
        if (L > kLanes) {
          forwardStages(ib, k, tw, Span{{}, L}, L / 2, kLanes, loadKernels);
        } else {
          Value c0 = idx(ib, 0);
          storeVec(ib, k, c0, loadKernels(ib, c0, 0));
        }
        forwardBlocks(ib, k, Span{{}, L}, scale);
      };

      // Kernel spectra, [2 * channelPairs, L], scaled by 1/L, when more
      // than one row uses them: the kernels of channels 2p and 2p + 1 are
      // transformed together as one complex sequence and split
      // (splitSpectra); an odd channel count transforms the last kernel
      // with zeros and splits nothing but rounding into the spare row.
      Seq spec;
      if (rows > 1) {
        spec = allocComplex(b, {2 * channelPairs, L}, /*perCall=*/true);
        scf::ParallelOp::create(
            b, ValueRange{idx(b, 0)}, ValueRange{idx(b, channelPairs)},
            ValueRange{idx(b, 1)}, [&](OpBuilder &nb, Location loc, ValueRange ivs) {
              ImplicitLocOpBuilder ib(loc, nb);
              Value c1 = muli(ib, ivs[0], 2), c2 = addi(ib, c1, 1);
              Partner second;
              if (channels % 2)
                second = partner(ib, c2, channels);
              Seq k = spec;
              k.prefix = {c1};
              transformKernels(ib, k, c1, second.index ? second.index : c2,
                               second.has, 0.5 / double(L));
              splitSpectra(ib, spec, c1, c2, L);
            });
      }

      // One work item: sequences (m1, c1) and (m2, c2) of u as the real and
      // imaginary parts of x. The first forward stage reads them (zeros
      // past N), `middle` multiplies the spectra, the last inverse stage
      // writes the same two sequences of the result (nothing past N). `x`
      // is the work buffer, or null to allocate one.
      auto transformPair = [&](ImplicitLocOpBuilder &ib, Value m1, Value c1,
                               Value m2, Value c2, Partner second, Seq x,
                               function_ref<void(ImplicitLocOpBuilder &, const Seq &,
                                                 const BlockStages *)>
                                   middle) {
        Value m2In = m2, c2In = c2;
        if (second.index)
          (m2 == m1 ? c2In : m2In) = second.index;
        auto loadRows = [&](ImplicitLocOpBuilder &lb, Value i,
                            int64_t off) -> Complex {
          if (off >= n)
            return zero;
          Value re = vector::LoadOp::create(lb, vt, u, ValueRange{m1, c1, i});
          Value im = vector::LoadOp::create(lb, vt, u, ValueRange{m2In, c2In, i});
          if (second.has)
            im = arith::SelectOp::create(lb, second.has, im, zeroVec);
          return {re, im};
        };
        auto storeRows = [&](ImplicitLocOpBuilder &sb, Value i, int64_t off,
                             Complex v) {
          if (off >= n)
            return;
          vector::StoreOp::create(sb, v.re, out, ValueRange{m1, c1, i});
          if (second.mask)
            vector::MaskedStoreOp::create(sb, out, ValueRange{m2In, c2In, i},
                                          second.mask, v.im);
          else
            vector::StoreOp::create(sb, v.im, out, ValueRange{m2In, c2In, i});
        };
        if (!x.re)
          x = allocComplex(ib, {L});
        if (L > kCacheBlock) {
          // The outer stages pass over the whole buffer; the inner ones run
          // block by block inside `middle`.
          forwardStages(ib, x, tw, Span{{}, L}, L / 2, kCacheBlock, loadRows);
          BlockStages inner{
              [&](ImplicitLocOpBuilder &bb, Value lo) {
                forwardStages(bb, x, tw, Span{lo, kCacheBlock}, kCacheBlock / 2,
                              kLanes);
              },
              [&](ImplicitLocOpBuilder &bb, Value lo) {
                inverseStages(bb, x, tw, Span{lo, kCacheBlock}, kCacheBlock / 2,
                              kLanes);
              }};
          middle(ib, x, &inner);
          inverseStages(ib, x, tw, Span{{}, L}, L / 2, kCacheBlock, storeRows);
        } else if (L > kLanes) {
          forwardStages(ib, x, tw, Span{{}, L}, L / 2, kLanes, loadRows);
          middle(ib, x, nullptr);
          inverseStages(ib, x, tw, Span{{}, L}, L / 2, kLanes, storeRows);
        } else {
          Value c0 = idx(ib, 0);
          storeVec(ib, x, c0, loadRows(ib, c0, 0));
          middle(ib, x, nullptr);
          storeRows(ib, c0, 0, loadVec(ib, x, c0));
        }
      };

      // Work items (row pair, channel): rows 2p and 2p + 1 of a channel
      // share its kernel, so the spectra multiply plainly.
      if (int64_t pairs = rows / 2) {
        scf::ParallelOp::create(
            b, ValueRange{idx(b, 0), idx(b, 0)},
            ValueRange{idx(b, pairs), idx(b, channels)},
            ValueRange{idx(b, 1), idx(b, 1)},
            [&](OpBuilder &nb, Location loc, ValueRange ivs) {
              ImplicitLocOpBuilder ib(loc, nb);
              Value c = ivs[1];
              Value m1 = muli(ib, ivs[0], 2);
              transformPair(ib, m1, c, addi(ib, m1, 1), c, Partner{}, Seq{},
                            [&](ImplicitLocOpBuilder &mb, const Seq &x,
                                const BlockStages *blocked) {
                              Seq k = spec;
                              k.prefix = {c};
                              if (!blocked) {
                                multiplyBlocks(mb, x, k, Span{{}, L});
                                return;
                              }
                              forRange(mb, L, kCacheBlock,
                                       [&](ImplicitLocOpBuilder &bb, Value lo) {
                                         blocked->forward(bb, lo);
                                         multiplyBlocks(bb, x, k,
                                                        Span{lo, kCacheBlock});
                                         blocked->inverse(bb, lo);
                                       });
                            });
            });
      }
      // The last row of an odd row count (every row when B = 1): channels
      // 2p and 2p + 1 travel together and the spectra are separated in
      // the product (multiplyMirrorBlocks), so no transform is half empty.
      // With a single row every kernel spectrum has one user, so the work
      // item transforms its kernel pair itself (no [C, L] spectra buffer).
      if (rows % 2) {
        scf::ParallelOp::create(
            b, ValueRange{idx(b, 0)}, ValueRange{idx(b, channelPairs)},
            ValueRange{idx(b, 1)}, [&](OpBuilder &nb, Location loc, ValueRange ivs) {
              ImplicitLocOpBuilder ib(loc, nb);
              Value m = idx(ib, rows - 1);
              Value c1 = muli(ib, ivs[0], 2), c2 = addi(ib, c1, 1);
              Partner second;
              if (channels % 2)
                second = partner(ib, c2, channels);
              // One allocation for the kernels and the rows: with two, glibc
              // trims the heap after every item and faults it back in.
              Seq kz, x;
              if (rows == 1) {
                Seq both = allocComplex(ib, {2, L});
                kz = {both.re, both.im, {idx(ib, 0)}};
                x = {both.re, both.im, {idx(ib, 1)}};
                transformKernels(ib, kz, c1, second.index ? second.index : c2,
                                 second.has, 0.25 / double(L));
              }
              transformPair(
                  ib, m, c1, m, c2, second, x,
                  [&](ImplicitLocOpBuilder &mb, const Seq &x,
                      const BlockStages *blocked) {
                    multiplyMirrorBlocks(
                        mb, x, L,
                        [&](ImplicitLocOpBuilder &cb, Value at, Value partnerAt,
                            ArrayRef<int64_t> mask) {
                          return rows == 1
                                     ? pairedSpectra(cb, kz, at, partnerAt, mask)
                                     : halfSpectra(cb, spec, c1, c2, at);
                        },
                        blocked);
                  });
            });
      }
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

void mlir::loom::populateFftConvToVectorPatterns(
    RewritePatternSet &patterns,
    [[maybe_unused]] const CpuTargetDescription &target) {
  patterns.add<FftConvToVector>(patterns.getContext());
}
