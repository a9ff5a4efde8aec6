//===- LoomOps.cpp - loom op verifiers and canonicalizations --------------===//
//
// Every rule of SPEC section 1 is checked here and reported on the op's
// location; the messages name the operand, what was found and what was
// expected. test/Dialect/Loom/invalid.mlir pins each one.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::loom;

namespace {

// Limits no real model reaches. With every operand, result and intermediate
// below kMaxElements (a dimension of 0 counted as 1), any product of two of
// their dimensions fits in 63 bits, here and in the lowerings.
constexpr int64_t kMaxElements = int64_t(1) << 48;
/// D and E of the attention ops: the kernels keep rows of this width in
/// registers and on the stack (2^20 compiled for minutes).
constexpr int64_t kMaxHeadWidth = 4096;
/// fft_conv's N: the transform has 2N points and each work item a buffer of
/// 2 * 2N floats.
constexpr int64_t kMaxFftLength = int64_t(1) << 24;

std::string shapeToString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, ",");
  os << "]";
  return s;
}

/// Whether the product of the nonzero entries of `dims` is below
/// kMaxElements; computed without overflow.
bool isBounded(ArrayRef<int64_t> dims) {
  int64_t volume = 1;
  for (int64_t d : dims)
    if (d != 0 && (d >= kMaxElements || llvm::MulOverflow(volume, d, volume) ||
                   volume >= kMaxElements))
      return false;
  return true;
}

LogicalResult verifyBounded(Operation *op, StringRef name,
                            ArrayRef<int64_t> dims) {
  if (isBounded(dims))
    return success();
  return op->emitOpError() << "expects " << name
                           << " to have fewer than 2^48 elements (a dimension "
                              "of 0 counted as 1), got "
                           << shapeToString(dims);
}

/// Checks that `value` is a statically shaped tensor of the given rank
/// (or at least `rank` when `atLeast`), reporting on `op` otherwise.
LogicalResult verifyTensor(Operation *op, StringRef name, Value value,
                           int64_t rank, StringRef layout,
                           bool atLeast = false) {
  auto type = cast<RankedTensorType>(value.getType());
  bool rankOk = atLeast ? type.getRank() >= rank : type.getRank() == rank;
  if (!rankOk)
    return op->emitOpError() << "expects " << name << " to have rank "
                             << (atLeast ? "at least " : "") << rank << " ("
                             << layout << "), got rank " << type.getRank();
  if (!type.hasStaticShape())
    return op->emitOpError() << "expects " << name
                             << " to be statically shaped, got " << type;
  return verifyBounded(op, name, type.getShape());
}

LogicalResult verifyHeadWidth(Operation *op, StringRef what, int64_t width) {
  if (width <= kMaxHeadWidth)
    return success();
  return op->emitOpError() << "expects the " << what << " to be at most "
                           << kMaxHeadWidth << ", got " << width;
}

/// Compares one dimension of two operands with a message naming both.
LogicalResult verifyDimEq(Operation *op, StringRef what, StringRef lhsName,
                          int64_t lhs, StringRef rhsName, int64_t rhs) {
  if (lhs == rhs)
    return success();
  return op->emitOpError() << "expects the " << what << " of " << lhsName
                           << " (" << lhs << ") to match " << rhsName << " ("
                           << rhs << ")";
}

/// `expected` is computed from verified operands, so its entries fit.
LogicalResult verifyResultShape(Operation *op, ArrayRef<int64_t> expected) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  if (type.getShape() == expected)
    return verifyBounded(op, "the result", expected);
  return op->emitOpError() << "expects the result shape to be "
                           << shapeToString(expected) << ", got "
                           << shapeToString(type.getShape());
}

float defaultScale(Value q) {
  int64_t d = cast<RankedTensorType>(q.getType()).getShape().back();
  return d > 0 ? 1.0f / std::sqrt(static_cast<float>(d)) : 1.0f;
}

} // namespace

//===----------------------------------------------------------------------===//
// GroupedAttentionOp
//===----------------------------------------------------------------------===//

float GroupedAttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> s = getScale())
    return s->convertToFloat();
  return defaultScale(getQ());
}

int64_t GroupedAttentionOp::getMemoryRowsPerGroup() {
  if (getMemory().empty())
    return 0;
  int64_t rows = cast<RankedTensorType>(getMemory()[0].getType()).getDimSize(2);
  int64_t groups = getQ().getType().getDimSize(2) / getGroupSizeAttr().getInt();
  // An empty sequence has no groups and so no memory rows to read.
  return groups > 0 ? rows / groups : 0;
}

LogicalResult GroupedAttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyTensor(op, "q", getQ(), 4, "[B,H,L,D]")) ||
      failed(verifyTensor(op, "k", getK(), 4, "[B,H,L,D]")) ||
      failed(verifyTensor(op, "v", getV(), 4, "[B,H,L,E]")))
    return failure();
  ArrayRef<int64_t> q = getQ().getType().getShape();
  ArrayRef<int64_t> k = getK().getType().getShape();
  ArrayRef<int64_t> v = getV().getType().getShape();
  static const char *dimNames[] = {"batch (B)", "heads (H)", "length (L)",
                                   "width (D)"};
  for (int i = 0; i < 4; ++i)
    if (failed(verifyDimEq(op, dimNames[i], "k", k[i], "q", q[i])))
      return failure();
  for (int i = 0; i < 3; ++i)
    if (failed(verifyDimEq(op, dimNames[i], "v", v[i], "q", q[i])))
      return failure();

  if (failed(verifyHeadWidth(op, "width D of q and k", q[3])) ||
      failed(verifyHeadWidth(op, "width E of v", v[3])))
    return failure();

  int64_t n = getGroupSizeAttr().getInt();
  if (n <= 0)
    return emitOpError() << "expects group_size > 0, got " << n;
  if (q[2] % n != 0)
    return emitOpError() << "expects group_size (" << n
                         << ") to divide the sequence length L (" << q[2]
                         << ")";
  // I64Attr getters return uint64_t; the signed value is what users wrote.
  int64_t lookback = getLookbackAttr().getInt();
  if (lookback < -1)
    return emitOpError() << "expects lookback >= -1 (-1 means every earlier "
                            "group), got "
                         << lookback;

  if (!getMemory().empty()) {
    if (getMemory().size() != 2)
      return emitOpError() << "expects memory_k and memory_v together (0 or 2 "
                              "memory operands), got "
                           << getMemory().size();
    if (failed(verifyTensor(op, "memory_k", getMemory()[0], 4, "[B,H,T*F,D]")) ||
        failed(verifyTensor(op, "memory_v", getMemory()[1], 4, "[B,H,T*F,E]")))
      return failure();
    ArrayRef<int64_t> mk =
        cast<RankedTensorType>(getMemory()[0].getType()).getShape();
    ArrayRef<int64_t> mv =
        cast<RankedTensorType>(getMemory()[1].getType()).getShape();
    for (int i = 0; i < 2; ++i)
      if (failed(verifyDimEq(op, dimNames[i], "memory_k", mk[i], "q", q[i])) ||
          failed(verifyDimEq(op, dimNames[i], "memory_v", mv[i], "q", q[i])))
        return failure();
    if (failed(verifyDimEq(op, "width (D)", "memory_k", mk[3], "q", q[3])) ||
        failed(verifyDimEq(op, "width (E)", "memory_v", mv[3], "v", v[3])) ||
        failed(verifyDimEq(op, "row count", "memory_v", mv[2], "memory_k",
                           mk[2])))
      return failure();
    int64_t groups = q[2] / n;
    if (groups > 0 && mk[2] % groups != 0)
      return emitOpError() << "expects the memory row count (" << mk[2]
                           << ") to be a multiple of the number of groups T ("
                           << groups << ")";
  }
  return verifyResultShape(op, {q[0], q[1], q[2], v[3]});
}

//===----------------------------------------------------------------------===//
// LatentRouteOp
//===----------------------------------------------------------------------===//

float LatentRouteOp::getEffectiveScale() {
  if (std::optional<APFloat> s = getScale())
    return s->convertToFloat();
  return defaultScale(getQ());
}

LogicalResult LatentRouteOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyTensor(op, "q", getQ(), 4, "[B,H,T*Nq,D]")) ||
      failed(verifyTensor(op, "k", getK(), 4, "[B,H,T*Nk,D]")) ||
      failed(verifyTensor(op, "v", getV(), 4, "[B,H,T*Nk,E]")))
    return failure();
  ArrayRef<int64_t> q = getQ().getType().getShape();
  ArrayRef<int64_t> k = getK().getType().getShape();
  ArrayRef<int64_t> v = getV().getType().getShape();
  if (failed(verifyDimEq(op, "batch (B)", "k", k[0], "q", q[0])) ||
      failed(verifyDimEq(op, "batch (B)", "v", v[0], "q", q[0])) ||
      failed(verifyDimEq(op, "heads (H)", "k", k[1], "q", q[1])) ||
      failed(verifyDimEq(op, "heads (H)", "v", v[1], "q", q[1])) ||
      failed(verifyDimEq(op, "width (D)", "k", k[3], "q", q[3])) ||
      failed(verifyDimEq(op, "length", "v", v[2], "k", k[2])) ||
      failed(verifyHeadWidth(op, "width D of q and k", q[3])) ||
      failed(verifyHeadWidth(op, "width E of v", v[3])))
    return failure();
  int64_t t = getGroupsAttr().getInt();
  if (t <= 0)
    return emitOpError() << "expects groups > 0, got " << t;
  if (q[2] % t != 0)
    return emitOpError() << "expects groups (" << t
                         << ") to divide the query length (" << q[2] << ")";
  if (k[2] % t != 0)
    return emitOpError() << "expects groups (" << t
                         << ") to divide the key length (" << k[2] << ")";
  int64_t shift = getShiftAttr().getInt();
  if (shift < 0)
    return emitOpError() << "expects shift >= 0, got " << shift;
  return verifyResultShape(op, {q[0], q[1], q[2], v[3]});
}

namespace {
/// A shift of at least `groups` leaves every query group without keys, so
/// the whole result is zero (SPEC 1.2).
struct FoldFullyShiftedRoute : OpRewritePattern<LatentRouteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LatentRouteOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getShiftAttr().getInt() < op.getGroupsAttr().getInt())
      return rewriter.notifyMatchFailure(op, "some query group sees keys");
    auto type = cast<RankedTensorType>(op.getType());
    auto zero = DenseElementsAttr::get(
        type, rewriter.getZeroAttr(type.getElementType()));
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type, zero);
    return success();
  }
};
} // namespace

void LatentRouteOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                MLIRContext *context) {
  results.add<FoldFullyShiftedRoute>(context);
}

//===----------------------------------------------------------------------===//
// BlockdiagMatmulOp
//===----------------------------------------------------------------------===//

LogicalResult BlockdiagMatmulOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyTensor(op, "x", getX(), 1, "[..., k*p]", true)) ||
      failed(verifyTensor(op, "w", getW(), 3, "[k,q,p]")))
    return failure();
  ArrayRef<int64_t> x = getX().getType().getShape();
  ArrayRef<int64_t> w = getW().getType().getShape();
  if (x.back() != w[0] * w[2])
    return emitOpError() << "expects the last dim of x (" << x.back()
                         << ") to equal k*p = " << w[0] << "*" << w[2] << " = "
                         << w[0] * w[2] << " for w of shape "
                         << shapeToString(w);
  SmallVector<int64_t> expected(x);
  expected.back() = w[0] * w[1];
  return verifyResultShape(op, expected);
}

//===----------------------------------------------------------------------===//
// MonarchOp
//===----------------------------------------------------------------------===//

LogicalResult MonarchOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyTensor(op, "x", getX(), 1, "[..., N]", true)) ||
      failed(verifyTensor(op, "w1", getW1(), 3, "[k,q,p]")) ||
      failed(verifyTensor(op, "w2", getW2(), 3, "[l,s,r]")))
    return failure();
  ArrayRef<int64_t> x = getX().getType().getShape();
  ArrayRef<int64_t> w1 = getW1().getType().getShape();
  ArrayRef<int64_t> w2 = getW2().getType().getShape();
  if (w1[0] * w1[2] != x.back())
    return emitOpError() << "expects k*p of w1 (" << w1[0] << "*" << w1[2]
                         << " = " << w1[0] * w1[2]
                         << ") to equal the last dim of x (N = " << x.back()
                         << ")";
  if (w2[0] * w2[2] != w1[0] * w1[1])
    return emitOpError() << "expects l*r of w2 (" << w2[0] << "*" << w2[2]
                         << " = " << w2[0] * w2[2]
                         << ") to equal k*q of w1 (" << w1[0] << "*" << w1[1]
                         << " = " << w1[0] * w1[1] << ")";
  SmallVector<int64_t> h(x);
  h.back() = w1[0] * w1[1];
  if (failed(verifyBounded(op, "the intermediate blockdiag_matmul(x, w1)", h)))
    return failure();
  SmallVector<int64_t> expected(x);
  expected.back() = w2[1] * w2[0];
  return verifyResultShape(op, expected);
}

//===----------------------------------------------------------------------===//
// FftConvOp
//===----------------------------------------------------------------------===//

LogicalResult FftConvOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyTensor(op, "u", getU(), 2, "[..., C, N]", true)) ||
      failed(verifyTensor(op, "kernel", getKernel(), 2, "[C, N]")))
    return failure();
  ArrayRef<int64_t> u = getU().getType().getShape();
  ArrayRef<int64_t> kernel = getKernel().getType().getShape();
  int64_t c = u[u.size() - 2], n = u.back();
  if (failed(verifyDimEq(op, "channel count (C)", "kernel", kernel[0], "u", c)) ||
      failed(verifyDimEq(op, "length (N)", "kernel", kernel[1], "u", n)))
    return failure();
  if (n < 16 || !llvm::isPowerOf2_64(n))
    return emitOpError() << "expects the length N to be a power of two >= 16, "
                            "got "
                         << n;
  if (n > kMaxFftLength)
    return emitOpError() << "expects the length N to be at most 2^24, got "
                         << n;
  return verifyResultShape(op, u);
}

#define GET_OP_CLASSES
#include "loom/Dialect/Loom/IR/LoomOps.cpp.inc"
