//===- FewKeysTileToVector.cpp - attention tiles over a few keys ----------===//
//
// FIT's pull (n data queries per group over m latents) has many queries and
// few keys. The flash kernel of AttentionTileToVector.cpp puts queries along
// the vector lanes, which costs two register transposes per query tile,
// more than the tile's work when its rows see only 32 keys. An attention
// tile whose rows all see one window of at most 4 key vectors (64 keys on
// AVX-512, 32 on AVX2) takes this microkernel instead: the lanes run over
// keys and over value columns, in row-major order throughout:
//   1. the window's keys are packed once, transposed and pre-scaled:
//      KT[d][j];
//   2. scores of RR query rows x all keys in registers (a broadcast q
//      element times key vectors), a row max and sum by horizontal
//      reductions, P = exp(S - max) stored row-major with 1/sum;
//   3. out rows = (P . v) / sum by a register tile of RR rows x E columns
//      (a broadcast probability times rows of v), stored straight into the
//      tile's out view.
// The whole window is one softmax block, so there is no online rescaling.
// The tile's operands are the strided views loom-tile-attention and
// bufferization leave (head splits and the head merge folded into them),
// so nothing is transposed or copied around the kernel either.
//
//===----------------------------------------------------------------------===//

#include "FewKeysTile.h"
#include "loom/Target/CPU/Kernels.h"
#include "VectorMath.h"
#include "CpuKernelBuilders.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;
using kernel::idx;

namespace {

/// Most key vectors a window may have (64 keys on AVX-512, 32 on AVX2): a
/// row's scores stay in registers for its max and sum.
constexpr int64_t kMaxKeyVectors = 4;
/// Most query rows a tile may have: its probabilities live on the stack.
constexpr int64_t kMaxRows = 256;
/// No bound on a register tile's rows (forRowTiles cuts the last tile).
constexpr int64_t kAnyRows = std::numeric_limits<int64_t>::max();

int64_t widthOf(Value buf) {
  return cast<MemRefType>(buf.getType()).getDimSize(1);
}

/// The most keys any row of a tile of `op` sees, (lookback + 1) groups;
/// the int64 maximum without a lookback bound.
int64_t maxWindowKeys(AttentionTileOp op) {
  return op.getVisibility().getMaxKeysPerRow().value_or(
      std::numeric_limits<int64_t>::max());
}

class FewKeysTileKernel {
public:
  FewKeysTileKernel(AttentionTileOp op, const CpuTargetDescription &target,
                    int64_t rowBound)
      : target(target), lanes(target.lanes()), rowBound(rowBound) {
    width = widthOf(op.getQ());
    valueWidth = widthOf(op.getV());
    scale = op.getScale().convertToFloat();
    maxKeys = maxWindowKeys(op);
    keyVecs = llvm::divideCeil(maxKeys, lanes);
    valueVecs = valueWidth / lanes;
    // A row's scores are reduced whole: the score tile spans every key
    // vector; the output tile takes the value vectors a chunk at a time.
    scoreRows = rowsForVectors(target, keyVecs, kAnyRows);
    valueTile = chooseRegisterTile(target, valueVecs, kAnyRows);
  }

  void emit(ImplicitLocOpBuilder &b, AttentionTileOp op);

private:
  VectorType vecType(ImplicitLocOpBuilder &b) { return f32Vector(b, lanes); }
  Value splat(ImplicitLocOpBuilder &b, float v) {
    return splatF32(b, vecType(b), v);
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
  /// Calls `tile(r0, rows)` over the tile's rows in steps of `step`, then
  /// one smaller tile for a static remainder, or one row at a time for a
  /// dynamic one.
  template <typename Tile>
  void forRowTiles(ImplicitLocOpBuilder &b, int64_t step, Tile tile) {
    if (staticRows) {
      int64_t full = *staticRows - *staticRows % step;
      forEach(b, idx(b, 0), idx(b, full), step,
              [&](ImplicitLocOpBuilder &ib, Value r0) { tile(ib, r0, step); });
      if (full != *staticRows)
        tile(b, idx(b, full), *staticRows - full);
      return;
    }
    Value full = arith::SubIOp::create(
        b, rows, arith::RemUIOp::create(b, rows, idx(b, step)));
    forEach(b, idx(b, 0), full, step,
            [&](ImplicitLocOpBuilder &ib, Value r0) { tile(ib, r0, step); });
    if (step > 1)
      forEach(b, full, rows, 1,
              [&](ImplicitLocOpBuilder &ib, Value r0) { tile(ib, r0, 1); });
  }

  void emitWindow(ImplicitLocOpBuilder &b);
  void emitScores(ImplicitLocOpBuilder &b, Value r0, int64_t rowCount);
  void emitOutputs(ImplicitLocOpBuilder &b, Value r0, int64_t rowCount,
                   int64_t firstVec, int64_t numVecs);

  const CpuTargetDescription &target;
  int64_t lanes, rowBound;
  int64_t width = 0, valueWidth = 0; // D, E
  float scale = 1.0f;
  int64_t maxKeys = 1, keyVecs = 1, valueVecs = 1, scoreRows = 1;
  RegisterTile valueTile;

  // The op's views and its window.
  Value q, k, v, out, rows, firstKey, keyCount;
  std::optional<int64_t> staticRows;
  Value keysT, probs, invSums; // stack scratch
  /// Per key vector c, the lanes c * lanes + l < keyCount (constants that
  /// fold away when keyCount is the static full window).
  SmallVector<Value> keyMasks;
};

void FewKeysTileKernel::emit(ImplicitLocOpBuilder &b, AttentionTileOp op) {
  q = op.getQ();
  k = op.getK();
  v = op.getV();
  out = op.getOut();
  auto rowsOf = [&](Value buf) -> Value {
    int64_t size = cast<MemRefType>(buf.getType()).getDimSize(0);
    if (!ShapedType::isDynamic(size))
      return idx(b, size);
    return memref::DimOp::create(b, buf, 0);
  };
  rows = rowsOf(q);
  staticRows = getConstantIntValue(rows);
  // Every row sees the window of the first (rows_in_group, no causality),
  // clipped to the keys the tile holds.
  KeyWindowValues window = op.getVisibility().getWindow(
      b, b.getLoc(), op.getQueryOffset(), rows);
  Value keyOffset = op.getKeyOffset();
  Value keyRows = rowsOf(k);
  auto local = [&](OpFoldResult x) -> Value {
    Value abs = getValueOrCreateConstantIndexOp(b, b.getLoc(), x);
    Value end = arith::AddIOp::create(b, keyOffset, keyRows);
    abs = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, abs, keyOffset),
                                 end);
    return arith::SubIOp::create(b, abs, keyOffset);
  };
  firstKey = local(window.begin);
  keyCount = arith::SubIOp::create(b, local(window.end), firstKey);

  auto scope = memref::AllocaScopeOp::create(b, TypeRange{});
  Block *body = b.createBlock(&scope.getBodyRegion());
  b.setInsertionPointToStart(body);
  memref::AllocaScopeReturnOp::create(b);
  b.setInsertionPointToStart(body);
  // The window has its full length (every tile of a route or a group
  // past the lookback's first groups) or is shorter (clipped at the first
  // groups, or a hand-written tile that holds fewer keys) or empty (rows
  // before a shift): the full window gets code with a static key count
  // (its loops and lane masks folded), the rest the same code on the
  // run-time count.
  Value full = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, keyCount,
                                     idx(b, maxKeys));
  kernel::ifThen(
      b, full,
      [&](ImplicitLocOpBuilder &ib) {
        Value count = keyCount;
        keyCount = idx(ib, maxKeys);
        emitWindow(ib);
        keyCount = count;
      },
      [&](ImplicitLocOpBuilder &eb) {
        Value sees = arith::CmpIOp::create(eb, arith::CmpIPredicate::sgt,
                                           keyCount, idx(eb, 0));
        kernel::ifThen(
            eb, sees, [&](ImplicitLocOpBuilder &ib) { emitWindow(ib); },
            [&](ImplicitLocOpBuilder &ib) {
              // Rows that see no key (a group before the shift): zeros.
              Value zero = splat(ib, 0.0f);
              forEach(ib, idx(ib, 0), rows, 1, [&](ImplicitLocOpBuilder &rb,
                                                    Value r) {
                for (int64_t e = 0; e < valueVecs; ++e)
                  vector::StoreOp::create(rb, zero, out,
                                          ValueRange{r, idx(rb, e * lanes)});
              });
            });
      });
}

/// The kernel on the window [firstKey, firstKey + keyCount), keyCount > 0.
void FewKeysTileKernel::emitWindow(ImplicitLocOpBuilder &ib) {
  auto scratch = [&](ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(
        ib, MemRefType::get(shape, ib.getF32Type()), ib.getI64IntegerAttr(64));
  };
  keysT = scratch({width, keyVecs * lanes});
  probs = scratch({rowBound, keyVecs * lanes});
  invSums = scratch({rowBound});
  // KT[d][j] = scale * k[firstKey + j][d] by register transposes (one
  // element at a time was a quarter of a 64-row tile's time); keys past the
  // window repeat its last row, and their lanes are masked below.
  emitTransposedPack(ib, lanes, k, firstKey, keyCount, keyVecs * lanes, scale,
                     keysT);
  // Lane l of key vector c is a key when c * lanes + l < keyCount: a window
  // may be shorter than the most keys a row sees.
  auto i32Vec = VectorType::get({lanes}, ib.getI32Type());
  Value lanesIota = laneNumbers(ib, lanes);
  Value count32 = arith::IndexCastOp::create(ib, ib.getI32Type(), keyCount);
  keyMasks.clear();
  for (int64_t c = 0; c < keyVecs; ++c) {
    Value left = arith::SubIOp::create(
        ib, count32,
        arith::ConstantOp::create(ib, ib.getI32IntegerAttr(c * lanes)));
    keyMasks.push_back(arith::CmpIOp::create(
        ib, arith::CmpIPredicate::slt, lanesIota,
        vector::BroadcastOp::create(ib, i32Vec, left)));
  }
  forRowTiles(ib, scoreRows, [&](ImplicitLocOpBuilder &tb, Value r0,
                                 int64_t n) { emitScores(tb, r0, n); });
  for (auto [first, size] : chunkVectors(0, valueVecs, valueTile.vectors)) {
    int64_t v0 = first, nv = size;
    forRowTiles(ib, rowsForVectors(target, nv, kAnyRows),
                [&](ImplicitLocOpBuilder &tb, Value r0, int64_t n) {
                  emitOutputs(tb, r0, n, v0, nv);
                });
  }
}

/// P[r0 + rr][:] = exp(S - rowmax) and invSums[r0 + rr] = 1 / rowsum for
/// `rowCount` query rows.
void FewKeysTileKernel::emitScores(ImplicitLocOpBuilder &b, Value r0,
                                   int64_t rowCount) {
  SmallVector<Value> queryRows;
  for (int64_t rr = 0; rr < rowCount; ++rr)
    queryRows.push_back(arith::AddIOp::create(b, r0, idx(b, rr)));
  // Per d: key vectors of KT[d] times broadcast q[row][d].
  SmallVector<Value> init(rowCount * keyVecs, splat(b, 0.0f));
  SmallVector<Value> acc = emitBroadcastFmaLoop(
      b, idx(b, 0), idx(b, width), init, rowCount, keyVecs,
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t c) {
        return vector::LoadOp::create(ib, vecType(ib), keysT,
                                      ValueRange{d, idx(ib, c * lanes)});
      },
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t rr) -> Value {
        return memref::LoadOp::create(ib, q, ValueRange{queryRows[rr], d});
      });

  Value negInf = splat(b, -std::numeric_limits<float>::infinity());
  auto reassoc = arith::FastMathFlags::reassoc;
  for (int64_t rr = 0; rr < rowCount; ++rr) {
    SmallVector<Value> s(acc.begin() + rr * keyVecs,
                         acc.begin() + (rr + 1) * keyVecs);
    // Lanes past the window hold no key (their KT is never written): a
    // select, so whatever they computed never reaches the row.
    for (int64_t c = 0; c < keyVecs; ++c)
      s[c] = arith::SelectOp::create(b, keyMasks[c], s[c], negInf);
    // A NaN score may be dropped from the max (maxnum): exp(NaN - max)
    // still makes its row NaN. No fast-math flag: NaNs are defined here.
    Value m = s[0];
    for (int64_t c = 1; c < keyVecs; ++c)
      m = emitMax(b, m, s[c]);
    Value rowMax =
        vector::ReductionOp::create(b, vector::CombiningKind::MAXNUMF, m);
    Value maxVec = broadcast(b, rowMax);
    Value sum;
    for (int64_t c = 0; c < keyVecs; ++c) {
      Value p = emitExpOfNonPositive(b, arith::SubFOp::create(b, s[c], maxVec));
      vector::StoreOp::create(b, p, probs,
                              ValueRange{queryRows[rr], idx(b, c * lanes)});
      sum = sum ? arith::AddFOp::create(b, sum, p) : p;
    }
    Value total =
        vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum, reassoc);
    Value inv = arith::DivFOp::create(
        b, arith::ConstantOp::create(b, b.getF32FloatAttr(1.0f)), total);
    memref::StoreOp::create(b, inv, invSums, ValueRange{queryRows[rr]});
  }
}

/// out[row][e] = invSum[row] * sum_j P[row][j] v[firstKey + j][e] for
/// `rowCount` query rows and the value columns of vectors [firstVec,
/// firstVec + numVecs).
void FewKeysTileKernel::emitOutputs(ImplicitLocOpBuilder &b, Value r0,
                                    int64_t rowCount, int64_t firstVec,
                                    int64_t numVecs) {
  SmallVector<Value> rowIdx;
  for (int64_t rr = 0; rr < rowCount; ++rr)
    rowIdx.push_back(arith::AddIOp::create(b, r0, idx(b, rr)));
  // Per key j: the rows of v[firstKey + j] times broadcast P[row][j].
  SmallVector<Value> init(rowCount * numVecs, splat(b, 0.0f));
  SmallVector<Value> acc = emitBroadcastFmaLoop(
      b, idx(b, 0), keyCount, init, rowCount, numVecs,
      [&](ImplicitLocOpBuilder &ib, Value j, int64_t e) {
        return vector::LoadOp::create(
            ib, vecType(ib), v,
            ValueRange{arith::AddIOp::create(ib, firstKey, j),
                       idx(ib, (firstVec + e) * lanes)});
      },
      [&](ImplicitLocOpBuilder &ib, Value j, int64_t rr) -> Value {
        return memref::LoadOp::create(ib, probs, ValueRange{rowIdx[rr], j});
      });
  for (int64_t rr = 0; rr < rowCount; ++rr) {
    Value inv = broadcast(
        b, memref::LoadOp::create(b, invSums, ValueRange{rowIdx[rr]}));
    for (int64_t e = 0; e < numVecs; ++e)
      vector::StoreOp::create(
          b, arith::MulFOp::create(b, acc[rr * numVecs + e], inv), out,
          ValueRange{rowIdx[rr], idx(b, (firstVec + e) * lanes)});
  }
}

} // namespace

int64_t mlir::loom::fewKeysWindowKeys(const CpuTargetDescription &target) {
  return kMaxKeyVectors * target.lanes();
}

bool mlir::loom::fewKeysTileApplies(AttentionTileOp op,
                                    const CpuTargetDescription &target,
                                    int64_t rowBound) {
  VisibilityAttr vis = op.getVisibility();
  int64_t lanes = target.lanes();
  int64_t keys = maxWindowKeys(op);
  int64_t valueWidth = widthOf(op.getV());
  return op.getMemory().empty() && op.getRowsInGroup() && !vis.getCausal() &&
         keys <= fewKeysWindowKeys(target) && valueWidth > 0 &&
         valueWidth % lanes == 0 && rowBound >= lanes && rowBound <= kMaxRows;
}

void mlir::loom::emitFewKeysTile(ImplicitLocOpBuilder &b, AttentionTileOp op,
                                 const CpuTargetDescription &target,
                                 int64_t rowBound) {
  FewKeysTileKernel(op, target, rowBound).emit(b, op);
}
