//===- LoomTileOps.cpp - tile-level ops and the ops' visibility -----------===//
//
// Verifiers of attention_tile and attention_step (local shape facts; sizes
// may be dynamic, and then only the static ones are compared) and of
// monarch_tile (static shapes), their memory effects, and the visibility
// rule of grouped_attention and latent_route as #loom.visibility
// attributes.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::loom;

//===----------------------------------------------------------------------===//
// The visibility of the ops of SPEC section 1
//===----------------------------------------------------------------------===//

// A lookback (or shift) beyond the op's query groups means the same as one
// of exactly that many groups: every row's window starts at key 0 (or is
// empty). The attribute carries the smaller value, so that the rule's
// products with keys_per_group cannot overflow (a lookback of 2^62 gave
// wrong results before).
static int64_t clampToGroups(int64_t value, int64_t rows, int64_t perGroup) {
  if (ShapedType::isDynamic(rows) || perGroup <= 0)
    return value;
  return std::min(value, std::max<int64_t>(rows / perGroup, 1));
}

VisibilityAttr GroupedAttentionOp::getKeyVisibility() {
  int64_t n = getGroupSizeAttr().getInt();
  int64_t lookback = getLookbackAttr().getInt();
  if (lookback >= 0)
    lookback = clampToGroups(lookback, getQ().getType().getDimSize(2), n);
  return VisibilityAttr::get(getContext(), n, n, lookback, /*shift=*/0,
                             getCausal());
}

VisibilityAttr GroupedAttentionOp::getMemoryVisibility() {
  int64_t f = getMemoryRowsPerGroup();
  if (f <= 0)
    return {};
  return VisibilityAttr::get(getContext(), getGroupSizeAttr().getInt(), f,
                             /*lookback=*/0, /*shift=*/0, /*causal=*/false);
}

VisibilityAttr LatentRouteOp::getKeyVisibility() {
  int64_t t = getGroupsAttr().getInt();
  int64_t shift = std::min(getShiftAttr().getInt(), std::max<int64_t>(t, 1));
  return VisibilityAttr::get(getContext(), getQ().getType().getDimSize(2) / t,
                             getK().getType().getDimSize(2) / t,
                             /*lookback=*/0, shift, /*causal=*/false);
}

//===----------------------------------------------------------------------===//
// Shared verification
//===----------------------------------------------------------------------===//

namespace {

bool sameSize(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string dimToString(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

/// A named operand of a tile op and the rank it must have.
struct NamedOperand {
  StringRef name;
  Value value;
  int64_t rank;
};

/// Every operand a tensor, or every operand a memref; ranks as given; the
/// leading `batchRank` dims the same everywhere.
LogicalResult verifyOperands(Operation *op, ArrayRef<NamedOperand> operands,
                             int64_t batchRank) {
  bool tensors = isa<RankedTensorType>(operands.front().value.getType());
  auto first = cast<ShapedType>(operands.front().value.getType());
  for (const NamedOperand &o : operands) {
    auto type = cast<ShapedType>(o.value.getType());
    if (isa<RankedTensorType>(type) != tensors)
      return op->emitOpError()
             << "expects every operand to be a tensor or every operand to be a "
                "memref, but "
             << o.name << " is " << type;
    if (type.getRank() != o.rank)
      return op->emitOpError() << "expects " << o.name << " to have rank "
                               << o.rank << ", got " << type.getRank();
    for (int64_t d = 0; d < batchRank; ++d)
      if (!sameSize(type.getDimSize(d), first.getDimSize(d)))
        return op->emitOpError()
               << "expects batch dim " << d << " of " << o.name << " ("
               << dimToString(type.getDimSize(d)) << ") to match "
               << operands.front().name << " ("
               << dimToString(first.getDimSize(d)) << ")";
  }
  return success();
}

/// Dim `d` (negative: from the back) of each operand is the same size.
LogicalResult verifySameDim(Operation *op, StringRef what,
                            ArrayRef<std::pair<StringRef, Value>> operands,
                            int64_t fromBack) {
  auto dimOf = [&](Value v) {
    auto type = cast<ShapedType>(v.getType());
    return type.getDimSize(type.getRank() - fromBack);
  };
  int64_t ref = dimOf(operands.front().second);
  for (auto [name, value] : operands.drop_front())
    if (!sameSize(dimOf(value), ref))
      return op->emitOpError()
             << "expects the " << what << " of " << name << " ("
             << dimToString(dimOf(value)) << ") to match "
             << operands.front().first << " (" << dimToString(ref) << ")";
  return success();
}

/// The attention ops' bound on D and E (LoomOps.cpp): the kernels keep
/// rows of this width in registers and on the stack, and a tile written by
/// hand gets the same bound (2^32 ran the compiler out of memory).
constexpr int64_t kMaxTileWidth = 4096;

/// The feature dims (D, E) size the microkernels' registers: static, and
/// at most kMaxTileWidth.
LogicalResult verifyStaticWidth(Operation *op, StringRef name, Value v) {
  auto type = cast<ShapedType>(v.getType());
  int64_t width = type.getShape().back();
  if (ShapedType::isDynamic(width))
    return op->emitOpError() << "expects the last dim of " << name
                             << " (its width) to be static";
  if (width > kMaxTileWidth)
    return op->emitOpError() << "expects the width of " << name
                             << " to be at most " << kMaxTileWidth << ", got "
                             << width;
  return success();
}

/// Every operand has a static shape: the Monarch and FFT microkernels are
/// static-shaped (register tiles, packed panels, transform lengths).
LogicalResult verifyStaticShapes(Operation *op,
                                 ArrayRef<NamedOperand> operands) {
  for (const NamedOperand &o : operands)
    if (!cast<ShapedType>(o.value.getType()).hasStaticShape())
      return op->emitOpError() << "expects " << o.name
                               << " to have a static shape, got "
                               << o.value.getType();
  return success();
}

/// Tensor operands give results of the inits' types; memref operands none.
LogicalResult verifyResults(Operation *op, ValueRange inits) {
  bool tensors = isa<RankedTensorType>(inits.front().getType());
  if (!tensors) {
    if (op->getNumResults() != 0)
      return op->emitOpError() << "expects no results on memref operands";
    return success();
  }
  if (op->getNumResults() != inits.size())
    return op->emitOpError() << "expects " << inits.size()
                             << " results on tensor operands, got "
                             << op->getNumResults();
  for (auto [init, result] : llvm::zip(inits, op->getResults()))
    if (init.getType() != result.getType())
      return op->emitOpError() << "expects each result to have its init's type "
                               << init.getType() << ", got " << result.getType();
  return success();
}

void addEffects(
    Operation *op, ValueRange inputs, ValueRange inits,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
    if (llvm::is_contained(inits, operand.get()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// AttentionTileOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionTileOp::verify() {
  Operation *op = getOperation();
  int64_t rank = cast<ShapedType>(getQ().getType()).getRank();
  if (rank < 2)
    return emitOpError() << "expects q to have rank >= 2 ([..., M, D]), got "
                         << rank;
  SmallVector<NamedOperand> operands{{"q", getQ(), rank},
                                     {"k", getK(), rank},
                                     {"v", getV(), rank},
                                     {"out", getOut(), rank}};
  if (!getMemory().empty()) {
    if (getMemory().size() != 2)
      return emitOpError() << "expects memory_k and memory_v together (0 or 2 "
                              "memory operands), got "
                           << getMemory().size();
    operands.push_back({"memory_k", getMemory()[0], rank});
    operands.push_back({"memory_v", getMemory()[1], rank});
  }
  if (failed(verifyOperands(op, operands, rank - 2)))
    return failure();
  bool memory = !getMemory().empty();
  if (memory != static_cast<bool>(getMemoryOffset()) ||
      memory != static_cast<bool>(getMemoryVisibilityAttr()))
    return emitOpError() << "expects memory operands, a memory offset and a "
                            "memory_visibility together or not at all";
  for (const NamedOperand &o : operands)
    if (failed(verifyStaticWidth(op, o.name, o.value)))
      return failure();

  SmallVector<std::pair<StringRef, Value>> widthD{{"q", getQ()}, {"k", getK()}};
  SmallVector<std::pair<StringRef, Value>> widthE{{"out", getOut()},
                                                  {"v", getV()}};
  SmallVector<std::pair<StringRef, Value>> queries{{"q", getQ()},
                                                   {"out", getOut()}};
  SmallVector<std::pair<StringRef, Value>> keys{{"k", getK()}, {"v", getV()}};
  if (memory) {
    widthD.push_back({"memory_k", getMemory()[0]});
    widthE.push_back({"memory_v", getMemory()[1]});
  }
  if (failed(verifySameDim(op, "width (D)", widthD, 1)) ||
      failed(verifySameDim(op, "width (E)", widthE, 1)) ||
      failed(verifySameDim(op, "query row count", queries, 2)) ||
      failed(verifySameDim(op, "key row count", keys, 2)))
    return failure();
  if (memory &&
      failed(verifySameDim(op, "memory row count",
                           {{"memory_k", getMemory()[0]},
                            {"memory_v", getMemory()[1]}},
                           2)))
    return failure();
  if (std::optional<uint64_t> block = getKeyBlock())
    if (static_cast<int64_t>(*block) <= 0)
      return emitOpError() << "expects key_block > 0, got "
                           << static_cast<int64_t>(*block);
  if (getRowsInGroup()) {
    int64_t rows = cast<ShapedType>(getQ().getType()).getShape()[
        cast<ShapedType>(getQ().getType()).getRank() - 2];
    int64_t group = getVisibility().getQueriesPerGroup();
    if (!ShapedType::isDynamic(rows) && rows > group)
      return emitOpError() << "rows_in_group expects at most "
                              "queries_per_group ("
                           << group << ") query rows, got " << rows;
    if (VisibilityAttr memory = getMemoryVisibilityAttr())
      if (memory.getQueriesPerGroup() != group)
        return emitOpError() << "rows_in_group expects the memory rows' "
                                "queries_per_group to be the keys' ("
                             << group << "), got "
                             << memory.getQueriesPerGroup();
  }
  return verifyResults(op, ValueRange{getOut()});
}

void AttentionTileOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addEffects(getOperation(), getDpsInputs(), ValueRange{getOut()}, effects);
}

//===----------------------------------------------------------------------===//
// AttentionStepOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionStepOp::verify() {
  Operation *op = getOperation();
  int64_t rank = cast<ShapedType>(getQ().getType()).getRank();
  if (rank < 2)
    return emitOpError() << "expects q to have rank >= 2 ([..., M, D]), got "
                         << rank;
  SmallVector<NamedOperand> operands{
      {"q", getQ(), rank},          {"k", getK(), rank},
      {"v", getV(), rank},          {"acc", getAcc(), rank},
      {"max", getMax(), rank - 1}, {"sum", getSum(), rank - 1}};
  if (failed(verifyOperands(op, operands, rank - 2)))
    return failure();
  for (const NamedOperand &o : ArrayRef(operands).take_front(4))
    if (failed(verifyStaticWidth(op, o.name, o.value)))
      return failure();
  if (failed(verifySameDim(op, "width (D)", {{"q", getQ()}, {"k", getK()}}, 1)) ||
      failed(verifySameDim(op, "width (E)", {{"acc", getAcc()}, {"v", getV()}},
                           1)) ||
      failed(verifySameDim(op, "key row count", {{"k", getK()}, {"v", getV()}},
                           2)) ||
      failed(verifySameDim(op, "query row count",
                           {{"q", getQ()}, {"acc", getAcc()}}, 2)) ||
      failed(verifySameDim(op, "row count", {{"max", getMax()}, {"sum", getSum()}},
                           1)))
    return failure();
  // max and sum hold one number per query row.
  int64_t rows = cast<ShapedType>(getQ().getType()).getDimSize(rank - 2);
  int64_t stateRows = cast<ShapedType>(getMax().getType()).getDimSize(rank - 2);
  if (!sameSize(rows, stateRows))
    return emitOpError() << "expects the row count of max ("
                         << dimToString(stateRows)
                         << ") to match the query row count of q ("
                         << dimToString(rows) << ")";
  return verifyResults(op, ValueRange{getAcc(), getMax(), getSum()});
}

void AttentionStepOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addEffects(getOperation(), getDpsInputs(),
             ValueRange{getAcc(), getMax(), getSum()}, effects);
}

//===----------------------------------------------------------------------===//
// MonarchTileOp
//===----------------------------------------------------------------------===//

LogicalResult MonarchTileOp::verify() {
  Operation *op = getOperation();
  SmallVector<NamedOperand> operands{{"x", getX(), 2},
                                     {"w1", getW1(), 3},
                                     {"w2", getW2(), 3},
                                     {"out", getOut(), 2}};
  if (failed(verifyOperands(op, operands, /*batchRank=*/0)))
    return failure();
  if (failed(verifyStaticShapes(op, operands)))
    return failure();
  ArrayRef<int64_t> x = cast<ShapedType>(getX().getType()).getShape();
  ArrayRef<int64_t> w1 = cast<ShapedType>(getW1().getType()).getShape();
  ArrayRef<int64_t> w2 = cast<ShapedType>(getW2().getType()).getShape();
  ArrayRef<int64_t> out = cast<ShapedType>(getOut().getType()).getShape();
  if (w1[0] * w1[2] != x[1])
    return emitOpError() << "expects k*p of w1 (" << w1[0] << "*" << w1[2]
                         << ") to equal the row width of x (" << x[1] << ")";
  if (w2[0] * w2[2] != w1[0] * w1[1])
    return emitOpError() << "expects l*r of w2 (" << w2[0] << "*" << w2[2]
                         << ") to equal k*q of w1 (" << w1[0] << "*" << w1[1]
                         << ")";
  if (out[0] != x[0] || out[1] != w2[0] * w2[1])
    return emitOpError() << "expects out to be [" << x[0] << ", "
                         << w2[0] * w2[1] << "] (rows of x, l*s), got ["
                         << out[0] << ", " << out[1] << "]";
  return verifyResults(op, ValueRange{getOut()});
}

void MonarchTileOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addEffects(getOperation(), getDpsInputs(), ValueRange{getOut()}, effects);
}

//===----------------------------------------------------------------------===//
// FftConvTileOp
//===----------------------------------------------------------------------===//

LogicalResult FftConvTileOp::verify() {
  Operation *op = getOperation();
  SmallVector<NamedOperand> operands{
      {"u", getU(), 3}, {"kernel", getKernel(), 2}, {"out", getOut(), 3}};
  if (failed(verifyOperands(op, operands, /*batchRank=*/0)))
    return failure();
  if (failed(verifyStaticShapes(op, operands)))
    return failure();
  ArrayRef<int64_t> u = cast<ShapedType>(getU().getType()).getShape();
  ArrayRef<int64_t> kernel = cast<ShapedType>(getKernel().getType()).getShape();
  ArrayRef<int64_t> out = cast<ShapedType>(getOut().getType()).getShape();
  int64_t n = u[2];
  if (n < 16 || (n & (n - 1)) != 0)
    return emitOpError() << "expects the length N of u to be a power of two "
                            "of at least 16, got "
                         << n;
  if (kernel[0] != u[1] || kernel[1] != n)
    return emitOpError() << "expects kernel to be [" << u[1] << ", " << n
                         << "] (the channels and length of u), got ["
                         << kernel[0] << ", " << kernel[1] << "]";
  if (out != u)
    return emitOpError() << "expects out to have the shape of u";
  return verifyResults(op, ValueRange{getOut()});
}

void FftConvTileOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addEffects(getOperation(), getDpsInputs(), ValueRange{getOut()}, effects);
}
