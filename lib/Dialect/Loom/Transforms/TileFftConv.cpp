//===- TileFftConv.cpp - the loom-tile-fft-conv pass ----------------------===//
//
// Cuts every loom.fft_conv into an scf.forall of loom.fft_conv_tile ops:
// the leading dims folded into one row dim, then one work item per
// (block of rows, channel), each tile made by the op's TilingInterface (an
// fft_conv on the slices of u and of the kernel) and written into its
// slice of one result. A tile holds all the rows of its channel unless
// that leaves fewer than min-items items: a channel's rows then split
// into blocks (a divisor of the row count), each of which transforms the
// channel's kernel once for itself.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

#define DEBUG_TYPE "loom-tile-fft-conv"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMTILEFFTCONVPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Rows per work item: all of them when the channels alone give minItems
/// items, else the largest divisor of `rows` that gives
/// ceil(minItems / channels) blocks or more (1 when none does).
int64_t rowsPerItem(int64_t rows, int64_t channels, int64_t minItems) {
  if (rows <= 1 || channels <= 0 || channels >= minItems)
    return std::max<int64_t>(rows, 1);
  int64_t blocks = (minItems + channels - 1) / channels;
  for (int64_t d = rows / blocks; d > 1; --d)
    if (rows % d == 0)
      return d;
  return 1;
}

LogicalResult tileFftConv(RewriterBase &rewriter, FftConvOp op,
                          int64_t minItems) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  RankedTensorType uType = op.getU().getType();
  int64_t rank = uType.getRank();
  ArrayRef<int64_t> shape = uType.getShape();
  int64_t rows = 1;
  for (int64_t d : shape.drop_back(2))
    rows *= d;
  int64_t channels = shape[rank - 2], n = shape[rank - 1];
  auto type3d =
      RankedTensorType::get({rows, channels, n}, rewriter.getF32Type());
  // [..., C, N] <-> [rows, C, N]: the leading dims folded into one (none,
  // rank 2, as a row dim of one).
  SmallVector<ReassociationIndices> fold;
  if (rank == 2) {
    fold = {{0, 1}, {2}};
  } else {
    fold.emplace_back();
    for (int64_t d = 0; d + 2 < rank; ++d)
      fold.back().push_back(d);
    fold.push_back({rank - 2});
    fold.push_back({rank - 1});
  }
  Value u3 = op.getU();
  if (rank == 2)
    u3 = tensor::ExpandShapeOp::create(
        rewriter, loc, type3d, u3, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  else if (rank > 3)
    u3 = tensor::CollapseShapeOp::create(rewriter, loc, u3, fold);
  // The op to tile: the same fft_conv on [rows, C, N]; only its tiles stay.
  auto conv3d = FftConvOp::create(rewriter, loc, type3d, u3, op.getKernel(),
                                  op.getCausalAttr());
  Value init = tensor::EmptyOp::create(rewriter, loc, type3d.getShape(),
                                       rewriter.getF32Type());
  int64_t itemRows = rowsPerItem(rows, channels, minItems);

  Value result = init;
  if (rows > 0 && channels > 0) {
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                               rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(rows),
                               rewriter.getIndexAttr(channels)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(itemRows),
                               rewriter.getIndexAttr(1)},
        ValueRange{init}, std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    OpFoldResult row0 = forall.getInductionVars()[0];
    OpFoldResult channel = forall.getInductionVars()[1];
    Value shared = forall.getRegionIterArgs().front();
    FailureOr<TilingResult> tiled =
        cast<TilingInterface>(conv3d.getOperation())
            .getTiledImplementation(
                rewriter, {row0, channel},
                {rewriter.getIndexAttr(itemRows), rewriter.getIndexAttr(1)});
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return op.emitOpError() << "could not be tiled over its lines";
    auto slice = cast<FftConvOp>(tiled->tiledOps.front());
    SmallVector<OpFoldResult> offsets{row0, channel, rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(itemRows),
                                    rewriter.getIndexAttr(1),
                                    rewriter.getIndexAttr(n)};
    SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
    Value dest = tensor::ExtractSliceOp::create(rewriter, loc, shared, offsets,
                                                sizes, strides);
    auto tile = FftConvTileOp::create(rewriter, loc, TypeRange{dest.getType()},
                                      slice.getU(), slice.getKernel(), dest,
                                      slice.getCausalAttr());
    rewriter.eraseOp(slice);
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc,
                                          tile.getResult().front(), shared,
                                          offsets, sizes, strides);
    result = forall.getResult(0);
  }
  rewriter.eraseOp(conv3d);
  rewriter.setInsertionPoint(op);
  if (rank == 2)
    result = tensor::CollapseShapeOp::create(
        rewriter, loc, result, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  else if (rank > 3)
    result = tensor::ExpandShapeOp::create(rewriter, loc, op.getType(), result,
                                           fold);
  rewriter.replaceOp(op, result);
  return success();
}

struct LoomTileFftConvPass
    : loom::impl::LoomTileFftConvPassBase<LoomTileFftConvPass> {
  using Base::Base;
  void runOnOperation() override {
    if (minItems < 1) {
      emitError(getOperation()->getLoc())
          << "loom-tile-fft-conv: min-items must be positive, got "
          << int64_t(minItems);
      return signalPassFailure();
    }
    SmallVector<FftConvOp> ops;
    getOperation().walk([&](FftConvOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (FftConvOp op : ops)
      if (failed(tileFftConv(rewriter, op, minItems)))
        return signalPassFailure();
  }
};

} // namespace
