//===- AttentionToGpu.cpp - grouped_attention and latent_route on a GPU ---===//
//
// One flash-attention kernel serves both ops:
//
//   grid   one block per tile of the ops' TilingInterface iteration domain
//          (B, H, query rows) with tile sizes (1, 1, rows), innermost first:
//          (query tiles, H, B); block = rows x lanes threads (128 or fewer).
//   row    `lanes` consecutive threads hold one query row: lane l keeps the
//          chunks d = w*(l + lanes*c) .. +w of q (pre-scaled by
//          scale*log2(e)) and of the output accumulator in registers, so
//          each thread holds (D + E) / lanes floats; a score is the lanes'
//          partial dot products summed by butterfly shuffles.
//   keys   which keys a row sees is the op's #loom.visibility rule
//          (getKeyVisibility / getMemoryVisibility), never spelled here:
//          the block walks only the key tiles of its rows' window
//          [begin, end) (VisibilityAttr::getWindow of the query tile) and
//          then, for grouped_attention with memory, the memory rows of its
//          groups (the memory rule's window). Each tile of `keyTile` keys
//          is staged in shared memory (K and V, zero-filled past the
//          source) and read by every row: all rows of a warp read the same
//          key at once (a broadcast). Each key is masked with the row's
//          own [keyBegin(i), keyEnd(i)) from the same rule.
//   softmax online, in registers, `chunk` keys at a time: running max m,
//          running sum s and the accumulator are rescaled by
//          exp2(m_old - m_new) once per chunk; scores outside a row's own
//          window are -inf, a chunk that is all -inf changes nothing, and a
//          row that saw no key writes zeros (SPEC: never NaN).
//
// Query tiles whose rows see no key (latent_route's first `shift` groups)
// never load a key tile; no block ever loads a key tile none of its rows
// can see.
//
//===----------------------------------------------------------------------===//

#include "Kernels/GpuKernelBuilders.h"
#include "Kernels/Kernels.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Interfaces/TilingInterface.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::cuda;

namespace {

/// The attention problem both ops reduce to: shapes, and which keys (and,
/// for grouped_attention, which memory rows) a query row sees, as the ops'
/// own #loom.visibility rules.
struct AttentionProblem {
  int64_t batch, heads, queries, keys, width, valueWidth;
  float scale;
  VisibilityAttr keyVisibility;
  VisibilityAttr memoryVisibility; // null without memory rows
  int64_t memoryRows = 0;
};

Value indexValue(ImplicitLocOpBuilder &b, OpFoldResult v) {
  return getValueOrCreateConstantIndexOp(b, b.getLoc(), v);
}

/// The keys [begin, end) that some row of [firstRow, firstRow + rowCount)
/// sees under `rule` (its fullBegin/fullEnd are not used: see walkSource).
std::pair<Value, Value> blockWindow(ImplicitLocOpBuilder &b,
                                    VisibilityAttr rule, Value firstRow,
                                    Value rowCount) {
  KeyWindowValues w = rule.getWindow(b, b.getLoc(), firstRow, rowCount);
  return {indexValue(b, w.begin), indexValue(b, w.end)};
}

/// The keys [begin, end) query row `row` sees under `rule`.
std::pair<Value, Value> rowWindow(ImplicitLocOpBuilder &b, VisibilityAttr rule,
                                  Value row) {
  return {indexValue(b, rule.getKeyBegin(b, b.getLoc(), row)),
          indexValue(b, rule.getKeyEnd(b, b.getLoc(), row))};
}

/// How the kernel is cut: vector width w of a chunk, lanes per row, rows
/// per block, keys per staged tile, keys per softmax update.
struct AttentionTile {
  int64_t width, lanes, rows, keyTile, chunk;
  int64_t threads() const { return rows * lanes; }
};

int64_t nextPowerOfTwo(int64_t v) {
  int64_t p = 1;
  while (p < v)
    p *= 2;
  return p;
}

AttentionTile chooseTile(const AttentionProblem &p,
                         const CudaTargetDescription &target) {
  AttentionTile t;
  int64_t d = p.width, e = p.valueWidth;
  t.width = (d % 4 == 0 && e % 4 == 0) ? 4 : (d % 2 == 0 && e % 2 == 0) ? 2 : 1;
  // A quarter of a thread's registers for q and the accumulator leaves
  // room for the chunk's scores, addresses and the loop state.
  int64_t budget = (target.registersPerThread + 1) / 4;
  t.lanes = 1;
  for (int64_t lanes : {1, 2, 4, 8}) {
    if ((d / t.width) % lanes != 0 || (e / t.width) % lanes != 0)
      break;
    t.lanes = lanes;
    if ((d + e) / lanes <= budget)
      break;
  }
  t.rows = 128 / t.lanes;
  // Groups shorter than the tile: a block of whole groups wastes less of
  // its key window on rows that cannot see it (at least one warp).
  bool local = !p.keyVisibility || p.keyVisibility.getLookback() == 0;
  int64_t perGroup =
      p.keyVisibility ? p.keyVisibility.getQueriesPerGroup() : p.queries;
  if (local && perGroup < t.rows)
    t.rows = std::max(nextPowerOfTwo(perGroup), target.warpSize / t.lanes);
  t.keyTile = 16;
  for (int64_t tile : {64, 32})
    if (tile * (d + e) * 4 <= target.sharedMemoryPerBlock) {
      t.keyTile = tile;
      break;
    }
  t.chunk = std::min<int64_t>(16, t.keyTile);
  return t;
}

/// The running softmax state of one row (identical in its lanes).
struct RowState {
  Value max, sum;
  SmallVector<Value> acc; // E / (w * lanes) vectors of w
  SmallVector<Value> flatten() const {
    SmallVector<Value> v{max, sum};
    v.append(acc.begin(), acc.end());
    return v;
  }
  static RowState unflatten(ValueRange v) {
    RowState s{v[0], v[1], SmallVector<Value>(v.drop_front(2))};
    return s;
  }
};

/// One key source: K [.., rows, D] and V [.., rows, E] as flat buffers.
struct KeySource {
  Value keys, values;
  int64_t rows;
};

class AttentionKernel {
public:
  AttentionKernel(const AttentionProblem &p, const AttentionTile &t)
      : p(p), t(t) {}

  void build(ImplicitLocOpBuilder &b, std::array<int64_t, 3> grid, Value q,
             KeySource main, std::optional<KeySource> memory, Value out,
             StringRef name) {
    KernelShape shape;
    shape.name = name.str();
    shape.grid = grid;
    shape.threads = t.threads();
    shape.sharedRegions = {t.keyTile * p.width, t.keyTile * p.valueWidth};
    buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
      body(kb, ids, q, main, memory, out);
    });
  }

private:
  const AttentionProblem &p;
  const AttentionTile &t;

  int64_t qChunks() const { return p.width / (t.width * t.lanes); }
  int64_t vChunks() const { return p.valueWidth / (t.width * t.lanes); }
  int64_t align() const { return 4 * t.width; }

  /// Column of chunk c of lane `lane`.
  Value column(ImplicitLocOpBuilder &b, Value lane, int64_t c) const {
    return mul(b, add(b, lane, t.lanes * c), t.width);
  }

  void body(ImplicitLocOpBuilder &b, const KernelIds &ids, Value q,
            KeySource main, std::optional<KeySource> memory, Value out) {
    Value head = add(b, mul(b, ids.block[2], p.heads), ids.block[1]);
    Value row = divu(b, ids.thread, t.lanes);
    Value lane = remu(b, ids.thread, t.lanes);
    Value first = mul(b, ids.block[0], t.rows);
    Value i = add(b, first, row);
    Value rowValid = lt(b, i, idx(b, p.queries));
    Value iSafe = minIdx(b, i, idx(b, p.queries - 1));
    Value last = minIdx(b, add(b, first, t.rows - 1), idx(b, p.queries - 1));

    // q, pre-scaled so that scores are in log2 units.
    float qScale = p.scale * static_cast<float>(M_LOG2E);
    Value qRow = mul(b, add(b, mul(b, head, p.queries), iSafe), p.width);
    SmallVector<Value> qv;
    for (int64_t c = 0; c < qChunks(); ++c) {
      Value v = loadVector(b, q, add(b, qRow, column(b, lane, c)), t.width,
                           align());
      qv.push_back(arith::MulFOp::create(b, v, splat(b, f32(b, qScale), t.width)));
    }

    RowState state;
    state.max = f32(b, -std::numeric_limits<float>::infinity());
    state.sum = f32(b, 0.0f);
    state.acc.assign(vChunks(), zeros(b, t.width));

    // The block's rows [first, first + rowCount) and each row's own window
    // come from the op's visibility rule. An invalid row (past the end)
    // gets an empty window; it still takes part in staging and barriers.
    Value rowCount = add(b, sub(b, last, first), 1);
    auto ownWindow = [&](VisibilityAttr rule) {
      auto [begin, end] = rowWindow(b, rule, iSafe);
      Value zero = idx(b, 0);
      return std::make_pair(select(b, rowValid, begin, zero),
                            select(b, rowValid, end, zero));
    };
    if (p.keyVisibility)
      state = walkSource(b, ids, head, main, ownWindow(p.keyVisibility),
                         blockWindow(b, p.keyVisibility, first, rowCount),
                         qv, lane, state);
    if (memory && p.memoryVisibility)
      state = walkSource(b, ids, head, *memory,
                         ownWindow(p.memoryVisibility),
                         blockWindow(b, p.memoryVisibility, first, rowCount),
                         qv, lane, state);

    // out = acc / sum, or zeros for a row that saw nothing.
    Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                           state.sum, f32(b, 0.0f));
    Value inv = select(b, positive,
                       arith::DivFOp::create(b, f32(b, 1.0f), state.sum),
                       f32(b, 0.0f));
    Value outRow = mul(b, add(b, mul(b, head, p.queries), iSafe), p.valueWidth);
    ifThen(b, rowValid, [&](ImplicitLocOpBuilder &ib) {
      for (int64_t c = 0; c < vChunks(); ++c)
        storeVector(ib,
                    arith::MulFOp::create(ib, state.acc[c],
                                          splat(ib, inv, t.width)),
                    out, add(ib, outRow, column(ib, lane, c)), align());
    });
  }

  /// Stages rows [k0, k0 + keyTile) of `src` (zeros from `limit` on) into
  /// the shared K and V tiles.
  void stage(ImplicitLocOpBuilder &b, const KernelIds &ids, Value head,
             KeySource src, Value k0, Value limit) {
    auto copy = [&](Value from, Value to, int64_t width) {
      int64_t perRow = width / t.width;
      int64_t chunks = t.keyTile * perRow;
      int64_t threads = t.threads();
      for (int64_t r = 0; r * threads < chunks; ++r) {
        Value e = add(b, ids.thread, r * threads);
        auto one = [&](ImplicitLocOpBuilder &ib) {
          Value tileRow = divu(ib, e, perRow);
          Value col = mul(ib, remu(ib, e, perRow), t.width);
          Value key = add(ib, k0, tileRow);
          Value valid = lt(ib, key, limit);
          Value safeKey = minIdx(ib, key, idx(ib, src.rows - 1));
          Value at = add(ib,
                         mul(ib, add(ib, mul(ib, head, src.rows), safeKey),
                             width),
                         col);
          Value v = loadVector(ib, from, at, t.width, align());
          v = select(ib, valid, v, zeros(ib, t.width));
          storeVector(ib, v, to, add(ib, mul(ib, tileRow, width), col),
                      align());
        };
        if ((r + 1) * threads <= chunks)
          one(b);
        else
          ifThen(b, lt(b, e, idx(b, chunks)), one);
      }
    };
    copy(src.keys, ids.shared[0], p.width);
    copy(src.values, ids.shared[1], p.valueWidth);
  }

  /// Runs the online softmax of every row over the key tiles of the
  /// block's window [begin, end) from `src`; each key is masked with the row's
  /// own [begin, end) `own`. (Skipping the mask on the tiles inside
  /// [fullBegin, fullEnd), by a branch or a loop of its own, costs 7 to 27
  /// registers with ptxas 13.0 for ~5% fewer instructions: not taken until
  /// a GPU shows that it pays; see docs/cuda.md.)
  RowState walkSource(ImplicitLocOpBuilder &b, const KernelIds &ids,
                      Value head, KeySource src, std::pair<Value, Value> own,
                      std::pair<Value, Value> block, ArrayRef<Value> qv, Value lane,
                      RowState state) {
    if (src.rows == 0)
      return state;
    SmallVector<Value> carried = forLoop(
        b, block.first, block.second, idx(b, t.keyTile), state.flatten(),
        [&](ImplicitLocOpBuilder &lb, Value k0, ValueRange values) {
          stage(lb, ids, head, src, k0, block.second);
          barrier(lb);
          SmallVector<Value> next = forLoop(
              lb, idx(lb, 0), idx(lb, t.keyTile), idx(lb, t.chunk), values,
              [&](ImplicitLocOpBuilder &cb, Value j0, ValueRange inner) {
                return update(cb, ids, RowState::unflatten(inner), own,
                              add(cb, k0, j0), j0, qv, lane)
                    .flatten();
              });
          barrier(lb);
          return next;
        });
    return RowState::unflatten(carried);
  }

  /// One online-softmax step over keys key0 .. key0 + chunk (tile rows
  /// j0 ..), masked to the row's [begin, end) `own`.
  RowState update(ImplicitLocOpBuilder &b, const KernelIds &ids,
                  RowState s, std::pair<Value, Value> own, Value key0,
                  Value j0,
                  ArrayRef<Value> qv, Value lane) {
    Value kTile = ids.shared[0], vTile = ids.shared[1];
    Value negInf = f32(b, -std::numeric_limits<float>::infinity());
    SmallVector<Value> scores;
    Value chunkMax = negInf;
    for (int64_t j = 0; j < t.chunk; ++j) {
      Value tileRow = add(b, j0, j);
      Value kRow = mul(b, tileRow, p.width);
      Value partial = zeros(b, t.width);
      for (int64_t c = 0; c < qChunks(); ++c) {
        Value kv = loadVector(b, kTile, add(b, kRow, column(b, lane, c)),
                              t.width, align());
        partial = vector::FMAOp::create(b, qv[c].getType(), qv[c], kv, partial);
      }
      Value dot = t.width == 1
                      ? vector::ExtractOp::create(b, partial, ArrayRef<int64_t>{0})
                            .getResult()
                      : vector::ReductionOp::create(
                            b, vector::CombiningKind::ADD, partial)
                            .getResult();
      dot = laneSum(b, dot, t.lanes);
      Value key = add(b, key0, j);
      Value visible = andI(b, ge(b, key, own.first), lt(b, key, own.second));
      Value score = select(b, visible, dot, negInf);
      scores.push_back(score);
      chunkMax = arith::MaximumFOp::create(b, chunkMax, score);
    }
    Value newMax = arith::MaximumFOp::create(b, s.max, chunkMax);
    Value isInf = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax,
                                        negInf);
    Value base = select(b, isInf, f32(b, 0.0f), newMax);
    Value correction =
        math::Exp2Op::create(b, arith::SubFOp::create(b, s.max, base));
    RowState n;
    n.max = newMax;
    n.sum = arith::MulFOp::create(b, s.sum, correction);
    Value corrV = splat(b, correction, t.width);
    for (Value a : s.acc)
      n.acc.push_back(arith::MulFOp::create(b, a, corrV));
    for (int64_t j = 0; j < t.chunk; ++j) {
      Value prob =
          math::Exp2Op::create(b, arith::SubFOp::create(b, scores[j], base));
      n.sum = arith::AddFOp::create(b, n.sum, prob);
      Value probV = splat(b, prob, t.width);
      Value vRow = mul(b, add(b, j0, j), p.valueWidth);
      for (int64_t c = 0; c < vChunks(); ++c) {
        Value vv = loadVector(b, vTile, add(b, vRow, column(b, lane, c)),
                              t.width, align());
        n.acc[c] = vector::FMAOp::create(b, vv.getType(), probV, vv, n.acc[c]);
      }
    }
    return n;
  }
};

/// One thread block per tile of the op's TilingInterface iteration domain
/// (B, H, query rows), all parallel, with tile sizes (1, 1, rows): the
/// tiles loom-tile-attention makes, in the grid innermost first (x = query
/// tile, y = head, z = batch row). The kernel's block (bz, by, bx) works on
/// the domain tile at offsets (bz, by, bx * rows).
FailureOr<std::array<int64_t, 3>> gridOfTiles(PatternRewriter &rewriter,
                                              Operation *op, int64_t rows) {
  auto tiling = dyn_cast<TilingInterface>(op);
  if (!tiling)
    return rewriter.notifyMatchFailure(
        op, "no TilingInterface (the loom external models are not registered)");
  SmallVector<Range> domain = tiling.getIterationDomain(rewriter);
  SmallVector<int64_t> tileSizes{1, 1, rows};
  if (domain.size() != tileSizes.size())
    return rewriter.notifyMatchFailure(op, "expects a (B, H, rows) domain");
  std::array<int64_t, 3> grid;
  for (auto [d, range] : llvm::enumerate(domain)) {
    std::optional<int64_t> size = getConstantIntValue(range.size);
    if (!size)
      return rewriter.notifyMatchFailure(op, "expects a static domain");
    int64_t tile = tileSizes[d];
    grid[domain.size() - 1 - d] = (*size + tile - 1) / tile;
  }
  return grid;
}

/// Allocates the result, runs the kernel, replaces `op`.
LogicalResult lower(PatternRewriter &rewriter, Operation *op,
                    const AttentionProblem &p,
                    const CudaTargetDescription &target, Value qT, Value kT,
                    Value vT, Value mkT, Value mvT, StringRef name) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  bool launch = resultType.getNumElements() > 0;
  AttentionTile tile = chooseTile(p, target);
  FailureOr<std::array<int64_t, 3>> grid = std::array<int64_t, 3>{};
  if (launch)
    grid = gridOfTiles(rewriter, op, tile.rows);
  if (failed(grid))
    return failure();
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  Value out = allocBuffer(b, resultType.getShape());
  if (launch) {
    AttentionKernel kernel(p, tile);
    Value q = flatView(b, tensorAsBuffer(b, qT));
    KeySource main{flatView(b, tensorAsBuffer(b, kT)),
                   flatView(b, tensorAsBuffer(b, vT)), p.keys};
    std::optional<KeySource> memory;
    if (mkT)
      memory = KeySource{flatView(b, tensorAsBuffer(b, mkT)),
                         flatView(b, tensorAsBuffer(b, mvT)), p.memoryRows};
    kernel.build(b, *grid, q, main, memory, flatView(b, out), name);
  }
  rewriter.replaceOp(op, bufferAsTensor(b, out));
  return success();
}

struct GroupedAttentionToGpu : OpRewritePattern<GroupedAttentionOp> {
  GroupedAttentionToGpu(MLIRContext *ctx, const CudaTargetDescription &target)
      : OpRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(GroupedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = op.getQ().getType();
    auto vType = op.getV().getType();
    AttentionProblem p;
    p.batch = qType.getDimSize(0);
    p.heads = qType.getDimSize(1);
    p.queries = p.keys = qType.getDimSize(2);
    p.width = qType.getDimSize(3);
    p.valueWidth = vType.getDimSize(3);
    p.scale = op.getEffectiveScale();
    p.keyVisibility = op.getKeyVisibility();
    p.memoryVisibility = op.getMemoryVisibility();
    Value mk, mv;
    if (!op.getMemory().empty()) {
      mk = op.getMemory()[0];
      mv = op.getMemory()[1];
      p.memoryRows =
          cast<RankedTensorType>(mk.getType()).getDimSize(2);
    }
    return lower(rewriter, op, p, target, op.getQ(), op.getK(), op.getV(), mk,
                 mv, "grouped_attention");
  }

  CudaTargetDescription target;
};

struct LatentRouteToGpu : OpRewritePattern<LatentRouteOp> {
  LatentRouteToGpu(MLIRContext *ctx, const CudaTargetDescription &target)
      : OpRewritePattern(ctx), target(target) {}

  LogicalResult matchAndRewrite(LatentRouteOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = op.getQ().getType();
    auto kType = op.getK().getType();
    auto vType = op.getV().getType();
    AttentionProblem p;
    p.batch = qType.getDimSize(0);
    p.heads = qType.getDimSize(1);
    p.queries = qType.getDimSize(2);
    p.keys = kType.getDimSize(2);
    p.width = qType.getDimSize(3);
    p.valueWidth = vType.getDimSize(3);
    p.scale = op.getEffectiveScale();
    // Without queries nothing is launched; without keys every row sees
    // nothing (and the rule, with no keys per group, does not exist).
    if (p.queries > 0 && p.keys > 0)
      p.keyVisibility = op.getKeyVisibility();
    return lower(rewriter, op, p, target, op.getQ(), op.getK(), op.getV(),
                 Value(), Value(), "latent_route");
  }

  CudaTargetDescription target;
};

} // namespace

void cuda::populateAttentionToGpuPatterns(RewritePatternSet &patterns,
                                          const CudaTargetDescription &target) {
  patterns.add<GroupedAttentionToGpu, LatentRouteToGpu>(patterns.getContext(),
                                                        target);
}
