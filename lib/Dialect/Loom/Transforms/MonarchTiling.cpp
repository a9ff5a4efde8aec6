//===- MonarchTiling.cpp - TilingInterface of the Monarch ops -------------===//
//
// blockdiag_matmul iterates over (rows..., block), all parallel: a tile of
// rows and blocks reads x[rows, blocks * p], w[blocks] and writes
// y[rows, blocks * q], and is a smaller blockdiag_matmul. monarch iterates
// over its rows only: the second factor mixes every block of the first
// (the permutation), so a row tile computes its own h = blockdiag(x, w1)
// for its rows and nothing else; it is a monarch on the row slice.
// Both ops keep static shapes, so tile sizes must be constants (a size that
// does not divide a dim leaves a dynamic last tile and is refused).
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/TilingInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

LogicalResult requireStaticSizes(Operation *op, ArrayRef<OpFoldResult> sizes) {
  for (OpFoldResult size : sizes)
    if (!getConstantIntValue(size))
      return op->emitOpError()
             << "can only be tiled with tile sizes that divide its static "
                "dimensions (loom ops have static shapes)";
  return success();
}

OpFoldResult times(OpBuilder &b, Location loc, OpFoldResult x, int64_t c) {
  AffineExpr d0 = getAffineDimExpr(0, b.getContext());
  return affine::makeComposedFoldedAffineApply(b, loc, d0 * c, {x});
}

Value slice(OpBuilder &b, Location loc, Value source,
            ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
            SmallVector<Operation *> &slices) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  auto op = tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes,
                                           strides);
  slices.push_back(op);
  return op;
}

/// `rows` leading dims of `value`'s type (everything but its last dim).
SmallVector<Range> leadingDomain(OpBuilder &b, Value value, int64_t rows) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<Range> domain;
  for (int64_t d = 0; d < rows; ++d)
    domain.push_back(Range{b.getIndexAttr(0), b.getIndexAttr(type.getDimSize(d)),
                           b.getIndexAttr(1)});
  return domain;
}

/// A result tile [rows..., c0 : cs] as a domain tile of rows and
/// `columnsPerBlock`-wide blocks, when it holds whole blocks.
LogicalResult blocksOfColumns(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                              ArrayRef<OpFoldResult> sizes,
                              int64_t columnsPerBlock,
                              SmallVectorImpl<OpFoldResult> &domainOffsets,
                              SmallVectorImpl<OpFoldResult> &domainSizes) {
  std::optional<int64_t> c0 = getConstantIntValue(offsets.back());
  std::optional<int64_t> cs = getConstantIntValue(sizes.back());
  if (!c0 || !cs || *c0 % columnsPerBlock || *cs % columnsPerBlock)
    return failure();
  domainOffsets.assign(offsets.begin(), offsets.end() - 1);
  domainSizes.assign(sizes.begin(), sizes.end() - 1);
  domainOffsets.push_back(b.getIndexAttr(*c0 / columnsPerBlock));
  domainSizes.push_back(b.getIndexAttr(*cs / columnsPerBlock));
  return success();
}

//===----------------------------------------------------------------------===//
// blockdiag_matmul: (rows..., block)
//===----------------------------------------------------------------------===//

struct BlockdiagMatmulTiling
    : public TilingInterface::ExternalModel<BlockdiagMatmulTiling,
                                            BlockdiagMatmulOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    auto x = cast<BlockdiagMatmulOp>(op).getX().getType();
    return SmallVector<utils::IteratorType>(x.getRank(),
                                            utils::IteratorType::parallel);
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto bd = cast<BlockdiagMatmulOp>(op);
    int64_t rank = bd.getX().getType().getRank();
    SmallVector<Range> domain = leadingDomain(b, bd.getX(), rank - 1);
    domain.push_back(Range{b.getIndexAttr(0),
                           b.getIndexAttr(bd.getW().getType().getDimSize(0)),
                           b.getIndexAttr(1)});
    return domain;
  }

  LogicalResult
  getResultTilePosition(Operation *op, OpBuilder &b, unsigned resultNumber,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes,
                        SmallVector<OpFoldResult> &resultOffsets,
                        SmallVector<OpFoldResult> &resultSizes) const {
    auto bd = cast<BlockdiagMatmulOp>(op);
    int64_t q = bd.getW().getType().getDimSize(1);
    resultOffsets.assign(offsets.begin(), offsets.end() - 1);
    resultSizes.assign(sizes.begin(), sizes.end() - 1);
    resultOffsets.push_back(times(b, op->getLoc(), offsets.back(), q));
    resultSizes.push_back(times(b, op->getLoc(), sizes.back(), q));
    return success();
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto bd = cast<BlockdiagMatmulOp>(op);
    if (failed(requireStaticSizes(op, sizes)))
      return failure();
    Location loc = op->getLoc();
    ArrayRef<int64_t> w = bd.getW().getType().getShape();
    TilingResult result;
    SmallVector<OpFoldResult> xOffsets(offsets.begin(), offsets.end() - 1);
    SmallVector<OpFoldResult> xSizes(sizes.begin(), sizes.end() - 1);
    xOffsets.push_back(times(b, loc, offsets.back(), w[2]));
    xSizes.push_back(times(b, loc, sizes.back(), w[2]));
    Value x = slice(b, loc, bd.getX(), xOffsets, xSizes, result.generatedSlices);
    Value wTile = slice(b, loc, bd.getW(),
                        {offsets.back(), b.getIndexAttr(0), b.getIndexAttr(0)},
                        {sizes.back(), b.getIndexAttr(w[1]), b.getIndexAttr(w[2])},
                        result.generatedSlices);
    SmallVector<int64_t> shape;
    for (OpFoldResult s : ArrayRef(sizes).drop_back())
      shape.push_back(*getConstantIntValue(s));
    shape.push_back(*getConstantIntValue(sizes.back()) * w[1]);
    auto tiled = BlockdiagMatmulOp::create(
        b, loc, RankedTensorType::get(shape, b.getF32Type()), x, wTile);
    result.tiledOps.push_back(tiled);
    result.tiledValues.push_back(tiled);
    return result;
  }

  LogicalResult getIterationDomainTileFromResultTile(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      SmallVectorImpl<OpFoldResult> &domainOffsets,
      SmallVectorImpl<OpFoldResult> &domainSizes) const {
    int64_t q = cast<BlockdiagMatmulOp>(op).getW().getType().getDimSize(1);
    return blocksOfColumns(b, offsets, sizes, q, domainOffsets, domainSizes);
  }

  FailureOr<TilingResult>
  generateResultTileValue(Operation *op, OpBuilder &b, unsigned resultNumber,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes) const {
    SmallVector<OpFoldResult> domainOffsets, domainSizes;
    if (failed(getIterationDomainTileFromResultTile(
            op, b, resultNumber, offsets, sizes, domainOffsets, domainSizes)))
      return failure();
    return getTiledImplementation(op, b, domainOffsets, domainSizes);
  }
};

//===----------------------------------------------------------------------===//
// monarch: (rows...)
//===----------------------------------------------------------------------===//

struct MonarchTiling
    : public TilingInterface::ExternalModel<MonarchTiling, MonarchOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    auto x = cast<MonarchOp>(op).getX().getType();
    return SmallVector<utils::IteratorType>(x.getRank() - 1,
                                            utils::IteratorType::parallel);
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto m = cast<MonarchOp>(op);
    return leadingDomain(b, m.getX(), m.getX().getType().getRank() - 1);
  }

  LogicalResult
  getResultTilePosition(Operation *op, OpBuilder &b, unsigned resultNumber,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes,
                        SmallVector<OpFoldResult> &resultOffsets,
                        SmallVector<OpFoldResult> &resultSizes) const {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    resultOffsets.assign(offsets.begin(), offsets.end());
    resultSizes.assign(sizes.begin(), sizes.end());
    resultOffsets.push_back(b.getIndexAttr(0));
    resultSizes.push_back(b.getIndexAttr(type.getShape().back()));
    return success();
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto m = cast<MonarchOp>(op);
    if (failed(requireStaticSizes(op, sizes)))
      return failure();
    Location loc = op->getLoc();
    int64_t n = m.getX().getType().getShape().back();
    int64_t width = m.getType().getShape().back();
    TilingResult result;
    SmallVector<OpFoldResult> xOffsets(offsets), xSizes(sizes);
    xOffsets.push_back(b.getIndexAttr(0));
    xSizes.push_back(b.getIndexAttr(n));
    Value x = slice(b, loc, m.getX(), xOffsets, xSizes, result.generatedSlices);
    SmallVector<int64_t> shape;
    for (OpFoldResult s : sizes)
      shape.push_back(*getConstantIntValue(s));
    shape.push_back(width);
    auto tiled = MonarchOp::create(
        b, loc, RankedTensorType::get(shape, b.getF32Type()), x, m.getW1(),
        m.getW2());
    result.tiledOps.push_back(tiled);
    result.tiledValues.push_back(tiled);
    return result;
  }

  LogicalResult getIterationDomainTileFromResultTile(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      SmallVectorImpl<OpFoldResult> &domainOffsets,
      SmallVectorImpl<OpFoldResult> &domainSizes) const {
    // Each output row needs every column of its h row: whole rows only.
    int64_t width =
        cast<RankedTensorType>(op->getResult(0).getType()).getShape().back();
    if (getConstantIntValue(offsets.back()) != std::optional<int64_t>(0) ||
        getConstantIntValue(sizes.back()) != std::optional<int64_t>(width))
      return failure();
    domainOffsets.assign(offsets.begin(), offsets.end() - 1);
    domainSizes.assign(sizes.begin(), sizes.end() - 1);
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
    return getTiledImplementation(op, b, domainOffsets, domainSizes);
  }
};

} // namespace

void mlir::loom::registerMonarchTilingExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    BlockdiagMatmulOp::attachInterface<BlockdiagMatmulTiling>(*ctx);
    MonarchOp::attachInterface<MonarchTiling>(*ctx);
  });
}
