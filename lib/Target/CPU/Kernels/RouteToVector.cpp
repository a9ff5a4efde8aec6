//===- RouteToVector.cpp - latent_route over a few keys per group ---------===//
//
// FIT's pull (n data queries per group over m latents) has many queries and
// few keys. The flash kernel of AttentionTileToVector.cpp puts queries along the
// vector lanes, which costs two register transposes per query tile, more
// than the tile's work when a group has only 32 keys. Here the lanes run
// over keys and over value columns instead, in row-major order throughout:
//   1. per work item (a group's queries, up to 256 rows) the group's keys
//      are packed once, transposed and pre-scaled: KT[d][j];
//   2. scores of RR query rows x all keys in registers (a broadcast q
//      element times key vectors), a row max and sum by horizontal
//      reductions, P = exp(S - max) stored row-major with 1/sum;
//   3. out rows = (P . v) / sum by a register tile of RR rows x E columns
//      (a broadcast probability times rows of v), stored straight into the
//      output.
// The whole key set of a group is one softmax block, so there is no online
// rescaling. Used when a group has at most 4 key vectors (64 keys on
// AVX-512, 32 on AVX2) and E is a multiple of the lanes; other
// latent_routes take the flash kernel. Operands that are head splits
// (linalg.transpose [0, 2, 1, 3]) of [B, L, H, D] projections are read
// from those buffers with the head and row indices swapped, and a result
// whose only use is the head merge is written in the merged [B, L, H, E]
// layout the same way: the frontend's pull materializes no transpose, and
// since no memref.transpose (not a view-like op) touches the buffers, the
// projection and the result stay temporaries that convert-linalg-to-vector
// places in the function's cached arena (no page faults per call).
//
//===----------------------------------------------------------------------===//

#include "VectorMath.h"
#include "loom/Target/CPU/Kernels.h"
#include "CpuKernelBuilders.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;
using kernel::idx;

namespace {

/// Most key vectors per group this kernel takes (64 keys on AVX-512, 32 on
/// AVX2): a row's scores stay in registers for its max and sum.
constexpr int64_t kMaxKeyVectors = 4;
/// No bound on a register tile's rows (forRowTiles cuts the last tile).
constexpr int64_t kAnyRows = std::numeric_limits<int64_t>::max();
/// Most query rows per work item.
constexpr int64_t kMaxRows = 256;

class FewKeysRouteKernel {
public:
  FewKeysRouteKernel(LatentRouteOp op, const CpuTargetDescription &target)
      : target(target), lanes(target.lanes()) {
    auto qType = op.getQ().getType();
    batch = qType.getDimSize(0);
    heads = qType.getDimSize(1);
    width = qType.getDimSize(3);
    valueWidth = op.getV().getType().getDimSize(3);
    groups = op.getGroupsAttr().getInt();
    shift = op.getShiftAttr().getInt();
    queries = qType.getDimSize(2) / groups;
    keys = op.getK().getType().getDimSize(2) / groups;
    scale = op.getEffectiveScale();
    keyVecs = llvm::divideCeil(keys, lanes);
    valueVecs = valueWidth / lanes;
    // Work items hold whole row blocks of a group: the largest divisor of
    // the group's query count up to kMaxRows.
    rowsPerItem = 1;
    for (int64_t r = std::min(queries, kMaxRows); r >= 1; --r)
      if (queries % r == 0) {
        rowsPerItem = r;
        break;
      }
    // A row's scores are reduced whole: the score tile spans every key
    // vector; the output tile takes the value vectors a chunk at a time.
    scoreRows =
        rowsForVectors(target, std::max<int64_t>(1, keyVecs), kAnyRows);
    valueTile =
        chooseRegisterTile(target, std::max<int64_t>(1, valueVecs), kAnyRows);
  }

  /// Whether the op is one this kernel is for (else: the flash kernel).
  bool applies() const {
    return keys >= 1 && keys <= kMaxKeyVectors * lanes &&
           valueWidth % lanes == 0 && valueWidth > 0 && rowsPerItem >= lanes;
  }

  /// A buffer of the kernel: [B, H, rows, D] or, `merged`, [B, rows, H, D]
  /// (a head split read in place, a result written in the merged layout).
  struct Operand {
    Value buf;
    bool merged = false;
  };

  /// Emits the kernel reading q, k, v (any strides with a unit innermost
  /// one) and writing `out`.
  void emit(ImplicitLocOpBuilder &b, Operand q, Operand k, Operand v,
            Operand out);

private:
  VectorType vecType(ImplicitLocOpBuilder &b) { return f32Vector(b, lanes); }
  Value splat(ImplicitLocOpBuilder &b, float v) {
    return splatF32(b, vecType(b), v);
  }
  /// The indices of element (batch, head, row, col) of `operand`.
  SmallVector<Value> at(const Operand &operand, Value row, Value col) const {
    if (operand.merged)
      return {batchIdx, row, headIdx, col};
    return {batchIdx, headIdx, row, col};
  }
  Value loadVec(ImplicitLocOpBuilder &b, const Operand &operand, Value row,
                Value col) {
    return vector::LoadOp::create(b, vecType(b), operand.buf,
                                  at(operand, row, col));
  }
  void storeVec(ImplicitLocOpBuilder &b, Value vec, const Operand &operand,
                Value row, Value col) {
    vector::StoreOp::create(b, vec, operand.buf, at(operand, row, col));
  }
  Value broadcast(ImplicitLocOpBuilder &b, Value scalar) {
    return vector::BroadcastOp::create(b, vecType(b), scalar);
  }
  template <typename Body>
  void forEach(ImplicitLocOpBuilder &b, Value lo, Value hi, int64_t step,
               Body body) {
    scf::ForOp::create(b, lo, hi, idx(b, step), ValueRange{},
                       [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                         ImplicitLocOpBuilder ib(loc, nb);
                         body(ib, iv);
                         scf::YieldOp::create(ib);
                       });
  }

  void emitWorkItem(ImplicitLocOpBuilder &b, Value item);
  void emitScores(ImplicitLocOpBuilder &b, Value r0, int64_t rows);
  void emitOutputs(ImplicitLocOpBuilder &b, Value r0, int64_t rows,
                   int64_t firstVec, int64_t numVecs);
  /// Calls `tile(r0, rows)` over [0, rowsPerItem) in steps of `step`, with
  /// one smaller tile for the remainder.
  template <typename Tile>
  void forRowTiles(ImplicitLocOpBuilder &b, int64_t step, Tile tile) {
    int64_t full = rowsPerItem - rowsPerItem % step;
    forEach(b, idx(b, 0), idx(b, full), step,
            [&](ImplicitLocOpBuilder &ib, Value r0) { tile(ib, r0, step); });
    if (full != rowsPerItem)
      tile(b, idx(b, full), rowsPerItem - full);
  }

  const CpuTargetDescription &target;
  int64_t lanes;
  int64_t batch, heads, width, valueWidth, groups, shift, queries, keys;
  float scale;
  int64_t keyVecs, valueVecs, rowsPerItem, scoreRows;
  RegisterTile valueTile;

  // Per work item.
  Operand qBuf, kBuf, vBuf, outBuf;
  Value batchIdx, headIdx, firstRow, firstKey;
  Value keysT, probs, invSums; // stack scratch
};

void FewKeysRouteKernel::emit(ImplicitLocOpBuilder &b, Operand q, Operand k,
                              Operand v, Operand out) {
  qBuf = q;
  kBuf = k;
  vBuf = v;
  outBuf = out;
  int64_t items = batch * heads * groups * (queries / rowsPerItem);
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0)}, ValueRange{idx(b, items)},
      ValueRange{idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        emitWorkItem(ib, ivs[0]);
      });
}

void FewKeysRouteKernel::emitWorkItem(ImplicitLocOpBuilder &b, Value item) {
  int64_t perGroup = queries / rowsPerItem;
  Value part = arith::RemUIOp::create(b, item, idx(b, perGroup));
  Value rest = arith::DivUIOp::create(b, item, idx(b, perGroup));
  Value group = arith::RemUIOp::create(b, rest, idx(b, groups));
  Value bh = arith::DivUIOp::create(b, rest, idx(b, groups));
  batchIdx = arith::DivUIOp::create(b, bh, idx(b, heads));
  headIdx = arith::RemUIOp::create(b, bh, idx(b, heads));
  firstRow = arith::AddIOp::create(
      b, arith::MulIOp::create(b, group, idx(b, queries)),
      arith::MulIOp::create(b, part, idx(b, rowsPerItem)));
  Value sees = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, group,
                                     idx(b, shift));
  scf::IfOp::create(
      b, sees,
      [&](OpBuilder &nb, Location loc) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value source = arith::SubIOp::create(ib, group, idx(ib, shift));
        firstKey = arith::MulIOp::create(ib, source, idx(ib, keys));
        auto scratch = [&](ArrayRef<int64_t> shape) {
          return memref::AllocaOp::create(
              ib, MemRefType::get(shape, ib.getF32Type()),
              ib.getI64IntegerAttr(64));
        };
        keysT = scratch({width, keyVecs * lanes});
        probs = scratch({rowsPerItem, keyVecs * lanes});
        invSums = scratch({rowsPerItem});
        // KT[d][j] = scale * k[key0 + j][d]; padding lanes are masked later.
        Value scaleC = arith::ConstantOp::create(ib, ib.getF32FloatAttr(scale));
        forEach(ib, idx(ib, 0), idx(ib, keys), 1,
                [&](ImplicitLocOpBuilder &jb, Value j) {
                  Value key = arith::AddIOp::create(jb, firstKey, j);
                  forEach(jb, idx(jb, 0), idx(jb, width), 1,
                          [&](ImplicitLocOpBuilder &db, Value d) {
                            Value x = memref::LoadOp::create(
                                db, kBuf.buf, at(kBuf, key, d));
                            memref::StoreOp::create(
                                db, arith::MulFOp::create(db, x, scaleC), keysT,
                                ValueRange{d, j});
                          });
                });
        forRowTiles(ib, scoreRows,
                    [&](ImplicitLocOpBuilder &tb, Value r0, int64_t rows) {
                      emitScores(tb, r0, rows);
                    });
        for (auto [first, size] :
             chunkVectors(0, valueVecs, valueTile.vectors)) {
          int64_t v0 = first, nv = size;
          forRowTiles(ib, rowsForVectors(target, nv, kAnyRows),
                      [&](ImplicitLocOpBuilder &tb, Value r0, int64_t rows) {
                        emitOutputs(tb, r0, rows, v0, nv);
                      });
        }
        scf::YieldOp::create(ib);
      },
      [&](OpBuilder &nb, Location loc) {
        // A query group before the shift sees nothing: zero rows.
        ImplicitLocOpBuilder ib(loc, nb);
        Value zero = splat(ib, 0.0f);
        forEach(ib, idx(ib, 0), idx(ib, rowsPerItem), 1,
                [&](ImplicitLocOpBuilder &rb, Value r) {
                  Value row = arith::AddIOp::create(rb, firstRow, r);
                  for (int64_t e = 0; e < valueVecs; ++e)
                    storeVec(rb, zero, outBuf, row, idx(rb, e * lanes));
                });
        scf::YieldOp::create(ib);
      });
}

/// P[r0 + rr][:] = exp(S - rowmax) and invSums[r0 + rr] = 1 / rowsum for
/// `rows` query rows.
void FewKeysRouteKernel::emitScores(ImplicitLocOpBuilder &b, Value r0,
                                    int64_t rows) {
  SmallVector<Value> queryRows;
  for (int64_t rr = 0; rr < rows; ++rr)
    queryRows.push_back(arith::AddIOp::create(
        b, firstRow, arith::AddIOp::create(b, r0, idx(b, rr))));
  // Per d: key vectors of KT[d] times broadcast q[row][d].
  SmallVector<Value> init(rows * keyVecs, splat(b, 0.0f));
  SmallVector<Value> acc = emitBroadcastFmaLoop(
      b, idx(b, 0), idx(b, width), init, rows, keyVecs,
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t c) {
        return vector::LoadOp::create(ib, vecType(ib), keysT,
                                      ValueRange{d, idx(ib, c * lanes)});
      },
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t rr) -> Value {
        return memref::LoadOp::create(ib, qBuf.buf,
                                      at(qBuf, queryRows[rr], d));
      });

  // Padding lanes of the last key vector do not exist.
  Value padMask;
  if (int64_t tail = keys % lanes) {
    auto maskType = VectorType::get({lanes}, b.getI1Type());
    SmallVector<bool> real(lanes, false);
    for (int64_t l = 0; l < tail; ++l)
      real[l] = true;
    padMask = arith::ConstantOp::create(
        b, maskType, DenseElementsAttr::get(maskType, ArrayRef<bool>(real)));
  }
  Value negInf = splat(b, -std::numeric_limits<float>::infinity());
  auto reassoc = arith::FastMathFlags::reassoc;
  for (int64_t rr = 0; rr < rows; ++rr) {
    SmallVector<Value> s(acc.begin() + rr * keyVecs,
                         acc.begin() + (rr + 1) * keyVecs);
    if (padMask)
      s.back() = arith::SelectOp::create(b, padMask, s.back(), negInf);
    // A NaN score may be dropped from the max (maxnum): exp(NaN - max)
    // still makes its row NaN. No fast-math flag: NaNs are defined here.
    Value m = s[0];
    for (int64_t c = 1; c < keyVecs; ++c)
      m = emitMax(b, m, s[c]);
    Value rowMax =
        vector::ReductionOp::create(b, vector::CombiningKind::MAXNUMF, m);
    Value maxVec = broadcast(b, rowMax);
    Value row = arith::AddIOp::create(b, r0, idx(b, rr));
    Value sum;
    for (int64_t c = 0; c < keyVecs; ++c) {
      Value p = emitExpOfNonPositive(b, arith::SubFOp::create(b, s[c], maxVec));
      vector::StoreOp::create(b, p, probs, ValueRange{row, idx(b, c * lanes)});
      sum = sum ? arith::AddFOp::create(b, sum, p) : p;
    }
    Value total =
        vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum, reassoc);
    Value inv = arith::DivFOp::create(
        b, arith::ConstantOp::create(b, b.getF32FloatAttr(1.0f)), total);
    memref::StoreOp::create(b, inv, invSums, ValueRange{row});
  }
}

/// out[row][e] = invSum[row] * sum_j P[row][j] v[key0 + j][e] for `rows`
/// query rows and the value columns of vectors [firstVec, firstVec +
/// numVecs).
void FewKeysRouteKernel::emitOutputs(ImplicitLocOpBuilder &b, Value r0,
                                     int64_t rows, int64_t firstVec,
                                     int64_t numVecs) {
  SmallVector<Value> localRows;
  for (int64_t rr = 0; rr < rows; ++rr)
    localRows.push_back(arith::AddIOp::create(b, r0, idx(b, rr)));
  // Per key j: the rows of v[key0 + j] times broadcast P[row][j].
  SmallVector<Value> init(rows * numVecs, splat(b, 0.0f));
  SmallVector<Value> acc = emitBroadcastFmaLoop(
      b, idx(b, 0), idx(b, keys), init, rows, numVecs,
      [&](ImplicitLocOpBuilder &ib, Value j, int64_t e) {
        return loadVec(ib, vBuf, arith::AddIOp::create(ib, firstKey, j),
                       idx(ib, (firstVec + e) * lanes));
      },
      [&](ImplicitLocOpBuilder &ib, Value j, int64_t rr) -> Value {
        return memref::LoadOp::create(ib, probs, ValueRange{localRows[rr], j});
      });
  for (int64_t rr = 0; rr < rows; ++rr) {
    Value inv = broadcast(
        b, memref::LoadOp::create(b, invSums, ValueRange{localRows[rr]}));
    Value row = arith::AddIOp::create(b, firstRow, localRows[rr]);
    for (int64_t e = 0; e < numVecs; ++e)
      storeVec(b, arith::MulFOp::create(b, acc[rr * numVecs + e], inv), outBuf,
               row, idx(b, (firstVec + e) * lanes));
  }
}

/// The head permutation [B, L, H, D] <-> [B, H, L, D].
bool isHeadPermutation(ArrayRef<int64_t> permutation) {
  return permutation == ArrayRef<int64_t>{0, 2, 1, 3};
}

/// The [B, L, H, D] tensor whose head split (a linalg.transpose) `value`
/// is, or null.
Value headSplitSource(Value value) {
  auto transpose = value.getDefiningOp<linalg::TransposeOp>();
  if (!transpose || !isHeadPermutation(transpose.getPermutation()))
    return Value();
  return transpose.getInput();
}

/// The head merge (a linalg.transpose to [B, L, H, E]) that is the only
/// user of `value`, or null.
linalg::TransposeOp headMergeOf(Value value) {
  if (!value.hasOneUse())
    return nullptr;
  auto transpose = dyn_cast<linalg::TransposeOp>(*value.getUsers().begin());
  if (!transpose || transpose.getInput() != value ||
      !isHeadPermutation(transpose.getPermutation()))
    return nullptr;
  return transpose;
}

/// An operand of the kernel: when `operand` is the head split of a
/// [B, L, H, D] tensor (the frontend's projection, expanded), that tensor's
/// buffer read with the head and row indices swapped, so that the transpose
/// is never materialized.
FewKeysRouteKernel::Operand operandBuffer(ImplicitLocOpBuilder &b,
                                          Value operand) {
  if (Value source = headSplitSource(operand))
    return {toReadOnlyBuffer(b, b.getLoc(), source), /*merged=*/true};
  return {toReadOnlyBuffer(b, b.getLoc(), operand), /*merged=*/false};
}

struct FewKeysRouteToVector : OpRewritePattern<LatentRouteOp> {
  FewKeysRouteToVector(MLIRContext *ctx, const CpuTargetDescription &target)
      : OpRewritePattern(ctx, /*benefit=*/2), target(target) {}

  LogicalResult matchAndRewrite(LatentRouteOp op,
                                PatternRewriter &rewriter) const override {
    FewKeysRouteKernel kernel(op, target);
    if (!kernel.applies())
      return rewriter.notifyMatchFailure(op, "not a few-keys latent_route");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    FewKeysRouteKernel::Operand q = operandBuffer(b, op.getQ());
    FewKeysRouteKernel::Operand k = operandBuffer(b, op.getK());
    FewKeysRouteKernel::Operand v = operandBuffer(b, op.getV());
    // The result is written where its head merge puts it when that is its
    // only use ([B, L, H, E], head and row indices swapped).
    linalg::TransposeOp merge = headMergeOf(op.getResult());
    auto resultType = cast<RankedTensorType>(
        merge ? merge.getResult()[0].getType() : op.getType());
    Value alloc = memref::AllocOp::create(
        b, MemRefType::get(resultType.getShape(), b.getF32Type()),
        b.getI64IntegerAttr(64));
    kernel.emit(b, q, k, v, {alloc, /*merged=*/merge != nullptr});
    Value result = bufferization::ToTensorOp::create(
        b, resultType, alloc, /*restrict=*/b.getUnitAttr(),
        /*writable=*/b.getUnitAttr());
    if (!merge) {
      rewriter.replaceOp(op, result);
      return success();
    }
    rewriter.replaceOp(merge, result);
    rewriter.eraseOp(op);
    return success();
  }

  CpuTargetDescription target;
};

} // namespace

bool mlir::loom::isFewKeysRoute(LatentRouteOp op,
                                const CpuTargetDescription &target) {
  return FewKeysRouteKernel(op, target).applies();
}

void mlir::loom::populateFewKeysRouteToVectorPatterns(
    RewritePatternSet &patterns, const CpuTargetDescription &target) {
  patterns.add<FewKeysRouteToVector>(patterns.getContext(), target);
}
