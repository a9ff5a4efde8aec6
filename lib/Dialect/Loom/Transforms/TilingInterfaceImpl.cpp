//===- TilingInterfaceImpl.cpp - TilingInterface for attention ops --------===//
//
// grouped_attention and latent_route iterate over (batch, head, query row).
// A tile of batches and heads is always the same op on slices. A tile of
// query rows is one only where the rows' keys are the same slice of k/v:
// whole groups of a grouped_attention without lookback (memory rows are
// sliced with them), whole groups of an unshifted latent_route. Anything
// else (a lookback, a shift, a partial group) would need keys outside the
// tile, and tiling reports why instead of producing a wrong op.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/TilingInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// offsets/sizes of the iteration domain, in the form the ops need.
struct RowTile {
  OpFoldResult batch, head, row;
  int64_t batches, heads, rows;

  /// Whether the tile holds every one of the op's `length` query rows.
  bool coversRows(int64_t length) const {
    return rows == length &&
           getConstantIntValue(row) == std::optional<int64_t>(0);
  }
  /// The tiled op's result type: the tile's rows, all `valueWidth` columns.
  RankedTensorType resultType(OpBuilder &b, int64_t valueWidth) const {
    return RankedTensorType::get({batches, heads, rows, valueWidth},
                                 b.getF32Type());
  }
};

FailureOr<RowTile> staticTile(Operation *op, ArrayRef<OpFoldResult> offsets,
                              ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> s;
  for (OpFoldResult size : sizes) {
    std::optional<int64_t> v = getConstantIntValue(size);
    if (!v)
      return op->emitOpError()
             << "can only be tiled with tile sizes that divide its static "
                "dimensions (loom ops have static shapes)";
    s.push_back(*v);
  }
  return RowTile{offsets[0], offsets[1], offsets[2], s[0], s[1], s[2]};
}

/// A [b, h, rows, cols] slice of a rank-4 tensor.
Value slice(OpBuilder &b, Location loc, Value source, const RowTile &t,
            OpFoldResult rowOffset, int64_t rows,
            SmallVector<Operation *> &slices) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets{t.batch, t.head, rowOffset,
                                    b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(t.batches),
                                  b.getIndexAttr(t.heads),
                                  b.getIndexAttr(rows),
                                  b.getIndexAttr(type.getDimSize(3))};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  auto op = tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes,
                                           strides);
  slices.push_back(op);
  return op.getResult();
}

/// (row offset / from) * to, folded when the offset is a constant.
OpFoldResult scaleRows(OpBuilder &b, Location loc, OpFoldResult offset,
                       int64_t from, int64_t to) {
  if (std::optional<int64_t> c = getConstantIntValue(offset))
    return b.getIndexAttr(*c / from * to);
  Value v = getValueOrCreateConstantIndexOp(b, loc, offset);
  Value groups = arith::DivUIOp::create(
      b, loc, v, arith::ConstantIndexOp::create(b, loc, from));
  return arith::MulIOp::create(b, loc, groups,
                               arith::ConstantIndexOp::create(b, loc, to))
      .getResult();
}

/// The parts both ops share: a (batch, head, row) domain, all parallel,
/// and a result tile that spans the whole value width.
template <typename ConcreteModel, typename OpTy>
struct AttentionTiling : public TilingInterface::ExternalModel<ConcreteModel, OpTy> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    return SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel);
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    SmallVector<Range> domain;
    for (int64_t d = 0; d < 3; ++d)
      domain.push_back(Range{b.getIndexAttr(0),
                             b.getIndexAttr(type.getDimSize(d)),
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
    resultSizes.push_back(b.getIndexAttr(type.getDimSize(3)));
    return success();
  }
};

struct GroupedAttentionTiling
    : public AttentionTiling<GroupedAttentionTiling, GroupedAttentionOp> {
  FailureOr<TilingResult>
  getTiledImplementation(Operation *operation, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto op = cast<GroupedAttentionOp>(operation);
    FailureOr<RowTile> tile = staticTile(op, offsets, sizes);
    if (failed(tile))
      return failure();
    int64_t length = op.getQ().getType().getDimSize(2);
    int64_t n = op.getGroupSizeAttr().getInt();
    int64_t lookback = op.getLookbackAttr().getInt();
    bool allRows = tile->coversRows(length);
    if (!allRows && lookback != 0)
      return op.emitOpError()
             << "cannot tile query rows with lookback = " << lookback
             << ": the tile's queries see keys before it; tile only batch "
                "and heads";
    if (!allRows && tile->rows % n != 0)
      return op.emitOpError() << "cannot tile query rows by " << tile->rows
                              << ": a tile must hold whole groups of " << n;

    Location loc = op.getLoc();
    TilingResult result;
    SmallVector<Value> operands;
    for (Value v : {op.getQ(), op.getK(), op.getV()})
      operands.push_back(
          slice(b, loc, v, *tile, tile->row, tile->rows, result.generatedSlices));
    if (int64_t f = op.getMemoryRowsPerGroup()) {
      OpFoldResult memRow = scaleRows(b, loc, tile->row, n, f);
      for (Value v : op.getMemory())
        operands.push_back(slice(b, loc, v, *tile, memRow, tile->rows / n * f,
                                 result.generatedSlices));
    }
    RankedTensorType resultType = tile->resultType(b, op.getType().getDimSize(3));
    Operation *tiled = mlir::clone(b, op, TypeRange{resultType}, operands);
    result.tiledOps.push_back(tiled);
    result.tiledValues.push_back(tiled->getResult(0));
    return result;
  }
};

struct LatentRouteTiling
    : public AttentionTiling<LatentRouteTiling, LatentRouteOp> {
  FailureOr<TilingResult>
  getTiledImplementation(Operation *operation, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto op = cast<LatentRouteOp>(operation);
    FailureOr<RowTile> tile = staticTile(op, offsets, sizes);
    if (failed(tile))
      return failure();
    int64_t groups = op.getGroupsAttr().getInt();
    int64_t shift = op.getShiftAttr().getInt();
    int64_t queries = op.getQ().getType().getDimSize(2) / groups;
    int64_t keys = op.getK().getType().getDimSize(2) / groups;
    bool allRows = tile->coversRows(groups * queries);
    if (!allRows && shift != 0)
      return op.emitOpError()
             << "cannot tile query rows with shift = " << shift
             << ": the tile's queries read other groups' keys; tile only "
                "batch and heads";
    if (!allRows && tile->rows % queries != 0)
      return op.emitOpError() << "cannot tile query rows by " << tile->rows
                              << ": a tile must hold whole groups of "
                              << queries << " queries";

    Location loc = op.getLoc();
    TilingResult result;
    int64_t tileGroups = allRows ? groups : tile->rows / queries;
    OpFoldResult keyRow =
        allRows ? tile->row : scaleRows(b, loc, tile->row, queries, keys);
    SmallVector<Value> operands{
        slice(b, loc, op.getQ(), *tile, tile->row, tile->rows,
              result.generatedSlices),
        slice(b, loc, op.getK(), *tile, keyRow, tileGroups * keys,
              result.generatedSlices),
        slice(b, loc, op.getV(), *tile, keyRow, tileGroups * keys,
              result.generatedSlices)};
    RankedTensorType resultType = tile->resultType(b, op.getType().getDimSize(3));
    auto tiled = cast<LatentRouteOp>(
        mlir::clone(b, op, TypeRange{resultType}, operands));
    tiled.setGroupsAttr(b.getI64IntegerAttr(tileGroups));
    result.tiledOps.push_back(tiled);
    result.tiledValues.push_back(tiled.getResult());
    return result;
  }
};

} // namespace

void mlir::loom::registerTilingInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    GroupedAttentionOp::attachInterface<GroupedAttentionTiling>(*ctx);
    LatentRouteOp::attachInterface<LatentRouteTiling>(*ctx);
  });
}
