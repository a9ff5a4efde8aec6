//===- AttentionToVector.cpp - flash-style attention kernels --------------===//
//
// grouped_attention and latent_route become one scf.parallel over work items
// (batch, head, query tile of BM rows inside one group), heaviest first so a
// dynamic schedule ends evenly. A work item:
//   1. packs its query tile transposed and pre-scaled, QT[d][i], so that the
//      16 vector lanes run over queries;
//   2. walks the key blocks (BN keys) its group can see: memory rows first,
//      then full unmasked blocks, then the few blocks that straddle the
//      causal diagonal, which alone are masked;
//   3. per block: ST[j][i] = QT . K^T by a register tile of KR keys x BM
//      queries (a broadcast key element times a query vector), the running
//      max and sum of an online softmax (all per lane, so no horizontal
//      reductions), P = exp(ST - max) with a polynomial exp, and
//      OT[e][i] = alpha * OT + V^T . P by a register tile of ER value columns
//      x BM queries;
//   4. writes out[i][e] = OT[e][i] / sum[i] (zero where nothing was seen).
// Scratch (QT, ST, OT, max, sum) lives on the stack, a few tens of KB, so
// nothing grows with L beyond the inputs and the output.
//
//===----------------------------------------------------------------------===//

#include "VectorMath.h"
#include "loom/Target/CPU/Kernels.h"
#include "CpuKernelBuilders.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;
using kernel::idx;

namespace {

/// What one attention op computes, in the terms the kernel needs.
struct AttentionShape {
  int64_t batch = 0, heads = 0;
  int64_t width = 0, valueWidth = 0; // D, E
  int64_t groups = 0;                // T
  int64_t queriesPerGroup = 0;       // n (grouped) or Nq (route)
  int64_t keysPerGroup = 0;          // n (grouped) or Nk (route)
  bool isRoute = false;
  int64_t lookback = 0; // grouped: -1 means every earlier group
  bool causal = false;  // grouped only
  int64_t shift = 0;    // route only
  int64_t memoryRows = 0;
  float scale = 1.0f;
};

/// The keys a query tile (rows [firstRow, firstRow + tileRowCount) of one
/// group) sees: the visibility rule of both ops, in one place. Memory rows
/// [memoryLo, memoryHi) of the memory operands (null without memory), and
/// keys [lo, hi) of k/v, of which [lo, unmaskedEnd) are seen by every row
/// of the tile and [unmaskedEnd, hi) only on and below the causal diagonal
/// (key <= query row). `empty` is an i1 that is true when the tile sees no
/// key at all (null when no tile of the op can be empty).
struct KeyWindow {
  Value memoryLo, memoryHi;
  Value lo, unmaskedEnd, hi;
  Value empty;
};

/// Buffers a work item reads and writes, all [B, H, rows, cols].
struct Buffers {
  Value q, k, v, memK, memV, out;
};

/// Query rows of a tile, or keys of a key block, that the target's L1
/// bounds: the tile's transposed queries and accumulator (4 (D + E) bytes
/// per query row), and a key block's rows of k and v (4 (D + E) bytes per
/// key), each within two L1s (a step streams them through L1 from L2). A
/// power of two; at least 64 for heads with D + E <= 256 on every preset,
/// so the options (64) decide there.
int64_t l1Rows(const CpuTargetDescription &target, int64_t width,
               int64_t valueWidth) {
  int64_t rows = 2 * target.l1Bytes / (4 * std::max<int64_t>(
                                               1, width + valueWidth));
  return int64_t(llvm::bit_floor(uint64_t(std::max<int64_t>(1, rows))));
}

using LoopBody =
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>;

SmallVector<Value> forLoop(ImplicitLocOpBuilder &b, Value lo, Value hi,
                           Value step, ValueRange inits, LoopBody body) {
  auto loop = scf::ForOp::create(
      b, lo, hi, step, inits,
      [&](OpBuilder &nb, Location loc, Value iv, ValueRange args) {
        ImplicitLocOpBuilder ib(loc, nb);
        scf::YieldOp::create(ib, body(ib, iv, args));
      });
  return SmallVector<Value>(loop.getResults());
}

class AttentionKernel {
public:
  AttentionKernel(const AttentionShape &shape,
                  const CpuTargetDescription &target,
                  const AttentionTileSizes &sizes)
      : s(shape), target(target), lanes(target.lanes()) {
    // A tile never spans groups, so it is no taller than a group needs; the
    // options bound the tile and the key block, the target's L1 bounds them
    // for wide heads.
    int64_t groupRows = llvm::alignTo(s.queriesPerGroup, lanes);
    int64_t cacheRows = l1Rows(target, s.width, s.valueWidth);
    tileRows = std::max(
        lanes, std::min({sizes.queryTile, groupRows,
                         cacheRows - cacheRows % lanes}));
    vecs = tileRows / lanes;
    keyBlock = std::min(sizes.keyBlock, cacheRows);
    // Register tiles: KR key rows (S = Q.K^T) or ER value columns (P.V)
    // times a chunk of the query tile's lane vectors.
    scoreTile = chooseRegisterTile(target, vecs, keyBlock);
    valueTile = chooseRegisterTile(target, vecs, s.valueWidth);
    // The softmax keeps a running max and sum per lane vector, next to the
    // exp's temporaries.
    softmaxVecs = std::max<int64_t>(1, target.vectorRegisters / 8);
    tilesPerGroup = llvm::divideCeil(s.queriesPerGroup, tileRows);
  }

  /// Emits the whole kernel; returns the result tensor.
  Value emit(ImplicitLocOpBuilder &b, Buffers bufs, RankedTensorType resultType);

private:
  // --- constants -----------------------------------------------------------
  Value f32(ImplicitLocOpBuilder &b, float v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  VectorType vecType(ImplicitLocOpBuilder &b) { return f32Vector(b, lanes); }
  Value splat(ImplicitLocOpBuilder &b, float v) {
    return splatF32(b, vecType(b), v);
  }

  Value loadVec(ImplicitLocOpBuilder &b, Value buf, ValueRange indices) {
    return vector::LoadOp::create(b, vecType(b), buf, indices);
  }
  /// A NaN score may be dropped from the max: exp(NaN - max) still makes
  /// its row NaN.
  Value maxOf(ImplicitLocOpBuilder &b, Value x, Value y) {
    return emitMax(b, x, y);
  }
  /// Causal: which lanes of lane vector v (query rows firstRow + lanes v +
  /// l) see key `key` (key <= row, i.e. key - firstRow - lanes v <= l).
  /// Compared against the constant lane numbers, so no per-lane row vector
  /// stays live in a register.
  Value laneSees(ImplicitLocOpBuilder &b, Value key, int64_t v) {
    auto i32Vec = VectorType::get({lanes}, b.getI32Type());
    Value offset = arith::IndexCastOp::create(
        b, b.getI32Type(),
        arith::SubIOp::create(b, key, arith::AddIOp::create(
                                          b, firstRow, idx(b, v * lanes))));
    SmallVector<int32_t> iota(lanes);
    for (int64_t l = 0; l < lanes; ++l)
      iota[l] = int32_t(l);
    Value laneNumbers = arith::ConstantOp::create(
        b, i32Vec, DenseElementsAttr::get(i32Vec, ArrayRef<int32_t>(iota)));
    return arith::CmpIOp::create(b, arith::CmpIPredicate::sle,
                                 vector::BroadcastOp::create(b, i32Vec, offset),
                                 laneNumbers);
  }
  Value exp(ImplicitLocOpBuilder &b, Value x) {
    return emitExpOfNonPositive(b, x);
  }

  // --- the work item -------------------------------------------------------
  void emitWorkItem(ImplicitLocOpBuilder &b, const Buffers &bufs, Value item);
  /// The keys the current tile (of group `group`) sees.
  KeyWindow tileKeyWindow(ImplicitLocOpBuilder &b, Value group);
  /// Whether rows [lo, hi) of `values` are all finite.
  Value emitAllFinite(ImplicitLocOpBuilder &b, Value values, Value lo,
                      Value hi);
  void emitPackQueries(ImplicitLocOpBuilder &b, Value q);
  void emitPrefetchNextTile(ImplicitLocOpBuilder &b, Value q, Value out);
  void emitStoreOutput(ImplicitLocOpBuilder &b, Value out, Value empty);
  void emitKeyRange(ImplicitLocOpBuilder &b, Value keys, Value values,
                    Value lo, Value hi, bool masked);
  void emitBlock(ImplicitLocOpBuilder &b, Value keys, Value values, Value j0,
                 Value count, std::optional<int64_t> staticCount, bool masked);
  void emitDiagonalBlock(ImplicitLocOpBuilder &b, Value keys, Value values);
  SmallVector<Value> emitSoftmaxUpdate(ImplicitLocOpBuilder &b, Value keys,
                                       Value values, Value j0, Value count,
                                       ArrayRef<Value> blockMax);
  void emitValueUpdate(ImplicitLocOpBuilder &b, Value values, Value j0,
                       Value count, ArrayRef<Value> alpha, bool diagonal,
                       bool masked);
  SmallVector<Value> emitScoreRows(ImplicitLocOpBuilder &b, Value keys,
                                   Value j0, Value r0, int64_t rows,
                                   bool masked, ValueRange chunkMax,
                                   int64_t firstVec, int64_t numVecs,
                                   int64_t negInfBelow = 0,
                                   int64_t maskedVec = -1);
  void emitValueColumns(ImplicitLocOpBuilder &b, Value values, Value j0,
                        Value count, Value e0, int64_t cols,
                        ArrayRef<Value> alpha, bool diagonal, bool masked,
                        int64_t firstVec, int64_t numVecs);

  const AttentionShape &s;
  const CpuTargetDescription &target;
  int64_t lanes;
  int64_t tileRows, vecs, keyBlock, tilesPerGroup, softmaxVecs;
  RegisterTile scoreTile, valueTile;

  // Per work item.
  Value batchIdx, headIdx, firstRow, tileRowCount;
  Value qT, scores, accT, runMax, runSum; // stack scratch
  /// While set, the P.V update of masked blocks selects the visible lanes'
  /// sums rather than adding 0 * v (see emitAllFinite).
  bool selectMaskedValues = false;
};

Value AttentionKernel::emit(ImplicitLocOpBuilder &b, Buffers bufs,
                            RankedTensorType resultType) {
  auto outType = MemRefType::get(resultType.getShape(), b.getF32Type());
  bufs.out = memref::AllocOp::create(b, outType, b.getI64IntegerAttr(64));
  int64_t items = s.batch * s.heads * s.groups * tilesPerGroup;
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0)}, ValueRange{idx(b, items)},
      ValueRange{idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        // scf.parallel is an automatic allocation scope: the stack scratch
        // of a work item is released when it ends.
        ImplicitLocOpBuilder ib(loc, nb);
        emitWorkItem(ib, bufs, ivs[0]);
      });
  return bufferization::ToTensorOp::create(b, resultType, bufs.out,
                                           /*restrict=*/b.getUnitAttr(),
                                           /*writable=*/b.getUnitAttr());
}

void AttentionKernel::emitWorkItem(ImplicitLocOpBuilder &b,
                                   const Buffers &bufs, Value item) {
  Type f32Type = b.getF32Type();
  int64_t items = s.batch * s.heads * s.groups * tilesPerGroup;
  // Later groups and later tiles see more keys: hand them out first.
  Value rev = arith::SubIOp::create(b, idx(b, items - 1), item);
  Value tile = arith::RemUIOp::create(b, rev, idx(b, tilesPerGroup));
  Value rest = arith::DivUIOp::create(b, rev, idx(b, tilesPerGroup));
  Value group = arith::RemUIOp::create(b, rest, idx(b, s.groups));
  Value bh = arith::DivUIOp::create(b, rest, idx(b, s.groups));
  batchIdx = arith::DivUIOp::create(b, bh, idx(b, s.heads));
  headIdx = arith::RemUIOp::create(b, bh, idx(b, s.heads));
  Value tileStart = arith::MulIOp::create(b, tile, idx(b, tileRows));
  firstRow = arith::AddIOp::create(
      b, arith::MulIOp::create(b, group, idx(b, s.queriesPerGroup)),
      tileStart);
  tileRowCount = arith::MinUIOp::create(
      b, idx(b, tileRows),
      arith::SubIOp::create(b, idx(b, s.queriesPerGroup), tileStart));

  auto scratch = [&](ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, MemRefType::get(shape, f32Type),
                                    b.getI64IntegerAttr(64));
  };
  qT = scratch({s.width, tileRows});
  scores = scratch({keyBlock, tileRows});
  accT = scratch({s.valueWidth, tileRows});
  runMax = scratch({tileRows});
  runSum = scratch({tileRows});
  Value zero = idx(b, 0), one = idx(b, 1);

  emitPackQueries(b, bufs.q);
  emitPrefetchNextTile(b, bufs.q, bufs.out);

  // Accumulator, running max and running sum.
  forLoop(b, zero, idx(b, s.valueWidth), one, {},
          [&](ImplicitLocOpBuilder &ib, Value e, ValueRange) {
            for (int64_t v = 0; v < vecs; ++v)
              vector::StoreOp::create(ib, splat(ib, 0.0f), accT,
                                      ValueRange{e, idx(ib, v * lanes)});
            return SmallVector<Value>{};
          });
  for (int64_t v = 0; v < vecs; ++v) {
    vector::StoreOp::create(b, splat(b, -std::numeric_limits<float>::infinity()), runMax,
                            ValueRange{idx(b, v * lanes)});
    vector::StoreOp::create(b, splat(b, 0.0f), runSum,
                            ValueRange{idx(b, v * lanes)});
  }

  KeyWindow window = tileKeyWindow(b, group);
  // Memory rows of the group, always fully visible.
  if (window.memoryLo)
    emitKeyRange(b, bufs.memK, bufs.memV, window.memoryLo, window.memoryHi,
                 /*masked=*/false);
  Value lo = window.lo, hi = window.hi;
  Value blockC = idx(b, keyBlock);
  Value fullBlocks = arith::DivUIOp::create(
      b, arith::SubIOp::create(b, window.unmaskedEnd, lo), blockC);
  Value fullEnd = arith::AddIOp::create(
      b, lo, arith::MulIOp::create(b, fullBlocks, blockC));
  forLoop(b, lo, fullEnd, blockC, {},
          [&](ImplicitLocOpBuilder &ib, Value j0, ValueRange) {
            emitBlock(ib, bufs.k, bufs.v, j0, idx(ib, keyBlock), keyBlock,
                      /*masked=*/false);
            return SmallVector<Value>{};
          });
  auto emitMaskedKeys = [&](ImplicitLocOpBuilder &mb) {
    if (!s.causal || tileRows > keyBlock) {
      emitKeyRange(mb, bufs.k, bufs.v, fullEnd, hi, /*masked=*/s.causal);
      return;
    }
    // A full tile whose diagonal starts a key block (the common case: the
    // group size a multiple of the key block) skips the masked-out half of
    // it; any other tile masks its last blocks lane by lane.
    Value aligned = arith::AndIOp::create(
        mb,
        arith::CmpIOp::create(mb, arith::CmpIPredicate::eq, fullEnd, firstRow),
        arith::CmpIOp::create(mb, arith::CmpIPredicate::eq, tileRowCount,
                              idx(mb, tileRows)));
    scf::IfOp::create(
        mb, aligned,
        [&](OpBuilder &nb, Location loc) {
          ImplicitLocOpBuilder ib(loc, nb);
          emitDiagonalBlock(ib, bufs.k, bufs.v);
          scf::YieldOp::create(ib);
        },
        [&](OpBuilder &nb, Location loc) {
          ImplicitLocOpBuilder ib(loc, nb);
          emitKeyRange(ib, bufs.k, bufs.v, fullEnd, hi, /*masked=*/true);
          scf::YieldOp::create(ib);
        });
  };
  if (!s.causal) {
    emitMaskedKeys(b);
  } else {
    // A masked key's probability is 0, and 0 * v is NaN for an infinite v:
    // when a value row of the masked range is not finite (never in
    // practice), the P.V update selects instead of multiplying by 0.
    scf::IfOp::create(
        b, emitAllFinite(b, bufs.v, fullEnd, hi),
        [&](OpBuilder &nb, Location loc) {
          ImplicitLocOpBuilder ib(loc, nb);
          emitMaskedKeys(ib);
          scf::YieldOp::create(ib);
        },
        [&](OpBuilder &nb, Location loc) {
          ImplicitLocOpBuilder ib(loc, nb);
          selectMaskedValues = true;
          emitMaskedKeys(ib);
          selectMaskedValues = false;
          scf::YieldOp::create(ib);
        });
  }

  emitStoreOutput(b, bufs.out, window.empty);
}

KeyWindow AttentionKernel::tileKeyWindow(ImplicitLocOpBuilder &b,
                                         Value group) {
  KeyWindow w;
  Value one = idx(b, 1);
  if (s.memoryRows > 0) {
    w.memoryLo = arith::MulIOp::create(b, group, idx(b, s.memoryRows));
    w.memoryHi = arith::AddIOp::create(b, w.memoryLo, idx(b, s.memoryRows));
  }
  if (s.isRoute) {
    // Query group g sees the keys of group g - shift, if any.
    Value shift = idx(b, s.shift);
    Value sees =
        arith::CmpIOp::create(b, arith::CmpIPredicate::uge, group, shift);
    Value source = arith::SubIOp::create(
        b, arith::MaxUIOp::create(b, group, shift), shift);
    w.lo = arith::MulIOp::create(b, source, idx(b, s.keysPerGroup));
    w.hi = arith::SelectOp::create(
        b, sees, arith::AddIOp::create(b, w.lo, idx(b, s.keysPerGroup)),
        w.lo);
    w.unmaskedEnd = w.hi;
    if (s.shift > 0)
      w.empty = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, group,
                                      shift);
    return w;
  }
  // grouped_attention: groups g - lookback .. g (every earlier one for
  // lookback -1), up to the row itself when causal. Every row sees at
  // least itself.
  w.lo = idx(b, 0);
  if (s.lookback >= 0) {
    Value lb = idx(b, s.lookback);
    Value first =
        arith::SubIOp::create(b, arith::MaxUIOp::create(b, group, lb), lb);
    w.lo = arith::MulIOp::create(b, first, idx(b, s.keysPerGroup));
  }
  if (s.causal) {
    // Keys up to the tile's first row are visible to every lane.
    w.unmaskedEnd = arith::AddIOp::create(b, firstRow, one);
    w.hi = arith::AddIOp::create(b, firstRow, tileRowCount);
  } else {
    w.hi = arith::MulIOp::create(b, arith::AddIOp::create(b, group, one),
                                 idx(b, s.keysPerGroup));
    w.unmaskedEnd = w.hi;
  }
  return w;
}

Value AttentionKernel::emitAllFinite(ImplicitLocOpBuilder &b, Value values,
                                     Value lo, Value hi) {
  // x * 0 is 0 for a finite x and NaN otherwise; one FMA per vector.
  int64_t width = s.valueWidth, full = width - width % lanes;
  Value zeros = splat(b, 0.0f);
  SmallVector<Value> acc = forLoop(
      b, lo, hi, idx(b, 1), {zeros},
      [&](ImplicitLocOpBuilder &ib, Value r, ValueRange acc) {
        Value sum = acc[0];
        for (int64_t e = 0; e < full; e += lanes)
          sum = vector::FMAOp::create(
              ib,
              loadVec(ib, values,
                      ValueRange{batchIdx, headIdx, r, idx(ib, e)}),
              zeros, sum);
        for (int64_t e = full; e < width; ++e) {
          Value x = memref::LoadOp::create(
              ib, values, ValueRange{batchIdx, headIdx, r, idx(ib, e)});
          sum = arith::AddFOp::create(
              ib, sum,
              vector::BroadcastOp::create(
                  ib, vecType(ib), arith::MulFOp::create(ib, x, f32(ib, 0))));
        }
        return SmallVector<Value>{sum};
      });
  Value total =
      vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc[0]);
  return arith::CmpFOp::create(b, arith::CmpFPredicate::ORD, total, total);
}


/// QT[d][i] = scale * q[row0 + i][d], 16 x 16 blocks at a time through a
/// register transpose. Padding lanes repeat the tile's last row: finite
/// values whose results are never stored, and no read past the buffer.
void AttentionKernel::emitPackQueries(ImplicitLocOpBuilder &b, Value q) {
  Value lastRow = arith::SubIOp::create(
      b, arith::AddIOp::create(b, firstRow, tileRowCount), idx(b, 1));
  SmallVector<Value> rowOf;
  for (int64_t i = 0; i < tileRows; ++i)
    rowOf.push_back(arith::MinUIOp::create(
        b, arith::AddIOp::create(b, firstRow, idx(b, i)), lastRow));
  Value scale = splat(b, s.scale);
  int64_t fullCols = s.width - s.width % lanes;
  forLoop(b, idx(b, 0), idx(b, fullCols), idx(b, lanes), {},
          [&](ImplicitLocOpBuilder &ib, Value d0, ValueRange) {
            for (int64_t v = 0; v < vecs; ++v) {
              SmallVector<Value> rows;
              for (int64_t l = 0; l < lanes; ++l)
                rows.push_back(arith::MulFOp::create(
                    ib,
                    loadVec(ib, q,
                            ValueRange{batchIdx, headIdx, rowOf[v * lanes + l],
                                       d0}),
                    scale));
              SmallVector<Value> cols = transposeSquare(ib, rows);
              for (int64_t c = 0; c < lanes; ++c)
                vector::StoreOp::create(
                    ib, cols[c], qT,
                    ValueRange{arith::AddIOp::create(ib, d0, idx(ib, c)),
                               idx(ib, v * lanes)});
            }
            return SmallVector<Value>{};
          });
  // The last D % 16 columns one element at a time.
  Value scalarScale = f32(b, s.scale);
  for (int64_t d = fullCols; d < s.width; ++d)
    for (int64_t i = 0; i < tileRows; ++i) {
      Value x = memref::LoadOp::create(
          b, q, ValueRange{batchIdx, headIdx, rowOf[i], idx(b, d)});
      memref::StoreOp::create(b, arith::MulFOp::create(b, x, scalarScale), qT,
                              ValueRange{idx(b, d), idx(b, i)});
    }
}

/// Work items go out in reverse order, so the next one of this thread most
/// likely holds the rows just before this tile: ask for its queries and
/// output lines (into L2) now, while this tile computes.
void AttentionKernel::emitPrefetchNextTile(ImplicitLocOpBuilder &b, Value q,
                                           Value out) {
  Value start = arith::SubIOp::create(
      b, arith::MaxUIOp::create(b, firstRow, idx(b, tileRows)),
      idx(b, tileRows));
  forLoop(b, start, firstRow, idx(b, 1), {},
          [&](ImplicitLocOpBuilder &ib, Value row, ValueRange) {
            for (int64_t c = 0; c < s.width; c += kFloatsPerLine)
              memref::PrefetchOp::create(
                  ib, q, ValueRange{batchIdx, headIdx, row, idx(ib, c)},
                  /*isWrite=*/false, /*localityHint=*/2, /*isDataCache=*/true);
            // The output rows too: each store would otherwise wait for its
            // line to be read for ownership.
            for (int64_t c = 0; c < s.valueWidth; c += kFloatsPerLine)
              memref::PrefetchOp::create(
                  ib, out, ValueRange{batchIdx, headIdx, row, idx(ib, c)},
                  /*isWrite=*/true, /*localityHint=*/2, /*isDataCache=*/true);
            return SmallVector<Value>{};
          });
}

/// out[row0 + i][e] = OT[e][i] / sum[i] for the tile's real rows; a tile
/// that saw no key (`empty`) gets zeros. A row whose scores were all -inf
/// (an infinite q) has sum 0 and gets 0 * inf = NaN, as its softmax is.
/// Transposed back lanes x lanes blocks at a time.
void AttentionKernel::emitStoreOutput(ImplicitLocOpBuilder &b, Value out,
                                      Value empty) {
  SmallVector<Value> inv;
  for (int64_t v = 0; v < vecs; ++v) {
    Value off = idx(b, v * lanes);
    Value sum = loadVec(b, runSum, off);
    inv.push_back(arith::DivFOp::create(b, splat(b, 1.0f), sum));
    if (empty)
      inv.back() =
          arith::SelectOp::create(b, empty, splat(b, 0.0f), inv.back());
    // Kept for the scalar tail below.
    vector::StoreOp::create(b, inv.back(), runSum, off);
  }
  int64_t fullCols = s.valueWidth - s.valueWidth % lanes;
  forLoop(
      b, idx(b, 0), idx(b, fullCols), idx(b, lanes), {},
      [&](ImplicitLocOpBuilder &ib, Value e0, ValueRange) {
        for (int64_t v = 0; v < vecs; ++v) {
          SmallVector<Value> cols;
          for (int64_t c = 0; c < lanes; ++c)
            cols.push_back(arith::MulFOp::create(
                ib,
                loadVec(ib, accT,
                        ValueRange{arith::AddIOp::create(ib, e0, idx(ib, c)),
                                   idx(ib, v * lanes)}),
                inv[v]));
          SmallVector<Value> rows = transposeSquare(ib, cols);
          for (int64_t l = 0; l < lanes; ++l) {
            Value i = idx(ib, v * lanes + l);
            Value real = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, i,
                                               tileRowCount);
            scf::IfOp::create(ib, real, [&](OpBuilder &nb, Location loc) {
              ImplicitLocOpBuilder tb(loc, nb);
              vector::StoreOp::create(
                  tb, rows[l], out,
                  ValueRange{batchIdx, headIdx,
                             arith::AddIOp::create(tb, firstRow, i), e0});
              scf::YieldOp::create(tb);
            });
          }
        }
        return SmallVector<Value>{};
      });
  if (fullCols == s.valueWidth)
    return;
  forLoop(b, idx(b, 0), tileRowCount, idx(b, 1), {},
          [&](ImplicitLocOpBuilder &ib, Value i, ValueRange) {
            Value scale = memref::LoadOp::create(ib, runSum, ValueRange{i});
            Value row = arith::AddIOp::create(ib, firstRow, i);
            for (int64_t e = fullCols; e < s.valueWidth; ++e) {
              Value o = memref::LoadOp::create(ib, accT,
                                               ValueRange{idx(ib, e), i});
              memref::StoreOp::create(
                  ib, arith::MulFOp::create(ib, o, scale), out,
                  ValueRange{batchIdx, headIdx, row, idx(ib, e)});
            }
            return SmallVector<Value>{};
          });
}

/// Keys [lo, hi) in blocks of at most keyBlock.
void AttentionKernel::emitKeyRange(ImplicitLocOpBuilder &b, Value keys,
                                   Value values, Value lo, Value hi,
                                   bool masked) {
  forLoop(b, lo, hi, idx(b, keyBlock), {},
          [&](ImplicitLocOpBuilder &ib, Value j0, ValueRange) {
            Value count = arith::MinUIOp::create(
                ib, idx(ib, keyBlock), arith::SubIOp::create(ib, hi, j0));
            emitBlock(ib, keys, values, j0, count, std::nullopt, masked);
            return SmallVector<Value>{};
          });
}

void AttentionKernel::emitBlock(ImplicitLocOpBuilder &b, Value keys,
                                Value values, Value j0, Value count,
                                std::optional<int64_t> staticCount,
                                bool masked) {
  Value zero = idx(b, 0);
  SmallVector<Value> blockMax(vecs, splat(b, -std::numeric_limits<float>::infinity()));
  // Scores, one chunk of query vectors at a time: KR key rows at a time,
  // then a smaller tile for the remainder.
  for (auto [first, size] : chunkVectors(0, vecs, scoreTile.vectors)) {
    int64_t v0 = first, nv = size;
    int64_t keyRegRows = rowsForVectors(target, nv, keyBlock);
    SmallVector<Value> chunkMax(blockMax.begin() + v0,
                                blockMax.begin() + v0 + nv);
    Value regRows = idx(b, keyRegRows);
    Value chunkEnd =
        staticCount
            ? idx(b, *staticCount - *staticCount % keyRegRows)
            : arith::SubIOp::create(b, count,
                                    arith::RemUIOp::create(b, count, regRows));
    chunkMax = forLoop(b, zero, chunkEnd, regRows, chunkMax,
                       [&](ImplicitLocOpBuilder &ib, Value r0, ValueRange acc) {
                         return emitScoreRows(ib, keys, j0, r0, keyRegRows,
                                              masked, acc, v0, nv);
                       });
    // The last count % KR key rows: one smaller register tile, chosen by a
    // switch when the count is only known at run time.
    if (staticCount) {
      if (int64_t rem = *staticCount % keyRegRows)
        chunkMax = emitScoreRows(b, keys, j0, chunkEnd, rem, masked, chunkMax,
                                 v0, nv);
    } else if (keyRegRows > 1) {
      Value rem = arith::SubIOp::create(b, count, chunkEnd);
      SmallVector<int64_t> cases;
      for (int64_t r = 1; r < keyRegRows; ++r)
        cases.push_back(r);
      SmallVector<Type> types(nv, vecType(b));
      auto sw = scf::IndexSwitchOp::create(b, types, rem, cases, cases.size());
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
        scf::YieldOp::create(b, chunkMax);
        for (auto [i, rows] : llvm::enumerate(cases)) {
          b.setInsertionPointToStart(&sw.getCaseRegions()[i].emplaceBlock());
          scf::YieldOp::create(b, emitScoreRows(b, keys, j0, chunkEnd, rows,
                                                masked, chunkMax, v0, nv));
        }
      }
      chunkMax = SmallVector<Value>(sw.getResults());
    }
    llvm::copy(chunkMax, blockMax.begin() + v0);
  }

  SmallVector<Value> alpha =
      emitSoftmaxUpdate(b, keys, values, j0, count, blockMax);
  emitValueUpdate(b, values, j0, count, alpha, /*diagonal=*/false, masked);
}

/// The tile's own lanes*vecs keys when the tile is full and starts a key
/// block: key row lanes*c + r is seen by lane vectors c (masked) and above
/// (unmasked) only, so lower vectors are neither scored nor updated.
void AttentionKernel::emitDiagonalBlock(ImplicitLocOpBuilder &b, Value keys,
                                        Value values) {
  Value negInf = splat(b, -std::numeric_limits<float>::infinity());
  SmallVector<Value> blockMax(vecs, negInf);
  // When the register tiles take the query tile a chunk at a time, the
  // many small tiles of the triangle do not also carry a max per lane
  // vector (more live vectors than registers): one pass over the stored
  // scores finds it.
  bool maxFromScores = scoreTile.vectors < vecs;
  for (int64_t c = 0; c < vecs; ++c) {
    for (auto [first, size] : chunkVectors(c, vecs - c, scoreTile.vectors)) {
      int64_t v0 = first, nv = size;
      int64_t regRows = rowsForVectors(target, nv, lanes);
      for (int64_t r = c * lanes; r < (c + 1) * lanes; r += regRows) {
        int64_t rows = std::min(regRows, (c + 1) * lanes - r);
        SmallVector<Value> chunkMax;
        if (!maxFromScores)
          chunkMax.assign(blockMax.begin() + v0, blockMax.begin() + v0 + nv);
        chunkMax = emitScoreRows(b, keys, firstRow, idx(b, r), rows,
                                 /*masked=*/true, chunkMax, v0, nv,
                                 /*negInfBelow=*/v0 == c ? c : 0,
                                 /*maskedVec=*/c);
        if (!maxFromScores)
          llvm::copy(chunkMax, blockMax.begin() + v0);
      }
    }
  }
  Value count = idx(b, tileRows);
  if (maxFromScores)
    blockMax = forLoop(
        b, idx(b, 0), count, idx(b, 1), blockMax,
        [&](ImplicitLocOpBuilder &ib, Value r, ValueRange acc) {
          SmallVector<Value> next;
          for (int64_t v = 0; v < vecs; ++v)
            next.push_back(maxOf(
                ib, acc[v],
                loadVec(ib, scores, ValueRange{r, idx(ib, v * lanes)})));
          return next;
        });
  SmallVector<Value> alpha =
      emitSoftmaxUpdate(b, keys, values, firstRow, count, blockMax);
  emitValueUpdate(b, values, firstRow, count, alpha, /*diagonal=*/true,
                  /*masked=*/true);
}

/// Online softmax over the block's scores: the new running max, the factor
/// alpha that rescales what came before, P = exp(S - max) in place of S,
/// and the running sum. Returns alpha.
SmallVector<Value> AttentionKernel::emitSoftmaxUpdate(
    ImplicitLocOpBuilder &b, Value keys, Value values, Value j0, Value count,
    ArrayRef<Value> blockMax) {
  Value zero = idx(b, 0), one = idx(b, 1);
  SmallVector<Value> newMax, alpha;
  Value negInf = splat(b, -std::numeric_limits<float>::infinity());
  for (int64_t v = 0; v < vecs; ++v) {
    Value off = idx(b, v * lanes);
    Value old = loadVec(b, runMax, off);
    Value max = maxOf(b, old, blockMax[v]);
    vector::StoreOp::create(b, max, runMax, off);
    // A lane that has seen only -inf scores so far (masked, or an infinite
    // q) subtracts 0 instead: exp(-inf - 0) = 0 where -inf - -inf is NaN.
    Value none = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, max,
                                       negInf);
    newMax.push_back(
        arith::SelectOp::create(b, none, splat(b, 0.0f), max));
    alpha.push_back(exp(b, arith::SubFOp::create(b, old, newMax[v])));
  }
  // While exponentiating key row r, ask for row r of the next block of k
  // and v: K/V stream from memory once per tile, and the hardware
  // prefetcher alone leaves much of that latency exposed.
  int64_t keyRowsTotal = cast<MemRefType>(keys.getType()).getDimSize(2);
  Value nextBlock = arith::AddIOp::create(b, j0, count);
  // A few lane vectors at a time, so that their max and sum stay in
  // registers next to the exp's temporaries.
  for (auto [first, size] : chunkVectors(0, vecs, softmaxVecs)) {
    int64_t v0 = first, nv = size;
    SmallVector<Value> zeros(nv, splat(b, 0.0f));
    SmallVector<Value> blockSum = forLoop(
        b, zero, count, one, zeros,
        [&](ImplicitLocOpBuilder &ib, Value r, ValueRange acc) {
          if (v0 == 0) {
            Value ahead = arith::MinUIOp::create(
                ib, arith::AddIOp::create(ib, nextBlock, r),
                idx(ib, keyRowsTotal - 1));
            for (auto [buf, width] : {std::pair(keys, s.width),
                                      std::pair(values, s.valueWidth)})
              for (int64_t c = 0; c < width; c += kFloatsPerLine)
                memref::PrefetchOp::create(
                    ib, buf, ValueRange{batchIdx, headIdx, ahead, idx(ib, c)},
                    /*isWrite=*/false, /*localityHint=*/3,
                    /*isDataCache=*/true);
          }
          SmallVector<Value> next;
          for (int64_t v = v0; v < v0 + nv; ++v) {
            SmallVector<Value> at{r, idx(ib, v * lanes)};
            Value p = exp(ib, arith::SubFOp::create(
                                  ib, loadVec(ib, scores, at), newMax[v]));
            vector::StoreOp::create(ib, p, scores, at);
            next.push_back(arith::AddFOp::create(ib, acc[v - v0], p));
          }
          return next;
        });
    for (int64_t v = v0; v < v0 + nv; ++v) {
      Value off = idx(b, v * lanes);
      Value sum = vector::FMAOp::create(b, loadVec(b, runSum, off), alpha[v],
                                        blockSum[v - v0]);
      vector::StoreOp::create(b, sum, runSum, off);
    }
  }

  return alpha;
}

/// OT = alpha * OT + V^T . P, one chunk of query vectors at a time, ER value
/// columns at a time.
void AttentionKernel::emitValueUpdate(ImplicitLocOpBuilder &b, Value values,
                                      Value j0, Value count,
                                      ArrayRef<Value> alpha, bool diagonal,
                                      bool masked) {
  for (auto [first, size] : chunkVectors(0, vecs, valueTile.vectors)) {
    int64_t v0 = first, nv = size;
    int64_t valueRegRows = rowsForVectors(target, nv, s.valueWidth);
    int64_t fullCols = s.valueWidth - s.valueWidth % valueRegRows;
    forLoop(b, idx(b, 0), idx(b, fullCols), idx(b, valueRegRows), {},
            [&](ImplicitLocOpBuilder &ib, Value e0, ValueRange) {
              emitValueColumns(ib, values, j0, count, e0, valueRegRows, alpha,
                               diagonal, masked, v0, nv);
              return SmallVector<Value>{};
            });
    if (fullCols != s.valueWidth)
      emitValueColumns(b, values, j0, count, idx(b, fullCols),
                       s.valueWidth - fullCols, alpha, diagonal, masked, v0,
                       nv);
  }
}

/// Scores of key rows j0+r0 .. j0+r0+rows-1 against lane vectors
/// [firstVec, firstVec + numVecs) of the query tile, stored to ST; vectors
/// below negInfBelow get -inf (the causal diagonal: they cannot see these
/// keys), only vector maskedVec (every vector when it is -1) is masked
/// lane by lane. Returns the chunk's updated per-lane block max (nothing
/// when `chunkMax` is empty).
SmallVector<Value> AttentionKernel::emitScoreRows(
    ImplicitLocOpBuilder &b, Value keys, Value j0, Value r0, int64_t rows,
    bool masked, ValueRange chunkMax, int64_t firstVec, int64_t numVecs,
    int64_t negInfBelow, int64_t maskedVec) {
  Value firstKey = arith::AddIOp::create(b, j0, r0);
  SmallVector<Value> keyRows;
  for (int64_t rr = 0; rr < rows; ++rr)
    keyRows.push_back(arith::AddIOp::create(b, firstKey, idx(b, rr)));
  int64_t nv = numVecs;
  SmallVector<Value> zeros(rows * nv, splat(b, 0.0f));
  // Per d: query vectors of QT[d] times broadcast k[key][d].
  SmallVector<Value> acc = emitBroadcastFmaLoop(
      b, idx(b, 0), idx(b, s.width), zeros, rows, nv,
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t v) {
        return loadVec(ib, qT, ValueRange{d, idx(ib, (firstVec + v) * lanes)});
      },
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t rr) -> Value {
        return memref::LoadOp::create(
            ib, keys, ValueRange{batchIdx, headIdx, keyRows[rr], d});
      });

  SmallVector<Value> newMax(chunkMax.begin(), chunkMax.end());
  Value negInf = splat(b, -std::numeric_limits<float>::infinity());
  for (int64_t rr = 0; rr < rows; ++rr) {
    Value row = arith::AddIOp::create(b, r0, idx(b, rr));
    for (int64_t v = 0; v < negInfBelow; ++v)
      vector::StoreOp::create(b, negInf, scores,
                              ValueRange{row, idx(b, v * lanes)});
    for (int64_t v = firstVec; v < firstVec + nv; ++v) {
      Value score = acc[rr * nv + v - firstVec];
      if (masked && (maskedVec < 0 || v == maskedVec))
        score = arith::SelectOp::create(b, laneSees(b, keyRows[rr], v), score,
                                        negInf);
      vector::StoreOp::create(b, score, scores,
                              ValueRange{row, idx(b, v * lanes)});
      if (!newMax.empty())
        newMax[v - firstVec] = maxOf(b, newMax[v - firstVec], score);
    }
  }
  return newMax;
}

/// OT[e0 .. e0+cols-1][lane vectors firstVec .. firstVec+numVecs-1] =
/// alpha * OT + sum over the block of v[j][e] * P[j].
void AttentionKernel::emitValueColumns(ImplicitLocOpBuilder &b, Value values,
                                       Value j0, Value count, Value e0,
                                       int64_t cols, ArrayRef<Value> alpha,
                                       bool diagonal, bool masked,
                                       int64_t firstVec, int64_t numVecs) {
  int64_t endVec = firstVec + numVecs;
  SmallVector<Value> cols_;
  for (int64_t c = 0; c < cols; ++c)
    cols_.push_back(arith::AddIOp::create(b, e0, idx(b, c)));
  // acc[c * numVecs + (v - firstVec)] for column c, lane vector v.
  SmallVector<Value> init;
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t v = firstVec; v < endVec; ++v)
      init.push_back(arith::MulFOp::create(
          b, loadVec(b, accT, ValueRange{cols_[c], idx(b, v * lanes)}),
          alpha[v]));
  // Key rows [lo, hi) update lane vectors [from, endVec): per key, its
  // probability vectors times broadcast v[key][e].
  auto keyLoop = [&](Value lo, Value hi, int64_t from,
                     SmallVector<Value> acc) {
    int64_t nv = endVec - from;
    SmallVector<Value> live;
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t v = from; v < endVec; ++v)
        live.push_back(acc[c * numVecs + v - firstVec]);
    live = emitBroadcastFmaLoop(
        b, lo, hi, live, cols, nv,
        [&](ImplicitLocOpBuilder &ib, Value r, int64_t v) {
          return loadVec(ib, scores,
                         ValueRange{r, idx(ib, (from + v) * lanes)});
        },
        [&](ImplicitLocOpBuilder &ib, Value r, int64_t c) -> Value {
          return memref::LoadOp::create(
              ib, values,
              ValueRange{batchIdx, headIdx, arith::AddIOp::create(ib, j0, r),
                         cols_[c]});
        },
        selectMaskedValues && masked
            ? TileMask([&](ImplicitLocOpBuilder &ib, Value r,
                           int64_t v) -> Value {
                return laneSees(ib, arith::AddIOp::create(ib, j0, r),
                                from + v);
              })
            : TileMask());
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t v = from; v < endVec; ++v)
        acc[c * numVecs + v - firstVec] = live[c * nv + v - from];
    return acc;
  };
  SmallVector<Value> acc = init;
  if (diagonal && numVecs < vecs) {
    // A chunk of the tile: its key rows in one loop. The few key rows a
    // lane vector of the chunk cannot see have probability 0 (their scores
    // are -inf), and their values are finite here or selected away.
    acc = keyLoop(idx(b, 0), idx(b, endVec * lanes), firstVec, acc);
  } else if (diagonal) {
    // Key rows lanes*c .. lanes*c + lanes - 1 reach lane vectors c and up:
    // those of every c <= firstVec reach the whole chunk.
    acc = keyLoop(idx(b, 0), idx(b, (firstVec + 1) * lanes), firstVec, acc);
    for (int64_t c = firstVec + 1; c < endVec; ++c)
      acc = keyLoop(idx(b, c * lanes), idx(b, (c + 1) * lanes), c, acc);
  } else {
    acc = keyLoop(idx(b, 0), count, firstVec, acc);
  }
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t v = firstVec; v < endVec; ++v)
      vector::StoreOp::create(b, acc[c * numVecs + v - firstVec], accT,
                              ValueRange{cols_[c], idx(b, v * lanes)});
}

/// The shape fields both ops share, from q and the result.
AttentionShape commonShape(Value q, RankedTensorType resultType,
                           float scale) {
  auto qType = cast<RankedTensorType>(q.getType());
  AttentionShape s;
  s.batch = qType.getDimSize(0);
  s.heads = qType.getDimSize(1);
  s.width = qType.getDimSize(3);
  s.valueWidth = resultType.getDimSize(3);
  s.scale = scale;
  return s;
}

/// Replaces `op` by the kernel for `s` over its q, k, v (and `memory`).
void replaceWithKernel(PatternRewriter &rewriter, Operation *op,
                       const AttentionShape &s,
                       const CpuTargetDescription &target,
                       const AttentionTileSizes &sizes,
                       ValueRange qkv, ValueRange memory) {
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  Buffers bufs;
  bufs.q = toReadOnlyBuffer(b, b.getLoc(), qkv[0]);
  bufs.k = toReadOnlyBuffer(b, b.getLoc(), qkv[1]);
  bufs.v = toReadOnlyBuffer(b, b.getLoc(), qkv[2]);
  if (s.memoryRows > 0) {
    bufs.memK = toReadOnlyBuffer(b, b.getLoc(), memory[0]);
    bufs.memV = toReadOnlyBuffer(b, b.getLoc(), memory[1]);
  }
  AttentionKernel kernel(s, target, sizes);
  rewriter.replaceOp(
      op, kernel.emit(b, bufs, cast<RankedTensorType>(op->getResult(0).getType())));
}

struct GroupedAttentionToVector : OpRewritePattern<GroupedAttentionOp> {
  GroupedAttentionToVector(MLIRContext *ctx, const CpuTargetDescription &target,
                  AttentionTileSizes sizes)
      : OpRewritePattern(ctx), target(target), sizes(sizes) {}

  LogicalResult matchAndRewrite(GroupedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    AttentionShape s = commonShape(op.getQ(), op.getType(), op.getEffectiveScale());
    int64_t n = op.getGroupSizeAttr().getInt();
    s.groups = op.getQ().getType().getDimSize(2) / n;
    s.queriesPerGroup = s.keysPerGroup = n;
    s.lookback = op.getLookbackAttr().getInt();
    s.causal = op.getCausal();
    if (!op.getMemory().empty())
      s.memoryRows = op.getMemoryRowsPerGroup();
    replaceWithKernel(rewriter, op, s, target, sizes,
                      {op.getQ(), op.getK(), op.getV()}, op.getMemory());
    return success();
  }

  CpuTargetDescription target;
  AttentionTileSizes sizes;
};

struct LatentRouteToVector : OpRewritePattern<LatentRouteOp> {
  LatentRouteToVector(MLIRContext *ctx, const CpuTargetDescription &target,
                  AttentionTileSizes sizes)
      : OpRewritePattern(ctx), target(target), sizes(sizes) {}

  LogicalResult matchAndRewrite(LatentRouteOp op,
                                PatternRewriter &rewriter) const override {
    AttentionShape s = commonShape(op.getQ(), op.getType(), op.getEffectiveScale());
    s.isRoute = true;
    s.groups = op.getGroupsAttr().getInt();
    s.queriesPerGroup = op.getQ().getType().getDimSize(2) / s.groups;
    s.keysPerGroup = op.getK().getType().getDimSize(2) / s.groups;
    s.shift = op.getShiftAttr().getInt();
    replaceWithKernel(rewriter, op, s, target, sizes,
                      {op.getQ(), op.getK(), op.getV()}, {});
    return success();
  }

  CpuTargetDescription target;
  AttentionTileSizes sizes;
};

} // namespace

void mlir::loom::populateAttentionToVectorPatterns(
    RewritePatternSet &patterns, const CpuTargetDescription &target,
    const AttentionTileSizes &sizes) {
  patterns.add<GroupedAttentionToVector, LatentRouteToVector>(
      patterns.getContext(), target, sizes);
}
