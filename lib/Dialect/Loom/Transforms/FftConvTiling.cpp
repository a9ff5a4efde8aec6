//===- FftConvTiling.cpp - TilingInterface of fft_conv --------------------===//
//
// fft_conv convolves every (row, channel) line on its own: it iterates over
// (rows..., channel), all parallel, and a tile reads u[rows, channels, :]
// and kernel[channels, :] and is a smaller fft_conv. The sequence dim is
// never tiled: each output element depends on the whole line.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/TilingInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

struct FftConvTiling
    : public TilingInterface::ExternalModel<FftConvTiling, FftConvOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    auto u = cast<FftConvOp>(op).getU().getType();
    return SmallVector<utils::IteratorType>(u.getRank() - 1,
                                            utils::IteratorType::parallel);
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto u = cast<FftConvOp>(op).getU().getType();
    SmallVector<Range> domain;
    for (int64_t d = 0; d + 1 < u.getRank(); ++d)
      domain.push_back(Range{b.getIndexAttr(0), b.getIndexAttr(u.getDimSize(d)),
                             b.getIndexAttr(1)});
    return domain;
  }

  LogicalResult
  getResultTilePosition(Operation *op, OpBuilder &b, unsigned resultNumber,
                        ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes,
                        SmallVector<OpFoldResult> &resultOffsets,
                        SmallVector<OpFoldResult> &resultSizes) const {
    auto u = cast<FftConvOp>(op).getU().getType();
    resultOffsets.assign(offsets.begin(), offsets.end());
    resultSizes.assign(sizes.begin(), sizes.end());
    resultOffsets.push_back(b.getIndexAttr(0));
    resultSizes.push_back(b.getIndexAttr(u.getShape().back()));
    return success();
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto conv = cast<FftConvOp>(op);
    SmallVector<int64_t> shape;
    for (OpFoldResult size : sizes) {
      std::optional<int64_t> s = getConstantIntValue(size);
      if (!s)
        return op->emitOpError()
               << "can only be tiled with tile sizes that divide its static "
                  "dimensions (loom ops have static shapes)";
      shape.push_back(*s);
    }
    Location loc = op->getLoc();
    int64_t n = conv.getU().getType().getShape().back();
    shape.push_back(n);
    TilingResult result;
    auto slice = [&](Value source, ArrayRef<OpFoldResult> offs,
                     ArrayRef<OpFoldResult> szs) -> Value {
      SmallVector<OpFoldResult> strides(offs.size(), b.getIndexAttr(1));
      auto s = tensor::ExtractSliceOp::create(b, loc, source, offs, szs,
                                              strides);
      result.generatedSlices.push_back(s);
      return s;
    };
    SmallVector<OpFoldResult> uOffsets(offsets), uSizes(sizes);
    uOffsets.push_back(b.getIndexAttr(0));
    uSizes.push_back(b.getIndexAttr(n));
    Value u = slice(conv.getU(), uOffsets, uSizes);
    Value kernel = slice(conv.getKernel(), {offsets.back(), b.getIndexAttr(0)},
                         {sizes.back(), b.getIndexAttr(n)});
    auto tiled = FftConvOp::create(
        b, loc, RankedTensorType::get(shape, b.getF32Type()), u, kernel,
        conv.getCausalAttr());
    result.tiledOps.push_back(tiled);
    result.tiledValues.push_back(tiled);
    return result;
  }

  LogicalResult getIterationDomainTileFromResultTile(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      SmallVectorImpl<OpFoldResult> &domainOffsets,
      SmallVectorImpl<OpFoldResult> &domainSizes) const {
    int64_t n = cast<FftConvOp>(op).getU().getType().getShape().back();
    if (getConstantIntValue(offsets.back()) != std::optional<int64_t>(0) ||
        getConstantIntValue(sizes.back()) != std::optional<int64_t>(n))
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

void mlir::loom::registerFftConvTilingExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    FftConvOp::attachInterface<FftConvTiling>(*ctx);
  });
}
