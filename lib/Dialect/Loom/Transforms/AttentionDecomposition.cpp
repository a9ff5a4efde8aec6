//===- AttentionDecomposition.cpp - attention ops as tile-level steps -----===//
//
// Three levels, each an AggregatedOpInterface::decomposeOperation, so that
// transform.structured.decompose_interface (or a pass) peels one level at a
// time and a target stops at the level its microkernels take:
//
//   grouped_attention / latent_route
//     -> scf.for over query groups of loom.attention_tile (through the ops'
//        TilingInterface: each tile on exactly its key window)
//   attention_tile
//     -> running state (acc = 0, max = -inf, sum = 0), then
//        scf.for over key blocks of loom.attention_step: the memory rows,
//        then the keys, each window split where #loom.visibility says into
//        masked head, unmasked middle, masked tail; then out = acc / sum
//   attention_step
//     -> linalg: scores (a contraction), the mask (only when the step has a
//        visibility), the new row max, the rescale factor, P = exp(S - max),
//        sum and acc updates (P . V a contraction)
//
// The last level is the portable reference: convert-linalg-to-loops (or any
// linalg lowering) finishes it.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/AggregatedOpInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Value f32Const(OpBuilder &b, Location loc, float v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// A tensor of `sizes` filled with `value`.
Value filled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
             float value) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
  return linalg::FillOp::create(b, loc, ValueRange{f32Const(b, loc, value)},
                                ValueRange{empty})
      .getResult(0);
}

/// The map of `count` dims to the dims `pick`.
AffineMap dims(MLIRContext *ctx, unsigned count, ArrayRef<int64_t> pick) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d : pick)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(count, 0, exprs, ctx);
}

SmallVector<int64_t> range(int64_t n) {
  return llvm::to_vector(llvm::seq<int64_t>(0, n));
}

/// `first` followed by `rest`.
SmallVector<int64_t> cat(ArrayRef<int64_t> first, ArrayRef<int64_t> rest) {
  SmallVector<int64_t> r(first);
  r.append(rest.begin(), rest.end());
  return r;
}

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

Value generic(OpBuilder &b, Location loc, ValueRange ins, Value out,
              ArrayRef<AffineMap> maps,
              ArrayRef<utils::IteratorType> iterators, BodyFn body) {
  return linalg::GenericOp::create(
             b, loc, TypeRange{out.getType()}, ins, ValueRange{out}, maps,
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, ValueRange{body(nb, l, args)});
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// attention_step -> linalg
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<Value>> decomposeStep(AttentionStepOp op, OpBuilder &b) {
  if (!isa<RankedTensorType>(op.getQ().getType()))
    return op.emitOpError() << "decomposes only on tensors";
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  int64_t nb = op.getBatchRank();
  auto par = utils::IteratorType::parallel;
  auto red = utils::IteratorType::reduction;
  SmallVector<int64_t> batch = range(nb);
  int64_t m = nb, c = nb + 1, x = nb + 2; // row, key, width (d or e)

  // [batch..., M, K] and [batch..., M] shapes.
  SmallVector<OpFoldResult> rowSizes =
      tensor::getMixedSizes(b, loc, op.getMax());
  SmallVector<OpFoldResult> scoreSizes(rowSizes);
  scoreSizes.push_back(tensor::getMixedSize(b, loc, op.getK(), nb));

  SmallVector<utils::IteratorType> scoreIters(nb + 2, par);
  scoreIters.push_back(red);
  SmallVector<utils::IteratorType> rowIters(nb + 1, par);
  SmallVector<utils::IteratorType> rowReduce(nb + 1, par);
  rowReduce.push_back(red);
  SmallVector<utils::IteratorType> tileIters(nb + 2, par);

  AffineMap rowOf2 = dims(ctx, nb + 2, cat(batch, {m}));
  AffineMap tileOf2 = dims(ctx, nb + 2, cat(batch, {m, c}));
  AffineMap rowOf1 = dims(ctx, nb + 1, cat(batch, {m}));

  // S = scale * q . k^T
  Value scale = arith::ConstantOp::create(b, loc, op.getScaleAttr());
  Value scores = generic(
      b, loc, ValueRange{op.getQ(), op.getK()}, filled(b, loc, scoreSizes, 0),
      {dims(ctx, nb + 3, cat(batch, {m, x})),
       dims(ctx, nb + 3, cat(batch, {c, x})),
       dims(ctx, nb + 3, cat(batch, {m, c}))},
      scoreIters, [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        Value qk = arith::MulFOp::create(
            nb_, l, arith::MulFOp::create(nb_, l, a[0], scale), a[1]);
        return arith::AddFOp::create(nb_, l, a[2], qk);
      });

  // Keys a row does not see score -inf.
  if (VisibilityAttr visibility = op.getVisibilityAttr()) {
    Value negInf = f32Const(b, loc, kNegInf);
    Value rowBase = op.getQueryOffset(), keyBase = op.getKeyOffset();
    scores = generic(
        b, loc, ValueRange{}, scores, {tileOf2}, tileIters,
        [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
          Value row = arith::AddIOp::create(
              nb_, l, rowBase, linalg::IndexOp::create(nb_, l, m));
          Value key = arith::AddIOp::create(
              nb_, l, keyBase, linalg::IndexOp::create(nb_, l, c));
          Value sees = visibility.emitIsVisible(nb_, l, row, key);
          return arith::SelectOp::create(nb_, l, sees, a[0], negInf);
        });
  }

  // Every state update below writes into its own init (acc, max, sum) after
  // the last read of the old value, so bufferization keeps the state in
  // place across the key-block loop. The old max is kept (a row-sized copy)
  // for the rescale factor (a linalg.copy: canonicalization keeps it, where
  // it would fold an identity linalg.generic away).
  Value oldMax =
      linalg::CopyOp::create(
          b, loc, ValueRange{op.getMax()},
          ValueRange{tensor::EmptyOp::create(b, loc, rowSizes, b.getF32Type())})
          .getResult(0);

  // max' = max(max, max_c S)
  Value newMax = generic(
      b, loc, ValueRange{scores}, op.getMax(), {tileOf2, rowOf2}, rowReduce,
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        return arith::MaximumFOp::create(nb_, l, a[1], a[0]);
      });

  // alpha = max == max' ? 1 : exp(max - max') (no NaN from -inf - -inf).
  Value alpha = generic(
      b, loc, ValueRange{oldMax, newMax},
      tensor::EmptyOp::create(b, loc, rowSizes, b.getF32Type()),
      {rowOf1, rowOf1, rowOf1}, rowIters,
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        Value same =
            arith::CmpFOp::create(nb_, l, arith::CmpFPredicate::OEQ, a[0], a[1]);
        Value e = math::ExpOp::create(nb_, l,
                                      arith::SubFOp::create(nb_, l, a[0], a[1]));
        return arith::SelectOp::create(nb_, l, same, f32Const(nb_, l, 1.0f), e);
      });

  // P = exp(S - max'), 0 for unseen keys (and for rows that saw none yet).
  Value probs = generic(
      b, loc, ValueRange{newMax}, scores, {rowOf2, tileOf2}, tileIters,
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        Value none = arith::CmpFOp::create(nb_, l, arith::CmpFPredicate::OEQ,
                                           a[0], f32Const(nb_, l, kNegInf));
        Value max = arith::SelectOp::create(nb_, l, none,
                                            f32Const(nb_, l, 0.0f), a[0]);
        return math::ExpOp::create(nb_, l,
                                   arith::SubFOp::create(nb_, l, a[1], max));
      });

  // sum' = alpha * sum + sum_c P
  Value scaledSum = generic(
      b, loc, ValueRange{alpha}, op.getSum(), {rowOf1, rowOf1}, rowIters,
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        return arith::MulFOp::create(nb_, l, a[0], a[1]);
      });
  Value newSum = generic(
      b, loc, ValueRange{probs}, scaledSum, {tileOf2, rowOf2}, rowReduce,
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        return arith::AddFOp::create(nb_, l, a[1], a[0]);
      });

  // acc' = alpha * acc + P . V
  AffineMap accOf2 = dims(ctx, nb + 2, cat(batch, {m, c}));
  Value scaledAcc = generic(
      b, loc, ValueRange{alpha}, op.getAcc(), {rowOf2, accOf2}, tileIters,
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        return arith::MulFOp::create(nb_, l, a[0], a[1]);
      });
  // dims: batch..., m, e (= c position), key (x position)
  Value newAcc = generic(
      b, loc, ValueRange{probs, op.getV()}, scaledAcc,
      {dims(ctx, nb + 3, cat(batch, {m, x})),
       dims(ctx, nb + 3, cat(batch, {x, c})),
       dims(ctx, nb + 3, cat(batch, {m, c}))},
      scoreIters, [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        return arith::AddFOp::create(nb_, l, a[2],
                                     arith::MulFOp::create(nb_, l, a[0], a[1]));
      });
  return SmallVector<Value>{newAcc, newMax, newSum};
}

//===----------------------------------------------------------------------===//
// attention_tile -> attention_step loops
//===----------------------------------------------------------------------===//

/// The running state of a tile: (acc, max, sum).
using State = SmallVector<Value, 3>;

OpFoldResult clamp(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult lo,
                   OpFoldResult hi) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  AffineMap two = AffineMap::get(2, 0, {d0, d1}, ctx);
  OpFoldResult low = affine::makeComposedFoldedAffineMax(b, loc, two, {x, lo});
  return affine::makeComposedFoldedAffineMin(b, loc, two, {low, hi});
}

/// Steps over the keys [lo, hi) (absolute rows) of `keys`/`values`, whose
/// first row is absolute row `base`, in blocks of `block`; masked by
/// `visibility` when it is given.
State walkKeys(OpBuilder &b, Location loc, AttentionTileOp op, Value keys,
               Value values, OpFoldResult base, OpFoldResult lo,
               OpFoldResult hi, int64_t block, VisibilityAttr visibility,
               State state) {
  int64_t nb = op.getBatchRank();
  Value loV = getValueOrCreateConstantIndexOp(b, loc, lo);
  Value hiV = getValueOrCreateConstantIndexOp(b, loc, hi);
  Value step = arith::ConstantIndexOp::create(b, loc, block);
  auto loop = scf::ForOp::create(
      b, loc, loV, hiV, step, state,
      [&](OpBuilder &nb_, Location l, Value j, ValueRange args) {
        MLIRContext *ctx = nb_.getContext();
        AffineExpr d0, d1, d2;
        bindDims(ctx, d0, d1, d2);
        // count = min(block, hi - j); row = j - base
        OpFoldResult count = affine::makeComposedFoldedAffineMin(
            nb_, l, AffineMap::get(2, 0, {d1 - d0, getAffineConstantExpr(block, ctx)}, ctx),
            {j, hiV});
        OpFoldResult row = affine::makeComposedFoldedAffineApply(
            nb_, l, d0 - d1, {j, base});
        auto slice = [&](Value source) -> Value {
          auto type = cast<RankedTensorType>(source.getType());
          SmallVector<OpFoldResult> offsets(nb, nb_.getIndexAttr(0));
          SmallVector<OpFoldResult> sizes =
              tensor::getMixedSizes(nb_, l, source);
          offsets.append({row, nb_.getIndexAttr(0)});
          sizes[nb] = count;
          SmallVector<int64_t> shape(type.getShape());
          shape[nb] = getConstantIntValue(count).value_or(ShapedType::kDynamic);
          SmallVector<OpFoldResult> strides(nb + 2, nb_.getIndexAttr(1));
          return tensor::ExtractSliceOp::create(
              nb_, l, RankedTensorType::get(shape, type.getElementType()),
              source, offsets, sizes, strides);
        };
        auto stepOp = AttentionStepOp::create(
            nb_, l, args.getTypes(), op.getQ(), slice(keys), slice(values),
            args[0], args[1], args[2], op.getQueryOffset(), j, visibility,
            op.getScaleAttr());
        scf::YieldOp::create(nb_, l, stepOp.getResults());
      });
  return State(loop.getResults());
}

/// Walks one key source of the tile: its window split into masked head,
/// unmasked middle and masked tail.
State walkSource(OpBuilder &b, Location loc, AttentionTileOp op, Value keys,
                 Value values, Value baseV, VisibilityAttr visibility,
                 State state) {
  int64_t nb = op.getBatchRank();
  OpFoldResult rows = tensor::getMixedSize(b, loc, op.getQ(), nb);
  KeyWindowValues w =
      visibility.getWindow(b, loc, op.getQueryOffset(), rows);
  // Only the keys the operands hold belong to the tile.
  OpFoldResult base = baseV;
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  OpFoldResult limit = affine::makeComposedFoldedAffineApply(
      b, loc, d0 + d1, {base, tensor::getMixedSize(b, loc, keys, nb)});
  OpFoldResult begin = clamp(b, loc, w.begin, base, limit);
  OpFoldResult fullBegin = clamp(b, loc, w.fullBegin, base, limit);
  OpFoldResult fullEnd = clamp(b, loc, w.fullEnd, base, limit);
  OpFoldResult end = clamp(b, loc, w.end, base, limit);
  int64_t block = op.getKeyBlockOrDefault();
  state = walkKeys(b, loc, op, keys, values, base, begin, fullBegin, block,
                   visibility, state);
  state = walkKeys(b, loc, op, keys, values, base, fullBegin, fullEnd, block,
                   VisibilityAttr(), state);
  return walkKeys(b, loc, op, keys, values, base, fullEnd, end, block,
                  visibility, state);
}

FailureOr<SmallVector<Value>> decomposeTile(AttentionTileOp op, OpBuilder &b) {
  if (!isa<RankedTensorType>(op.getQ().getType()))
    return op.emitOpError() << "decomposes only on tensors";
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  int64_t nb = op.getBatchRank();
  SmallVector<OpFoldResult> outSizes = tensor::getMixedSizes(b, loc, op.getOut());
  SmallVector<OpFoldResult> rowSizes(ArrayRef(outSizes).drop_back());
  State state{filled(b, loc, outSizes, 0.0f), filled(b, loc, rowSizes, kNegInf),
              filled(b, loc, rowSizes, 0.0f)};
  if (!op.getMemory().empty())
    state = walkSource(b, loc, op, op.getMemory()[0], op.getMemory()[1],
                       op.getMemoryOffset(), op.getMemoryVisibilityAttr(),
                       state);
  state = walkSource(b, loc, op, op.getK(), op.getV(), op.getKeyOffset(),
                     op.getVisibility(), state);

  // out = sum > 0 ? acc / sum : 0
  SmallVector<int64_t> all = range(nb + 2);
  AffineMap id = dims(ctx, nb + 2, all);
  AffineMap row = dims(ctx, nb + 2, ArrayRef(all).drop_back());
  Value out = generic(
      b, loc, ValueRange{state[0], state[2]}, op.getOut(), {id, row, id},
      SmallVector<utils::IteratorType>(nb + 2, utils::IteratorType::parallel),
      [&](OpBuilder &nb_, Location l, ValueRange a) -> Value {
        Value zero = f32Const(nb_, l, 0.0f);
        Value seen =
            arith::CmpFOp::create(nb_, l, arith::CmpFPredicate::OGT, a[1], zero);
        Value safe =
            arith::SelectOp::create(nb_, l, seen, a[1], f32Const(nb_, l, 1.0f));
        return arith::SelectOp::create(nb_, l, seen,
                                       arith::DivFOp::create(nb_, l, a[0], safe),
                                       zero);
      });
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// grouped_attention / latent_route -> attention_tile loops
//===----------------------------------------------------------------------===//

/// One attention_tile per query group (all batch rows and heads), through
/// the op's TilingInterface.
FailureOr<SmallVector<Value>> decomposeByGroups(Operation *op,
                                                int64_t queriesPerGroup,
                                                OpBuilder &b) {
  Location loc = op->getLoc();
  auto tiling = cast<TilingInterface>(op);
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                       type.getElementType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value length = arith::ConstantIndexOp::create(b, loc, type.getDimSize(2));
  Value step = arith::ConstantIndexOp::create(b, loc, queriesPerGroup);
  LogicalResult status = success();
  auto loop = scf::ForOp::create(
      b, loc, zero, length, step, ValueRange{init},
      [&](OpBuilder &nb, Location l, Value row, ValueRange args) {
        SmallVector<OpFoldResult> offsets{nb.getIndexAttr(0),
                                          nb.getIndexAttr(0), row};
        SmallVector<OpFoldResult> sizes{nb.getIndexAttr(type.getDimSize(0)),
                                        nb.getIndexAttr(type.getDimSize(1)),
                                        nb.getIndexAttr(queriesPerGroup)};
        FailureOr<TilingResult> tile =
            tiling.getTiledImplementation(nb, offsets, sizes);
        Value result = args[0];
        if (failed(tile)) {
          status = failure();
        } else {
          SmallVector<OpFoldResult> resultOffsets, resultSizes;
          (void)tiling.getResultTilePosition(nb, 0, offsets, sizes,
                                             resultOffsets, resultSizes);
          SmallVector<OpFoldResult> strides(4, nb.getIndexAttr(1));
          result = tensor::InsertSliceOp::create(nb, l, tile->tiledValues[0],
                                                 args[0], resultOffsets,
                                                 resultSizes, strides);
        }
        scf::YieldOp::create(nb, l, result);
      });
  if (failed(status))
    return failure();
  return SmallVector<Value>{loop.getResult(0)};
}

struct GroupedAttentionDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          GroupedAttentionDecomposition, GroupedAttentionOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    return decomposeByGroups(
        op, cast<GroupedAttentionOp>(op).getGroupSizeAttr().getInt(), b);
  }
};

struct LatentRouteDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          LatentRouteDecomposition, LatentRouteOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    auto route = cast<LatentRouteOp>(op);
    return decomposeByGroups(
        op, route.getKeyVisibility().getQueriesPerGroup(), b);
  }
};

struct AttentionTileDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          AttentionTileDecomposition, AttentionTileOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    return decomposeTile(cast<AttentionTileOp>(op), b);
  }
};

struct AttentionStepDecomposition
    : public linalg::AggregatedOpInterface::ExternalModel<
          AttentionStepDecomposition, AttentionStepOp> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    return decomposeStep(cast<AttentionStepOp>(op), b);
  }
};

} // namespace

void mlir::loom::registerAttentionDecompositionExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    GroupedAttentionOp::attachInterface<GroupedAttentionDecomposition>(*ctx);
    LatentRouteOp::attachInterface<LatentRouteDecomposition>(*ctx);
    AttentionTileOp::attachInterface<AttentionTileDecomposition>(*ctx);
    AttentionStepOp::attachInterface<AttentionStepDecomposition>(*ctx);
  });
}
