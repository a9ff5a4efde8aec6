//===- LoomAttrs.cpp - the attention visibility rule ----------------------===//
//
// The rule is two maps of the absolute query row, keyBegin and keyEnd (each
// the max of its results). Everything else here evaluates those maps: on
// numbers, as affine IR on index values, or element by element as arith IR
// on scalars and vectors (for lane masks). Nothing else in Loom spells the
// rule out.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomAttrs.h"
#include "loom/Dialect/Loom/IR/LoomDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::loom;

#define GET_ATTRDEF_CLASSES
#include "loom/Dialect/Loom/IR/LoomAttrs.cpp.inc"

void LoomDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "loom/Dialect/Loom/IR/LoomAttrs.cpp.inc"
      >();
}

LogicalResult
VisibilityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t queriesPerGroup, int64_t keysPerGroup,
                       int64_t lookback, int64_t shift, bool causal) {
  if (queriesPerGroup <= 0 || keysPerGroup <= 0)
    return emitError() << "visibility expects queries_per_group > 0 and "
                          "keys_per_group > 0, got "
                       << queriesPerGroup << " and " << keysPerGroup;
  if (lookback < -1)
    return emitError() << "visibility expects lookback >= -1, got "
                       << lookback;
  if (shift < 0)
    return emitError() << "visibility expects shift >= 0, got " << shift;
  if (causal && (queriesPerGroup != keysPerGroup || shift != 0))
    return emitError() << "visibility: causal compares query and key rows, "
                          "so it needs queries_per_group = keys_per_group "
                          "and shift = 0";
  return success();
}

//===----------------------------------------------------------------------===//
// The rule
//===----------------------------------------------------------------------===//

AffineMap VisibilityAttr::getBeginMap() const {
  MLIRContext *ctx = getContext();
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  if (getLookback() < 0)
    return AffineMap::get(1, 0, {zero}, ctx);
  AffineExpr group = getAffineDimExpr(0, ctx).floorDiv(getQueriesPerGroup());
  AffineExpr first = (group - (getShift() + getLookback())) * getKeysPerGroup();
  return AffineMap::get(1, 0, {zero, first}, ctx);
}

AffineMap VisibilityAttr::getEndMap() const {
  MLIRContext *ctx = getContext();
  AffineExpr row = getAffineDimExpr(0, ctx);
  if (getCausal())
    return AffineMap::get(1, 0, {row + 1}, ctx);
  AffineExpr group = row.floorDiv(getQueriesPerGroup());
  AffineExpr last = (group - getShift() + 1) * getKeysPerGroup();
  return AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx), last}, ctx);
}

namespace {
int64_t maxOf(AffineMap map, ArrayRef<int64_t> dims) {
  SmallVector<int64_t, 4> values = map.compose(dims);
  return *std::max_element(values.begin(), values.end());
}

/// `map` (of one dim) read at row d0 + d1 - 1 of a two-dim map: the last of
/// d1 rows from d0.
AffineMap atLastRow(AffineMap map) {
  MLIRContext *ctx = map.getContext();
  AffineExpr last = getAffineDimExpr(0, ctx) + getAffineDimExpr(1, ctx) - 1;
  return map.compose(AffineMap::get(2, 0, {last}, ctx));
}

/// `map` (of one dim) read at row d0 of a two-dim map.
AffineMap atFirstRow(AffineMap map) {
  MLIRContext *ctx = map.getContext();
  return map.compose(AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx));
}

AffineMap concat(AffineMap a, AffineMap b) {
  SmallVector<AffineExpr> results(a.getResults());
  llvm::append_range(results, b.getResults());
  return AffineMap::get(a.getNumDims(), 0, results, a.getContext());
}
} // namespace

int64_t VisibilityAttr::getKeyBegin(int64_t row) const {
  return maxOf(getBeginMap(), row);
}

int64_t VisibilityAttr::getKeyEnd(int64_t row) const {
  return maxOf(getEndMap(), row);
}

bool VisibilityAttr::isVisible(int64_t row, int64_t key) const {
  return getKeyBegin(row) <= key && key < getKeyEnd(row);
}

std::optional<int64_t> VisibilityAttr::getMaxKeysPerRow() const {
  int64_t lookback = getLookback(), perGroup = getKeysPerGroup();
  if (lookback < 0)
    return std::nullopt;
  // An op with no keys (latent_route's Nk = 0) has groups of none; the
  // attribute's own verifier is not run for the rule an op derives.
  if (perGroup <= 0)
    return 0;
  // (lookback + 1) * perGroup > max exactly when lookback >= max / perGroup.
  if (lookback >= std::numeric_limits<int64_t>::max() / perGroup)
    return std::numeric_limits<int64_t>::max();
  return (lookback + 1) * perGroup;
}

KeyWindow VisibilityAttr::getWindow(int64_t rowBegin, int64_t rowCount) const {
  int64_t last = rowBegin + rowCount - 1;
  KeyWindow w;
  w.begin = getKeyBegin(rowBegin);
  w.end = getKeyEnd(last);
  w.fullBegin = getKeyBegin(last);
  w.fullEnd = std::max(getKeyEnd(rowBegin), w.fullBegin);
  return w;
}

OpFoldResult VisibilityAttr::getKeyBegin(OpBuilder &b, Location loc,
                                         OpFoldResult row) const {
  return affine::makeComposedFoldedAffineMax(b, loc, getBeginMap(), {row});
}

OpFoldResult VisibilityAttr::getKeyEnd(OpBuilder &b, Location loc,
                                       OpFoldResult row) const {
  return affine::makeComposedFoldedAffineMax(b, loc, getEndMap(), {row});
}

KeyWindowValues VisibilityAttr::getWindow(OpBuilder &b, Location loc,
                                          OpFoldResult rowBegin,
                                          OpFoldResult rowCount) const {
  SmallVector<OpFoldResult> rows{rowBegin, rowCount};
  AffineMap fullBegin = atLastRow(getBeginMap());
  KeyWindowValues w;
  w.begin = getKeyBegin(b, loc, rowBegin);
  w.end = affine::makeComposedFoldedAffineMax(b, loc, atLastRow(getEndMap()),
                                              rows);
  w.fullBegin = affine::makeComposedFoldedAffineMax(b, loc, fullBegin, rows);
  w.fullEnd = affine::makeComposedFoldedAffineMax(
      b, loc, concat(atFirstRow(getEndMap()), fullBegin), rows);
  return w;
}

//===----------------------------------------------------------------------===//
// Element-wise IR
//===----------------------------------------------------------------------===//

namespace {
Value constantLike(OpBuilder &b, Location loc, Type type, int64_t value) {
  Type element = getElementTypeOrSelf(type);
  TypedAttr scalar = element.isIndex()
                         ? TypedAttr(b.getIndexAttr(value))
                         : TypedAttr(b.getIntegerAttr(element, value));
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(vector, scalar));
  return arith::ConstantOp::create(b, loc, scalar);
}

/// The rule's maps use +, * by a constant and floordiv by a positive
/// constant of one dim; `row` stands for the dim.
Value emitExpr(OpBuilder &b, Location loc, AffineExpr expr, Value row) {
  Type type = row.getType();
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return constantLike(b, loc, type, c.getValue());
  if (isa<AffineDimExpr>(expr))
    return row;
  auto bin = cast<AffineBinaryOpExpr>(expr);
  Value lhs = emitExpr(b, loc, bin.getLHS(), row);
  Value rhs = emitExpr(b, loc, bin.getRHS(), row);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(b, loc, lhs, rhs);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(b, loc, lhs, rhs);
  case AffineExprKind::FloorDiv:
    return arith::FloorDivSIOp::create(b, loc, lhs, rhs);
  default:
    llvm_unreachable("the visibility maps use only +, * and floordiv");
  }
}

Value emitMax(OpBuilder &b, Location loc, AffineMap map, Value row) {
  Value result;
  for (AffineExpr e : map.getResults()) {
    Value v = emitExpr(b, loc, e, row);
    result = result ? arith::MaxSIOp::create(b, loc, result, v).getResult() : v;
  }
  return result;
}
} // namespace

Value VisibilityAttr::emitKeyBegin(OpBuilder &b, Location loc,
                                   Value rows) const {
  return emitMax(b, loc, getBeginMap(), rows);
}

Value VisibilityAttr::emitKeyEnd(OpBuilder &b, Location loc, Value rows) const {
  return emitMax(b, loc, getEndMap(), rows);
}

Value VisibilityAttr::emitIsVisible(OpBuilder &b, Location loc, Value rows,
                                    Value keys) const {
  Value afterBegin = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                           keys, emitKeyBegin(b, loc, rows));
  Value beforeEnd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                          keys, emitKeyEnd(b, loc, rows));
  return arith::AndIOp::create(b, loc, afterBegin, beforeEnd);
}
