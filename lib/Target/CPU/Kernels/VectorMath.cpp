//===- VectorMath.cpp - vector helpers shared by the loom kernels ---------===//

#include "VectorMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

Value mlir::loom::splatF32(ImplicitLocOpBuilder &b, float value) {
  auto type = VectorType::get({kLanes}, b.getF32Type());
  return arith::ConstantOp::create(
      b, type, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

/// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-7 Taylor
/// polynomial (relative error < 1e-8 before rounding) and 2^n built in the
/// exponent bits.
Value mlir::loom::emitExpOfNonPositive(ImplicitLocOpBuilder &b, Value x) {
  auto i32Vec = VectorType::get({kLanes}, b.getI32Type());
  auto splatI32 = [&](int32_t v) -> Value {
    return arith::ConstantOp::create(
        b, i32Vec, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(v)));
  };
  Value tooSmall = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, x,
                                         splatF32(b, -87.0f));
  Value xc = arith::MaxNumFOp::create(b, x, splatF32(b, -87.0f),
                                      arith::FastMathFlags::nnan);
  Value n = math::FloorOp::create(
      b, vector::FMAOp::create(b, xc, splatF32(b, 1.44269504088896341f),
                               splatF32(b, 0.5f)));
  Value r = vector::FMAOp::create(b, n, splatF32(b, -0.693359375f), xc);
  r = vector::FMAOp::create(b, n, splatF32(b, 2.12194440e-4f), r);
  static const float kTaylor[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120,
                                  1.0f / 24,   1.0f / 6,   0.5f,
                                  1.0f,        1.0f};
  Value p = splatF32(b, kTaylor[0]);
  for (float c : ArrayRef<float>(kTaylor).drop_front())
    p = vector::FMAOp::create(b, p, r, splatF32(b, c));
  Value ni = arith::FPToSIOp::create(b, i32Vec, n);
  Value bits = arith::ShLIOp::create(
      b, arith::AddIOp::create(b, ni, splatI32(127)), splatI32(23));
  Value pow2 =
      arith::BitcastOp::create(b, VectorType::get({kLanes}, b.getF32Type()), bits);
  Value result = arith::MulFOp::create(b, p, pow2);
  return arith::SelectOp::create(b, tooSmall, splatF32(b, 0.0f), result);
}

SmallVector<Value> mlir::loom::emitBroadcastFmaLoop(
    ImplicitLocOpBuilder &b, Value lo, Value hi, ValueRange init, int64_t rows,
    int64_t cols, TileOperand vectorAt, TileOperand scalarAt) {
  auto vecType = VectorType::get({kLanes}, b.getF32Type());
  auto loop = scf::ForOp::create(
      b, lo, hi, arith::ConstantIndexOp::create(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value k, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> vecs, next(acc.begin(), acc.end());
        for (int64_t c = 0; c < cols; ++c)
          vecs.push_back(vectorAt(ib, k, c));
        for (int64_t r = 0; r < rows; ++r) {
          Value s = vector::BroadcastOp::create(ib, vecType, scalarAt(ib, k, r));
          for (int64_t c = 0; c < cols; ++c)
            next[r * cols + c] =
                vector::FMAOp::create(ib, s, vecs[c], next[r * cols + c]);
        }
        scf::YieldOp::create(ib, next);
      });
  return SmallVector<Value>(loop.getResults());
}
