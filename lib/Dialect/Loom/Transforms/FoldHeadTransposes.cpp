//===- FoldHeadTransposes.cpp - head split/merge transposes as views ------===//
//
// A model splits heads as [B, L, H*D] -> expand_shape [B, L, H, D] ->
// linalg.transpose [B, H, L, D] and merges them back with the inverse
// transpose and a collapse_shape. Once an attention op is tiled to one batch
// row and one head per tile, each tile reads and writes [rows, width] slices,
// and a slice that keeps only dims whose order the permutation preserves is
// the same slice of the untransposed tensor. These patterns rewrite
//
//   extract_slice(transpose(X))            -> extract_slice(X)
//   transpose(scf.forall writing slices)   -> scf.forall writing X's slices
//   transpose(scf.for nest writing slices) -> the nest writing X's slices
//
// so the transposes disappear: after bufferization the tile ops read and
// write strided views ([rows, width] with a row stride of H*width; the
// innermost dim stays contiguous) of the projections' buffers, and nothing
// is copied. A transpose that moves the innermost dim stays (a copy): the
// kernels need rows with a unit innermost stride.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Transforms.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Whether the dims a slice keeps (not `dropped`) land in increasing order
/// under `map` (slice dim -> dim of the other tensor).
bool keepsOrder(const llvm::SmallBitVector &dropped, ArrayRef<int64_t> map) {
  int64_t last = -1;
  for (auto [dim, to] : llvm::enumerate(map)) {
    if (dropped.test(dim))
      continue;
    if (to < last)
      return false;
    last = to;
  }
  return true;
}

/// v renumbered: result[map[i]] = v[i].
SmallVector<OpFoldResult> scatter(ArrayRef<OpFoldResult> v,
                                  ArrayRef<int64_t> map) {
  SmallVector<OpFoldResult> result(v.size());
  for (auto [i, to] : llvm::enumerate(map))
    result[to] = v[i];
  return result;
}

/// Whether a transpose by `perm` keeps the innermost dim innermost: the
/// kernels read rows with a unit innermost stride, and a slice of a tensor
/// whose innermost dim moved (e.g. [B, L, D, H] -> [B, H, L, D]) is not
/// one, whatever order its dims keep.
bool keepsInnermost(ArrayRef<int64_t> perm) {
  return !perm.empty() && perm.back() == int64_t(perm.size()) - 1;
}

SmallVector<int64_t> inverse(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> inv(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inv[p] = i;
  return inv;
}

/// extract_slice(transpose(X)) -> extract_slice(X) when the slice keeps only
/// dims whose order the transpose preserves.
struct SliceOfTranspose : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto transpose = slice.getSource().getDefiningOp<linalg::TransposeOp>();
    if (!transpose || !transpose.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(slice, "not a slice of a transpose");
    // Result dim i of the transpose is dim perm[i] of its input.
    ArrayRef<int64_t> perm = transpose.getPermutation();
    if (!keepsInnermost(perm))
      return rewriter.notifyMatchFailure(slice, "the innermost dim moves");
    if (!keepsOrder(slice.getDroppedDims(), perm))
      return rewriter.notifyMatchFailure(slice, "the kept dims change order");
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        slice, slice.getType(), transpose.getInput(),
        scatter(slice.getMixedOffsets(), perm),
        scatter(slice.getMixedSizes(), perm),
        scatter(slice.getMixedStrides(), perm));
    return success();
  }
};

/// transpose(R) where R is a result of an scf.forall whose shared output is
/// only sliced (extract_slice, parallel_insert_slice) into pieces that keep
/// their dims' order under the transpose: the loop writes the transposed
/// tensor directly.
struct TransposeOfForall : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp transpose,
                                PatternRewriter &rewriter) const override {
    if (!transpose.hasPureTensorSemantics())
      return failure();
    auto result = dyn_cast<OpResult>(transpose.getInput());
    auto forall = result ? dyn_cast<scf::ForallOp>(result.getOwner()) : nullptr;
    if (!forall || !result.hasOneUse())
      return rewriter.notifyMatchFailure(transpose, "not of a loop's result");
    if (!keepsInnermost(transpose.getPermutation()))
      return rewriter.notifyMatchFailure(transpose, "the innermost dim moves");
    BlockArgument shared = forall.getTiedBlockArgument(result);
    // Dim d of the loop's tensor is dim inv[d] of the transposed one.
    SmallVector<int64_t> inv = inverse(transpose.getPermutation());
    for (Operation *user : shared.getUsers()) {
      llvm::SmallBitVector dropped;
      if (auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(user))
        dropped = insert.getDroppedDims();
      else if (auto extract = dyn_cast<tensor::ExtractSliceOp>(user))
        dropped = extract.getDroppedDims();
      else
        return rewriter.notifyMatchFailure(transpose, "the output is not only sliced");
      if (!keepsOrder(dropped, inv))
        return rewriter.notifyMatchFailure(transpose, "a slice changes order");
    }

    // The loop now starts from the transpose's init, which must exist
    // before it (a static tensor.empty, the usual init, is made there).
    Value init = transpose.getInit();
    auto type = cast<RankedTensorType>(init.getType());
    if (auto empty = init.getDefiningOp<tensor::EmptyOp>();
        empty && type.hasStaticShape()) {
      rewriter.setInsertionPoint(forall);
      init = tensor::EmptyOp::create(rewriter, empty.getLoc(), type.getShape(),
                                     type.getElementType());
    } else if (Operation *def = init.getDefiningOp();
               def && (def->getBlock() != forall->getBlock() ||
                       !def->isBeforeInBlock(forall))) {
      return rewriter.notifyMatchFailure(transpose, "the init is defined later");
    }
    rewriter.modifyOpInPlace(forall, [&] {
      forall.getOutputsMutable()[result.getResultNumber()].assign(init);
      shared.setType(type);
      result.setType(type);
    });
    for (Operation *user : llvm::to_vector(shared.getUsers())) {
      rewriter.setInsertionPoint(user);
      if (auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(user)) {
        tensor::ParallelInsertSliceOp::create(
            rewriter, insert.getLoc(), insert.getSource(), shared,
            scatter(insert.getMixedOffsets(), inv),
            scatter(insert.getMixedSizes(), inv),
            scatter(insert.getMixedStrides(), inv));
        rewriter.eraseOp(insert);
        continue;
      }
      auto extract = cast<tensor::ExtractSliceOp>(user);
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          extract, extract.getType(), shared,
          scatter(extract.getMixedOffsets(), inv),
          scatter(extract.getMixedSizes(), inv),
          scatter(extract.getMixedStrides(), inv));
    }
    rewriter.replaceOp(transpose, result);
    return success();
  }
};

/// The values of an scf.for nest that carry one tensor from the outermost
/// result down to the slices the innermost body reads and writes.
struct CarriedTensor {
  SmallVector<std::pair<scf::ForOp, unsigned>> loops; // outermost first
  SmallVector<Operation *> slices; // extract_slice / insert_slice of it
};

/// Follows result `index` of `loop` into its body: the iter arg may only be
/// sliced (insert_slice into it yielded back, extract_slice of it) or be the
/// init of one inner loop whose result is yielded back.
LogicalResult collectCarried(scf::ForOp loop, unsigned index,
                             CarriedTensor &carried) {
  carried.loops.push_back({loop, index});
  BlockArgument arg = loop.getRegionIterArgs()[index];
  Value yielded = loop.getYieldedValues()[index];
  for (OpOperand &use : arg.getUses()) {
    Operation *user = use.getOwner();
    if (auto extract = dyn_cast<tensor::ExtractSliceOp>(user)) {
      carried.slices.push_back(extract);
      continue;
    }
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(user)) {
      if (use.getOperandNumber() != 1 || insert.getResult() != yielded ||
          !insert->hasOneUse())
        return failure();
      carried.slices.push_back(insert);
      continue;
    }
    if (auto inner = dyn_cast<scf::ForOp>(user)) {
      unsigned innerIndex = use.getOperandNumber() - inner.getNumControlOperands();
      if (use.getOperandNumber() < inner.getNumControlOperands() ||
          inner.getResult(innerIndex) != yielded ||
          !inner.getResult(innerIndex).hasOneUse() ||
          failed(collectCarried(inner, innerIndex, carried)))
        return failure();
      continue;
    }
    return failure();
  }
  return success();
}

/// transpose(R) where R is carried through an scf.for nest (tile_using_for
/// loops) and only sliced in it: the nest carries the transposed tensor.
struct TransposeOfForNest : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp transpose,
                                PatternRewriter &rewriter) const override {
    if (!transpose.hasPureTensorSemantics())
      return failure();
    auto result = dyn_cast<OpResult>(transpose.getInput());
    auto loop = result ? dyn_cast<scf::ForOp>(result.getOwner()) : nullptr;
    if (!loop || !result.hasOneUse())
      return rewriter.notifyMatchFailure(transpose, "not of a loop's result");
    if (!keepsInnermost(transpose.getPermutation()))
      return rewriter.notifyMatchFailure(transpose, "the innermost dim moves");
    // The nest must start from a fresh tensor: its contents are not read.
    unsigned index = result.getResultNumber();
    if (!loop.getInitArgs()[index].getDefiningOp<tensor::EmptyOp>())
      return rewriter.notifyMatchFailure(transpose, "the loop starts from data");
    CarriedTensor carried;
    if (failed(collectCarried(loop, index, carried)))
      return rewriter.notifyMatchFailure(transpose, "the tensor is not only sliced");
    SmallVector<int64_t> inv = inverse(transpose.getPermutation());
    for (Operation *slice : carried.slices) {
      llvm::SmallBitVector dropped =
          isa<tensor::InsertSliceOp>(slice)
              ? cast<tensor::InsertSliceOp>(slice).getDroppedDims()
              : cast<tensor::ExtractSliceOp>(slice).getDroppedDims();
      if (!keepsOrder(dropped, inv))
        return rewriter.notifyMatchFailure(transpose, "a slice changes order");
    }

    auto type = cast<RankedTensorType>(transpose.getInit().getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(transpose, "dynamic shape");
    rewriter.setInsertionPoint(loop);
    Value init = tensor::EmptyOp::create(rewriter, transpose.getLoc(),
                                         type.getShape(), type.getElementType());
    rewriter.modifyOpInPlace(loop, [&] {
      loop.getInitArgsMutable()[index].assign(init);
    });
    for (auto [carrier, i] : carried.loops) {
      scf::ForOp l = carrier;
      unsigned n = i;
      rewriter.modifyOpInPlace(l, [&] {
        l.getRegionIterArgs()[n].setType(type);
        l.getResult(n).setType(type);
      });
    }
    for (Operation *slice : carried.slices) {
      rewriter.setInsertionPoint(slice);
      if (auto insert = dyn_cast<tensor::InsertSliceOp>(slice)) {
        rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
            insert, insert.getSource(), insert.getDest(),
            scatter(insert.getMixedOffsets(), inv),
            scatter(insert.getMixedSizes(), inv),
            scatter(insert.getMixedStrides(), inv));
        continue;
      }
      auto extract = cast<tensor::ExtractSliceOp>(slice);
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          extract, extract.getType(), extract.getSource(),
          scatter(extract.getMixedOffsets(), inv),
          scatter(extract.getMixedSizes(), inv),
          scatter(extract.getMixedStrides(), inv));
    }
    rewriter.replaceOp(transpose, result);
    return success();
  }
};

} // namespace

void mlir::loom::populateFoldHeadTransposesPatterns(
    RewritePatternSet &patterns) {
  patterns.add<SliceOfTranspose, TransposeOfForall, TransposeOfForNest>(
      patterns.getContext());
}
