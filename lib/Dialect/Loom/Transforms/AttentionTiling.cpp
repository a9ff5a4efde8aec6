//===- AttentionTiling.cpp - TilingInterface of the attention ops ---------===//
//
// grouped_attention, latent_route and attention_tile iterate over (batch
// dims..., query rows), all parallel. A tile of any size, anywhere, becomes
// one loom.attention_tile on
//   - the tile's query rows,
//   - exactly the key window its rows see, [keyBegin(first row),
//     keyEnd(last row)), asked of the op's #loom.visibility (and the same
//     for the memory rows), so no tiling ever visits an invisible key,
//   - the absolute query/key/memory offsets, so the tile op applies the same
//     rule to each of its rows.
// Batch dims of tile size 1 are dropped from the tile op's operands (rank-
// reducing slices): a tile of one batch row and one head is [rows, width],
// which lets the slices read a transposed [B, L, H, D] producer in place
// (see FoldHeadTransposes.cpp).
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/TilingInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// An attention op in the terms tiling needs. Operands are
/// [batch dims..., rows, width]; the `...Base` values are the absolute row
/// of each operand's first row.
struct AttentionSource {
  Value q, k, v, memK, memV, out;
  VisibilityAttr visibility, memoryVisibility;
  FloatAttr scale;
  IntegerAttr keyBlock;
  OpFoldResult queryBase, keyBase, memoryBase;
  /// Whether k/v (and the memory rows) may hold fewer keys than a tile's
  /// window, so the window is clipped to them (attention_tile only; in the
  /// ops of SPEC section 1 every window lies inside the operands).
  bool clipWindows = false;
};

AttentionSource sourceOf(OpBuilder &b, GroupedAttentionOp op) {
  AttentionSource s;
  s.q = op.getQ();
  s.k = op.getK();
  s.v = op.getV();
  // Memory operands with no rows (F = 0) add nothing to the tile.
  if (!op.getMemory().empty() && op.getMemoryVisibility()) {
    s.memK = op.getMemory()[0];
    s.memV = op.getMemory()[1];
    s.memoryVisibility = op.getMemoryVisibility();
  }
  s.visibility = op.getKeyVisibility();
  s.scale = b.getF32FloatAttr(op.getEffectiveScale());
  s.queryBase = s.keyBase = s.memoryBase = b.getIndexAttr(0);
  return s;
}

AttentionSource sourceOf(OpBuilder &b, LatentRouteOp op) {
  AttentionSource s;
  s.q = op.getQ();
  s.k = op.getK();
  s.v = op.getV();
  s.visibility = op.getKeyVisibility();
  s.scale = b.getF32FloatAttr(op.getEffectiveScale());
  s.queryBase = s.keyBase = s.memoryBase = b.getIndexAttr(0);
  return s;
}

AttentionSource sourceOf(OpBuilder &b, AttentionTileOp op) {
  AttentionSource s;
  s.q = op.getQ();
  s.k = op.getK();
  s.v = op.getV();
  s.out = op.getOut();
  if (!op.getMemory().empty()) {
    s.memK = op.getMemory()[0];
    s.memV = op.getMemory()[1];
    s.memoryVisibility = op.getMemoryVisibilityAttr();
    s.memoryBase = op.getMemoryOffset();
  }
  s.visibility = op.getVisibility();
  s.scale = op.getScaleAttr();
  s.keyBlock = op.getKeyBlockAttr();
  s.queryBase = op.getQueryOffset();
  s.keyBase = op.getKeyOffset();
  s.clipWindows = true;
  return s;
}

OpFoldResult add(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult y) {
  AffineExpr d0, d1;
  bindDims(b.getContext(), d0, d1);
  return affine::makeComposedFoldedAffineApply(b, loc, d0 + d1, {x, y});
}

OpFoldResult sub(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult y) {
  AffineExpr d0, d1;
  bindDims(b.getContext(), d0, d1);
  return affine::makeComposedFoldedAffineApply(b, loc, d0 - d1, {x, y});
}

/// Where a tile's slices sit in the batch dims, and which batch dims the
/// tile op drops (static size 1).
struct BatchTile {
  SmallVector<OpFoldResult> offsets, sizes;
  SmallVector<bool> dropped;
};

/// [batch..., rowOffset : rowCount, all columns] of `source`, without the
/// dropped batch dims.
Value sliceRows(OpBuilder &b, Location loc, Value source, const BatchTile &t,
                OpFoldResult rowOffset, OpFoldResult rowCount,
                SmallVector<Operation *> &slices) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets(t.offsets), sizes(t.sizes);
  offsets.append({rowOffset, b.getIndexAttr(0)});
  sizes.append({rowCount, b.getIndexAttr(type.getShape().back())});
  SmallVector<int64_t> shape;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    if (i < t.dropped.size() && t.dropped[i])
      continue;
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  }
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  auto slice = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), source,
      offsets, sizes, strides);
  slices.push_back(slice);
  return slice;
}

/// The key window [begin, begin + count) of `rowCount` query rows from
/// absolute row `rowBegin`, relative to the operands' first key row;
/// clipped to the `available` keys where asked.
std::pair<OpFoldResult, OpFoldResult>
keyWindow(OpBuilder &b, Location loc, VisibilityAttr visibility,
          OpFoldResult rowBegin, OpFoldResult rowCount, OpFoldResult base,
          OpFoldResult available, bool clip) {
  KeyWindowValues w = visibility.getWindow(b, loc, rowBegin, rowCount);
  OpFoldResult begin = w.begin, end = w.end;
  if (clip) {
    MLIRContext *ctx = b.getContext();
    AffineExpr d0, d1;
    bindDims(ctx, d0, d1);
    begin = affine::makeComposedFoldedAffineMax(
        b, loc, AffineMap::get(2, 0, {d0, d1}, ctx), {begin, base});
    end = affine::makeComposedFoldedAffineMin(
        b, loc, AffineMap::get(2, 0, {d0, d1}, ctx),
        {end, add(b, loc, base, available)});
    end = affine::makeComposedFoldedAffineMax(
        b, loc, AffineMap::get(2, 0, {d0, d1}, ctx), {end, begin});
  }
  return {begin, sub(b, loc, end, begin)};
}

/// The tile op for query rows [rowOffset, rowOffset + rowCount) (relative to
/// `src.q`) of the batch tile given by the leading `offsets`/`sizes`.
FailureOr<TilingResult> tileAttention(OpBuilder &b, Location loc,
                                      Operation *op, const AttentionSource &src,
                                      ArrayRef<OpFoldResult> offsets,
                                      ArrayRef<OpFoldResult> sizes) {
  if (!isa<RankedTensorType>(src.q.getType()))
    return op->emitOpError() << "can only be tiled on tensors";
  auto qType = cast<RankedTensorType>(src.q.getType());
  int64_t batchRank = qType.getRank() - 2;
  BatchTile t;
  t.offsets.assign(offsets.begin(), offsets.begin() + batchRank);
  t.sizes.assign(sizes.begin(), sizes.begin() + batchRank);
  for (OpFoldResult size : t.sizes)
    t.dropped.push_back(getConstantIntValue(size) == std::optional<int64_t>(1));
  OpFoldResult rowOffset = offsets[batchRank], rowCount = sizes[batchRank];
  OpFoldResult firstRow = add(b, loc, src.queryBase, rowOffset);

  TilingResult result;
  SmallVector<Value> memory;
  auto [keyBegin, keyCount] = keyWindow(
      b, loc, src.visibility, firstRow, rowCount, src.keyBase,
      tensor::getMixedSize(b, loc, src.k, batchRank), src.clipWindows);
  OpFoldResult keyRow = sub(b, loc, keyBegin, src.keyBase);
  Value q = sliceRows(b, loc, src.q, t, rowOffset, rowCount,
                      result.generatedSlices);
  Value k = sliceRows(b, loc, src.k, t, keyRow, keyCount,
                      result.generatedSlices);
  Value v = sliceRows(b, loc, src.v, t, keyRow, keyCount,
                      result.generatedSlices);
  Value memoryBegin;
  if (src.memK) {
    auto [memBegin, memCount] = keyWindow(
        b, loc, src.memoryVisibility, firstRow, rowCount, src.memoryBase,
        tensor::getMixedSize(b, loc, src.memK, batchRank), src.clipWindows);
    OpFoldResult memRow = sub(b, loc, memBegin, src.memoryBase);
    memory.push_back(sliceRows(b, loc, src.memK, t, memRow, memCount,
                               result.generatedSlices));
    memory.push_back(sliceRows(b, loc, src.memV, t, memRow, memCount,
                               result.generatedSlices));
    memoryBegin = getValueOrCreateConstantIndexOp(b, loc, memBegin);
  }

  Value out;
  if (src.out) {
    out = sliceRows(b, loc, src.out, t, rowOffset, rowCount,
                    result.generatedSlices);
  } else {
    // The ops of SPEC section 1 are not destination-style: a fresh tile,
    // which eliminate-empty-tensors turns into the result's own slice.
    auto vType = cast<RankedTensorType>(src.v.getType());
    SmallVector<OpFoldResult> shape;
    for (auto [size, dropped] : llvm::zip(t.sizes, t.dropped))
      if (!dropped)
        shape.push_back(size);
    shape.append({rowCount, b.getIndexAttr(vType.getShape().back())});
    out = tensor::EmptyOp::create(b, loc, shape, vType.getElementType());
  }

  auto tile = AttentionTileOp::create(
      b, loc, TypeRange{out.getType()}, q, k, v, memory, out,
      getValueOrCreateConstantIndexOp(b, loc, firstRow),
      getValueOrCreateConstantIndexOp(b, loc, keyBegin), memoryBegin,
      src.visibility, src.memoryVisibility, src.scale, src.keyBlock,
      /*rows_in_group=*/nullptr);
  result.tiledOps.push_back(tile);
  result.tiledValues.push_back(tile.getResult()[0]);
  return result;
}

/// The parts every attention op shares: (batch dims..., rows), all
/// parallel, a result tile spanning the whole value width, and fusion as a
/// producer for any result tile that does.
template <typename ConcreteModel, typename OpTy>
struct AttentionTilingBase
    : public TilingInterface::ExternalModel<ConcreteModel, OpTy> {
  static Value rowsOf(Operation *op) { return op->getOperand(0); }

  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    int64_t rank = cast<ShapedType>(rowsOf(op).getType()).getRank();
    return SmallVector<utils::IteratorType>(rank - 1,
                                            utils::IteratorType::parallel);
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    Value q = rowsOf(op);
    int64_t rank = cast<ShapedType>(q.getType()).getRank();
    SmallVector<Range> domain;
    for (int64_t d = 0; d + 1 < rank; ++d)
      domain.push_back(Range{b.getIndexAttr(0),
                             tensor::getMixedSize(b, op->getLoc(), q, d),
                             b.getIndexAttr(1)});
    return domain;
  }

  LogicalResult
  getResultTilePosition(Operation *op, OpBuilder &b, unsigned resultNumber,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes,
                        SmallVector<OpFoldResult> &resultOffsets,
                        SmallVector<OpFoldResult> &resultSizes) const {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    resultOffsets.assign(offsets.begin(), offsets.end());
    resultOffsets.push_back(b.getIndexAttr(0));
    resultSizes.assign(sizes.begin(), sizes.end());
    resultSizes.push_back(b.getIndexAttr(type.getShape().back()));
    return success();
  }

  LogicalResult getIterationDomainTileFromResultTile(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      SmallVectorImpl<OpFoldResult> &iterDomainOffsets,
      SmallVectorImpl<OpFoldResult> &iterDomainSizes) const {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    // A tile of the result is a tile of the domain only when it spans every
    // value column: each output row needs its whole softmax.
    if (getConstantIntValue(offsets.back()) != std::optional<int64_t>(0) ||
        getConstantIntValue(sizes.back()) !=
            std::optional<int64_t>(type.getShape().back()))
      return failure();
    iterDomainOffsets.assign(offsets.begin(), offsets.end() - 1);
    iterDomainSizes.assign(sizes.begin(), sizes.end() - 1);
    return success();
  }

  FailureOr<TilingResult>
  generateResultTileValue(Operation *op, OpBuilder &b, unsigned resultNumber,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes) const {
    SmallVector<OpFoldResult> domainOffsets, domainSizes;
    if (failed(getIterationDomainTileFromResultTile(
            op, b, resultNumber, offsets, sizes, domainOffsets, domainSizes)))
      return failure();
    return static_cast<const ConcreteModel *>(this)->getTiledImplementation(
        op, b, domainOffsets, domainSizes);
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    AttentionSource src = sourceOf(b, cast<OpTy>(op));
    return tileAttention(b, op->getLoc(), op, src, offsets, sizes);
  }
};

struct GroupedAttentionTiling
    : AttentionTilingBase<GroupedAttentionTiling, GroupedAttentionOp> {};
struct LatentRouteTiling
    : AttentionTilingBase<LatentRouteTiling, LatentRouteOp> {};
struct AttentionTileTiling
    : AttentionTilingBase<AttentionTileTiling, AttentionTileOp> {};

} // namespace

void mlir::loom::registerAttentionTilingExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    GroupedAttentionOp::attachInterface<GroupedAttentionTiling>(*ctx);
    LatentRouteOp::attachInterface<LatentRouteTiling>(*ctx);
    AttentionTileOp::attachInterface<AttentionTileTiling>(*ctx);
  });
}
