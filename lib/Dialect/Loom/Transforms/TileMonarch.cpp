//===- TileMonarch.cpp - the loom-tile-monarch pass -----------------------===//
//
// Cuts every loom.monarch into loom.monarch_tile ops over its rows: the
// leading dims folded into one, then an scf.forall over work items of rows
// (each tile made by the op's TilingInterface: a monarch on a row slice)
// and one tile for the rows left over, or a single tile of all the rows.
// Each tile writes its slice of one result tensor, so bufferization puts
// every tile's output straight into the caller's buffer.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

#include <limits>

#define DEBUG_TYPE "loom-tile-monarch"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMTILEMONARCHPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

struct MonarchTiling {
  int64_t itemRows = 0;
  int64_t minItems = 16;
  int64_t maxItemBytes = int64_t(32) << 20;
  int64_t maxHalvedWeightBytes = std::numeric_limits<int64_t>::max();
};

/// Rows per work item for `rows` rows whose h takes `hRowBytes` each:
/// itemRows, or half of it, whichever still gives minItems items (so that
/// that many threads all get work), with an h under maxItemBytes (the
/// default, 32 MiB, is glibc's largest mmap threshold: a larger h would be
/// mapped afresh, with its page faults, for every item); half of itemRows
/// only while the weights take at most maxHalvedWeightBytes; 0 for one
/// tile, which the kernel splits among the threads itself.
int64_t workItemRows(const MonarchTiling &o, int64_t rows, int64_t hRowBytes,
                     int64_t weightBytes) {
  for (int64_t n : {o.itemRows, o.itemRows / 2}) {
    if (n < o.itemRows && weightBytes > o.maxHalvedWeightBytes)
      break;
    if (n > 0 && rows >= o.minItems * n && n * hRowBytes < o.maxItemBytes)
      return n;
  }
  return 0;
}

/// The tile of rows [offset, offset + rows) of `monarch2d` (a monarch on
/// [M, N]) written into `dest` ([rows, l*s]): the op's tiled
/// implementation, a monarch on the slice of x, as a monarch_tile.
FailureOr<Value> makeTile(RewriterBase &rewriter, MonarchOp monarch2d,
                          OpFoldResult offset, int64_t rows, Value dest) {
  FailureOr<TilingResult> tiled =
      cast<TilingInterface>(monarch2d.getOperation())
          .getTiledImplementation(rewriter, {offset},
                                  {rewriter.getIndexAttr(rows)});
  if (failed(tiled) || tiled->tiledOps.size() != 1)
    return failure();
  auto slice = cast<MonarchOp>(tiled->tiledOps.front());
  auto tile =
      MonarchTileOp::create(rewriter, slice.getLoc(), TypeRange{dest.getType()},
                            slice.getX(), slice.getW1(), slice.getW2(), dest);
  rewriter.eraseOp(slice);
  return tile.getResult().front();
}

LogicalResult tileMonarch(RewriterBase &rewriter, MonarchOp op,
                          const MonarchTiling &o) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  RankedTensorType xType = op.getX().getType();
  int64_t rank = xType.getRank();
  int64_t rows = 1;
  for (int64_t d : xType.getShape().drop_back())
    rows *= d;
  int64_t width = op.getType().getShape().back();
  auto type2d = RankedTensorType::get({rows, width}, rewriter.getF32Type());
  // [..., N] <-> [rows, N]: the leading dims folded into one (a single row,
  // rank 1, as a row dim of one).
  SmallVector<ReassociationIndices> fold;
  if (rank == 1) {
    fold.push_back({0, 1});
  } else {
    fold.emplace_back();
    for (int64_t d = 0; d + 1 < rank; ++d)
      fold.back().push_back(d);
    fold.push_back({rank - 1});
  }
  Value x2 = op.getX();
  if (rank == 1)
    x2 = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({1, xType.getShape().back()},
                              rewriter.getF32Type()),
        x2, fold);
  else if (rank > 2)
    x2 = tensor::CollapseShapeOp::create(rewriter, loc, x2, fold);
  // The op to tile: the same monarch on [rows, N]; only its tiles stay.
  auto monarch2d =
      MonarchOp::create(rewriter, loc, type2d, x2, op.getW1(), op.getW2());
  Value init = tensor::EmptyOp::create(rewriter, loc, type2d.getShape(),
                                       rewriter.getF32Type());
  ArrayRef<int64_t> w1 = op.getW1().getType().getShape();
  int64_t l = op.getW2().getType().getDimSize(0);
  int64_t weightBytes = 4 * (op.getW1().getType().getNumElements() +
                             op.getW2().getType().getNumElements());
  int64_t itemRows =
      workItemRows(o, rows, 4 * (w1[0] * w1[1] + l), weightBytes);

  Value result;
  if (rows == 0) {
    // No rows: nothing to compute (a slice at row 0 would be out of
    // bounds).
    result = init;
  } else if (itemRows == 0) {
    FailureOr<Value> tile =
        makeTile(rewriter, monarch2d, rewriter.getIndexAttr(0), rows, init);
    if (failed(tile))
      return op.emitOpError() << "could not be tiled over its rows";
    result = *tile;
  } else {
    int64_t whole = rows / itemRows * itemRows;
    auto forall = scf::ForallOp::create(
        rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(whole)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(itemRows)},
        ValueRange{init}, std::nullopt);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(forall.getBody());
      OpFoldResult row0 = forall.getInductionVars().front();
      Value shared = forall.getRegionIterArgs().front();
      SmallVector<OpFoldResult> offsets{row0, rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(itemRows),
                                      rewriter.getIndexAttr(width)};
      SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
      Value dest = tensor::ExtractSliceOp::create(rewriter, loc, shared,
                                                  offsets, sizes, strides);
      FailureOr<Value> tile =
          makeTile(rewriter, monarch2d, row0, itemRows, dest);
      if (failed(tile))
        return op.emitOpError() << "could not be tiled over its rows";
      rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
      tensor::ParallelInsertSliceOp::create(rewriter, loc, *tile, shared,
                                            offsets, sizes, strides);
    }
    result = forall.getResult(0);
    if (int64_t rest = rows - whole) {
      SmallVector<OpFoldResult> offsets{rewriter.getIndexAttr(whole),
                                        rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(rest),
                                      rewriter.getIndexAttr(width)};
      SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
      Value dest = tensor::ExtractSliceOp::create(rewriter, loc, result,
                                                  offsets, sizes, strides);
      FailureOr<Value> tile = makeTile(
          rewriter, monarch2d, rewriter.getIndexAttr(whole), rest, dest);
      if (failed(tile))
        return op.emitOpError() << "could not be tiled over its rows";
      result = tensor::InsertSliceOp::create(rewriter, loc, *tile, result,
                                             offsets, sizes, strides);
    }
  }
  rewriter.eraseOp(monarch2d);
  if (rank == 1)
    result = tensor::CollapseShapeOp::create(rewriter, loc, result, fold);
  else if (rank > 2)
    result = tensor::ExpandShapeOp::create(rewriter, loc, op.getType(), result,
                                           fold);
  rewriter.replaceOp(op, result);
  return success();
}

struct LoomTileMonarchPass
    : loom::impl::LoomTileMonarchPassBase<LoomTileMonarchPass> {
  using Base::Base;
  void runOnOperation() override {
    if (itemRows < 0 || minItems < 1 || maxItemBytes < 1 ||
        maxHalvedWeightBytes < 0) {
      emitError(getOperation()->getLoc())
          << "loom-tile-monarch: item-rows and max-halved-weight-bytes must "
             "be 0 or more and min-items and max-item-bytes positive, got "
          << int64_t(itemRows) << ", " << int64_t(maxHalvedWeightBytes)
          << ", " << int64_t(minItems) << ", " << int64_t(maxItemBytes);
      return signalPassFailure();
    }
    MonarchTiling options{itemRows, minItems, maxItemBytes,
                          maxHalvedWeightBytes};
    SmallVector<MonarchOp> ops;
    getOperation().walk([&](MonarchOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (MonarchOp op : ops)
      if (failed(tileMonarch(rewriter, op, options)))
        return signalPassFailure();
  }
};

} // namespace
