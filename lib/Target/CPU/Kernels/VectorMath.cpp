//===- VectorMath.cpp - vector helpers of the attention kernels -----------===//

#include "VectorMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

int64_t mlir::loom::accumulatorBudget(const CpuTargetDescription &target) {
  return target.vectorRegisters - target.vectorRegisters / 4;
}

int64_t mlir::loom::rowsForVectors(const CpuTargetDescription &target,
                                   int64_t vectors, int64_t maxRows) {
  // The accumulators, and next to them the vector operands and one
  // broadcast.
  int64_t accumulators = std::min(accumulatorBudget(target),
                                  target.vectorRegisters - 1 - vectors);
  return std::max<int64_t>(1, std::min(maxRows, accumulators / vectors));
}

mlir::loom::RegisterTile
mlir::loom::chooseRegisterTile(const CpuTargetDescription &target,
                               int64_t vectors, int64_t maxRows) {
  // The tile's vector operands and one broadcast live next to the
  // accumulators.
  int64_t widest = std::max<int64_t>(
      1, std::min(vectors, target.vectorRegisters - 1 -
                               accumulatorBudget(target)));
  // Covering `vectors` with chunks of width w costs, per step of the loop
  // and per row of the operand, sum over chunks of (1 + w_c / rows_c) loads
  // (the w_c vectors are loaded once per rows_c broadcasts); a chunk with
  // fewer accumulators than FMAs in flight also waits for its results.
  auto cost = [&](int64_t w) {
    double total = 0;
    for (auto [first, width] : chunkVectors(0, vectors, w)) {
      int64_t rows = rowsForVectors(target, width, maxRows);
      double stall = std::max(
          1.0, double(target.fmasInFlight()) / double(rows * width));
      total += (1.0 + double(width) / double(rows)) * stall;
    }
    return total;
  };
  int64_t best = widest;
  for (int64_t w = widest - 1; w >= 1; --w)
    if (cost(w) < cost(best) - 1e-9)
      best = w;
  return {best, rowsForVectors(target, best, maxRows)};
}

SmallVector<std::pair<int64_t, int64_t>>
mlir::loom::chunkVectors(int64_t first, int64_t count, int64_t width) {
  SmallVector<std::pair<int64_t, int64_t>> chunks;
  for (int64_t v = first; v < first + count; v += width)
    chunks.push_back({v, std::min(width, first + count - v)});
  return chunks;
}

VectorType mlir::loom::f32Vector(OpBuilder &b, int64_t lanes) {
  return VectorType::get({lanes}, b.getF32Type());
}

Value mlir::loom::splatF32(ImplicitLocOpBuilder &b, VectorType type,
                           float value) {
  return arith::ConstantOp::create(
      b, type, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

/// x is first clamped to -88 (max(-88, x), so a NaN lane stays NaN and
/// -inf becomes -88). Range reduction x = n ln2 + r, |r| <= ln2/2: one FMA
/// t = x log2e + (1.5 * 2^23 + 127) rounds x log2e to the nearest integer n
/// and holds n + 127 in t's low mantissa bits; n = t - (1.5 * 2^23 + 127)
/// exactly, and r = x - n ln2 in one FMA (the error of ln2 in float32,
/// 1.9e-9, times n: at most 2.5e-7 relative, near x = -87). A degree-5
/// polynomial fitted for the least maximum relative error on that interval
/// (1.1e-7), in Horner's form: five FMAs, whose latency the independent
/// lanes of a softmax pass hide. 2^n is t's bits shifted left by 23: n + 127
/// lands in the exponent field, and for x <= -87.4 (n = -127, the clamped
/// -inf included) the field is 0, so 2^n and the result are exactly 0. In
/// float32: relative error below 4e-7 on [-87, 0], below 2.1e-7 on [-20, 0].
/// 11 operations, 8 of them on the FMA pipes, and 9 constants (the softmax
/// pass of a 16-register target keeps them all in registers).
Value mlir::loom::emitExpOfNonPositive(ImplicitLocOpBuilder &b, Value x) {
  auto type = cast<VectorType>(x.getType());
  auto i32Vec = VectorType::get(type.getShape(), b.getI32Type());
  auto splat = [&](float v) { return splatF32(b, type, v); };
  constexpr float kShifter = 12583039.0f; // 1.5 * 2^23 + 127
  Value clamped = emitMax(b, splat(-88.0f), x);
  Value t = vector::FMAOp::create(b, clamped, splat(1.44269504088896341f),
                                  splat(kShifter));
  Value n = arith::SubFOp::create(b, t, splat(kShifter));
  Value r = vector::FMAOp::create(b, n, splat(-0.693147182f), clamped);
  // p(r) = 1 + r (1 + r (c2 + r (c3 + r (c4 + r c5)))).
  Value one = splat(1.0f);
  Value p = vector::FMAOp::create(b, r, splat(8.312525227665901e-03f),
                                  splat(4.189011454582214e-02f));
  p = vector::FMAOp::create(b, p, r, splat(1.666711419820785e-01f));
  p = vector::FMAOp::create(b, p, r, splat(4.999923110008240e-01f));
  p = vector::FMAOp::create(b, p, r, one);
  p = vector::FMAOp::create(b, p, r, one);
  Value bits = arith::ShLIOp::create(
      b, arith::BitcastOp::create(b, i32Vec, t),
      arith::ConstantOp::create(
          b, i32Vec, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(23))));
  Value pow2 = arith::BitcastOp::create(b, type, bits);
  return arith::MulFOp::create(b, p, pow2);
}

Value mlir::loom::emitMax(ImplicitLocOpBuilder &b, Value x, Value y) {
  Value greater =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, y);
  return arith::SelectOp::create(b, greater, x, y);
}

Value mlir::loom::laneNumbers(ImplicitLocOpBuilder &b, int64_t lanes,
                              unsigned bits) {
  auto type = VectorType::get({lanes}, b.getIntegerType(bits));
  SmallVector<APInt> iota;
  for (int64_t l = 0; l < lanes; ++l)
    iota.push_back(APInt(bits, l));
  return arith::ConstantOp::create(b, type,
                                   DenseElementsAttr::get(type, iota));
}

SmallVector<Value> mlir::loom::transposeSquare(ImplicitLocOpBuilder &b,
                                               ArrayRef<Value> rows) {
  auto type = cast<VectorType>(rows.front().getType());
  int64_t lanes = type.getDimSize(0);
  assert(int64_t(rows.size()) == lanes && "a square of vectors");
  auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> mask) -> Value {
    return vector::ShuffleOp::create(b, x, y, mask);
  };
  if (lanes == 16) {
    // unpcklps/unpckhps of row pairs, unpcklpd/unpckhpd of pair pairs
    // (4 x 4 blocks transposed inside each 128-bit lane), then two rounds
    // of vshuff32x4 that transpose the 4 x 4 grid of 128-bit blocks: 64
    // two-source shuffles. vector.transpose's shuffle16x16 came out of
    // LLVM as ~100 permutes plus constant loads and spills per square.
    auto mask = [](std::initializer_list<int64_t> quads, int64_t step) {
      SmallVector<int64_t> m;
      for (int64_t lane = 0; lane < 4; ++lane)
        for (int64_t q : quads)
          m.push_back(q + lane * step);
      return m;
    };
    auto blocks = [](std::initializer_list<int64_t> firsts) {
      SmallVector<int64_t> m;
      for (int64_t f : firsts)
        for (int64_t e = 0; e < 4; ++e)
          m.push_back(f + e);
      return m;
    };
    SmallVector<Value> t(16), u(16), out(16);
    for (int64_t i = 0; i < 16; i += 2) {
      t[i] = shuffle(rows[i], rows[i + 1], mask({0, 16, 1, 17}, 4));
      t[i + 1] = shuffle(rows[i], rows[i + 1], mask({2, 18, 3, 19}, 4));
    }
    // u[4g + j]: lane block L holds column 4L + j of rows 4g .. 4g + 3.
    for (int64_t g = 0; g < 16; g += 4)
      for (int64_t h : {0, 1}) {
        u[g + 2 * h] =
            shuffle(t[g + h], t[g + 2 + h], mask({0, 1, 16, 17}, 4));
        u[g + 2 * h + 1] =
            shuffle(t[g + h], t[g + 2 + h], mask({2, 3, 18, 19}, 4));
      }
    SmallVector<int64_t> evenBlocks = blocks({0, 8, 16, 24});
    SmallVector<int64_t> oddBlocks = blocks({4, 12, 20, 28});
    for (int64_t j = 0; j < 4; ++j) {
      // x: blocks {0, 2} and {1, 3} of u[j] with those of u[4 + j], and of
      // u[8 + j] with u[12 + j].
      Value x0 = shuffle(u[j], u[4 + j], evenBlocks);
      Value x1 = shuffle(u[j], u[4 + j], oddBlocks);
      Value y0 = shuffle(u[8 + j], u[12 + j], evenBlocks);
      Value y1 = shuffle(u[8 + j], u[12 + j], oddBlocks);
      out[j] = shuffle(x0, y0, evenBlocks);
      out[4 + j] = shuffle(x1, y1, evenBlocks);
      out[8 + j] = shuffle(x0, y0, oddBlocks);
      out[12 + j] = shuffle(x1, y1, oddBlocks);
    }
    return out;
  }
  if (lanes == 8) {
    // unpcklps/unpckhps of row pairs, shufps of pair pairs, vperm2f128 of
    // the 128-bit halves.
    SmallVector<Value> t(8), u(8), out(8);
    for (int64_t i = 0; i < 8; i += 2) {
      t[i] = shuffle(rows[i], rows[i + 1], {0, 8, 1, 9, 4, 12, 5, 13});
      t[i + 1] = shuffle(rows[i], rows[i + 1], {2, 10, 3, 11, 6, 14, 7, 15});
    }
    for (int64_t i : {0, 4}) {
      for (int64_t h : {0, 1}) {
        u[i + 2 * h] =
            shuffle(t[i + h], t[i + 2 + h], {0, 1, 8, 9, 4, 5, 12, 13});
        u[i + 2 * h + 1] =
            shuffle(t[i + h], t[i + 2 + h], {2, 3, 10, 11, 6, 7, 14, 15});
      }
    }
    for (int64_t c = 0; c < 4; ++c) {
      out[c] = shuffle(u[c], u[c + 4], {0, 1, 2, 3, 8, 9, 10, 11});
      out[c + 4] = shuffle(u[c], u[c + 4], {4, 5, 6, 7, 12, 13, 14, 15});
    }
    return out;
  }
  assert(lanes == 4 && "vectors of 4, 8 or 16 lanes");
  SmallVector<Value> t(4), out(4);
  for (int64_t i = 0; i < 4; i += 2) {
    t[i] = shuffle(rows[i], rows[i + 1], {0, 4, 1, 5});
    t[i + 1] = shuffle(rows[i], rows[i + 1], {2, 6, 3, 7});
  }
  for (int64_t h : {0, 1}) {
    out[2 * h] = shuffle(t[h], t[h + 2], {0, 1, 4, 5});
    out[2 * h + 1] = shuffle(t[h], t[h + 2], {2, 3, 6, 7});
  }
  return out;
}

SmallVector<Value> mlir::loom::emitBroadcastFmaLoop(
    ImplicitLocOpBuilder &b, Value lo, Value hi, ValueRange init, int64_t rows,
    int64_t cols, TileOperand vectorAt, TileOperand scalarAt,
    TileMask maskAt) {
  auto loop = scf::ForOp::create(
      b, lo, hi, arith::ConstantIndexOp::create(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value k, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> vecs, next(acc.begin(), acc.end());
        for (int64_t c = 0; c < cols; ++c)
          vecs.push_back(vectorAt(ib, k, c));
        auto vecType = cast<VectorType>(vecs.front().getType());
        SmallVector<Value> masks;
        if (maskAt)
          for (int64_t c = 0; c < cols; ++c)
            masks.push_back(maskAt(ib, k, c));
        for (int64_t r = 0; r < rows; ++r) {
          Value s = vector::BroadcastOp::create(ib, vecType, scalarAt(ib, k, r));
          for (int64_t c = 0; c < cols; ++c) {
            Value &acc = next[r * cols + c];
            Value sum = vector::FMAOp::create(ib, s, vecs[c], acc);
            acc = maskAt ? arith::SelectOp::create(ib, masks[c], sum, acc)
                         : sum;
          }
        }
        scf::YieldOp::create(ib, next);
      });
  return SmallVector<Value>(loop.getResults());
}

mlir::loom::FlatRows mlir::loom::flatRowsOf(ImplicitLocOpBuilder &b, Value buf) {
  auto meta = memref::ExtractStridedMetadataOp::create(b, buf);
  Value stride = meta.getStrides()[0];
  Value extent = arith::AddIOp::create(
      b, meta.getOffset(),
      arith::MulIOp::create(b, meta.getSizes()[0], stride));
  auto flatType = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
  Value flat = memref::ReinterpretCastOp::create(
      b, flatType, meta.getBaseBuffer(), OpFoldResult(b.getIndexAttr(0)),
      ArrayRef<OpFoldResult>{extent},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  return {flat, meta.getOffset(), stride};
}

void mlir::loom::emitTransposedPack(ImplicitLocOpBuilder &b, int64_t lanes,
                                    Value src, Value first, Value count,
                                    int64_t slots, float scale, Value dst) {
  int64_t width = cast<MemRefType>(src.getType()).getDimSize(1);
  auto c = [&](OpBuilder &ob, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ob, b.getLoc(), v);
  };
  Value last = arith::SubIOp::create(b, arith::AddIOp::create(b, first, count),
                                     c(b, 1));
  SmallVector<Value> rowOf;
  for (int64_t i = 0; i < slots; ++i)
    rowOf.push_back(arith::MinUIOp::create(
        b, arith::AddIOp::create(b, first, c(b, i)), last));
  VectorType vecType = f32Vector(b, lanes);
  Value scaleVec = splatF32(b, vecType, scale);
  int64_t fullCols = width - width % lanes;
  scf::ForOp::create(
      b, c(b, 0), c(b, fullCols), c(b, lanes), ValueRange{},
      [&](OpBuilder &nb, Location loc, Value d0, ValueRange) {
        ImplicitLocOpBuilder ib(loc, nb);
        for (int64_t v = 0; v < slots / lanes; ++v) {
          SmallVector<Value> rows;
          for (int64_t l = 0; l < lanes; ++l)
            rows.push_back(arith::MulFOp::create(
                ib,
                vector::LoadOp::create(ib, vecType, src,
                                       ValueRange{rowOf[v * lanes + l], d0}),
                scaleVec));
          SmallVector<Value> cols = transposeSquare(ib, rows);
          for (int64_t dd = 0; dd < lanes; ++dd)
            vector::StoreOp::create(
                ib, cols[dd], dst,
                ValueRange{arith::AddIOp::create(ib, d0, c(ib, dd)),
                           c(ib, v * lanes)});
        }
        scf::YieldOp::create(ib);
      });
  // The last width % lanes columns one element at a time.
  Value scalarScale = arith::ConstantOp::create(b, b.getF32FloatAttr(scale));
  for (int64_t d = fullCols; d < width; ++d)
    for (int64_t i = 0; i < slots; ++i) {
      Value x = memref::LoadOp::create(b, src, ValueRange{rowOf[i], c(b, d)});
      memref::StoreOp::create(b, arith::MulFOp::create(b, x, scalarScale), dst,
                              ValueRange{c(b, d), c(b, i)});
    }
}
