//===- AttentionTileToVector.cpp - the CPU microkernel of attention_tile --===//
//
// A loom.attention_tile on memrefs (one batch row and head: q [M, D], k/v
// [K, D/E] and the optional memory rows, strided rows with a unit innermost
// stride, as tiling and bufferization leave them) becomes flash-style
// vector code. Per query tile of at most BM rows (a longer q is walked in
// such tiles):
//   1. the query tile is packed transposed and pre-scaled, QT[d][i], so that
//      the vector lanes run over queries;
//   2. each source (memory rows first, then keys) is walked in key blocks of
//      BN over the window the op's #loom.visibility gives the tile's rows
//      (`getWindow`): full blocks of the middle every row sees unmasked,
//      the masked head and tail lane by lane (`emitKeyEnd` /
//      `emitIsVisible` on the lanes' rows), the causal diagonal of a full
//      aligned tile as a triangle;
//   3. per block: ST[j][i] = QT . K^T by a register tile of KR keys x BM
//      queries (a broadcast key element times a query vector), the running
//      max and sum of an online softmax (all per lane, so no horizontal
//      reductions), P = exp(ST - max) with a polynomial exp, and
//      OT[e][i] = alpha * OT + V^T . P by a register tile of ER value columns
//      x BM queries;
//   4. writes out[i][e] = OT[e][i] / sum[i] (zero for a row that sees
//      nothing) through the out view.
// Scratch (QT, ST, OT, max, sum) lives on the stack, in an alloca_scope, a
// few tens of KB. The work split (one tile per scf.forall iteration over
// batch, head and query tile, heaviest first) is the tiling's. A tile whose
// rows all see one window of a few keys takes the few-keys microkernel
// (FewKeysTileToVector.cpp) instead.
//
//===----------------------------------------------------------------------===//

#include "FewKeysTile.h"
#include "GemmKernels.h"
#include "VectorMath.h"
#include "loom/Target/CPU/Kernels.h"
#include "CpuKernelBuilders.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;
using kernel::idx;

namespace {

/// Which lanes of a key block a score or P.V update masks: none (every row
/// of the tile sees every key), only the end bound (every key is past the
/// largest keyBegin of the tile: the tail of a window, the causal
/// diagonal), or both bounds (the head of a window that cuts groups).
enum class Mask { None, Tail, Window };

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

/// One source of keys of a tile: k/v rows [0, rows) are absolute key rows
/// offset + 0 .. offset + rows - 1, seen as `visibility` says.
struct KeySource {
  Value keys, values;
  VisibilityAttr visibility;
  Value offset, rows;
};

/// What the score tiles of a block's first lane-vector chunk prefetch (see
/// emitScoreRows): the same rows of the next key block of k and v (from
/// local key row `nextBlock` on) or, with `previousWindow` (always) or
/// `previousWindowIf` (an i1, at run time), of the window before the view
/// (from `windowBlock`, a row before it, reached through `flatKeys` /
/// `flatValues`).
struct BlockPrefetch {
  Value nextBlock, keys, values;
  bool previousWindow = false;
  Value previousWindowIf, windowBlock;
  FlatRows flatKeys, flatValues;
};

class AttentionTileKernel {
public:
  AttentionTileKernel(AttentionTileOp op, const CpuTargetDescription &target,
                      const AttentionTileSizes &sizes, int64_t rowBound)
      : target(target), lanes(target.lanes()) {
    rowsInGroup = op.getRowsInGroup();
    width = cast<MemRefType>(op.getQ().getType()).getDimSize(1);
    valueWidth = cast<MemRefType>(op.getV().getType()).getDimSize(1);
    scale = op.getScale().convertToFloat();
    // The options and the target's L1 bound the tile and the key block;
    // a tile is no taller than the op's rows need.
    int64_t cacheRows = l1Rows(target, width, valueWidth);
    tileRows = std::max(
        lanes, std::min({sizes.queryTile, int64_t(llvm::alignTo(rowBound, lanes)),
                         cacheRows - cacheRows % lanes}));
    vecs = tileRows / lanes;
    int64_t block = op.getKeyBlock() ? int64_t(*op.getKeyBlock())
                                     : sizes.keyBlock;
    keyBlock = std::max<int64_t>(1, std::min(block, cacheRows));
    // Register tiles: KR key rows (S = Q.K^T) or ER value columns (P.V)
    // times a chunk of the query tile's lane vectors.
    scoreTile = chooseRegisterTile(target, vecs, keyBlock);
    valueTile = chooseRegisterTile(target, vecs, valueWidth);
    // The softmax keeps a running max and sum per lane vector, next to the
    // exp's temporaries.
    softmaxVecs = std::max<int64_t>(1, target.vectorRegisters / 16);
  }

  /// Emits the tile's code in place of `op`.
  void emit(ImplicitLocOpBuilder &b, AttentionTileOp op);

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
  Value exp(ImplicitLocOpBuilder &b, Value x) {
    return emitExpOfNonPositive(b, x);
  }
  /// The absolute rows of lane vector v of the tile, as i32 lanes.
  Value laneRows(ImplicitLocOpBuilder &b, int64_t v);
  /// Which lanes of lane vector v see local key row `key` of the current
  /// source, by the source's visibility (the lanes' bounds computed once
  /// per tile).
  Value laneSees(ImplicitLocOpBuilder &b, Value key, int64_t v, Mask mask);

  // --- a query tile --------------------------------------------------------
  void emitTile(ImplicitLocOpBuilder &b, ArrayRef<KeySource> sources);
  void emitSource(ImplicitLocOpBuilder &b, const KeySource &src);
  /// Whether rows [lo, hi) of `values` are all finite.
  Value emitAllFinite(ImplicitLocOpBuilder &b, Value values, Value lo,
                      Value hi);
  void emitPackQueries(ImplicitLocOpBuilder &b);
  void emitStoreOutput(ImplicitLocOpBuilder &b, ArrayRef<KeySource> sources);
  /// Whether the output may be written with streaming stores, lines
  /// written whole without being read for ownership first, when the view
  /// starts a line: a zmm vector is a line, every row starts one, and the
  /// output is, like a GEMM's that streams, the target's stream-l3s L3
  /// shares or more (gone from cache before anyone reads it).
  bool mayStreamOutput() const {
    if (target.lineFloats() != lanes)
      return false;
    auto type = cast<MemRefType>(out.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    return succeeded(type.getStridesAndOffset(strides, offset)) &&
           !ShapedType::isDynamic(strides[0]) && strides[0] % lanes == 0 &&
           kernel::viewedBufferBytes(out) >=
               target.streamFromL3Shares * target.l3Bytes;
  }
  /// Prefetches the next `rows` not yet asked-for rows of q and out before
  /// the tile (all that are left without `rows`).
  void emitAskNextTileRows(ImplicitLocOpBuilder &b,
                           std::optional<int64_t> rows);
  void emitKeyRange(ImplicitLocOpBuilder &b, Value keys, Value values,
                    Value lo, Value hi, Mask mask);
  void emitBlock(ImplicitLocOpBuilder &b, Value keys, Value values, Value j0,
                 Value count, std::optional<int64_t> staticCount, Mask mask);
  void emitDiagonalBlock(ImplicitLocOpBuilder &b, Value keys, Value values,
                         Value j0);
  SmallVector<Value> emitSoftmaxUpdate(ImplicitLocOpBuilder &b, Value keys,
                                       Value values, Value j0, Value count,
                                       ArrayRef<Value> blockMax);
  void emitValueUpdate(ImplicitLocOpBuilder &b, Value values, Value j0,
                       Value count, ArrayRef<Value> alpha, bool diagonal,
                       Mask mask);
  SmallVector<Value> emitScoreRows(ImplicitLocOpBuilder &b, Value keys,
                                   Value j0, Value r0, int64_t rows,
                                   Mask mask, ValueRange chunkMax,
                                   int64_t firstVec, int64_t numVecs,
                                   int64_t negInfBelow = 0,
                                   int64_t maskedVec = -1,
                                   const BlockPrefetch *prefetch = nullptr);
  void emitValueColumns(ImplicitLocOpBuilder &b, Value values, Value j0,
                        Value count, Value e0, int64_t cols,
                        ArrayRef<Value> alpha, bool diagonal, Mask mask,
                        int64_t firstVec, int64_t numVecs);

  const CpuTargetDescription &target;
  int64_t lanes;
  /// The op's rows_in_group: every row of the tile has the same window
  /// start and, without causality, the same end.
  bool rowsInGroup = false;
  int64_t width = 0, valueWidth = 0; // D, E
  float scale = 1.0f;
  int64_t tileRows, vecs, keyBlock, softmaxVecs;
  RegisterTile scoreTile, valueTile;

  // The op's query rows and output.
  Value q, out;
  // Per query tile: its first local row of q/out, its first absolute row,
  // its row count (at most tileRows).
  Value rowBase, firstRow, tileRowCount;
  Value qT, scores, accT, runMax, runSum; // stack scratch
  // q and out as flat rows, for prefetches before the view; per tile, the
  // rows before it that its thread's next tile holds, and how many of them
  // the tile has asked for so far (a stack scalar).
  FlatRows qRows, outRows;
  /// An i1 where the output rows may be written with streaming stores
  /// (mayStreamOutput): whether the out view starts a line, and its
  /// negation; null otherwise.
  Value streamOut, cachedOut;
  Value nextTileRows, nextTileRowsAsked;
  // Per source: its visibility, the absolute row of its local key 0 and
  // its last local key row.
  VisibilityAttr visibility;
  Value keyOffset, lastKey;
  // Per source: keyBegin and keyEnd of each lane's row (i32, tileRows),
  // computed once per tile so that a lane mask is a compare.
  SmallVector<Value> laneBegins, laneEnds;
  Value laneBegin, laneEnd;
  /// While set, the P.V update of masked blocks selects the visible lanes'
  /// sums rather than adding 0 * v (see emitAllFinite).
  bool selectMaskedValues = false;
  /// Per source: the tile is one whole group that sees one group of keys,
  /// so the next tile of its thread (the group before) sees the window
  /// before this one, which has as many rows (`windowRows`); each block
  /// prefetches its rows of that window through the flat views.
  bool prefetchPreviousWindow = false;
  /// Per source, for tiles in longer such groups: whether the tile starts
  /// its group (an i1), and so prefetches the window before as above.
  Value groupStartTile;
  Value windowRows;
  FlatRows windowKeys, windowValues;
};

Value AttentionTileKernel::laneRows(ImplicitLocOpBuilder &b, int64_t v) {
  auto i32Vec = VectorType::get({lanes}, b.getI32Type());
  Value row = arith::IndexCastOp::create(
      b, b.getI32Type(), arith::AddIOp::create(b, firstRow, idx(b, v * lanes)));
  return arith::AddIOp::create(
      b, vector::BroadcastOp::create(b, i32Vec, row), laneNumbers(b, lanes));
}

Value AttentionTileKernel::laneSees(ImplicitLocOpBuilder &b, Value key,
                                    int64_t v, Mask mask) {
  auto i32Vec = VectorType::get({lanes}, b.getI32Type());
  Value absolute = arith::IndexCastOp::create(
      b, b.getI32Type(), arith::AddIOp::create(b, key, keyOffset));
  Value keys = vector::BroadcastOp::create(b, i32Vec, absolute);
  Value at = idx(b, v * lanes);
  Value sees = arith::CmpIOp::create(
      b, arith::CmpIPredicate::slt, keys,
      vector::LoadOp::create(b, i32Vec, laneEnd, ValueRange{at}));
  if (mask != Mask::Window)
    return sees;
  return arith::AndIOp::create(
      b, sees,
      arith::CmpIOp::create(
          b, arith::CmpIPredicate::sge, keys,
          vector::LoadOp::create(b, i32Vec, laneBegin, ValueRange{at})));
}

void AttentionTileKernel::emit(ImplicitLocOpBuilder &b, AttentionTileOp op) {
  q = op.getQ();
  out = op.getOut();
  SmallVector<KeySource> sources;
  auto rowsOf = [&](Value buf) -> Value {
    int64_t size = cast<MemRefType>(buf.getType()).getDimSize(0);
    if (!ShapedType::isDynamic(size))
      return idx(b, size);
    return memref::DimOp::create(b, buf, 0);
  };
  if (!op.getMemory().empty())
    sources.push_back({op.getMemory()[0], op.getMemory()[1],
                       op.getMemoryVisibilityAttr(), op.getMemoryOffset(),
                       rowsOf(op.getMemory()[0])});
  sources.push_back({op.getK(), op.getV(), op.getVisibility(),
                     op.getKeyOffset(), rowsOf(op.getK())});
  Value rows = rowsOf(q);

  // The stack scratch of the tile, released when the op's code ends (the
  // op may sit in a loop).
  auto scope = memref::AllocaScopeOp::create(b, TypeRange{});
  Block *body = b.createBlock(&scope.getBodyRegion());
  b.setInsertionPointToStart(body);
  memref::AllocaScopeReturnOp::create(b);
  b.setInsertionPointToStart(body);
  Type f32Type = b.getF32Type();
  auto scratch = [&](ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, MemRefType::get(shape, f32Type),
                                    b.getI64IntegerAttr(64));
  };
  qT = scratch({width, tileRows});
  scores = scratch({keyBlock, tileRows});
  accT = scratch({valueWidth, tileRows});
  runMax = scratch({tileRows});
  runSum = scratch({tileRows});
  nextTileRowsAsked =
      memref::AllocaOp::create(b, MemRefType::get({1}, b.getIndexType()));
  qRows = flatRowsOf(b, q);
  outRows = flatRowsOf(b, out);
  streamOut = cachedOut = Value();
  if (mayStreamOutput()) {
    streamOut = kernel::startsLine(b, out);
    cachedOut = arith::XOrIOp::create(
        b, streamOut, arith::ConstantIntOp::create(b, b.getI1Type(), 1));
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    auto boundsType = MemRefType::get({tileRows}, b.getI32Type());
    laneBegins.push_back(
        memref::AllocaOp::create(b, boundsType, b.getI64IntegerAttr(64)));
    laneEnds.push_back(
        memref::AllocaOp::create(b, boundsType, b.getI64IntegerAttr(64)));
  }

  auto emitAt = [&](ImplicitLocOpBuilder &ib, Value start) {
    rowBase = start;
    firstRow = arith::AddIOp::create(ib, op.getQueryOffset(), start);
    tileRowCount = arith::MinUIOp::create(
        ib, idx(ib, tileRows), arith::SubIOp::create(ib, rows, start));
    emitTile(ib, sources);
  };
  std::optional<int64_t> staticRows = getConstantIntValue(rows);
  if (staticRows && *staticRows <= tileRows) {
    emitAt(b, idx(b, 0));
  } else {
    forLoop(b, idx(b, 0), rows, idx(b, tileRows), {},
            [&](ImplicitLocOpBuilder &ib, Value start, ValueRange) {
              emitAt(ib, start);
              return SmallVector<Value>{};
            });
  }
}

void AttentionTileKernel::emitTile(ImplicitLocOpBuilder &b,
                                   ArrayRef<KeySource> sources) {
  emitPackQueries(b);
  // The tiling hands tiles out last to first: the next tile of this thread
  // most likely holds the rows just before this one (those at absolute
  // rows >= 0). The score tiles ask for its queries and output lines a few
  // rows at a time (emitAskNextTileRows); each output store would
  // otherwise wait for its line to be read for ownership.
  nextTileRows = arith::MinUIOp::create(b, firstRow, idx(b, tileRows));
  memref::StoreOp::create(b, idx(b, 0), nextTileRowsAsked,
                          ValueRange{idx(b, 0)});

  // Accumulator, running max and running sum.
  Value zero = idx(b, 0), one = idx(b, 1);
  forLoop(b, zero, idx(b, valueWidth), one, {},
          [&](ImplicitLocOpBuilder &ib, Value e, ValueRange) {
            for (int64_t v = 0; v < vecs; ++v)
              vector::StoreOp::create(ib, splat(ib, 0.0f), accT,
                                      ValueRange{e, idx(ib, v * lanes)});
            return SmallVector<Value>{};
          });
  for (int64_t v = 0; v < vecs; ++v) {
    vector::StoreOp::create(
        b, splat(b, -std::numeric_limits<float>::infinity()), runMax,
        ValueRange{idx(b, v * lanes)});
    vector::StoreOp::create(b, splat(b, 0.0f), runSum,
                            ValueRange{idx(b, v * lanes)});
  }
  // Memory rows first, then the keys: one softmax over both.
  for (auto [i, src] : llvm::enumerate(sources)) {
    // Each lane's key bounds by the rule, for the lane masks.
    laneBegin = laneBegins[i];
    laneEnd = laneEnds[i];
    for (int64_t v = 0; v < vecs; ++v) {
      Value rows = laneRows(b, v);
      vector::StoreOp::create(
          b, src.visibility.emitKeyBegin(b, b.getLoc(), rows), laneBegin,
          ValueRange{idx(b, v * lanes)});
      vector::StoreOp::create(
          b, src.visibility.emitKeyEnd(b, b.getLoc(), rows), laneEnd,
          ValueRange{idx(b, v * lanes)});
    }
    emitSource(b, src);
  }
  // Whatever the score tiles left (a tile of masked keys only).
  emitAskNextTileRows(b, std::nullopt);
  emitStoreOutput(b, sources);
}

void AttentionTileKernel::emitAskNextTileRows(ImplicitLocOpBuilder &b,
                                              std::optional<int64_t> rows) {
  Value zero = idx(b, 0), one = idx(b, 1);
  Value asked = memref::LoadOp::create(b, nextTileRowsAsked, ValueRange{zero});
  Value upTo = rows ? arith::MinUIOp::create(
                          b, arith::AddIOp::create(b, asked, idx(b, *rows)),
                          nextTileRows)
                    : nextTileRows;
  // Rows rowBase - back for back in (asked, upTo], through the buffers'
  // bases: they lie before the views (a prefetch never faults).
  forLoop(
      b, arith::AddIOp::create(b, asked, one),
      arith::AddIOp::create(b, upTo, one), one, {},
      [&](ImplicitLocOpBuilder &ib, Value back, ValueRange) {
        Value row = arith::SubIOp::create(ib, rowBase, back);
        auto ask = [&](ImplicitLocOpBuilder &pb, const FlatRows &rowsOf,
                       int64_t cols, bool isWrite) {
          Value start = arith::AddIOp::create(
              pb, rowsOf.offset, arith::MulIOp::create(pb, row, rowsOf.stride));
          for (int64_t c = 0; c < cols; c += target.lineFloats())
            memref::PrefetchOp::create(
                pb, rowsOf.flat,
                ValueRange{arith::AddIOp::create(pb, start, idx(pb, c))},
                isWrite, /*localityHint=*/2, /*isDataCache=*/true);
        };
        ask(ib, qRows, width, /*isWrite=*/false);
        // Streamed output lines are not read: not asked for either.
        if (!streamOut) {
          ask(ib, outRows, valueWidth, /*isWrite=*/true);
        } else {
          kernel::ifThen(ib, cachedOut, [&](ImplicitLocOpBuilder &pb) {
            ask(pb, outRows, valueWidth, /*isWrite=*/true);
          });
        }
        return SmallVector<Value>{};
      });
  memref::StoreOp::create(b, upTo, nextTileRowsAsked, ValueRange{zero});
}

/// `x` clamped to the source's rows [offset, offset + rows), made local.
static Value localKey(ImplicitLocOpBuilder &b, OpFoldResult x,
                      const KeySource &src) {
  Value v = getValueOrCreateConstantIndexOp(b, b.getLoc(), x);
  Value end = arith::AddIOp::create(b, src.offset, src.rows);
  v = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, v, src.offset), end);
  return arith::SubIOp::create(b, v, src.offset);
}

void AttentionTileKernel::emitSource(ImplicitLocOpBuilder &b,
                                     const KeySource &src) {
  visibility = src.visibility;
  keyOffset = src.offset;
  lastKey = arith::SubIOp::create(
      b, arith::MaxSIOp::create(b, src.rows, idx(b, 1)), idx(b, 1));
  // The window the rule gives the tile's rows, in local key rows:
  // [begin, fullBegin) masked head, [fullBegin, fullEnd) seen by every row,
  // [fullEnd, end) masked tail (only the end bound can exclude a key there).
  KeyWindowValues w =
      visibility.getWindow(b, b.getLoc(), firstRow, tileRowCount);
  Value begin = localKey(b, w.begin, src);
  Value fullBegin = localKey(b, w.fullBegin, src);
  Value fullEnd = localKey(b, w.fullEnd, src);
  Value end = localKey(b, w.end, src);
  bool causal = visibility.getCausal();
  // A tile of one whole group over one group of keys (FIT's push: 32
  // queries over 256 keys) uses each key for few queries, and its k and v
  // stream from memory: one block ahead left half the time in misses once
  // k and v outgrew L3 (Zen 4, L >= 8K). Such a tile prefetches the whole
  // window of the group before (its thread's next tile) into L2 instead.
  // A tile that starts a longer group (grouped n = 256: four tiles) runs
  // before its thread moves to the group before, whose keys are as cold:
  // at run time, such a tile does the same; the group's other tiles
  // prefetch the next block.
  bool wholeWindows = rowsInGroup && !causal && visibility.getLookback() == 0;
  prefetchPreviousWindow =
      wholeWindows && visibility.getQueriesPerGroup() <= tileRows;
  groupStartTile = Value();
  if (wholeWindows && !prefetchPreviousWindow)
    groupStartTile = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, firstRow,
                               idx(b, visibility.getQueriesPerGroup())),
        idx(b, 0));
  if (wholeWindows) {
    windowRows = arith::AddIOp::create(b, lastKey, idx(b, 1));
    windowKeys = flatRowsOf(b, src.keys);
    windowValues = flatRowsOf(b, src.values);
  }
  // Without a lookback bound every row's window starts at 0: no head.
  bool hasHead = visibility.getLookback() >= 0;

  // Full unmasked blocks of the middle.
  Value blockC = idx(b, keyBlock);
  Value fullBlocks = arith::DivUIOp::create(
      b, arith::SubIOp::create(b, fullEnd, fullBegin), blockC);
  Value blocksEnd = arith::AddIOp::create(
      b, fullBegin, arith::MulIOp::create(b, fullBlocks, blockC));
  forLoop(b, fullBegin, blocksEnd, blockC, {},
          [&](ImplicitLocOpBuilder &ib, Value j0, ValueRange) {
            emitBlock(ib, src.keys, src.values, j0, idx(ib, keyBlock),
                      keyBlock, Mask::None);
            return SmallVector<Value>{};
          });
  // Causal: the rest of the middle joins the diagonal's masked blocks;
  // otherwise it is one more unmasked block.
  Value tailStart = causal ? blocksEnd : fullEnd;
  // Rows in one group without a lookback see exactly one group of keys (or
  // none, before a shift): the rest of the middle has a static size.
  std::optional<int64_t> staticRest;
  if (rowsInGroup && !causal && visibility.getLookback() == 0)
    staticRest = visibility.getKeysPerGroup() % keyBlock;
  if (!causal && staticRest) {
    if (*staticRest != 0)
      kernel::ifThen(
          b,
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, blocksEnd,
                                fullEnd),
          [&](ImplicitLocOpBuilder &ib) {
            emitBlock(ib, src.keys, src.values, blocksEnd,
                      idx(ib, *staticRest), *staticRest, Mask::None);
          });
  } else if (!causal) {
    emitKeyRange(b, src.keys, src.values, blocksEnd, fullEnd, Mask::None);
  }
  // Rows in one group see one window start (no masked head) and, without
  // causality, one window end (no masked tail).
  if (rowsInGroup && !causal)
    return;

  // The masked head (a tile that cuts groups under a lookback) and, without
  // causality, the masked tail (a tile that cuts groups) are empty for
  // tiles that hold whole groups or parts of one, as loom-tile-attention
  // cuts them: they take the P.V update that selects the visible lanes
  // (see emitAllFinite), in one loop over both ranges, and add little code.
  auto emitRare = [&](ImplicitLocOpBuilder &rb, bool withTail) {
    selectMaskedValues = true;
    if (hasHead && withTail) {
      forLoop(rb, idx(rb, 0), idx(rb, 2), idx(rb, 1), {},
              [&](ImplicitLocOpBuilder &ib, Value part, ValueRange) {
                Value head = arith::CmpIOp::create(
                    ib, arith::CmpIPredicate::eq, part, idx(ib, 0));
                Value lo = arith::SelectOp::create(ib, head, begin, tailStart);
                Value hi = arith::SelectOp::create(ib, head, fullBegin, end);
                emitKeyRange(ib, src.keys, src.values, lo, hi, Mask::Window);
                return SmallVector<Value>{};
              });
    } else if (hasHead) {
      emitKeyRange(rb, src.keys, src.values, begin, fullBegin, Mask::Window);
    } else if (withTail) {
      emitKeyRange(rb, src.keys, src.values, tailStart, end, Mask::Tail);
    }
    selectMaskedValues = false;
  };
  if (!causal) {
    emitRare(b, /*withTail=*/true);
    return;
  }
  if (!rowsInGroup)
    emitRare(b, /*withTail=*/false);

  // Causal: the diagonal's masked blocks, every tile has them.
  auto emitMaskedKeys = [&](ImplicitLocOpBuilder &mb) {
    if (tileRows > keyBlock) {
      emitKeyRange(mb, src.keys, src.values, tailStart, end, Mask::Tail);
      return;
    }
    // A full tile whose diagonal starts a key block (the common case: the
    // group size a multiple of the key block) skips the masked-out half of
    // it; any other tile masks its last blocks lane by lane.
    Value diagonal = arith::SubIOp::create(mb, firstRow, keyOffset);
    Value aligned = arith::AndIOp::create(
        mb,
        arith::AndIOp::create(
            mb,
            arith::CmpIOp::create(mb, arith::CmpIPredicate::eq, tailStart,
                                  diagonal),
            arith::CmpIOp::create(mb, arith::CmpIPredicate::eq, tileRowCount,
                                  idx(mb, tileRows))),
        arith::CmpIOp::create(
            mb, arith::CmpIPredicate::eq, end,
            arith::AddIOp::create(mb, diagonal, idx(mb, tileRows))));
    kernel::ifThen(
        mb, aligned,
        [&](ImplicitLocOpBuilder &ib) {
          emitDiagonalBlock(ib, src.keys, src.values, diagonal);
        },
        [&](ImplicitLocOpBuilder &ib) {
          emitKeyRange(ib, src.keys, src.values, tailStart, end, Mask::Tail);
        });
  };
  // A masked key's probability is 0, and 0 * v is NaN for an infinite v:
  // when a value row of the masked range is not finite (never in
  // practice), the P.V update selects instead of multiplying by 0, on the
  // plain masked blocks (no second copy of the diagonal's code).
  kernel::ifThen(
      b, emitAllFinite(b, src.values, tailStart, end), emitMaskedKeys,
      [&](ImplicitLocOpBuilder &ib) {
        selectMaskedValues = true;
        emitKeyRange(ib, src.keys, src.values, tailStart, end, Mask::Tail);
        selectMaskedValues = false;
      });
}

Value AttentionTileKernel::emitAllFinite(ImplicitLocOpBuilder &b, Value values,
                                     Value lo, Value hi) {
  // x * 0 is 0 for a finite x and NaN otherwise; one FMA per vector.
  int64_t width = valueWidth, full = width - width % lanes;
  Value zeros = splat(b, 0.0f);
  SmallVector<Value> acc = forLoop(
      b, lo, hi, idx(b, 1), {zeros},
      [&](ImplicitLocOpBuilder &ib, Value r, ValueRange acc) {
        Value sum = acc[0];
        for (int64_t e = 0; e < full; e += lanes)
          sum = vector::FMAOp::create(
              ib,
              loadVec(ib, values, ValueRange{r, idx(ib, e)}),
              zeros, sum);
        for (int64_t e = full; e < width; ++e) {
          Value x =
              memref::LoadOp::create(ib, values, ValueRange{r, idx(ib, e)});
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


/// QT[d][i] = scale * q[row0 + i][d], lanes x lanes blocks at a time
/// through a register transpose. Padding lanes repeat the tile's last row:
/// finite values whose results are never stored, and no read past the
/// buffer.
void AttentionTileKernel::emitPackQueries(ImplicitLocOpBuilder &b) {
  emitTransposedPack(b, lanes, q, rowBase, tileRowCount, tileRows, scale, qT);
}

/// out[row0 + i][e] = OT[e][i] / sum[i] for the tile's real rows; a row
/// that sees no key of any source gets zeros. A row whose scores were all
/// -inf (an infinite q) has sum 0 and gets 0 * inf = NaN, as its softmax
/// is. Transposed back lanes x lanes blocks at a time.
void AttentionTileKernel::emitStoreOutput(ImplicitLocOpBuilder &b,
                                          ArrayRef<KeySource> sources) {
  SmallVector<Value> inv;
  // 64-bit lanes: a rule's shift or lookback may be near the i32 range.
  auto i64Vec = VectorType::get({lanes}, b.getI64Type());
  auto i64 = [&](Value x) -> Value {
    return vector::BroadcastOp::create(
        b, i64Vec, arith::IndexCastOp::create(b, b.getI64Type(), x));
  };
  Value lanes64 = laneNumbers(b, lanes, /*bits=*/64);
  for (int64_t v = 0; v < vecs; ++v) {
    Value off = idx(b, v * lanes);
    Value sum = loadVec(b, runSum, off);
    inv.push_back(arith::DivFOp::create(b, splat(b, 1.0f), sum));
    // Lanes whose rows see no key of any source (by the rule, within the
    // rows each source holds).
    Value rows = arith::AddIOp::create(
        b, i64(arith::AddIOp::create(b, firstRow, idx(b, v * lanes))),
        lanes64);
    Value empty;
    for (const KeySource &src : sources) {
      Value lo = arith::MaxSIOp::create(
          b, src.visibility.emitKeyBegin(b, b.getLoc(), rows), i64(src.offset));
      Value hi = arith::MinSIOp::create(
          b, src.visibility.emitKeyEnd(b, b.getLoc(), rows),
          i64(arith::AddIOp::create(b, src.offset, src.rows)));
      Value none = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, hi, lo);
      empty = empty ? arith::AndIOp::create(b, empty, none).getResult() : none;
    }
    inv.back() =
        arith::SelectOp::create(b, empty, splat(b, 0.0f), inv.back());
    // Kept for the scalar tail below.
    vector::StoreOp::create(b, inv.back(), runSum, off);
  }
  int64_t fullCols = valueWidth - valueWidth % lanes;
  auto storeAll = [&](ImplicitLocOpBuilder &b, bool streaming) {
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
              Value real = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                                 i, tileRowCount);
              kernel::ifThen(ib, real, [&](ImplicitLocOpBuilder &tb) {
                SmallVector<Value, 2> at{arith::AddIOp::create(tb, rowBase, i),
                                         e0};
                if (streaming)
                  kernel::storeStreaming(tb, rows[l], out, at);
                else
                  vector::StoreOp::create(tb, rows[l], out, at);
              });
            }
          }
          return SmallVector<Value>{};
        });
  };
  // As the GEMM's: no fence after streaming stores, since x86 orders them
  // with the locked instructions of the parallel region's closing barrier.
  if (streamOut)
    kernel::storeBranches(b, streamOut, storeAll);
  else
    storeAll(b, /*streaming=*/false);
  if (fullCols == valueWidth)
    return;
  forLoop(b, idx(b, 0), tileRowCount, idx(b, 1), {},
          [&](ImplicitLocOpBuilder &ib, Value i, ValueRange) {
            Value rowScale = memref::LoadOp::create(ib, runSum, ValueRange{i});
            Value row = arith::AddIOp::create(ib, rowBase, i);
            for (int64_t e = fullCols; e < valueWidth; ++e) {
              Value o = memref::LoadOp::create(ib, accT,
                                               ValueRange{idx(ib, e), i});
              memref::StoreOp::create(ib, arith::MulFOp::create(ib, o, rowScale),
                                      out, ValueRange{row, idx(ib, e)});
            }
            return SmallVector<Value>{};
          });
}

/// Keys [lo, hi) in blocks of at most keyBlock.
void AttentionTileKernel::emitKeyRange(ImplicitLocOpBuilder &b, Value keys,
                                   Value values, Value lo, Value hi,
                                   Mask mask) {
  forLoop(b, lo, hi, idx(b, keyBlock), {},
          [&](ImplicitLocOpBuilder &ib, Value j0, ValueRange) {
            Value count = arith::MinUIOp::create(
                ib, idx(ib, keyBlock), arith::SubIOp::create(ib, hi, j0));
            emitBlock(ib, keys, values, j0, count, std::nullopt, mask);
            return SmallVector<Value>{};
          });
}

void AttentionTileKernel::emitBlock(ImplicitLocOpBuilder &b, Value keys,
                                Value values, Value j0, Value count,
                                std::optional<int64_t> staticCount,
                                Mask mask) {
  Value zero = idx(b, 0);
  SmallVector<Value> blockMax(vecs, splat(b, -std::numeric_limits<float>::infinity()));
  // The score tiles prefetch the next block of k and v.
  BlockPrefetch prefetch;
  prefetch.keys = keys;
  prefetch.values = values;
  if (!prefetchPreviousWindow)
    prefetch.nextBlock = arith::AddIOp::create(b, j0, count);
  if (prefetchPreviousWindow || groupStartTile) {
    // Row j of this block asks for row j of the window before the view.
    prefetch.previousWindow = prefetchPreviousWindow;
    prefetch.previousWindowIf = groupStartTile;
    prefetch.windowBlock = arith::SubIOp::create(b, j0, windowRows);
    prefetch.flatKeys = windowKeys;
    prefetch.flatValues = windowValues;
  }
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
                                              mask, acc, v0, nv, 0, -1,
                                              &prefetch);
                       });
    // The last count % KR key rows: one smaller register tile when the
    // count is static; one key row at a time when it is only known at run
    // time (a masked head or tail, never more than KR - 1 rows per block:
    // a switch over every remainder's tile was most of the code of the
    // kernels with such ranges).
    if (staticCount) {
      if (int64_t rem = *staticCount % keyRegRows)
        chunkMax = emitScoreRows(b, keys, j0, chunkEnd, rem, mask, chunkMax,
                                 v0, nv, 0, -1, &prefetch);
    } else if (keyRegRows > 1) {
      chunkMax = forLoop(b, chunkEnd, count, idx(b, 1), chunkMax,
                         [&](ImplicitLocOpBuilder &ib, Value r0,
                             ValueRange acc) {
                           return emitScoreRows(ib, keys, j0, r0, 1, mask,
                                                acc, v0, nv, 0, -1,
                                                &prefetch);
                         });
    }
    llvm::copy(chunkMax, blockMax.begin() + v0);
  }

  SmallVector<Value> alpha =
      emitSoftmaxUpdate(b, keys, values, j0, count, blockMax);
  emitValueUpdate(b, values, j0, count, alpha, /*diagonal=*/false, mask);
}

/// The tile's own lanes*vecs keys when the tile is full and starts a key
/// block: key row lanes*c + r is seen by lane vectors c (masked) and above
/// (unmasked) only, so lower vectors are neither scored nor updated.
void AttentionTileKernel::emitDiagonalBlock(ImplicitLocOpBuilder &b,
                                            Value keys, Value values,
                                            Value j0) {
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
        chunkMax = emitScoreRows(b, keys, j0, idx(b, r), rows, Mask::Tail,
                                 chunkMax, v0, nv,
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
      emitSoftmaxUpdate(b, keys, values, j0, count, blockMax);
  emitValueUpdate(b, values, j0, count, alpha, /*diagonal=*/true,
                  Mask::Tail);
}

/// Online softmax over the block's scores: the new running max, the factor
/// alpha that rescales what came before, P = exp(S - max) in place of S,
/// and the running sum. Returns alpha.
SmallVector<Value> AttentionTileKernel::emitSoftmaxUpdate(
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
  // A lane vector at a time on a 16-register target (two on 32), so that
  // its max and sum and the exp's constants and temporaries stay in
  // registers (two on AVX2 spilled, and the pass took 10 cycles per exp).
  for (auto [first, size] : chunkVectors(0, vecs, softmaxVecs)) {
    int64_t v0 = first, nv = size;
    SmallVector<Value> zeros(nv, splat(b, 0.0f));
    SmallVector<Value> blockSum = forLoop(
        b, zero, count, one, zeros,
        [&](ImplicitLocOpBuilder &ib, Value r, ValueRange acc) {
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
void AttentionTileKernel::emitValueUpdate(ImplicitLocOpBuilder &b, Value values,
                                      Value j0, Value count,
                                      ArrayRef<Value> alpha, bool diagonal,
                                      Mask mask) {
  for (auto [first, size] : chunkVectors(0, vecs, valueTile.vectors)) {
    int64_t v0 = first, nv = size;
    int64_t valueRegRows = rowsForVectors(target, nv, valueWidth);
    int64_t fullCols = valueWidth - valueWidth % valueRegRows;
    forLoop(b, idx(b, 0), idx(b, fullCols), idx(b, valueRegRows), {},
            [&](ImplicitLocOpBuilder &ib, Value e0, ValueRange) {
              emitValueColumns(ib, values, j0, count, e0, valueRegRows, alpha,
                               diagonal, mask, v0, nv);
              return SmallVector<Value>{};
            });
    if (fullCols != valueWidth)
      emitValueColumns(b, values, j0, count, idx(b, fullCols),
                       valueWidth - fullCols, alpha, diagonal, mask, v0, nv);
  }
}

/// Scores of key rows j0+r0 .. j0+r0+rows-1 against lane vectors
/// [firstVec, firstVec + numVecs) of the query tile, stored to ST; vectors
/// below negInfBelow get -inf (the causal diagonal: they cannot see these
/// keys), only vector maskedVec (every vector when it is -1) is masked
/// lane by lane. With `prefetch`, the first chunk's tile also prefetches
/// the same rows of the next block. Returns the chunk's updated per-lane
/// block max (nothing when `chunkMax` is empty).
SmallVector<Value> AttentionTileKernel::emitScoreRows(
    ImplicitLocOpBuilder &b, Value keys, Value j0, Value r0, int64_t rows,
    Mask mask, ValueRange chunkMax, int64_t firstVec, int64_t numVecs,
    int64_t negInfBelow, int64_t maskedVec, const BlockPrefetch *prefetch) {
  Value firstKey = arith::AddIOp::create(b, j0, r0);
  SmallVector<Value> keyRows;
  for (int64_t rr = 0; rr < rows; ++rr)
    keyRows.push_back(arith::AddIOp::create(b, firstKey, idx(b, rr)));
  // K/V stream from memory once per tile, and the hardware prefetcher
  // alone leaves much of that latency exposed: the first chunk's tile of
  // key rows r0.. asks for the same rows of the next block of k and v. A
  // score tile runs for hundreds of cycles, so its few prefetches cost
  // little; issued all at once in the softmax pass they made it several
  // times slower (AVX2: full causal 5 % faster without them there). The
  // next tile's q and out rows are spread the same way, as many rows as the
  // tile has key rows until all are asked for: all at once at the tile's
  // start, they left grouped n = 256 and BSWA 2-5 % slower at L = 16K.
  if (prefetch && firstVec == 0)
    emitAskNextTileRows(b, rows);
  auto askWindowBefore = [&](ImplicitLocOpBuilder &ib) {
    for (int64_t rr = 0; rr < rows; ++rr) {
      Value row =
          arith::AddIOp::create(ib, prefetch->windowBlock,
                                arith::AddIOp::create(ib, r0, idx(ib, rr)));
      for (auto [rowsOf, cols] :
           {std::pair(prefetch->flatKeys, width),
            std::pair(prefetch->flatValues, valueWidth)}) {
        Value start = arith::AddIOp::create(
            ib, rowsOf.offset, arith::MulIOp::create(ib, row, rowsOf.stride));
        for (int64_t c = 0; c < cols; c += target.lineFloats()) {
          // Never before the buffer's first element (the first group).
          Value at = arith::MaxSIOp::create(
              ib, arith::AddIOp::create(ib, start, idx(ib, c)), idx(ib, 0));
          // Into L2 only: a tile's worth of rows would evict the
          // current tile's from L1.
          memref::PrefetchOp::create(ib, rowsOf.flat, ValueRange{at},
                                     /*isWrite=*/false, /*localityHint=*/2,
                                     /*isDataCache=*/true);
        }
      }
    }
  };
  auto askNextBlock = [&](ImplicitLocOpBuilder &ib) {
    for (int64_t rr = 0; rr < rows; ++rr) {
      Value ahead = arith::MinUIOp::create(
          ib,
          arith::AddIOp::create(ib, prefetch->nextBlock,
                                arith::AddIOp::create(ib, r0, idx(ib, rr))),
          lastKey);
      for (auto [buf, cols] : {std::pair(prefetch->keys, width),
                               std::pair(prefetch->values, valueWidth)})
        for (int64_t c = 0; c < cols; c += target.lineFloats())
          memref::PrefetchOp::create(ib, buf, ValueRange{ahead, idx(ib, c)},
                                     /*isWrite=*/false, /*localityHint=*/3,
                                     /*isDataCache=*/true);
    }
  };
  if (prefetch && firstVec == 0) {
    if (prefetch->previousWindow) {
      askWindowBefore(b);
    } else if (prefetch->previousWindowIf) {
      kernel::ifThen(b, prefetch->previousWindowIf, askWindowBefore,
                     askNextBlock);
    } else {
      askNextBlock(b);
    }
  }
  int64_t nv = numVecs;
  SmallVector<Value> zeros(rows * nv, splat(b, 0.0f));
  // Per d: query vectors of QT[d] times broadcast k[key][d].
  SmallVector<Value> acc = emitBroadcastFmaLoop(
      b, idx(b, 0), idx(b, width), zeros, rows, nv,
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t v) {
        return loadVec(ib, qT, ValueRange{d, idx(ib, (firstVec + v) * lanes)});
      },
      [&](ImplicitLocOpBuilder &ib, Value d, int64_t rr) -> Value {
        return memref::LoadOp::create(ib, keys, ValueRange{keyRows[rr], d});
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
      if (mask != Mask::None && (maskedVec < 0 || v == maskedVec))
        score = arith::SelectOp::create(
            b, laneSees(b, keyRows[rr], v, mask), score, negInf);
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
void AttentionTileKernel::emitValueColumns(ImplicitLocOpBuilder &b, Value values,
                                       Value j0, Value count, Value e0,
                                       int64_t cols, ArrayRef<Value> alpha,
                                       bool diagonal, Mask mask,
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
              ValueRange{arith::AddIOp::create(ib, j0, r), cols_[c]});
        },
        selectMaskedValues && mask != Mask::None
            ? TileMask([&](ImplicitLocOpBuilder &ib, Value r,
                           int64_t v) -> Value {
                return laneSees(ib, arith::AddIOp::create(ib, j0, r),
                                from + v, mask);
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

/// Why the kernel cannot take `op`, or "" when it can.
std::string unsupportedReason(AttentionTileOp op) {
  if (op.getNumResults() != 0)
    return "expects the op on memrefs (after bufferization)";
  if (op.getBatchRank() != 0)
    return "expects a tile of one batch row and head (no batch dims)";
  SmallVector<Value> operands{op.getQ(), op.getK(), op.getV(), op.getOut()};
  llvm::append_range(operands, op.getMemory());
  for (Value operand : operands) {
    auto type = cast<MemRefType>(operand.getType());
    if (type.isDynamicDim(1))
      return "expects static widths D and E";
    if (!type.isLastDimUnitStride())
      return "expects rows with a unit innermost stride";
  }
  return "";
}

/// Static upper bound of the op's query rows, if any.
std::optional<int64_t> rowBound(AttentionTileOp op) {
  int64_t rows = cast<MemRefType>(op.getQ().getType()).getDimSize(0);
  if (!ShapedType::isDynamic(rows))
    return rows;
  FailureOr<int64_t> bound = ValueBoundsConstraintSet::computeConstantBound(
      presburger::BoundType::UB,
      ValueBoundsConstraintSet::Variable(op.getQ(), 0), nullptr,
      /*closedUB=*/true);
  if (failed(bound))
    return std::nullopt;
  return *bound;
}

} // namespace

LogicalResult mlir::loom::lowerAttentionTileToVector(
    RewriterBase &rewriter, AttentionTileOp op,
    const CpuTargetDescription &target, const AttentionTileSizes &sizes) {
  if (op.getNumResults() == 0) {
    // D or E of 1 may come as a view whose one column has another stride.
    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder vb(op.getLoc(), rewriter);
    for (OpOperand &operand : op->getOpOperands())
      if (Value unit = kernel::withUnitInnermostStride(vb, operand.get());
          unit != operand.get())
        rewriter.modifyOpInPlace(op, [&] { operand.set(unit); });
  }
  std::string reason = unsupportedReason(op);
  if (!reason.empty())
    return op.emitOpError() << "cannot be lowered to the CPU kernel: "
                            << reason;
  std::optional<int64_t> bound = rowBound(op);
  rewriter.setInsertionPoint(op);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  // Rows that all see one window of a few keys (FIT's pull) take the
  // keys-along-lanes microkernel; everything else the flash kernel.
  if (bound && fewKeysTileApplies(op, target, *bound)) {
    emitFewKeysTile(b, op, target, *bound);
  } else {
    AttentionTileKernel kernel(op, target, sizes,
                               bound.value_or(sizes.queryTile));
    kernel.emit(b, op);
  }
  rewriter.eraseOp(op);
  return success();
}
