//===- GemmKernels.cpp - the GEMM microkernels the CPU kernels share ------===//

#include "GemmKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::kernel;

int64_t mlir::loom::kernel::ceilDiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

namespace {

/// The register tile of `maxProduct` accumulators at most (and at least
/// `minProduct`) whose accumulators, `fixed + perA` operand registers per
/// unit of `a` and one spare fit in `registers`, with the most FMAs per
/// operand load, a*c/(a+c); ties go to more accumulators, then to the
/// smaller `a`. Returns (a, c).
std::pair<int64_t, int64_t> bestTile(int64_t registers, int64_t maxProduct,
                                     int64_t minProduct, bool aCostsRegisters) {
  std::pair<int64_t, int64_t> best{1, 1};
  double bestIntensity = -1;
  for (int64_t a = 1; a <= maxProduct; ++a)
    for (int64_t c = 1; a * c <= maxProduct; ++c) {
      // Operand registers: one per vector of the operand held across the
      // tile (a of them when a counts vectors, else c) plus one for the
      // other operand's current value.
      int64_t operands = (aCostsRegisters ? a : c) + 1;
      if (a * c < minProduct || a * c + operands > registers - 1)
        continue;
      double intensity = double(a * c) / double(a + c);
      auto [ba, bc] = best;
      bool better = intensity > bestIntensity + 1e-9 ||
                    (intensity > bestIntensity - 1e-9 &&
                     (a * c > ba * bc || (a * c == ba * bc && a < ba)));
      if (better) {
        best = {a, c};
        bestIntensity = intensity;
      }
    }
  return best;
}

int64_t largestPowerOfTwoAtMost(int64_t v) {
  int64_t p = 1;
  while (p * 2 <= v)
    p *= 2;
  return p;
}

} // namespace

GemmSchedule GemmSchedule::forTarget(const CpuTargetDescription &t) {
  GemmSchedule s;
  s.lanes = t.lanes();
  s.lineFloats = t.lineFloats();
  int64_t regs = t.vectorRegisters;
  // Enough independent accumulators to keep every FMA pipe busy, and room
  // for the operands: three quarters of the registers.
  s.accumulators = std::max(regs * 3 / 4, t.fmasInFlight());
  // Broadcast tile: `vecs` vectors of B stay in registers for all rows;
  // each row's broadcast scalar is used once per vector.
  auto [vecs, rows] = bestTile(regs, s.accumulators, t.fmasInFlight(),
                               /*aCostsRegisters=*/true);
  s.vecs = vecs;
  s.rows = rows;
  // Vector tile: `vrows` vectors of h stay in registers for all columns.
  auto [vrows, vcols] = bestTile(regs, s.accumulators, t.fmasInFlight(),
                                 /*aCostsRegisters=*/true);
  s.vrows = vrows;
  s.vcols = vcols;
  int64_t bytes = 4;
  s.vreduceChunk = largestPowerOfTwoAtMost(
      std::max<int64_t>(1, t.l1Bytes / 2 / (s.vcols * s.lanes * bytes)));
  // Work items of 16 register tiles of rows, whole tiles of both factors.
  s.rowTile = 16 * s.rows;
  s.rowTile = ceilDiv(s.rowTile, s.vrows) * s.vrows;
  s.kc = std::max<int64_t>(
      s.lanes, t.l1Bytes / 2 / (s.groupCols() * bytes) / s.lanes * s.lanes);
  s.kcWhole = std::max<int64_t>(
      s.kc, 3 * t.l1Bytes / 4 / (s.groupCols() * bytes) / s.lanes * s.lanes);
  // The whole next panel on top of the current one fills L1 (each is half
  // of it): one line per micro kernel made the GEMMs 3-4 % faster than the
  // whole panel on AVX2 (Zen 3) and 4-8 % faster on AVX-512 (Intel Xeon,
  // 48 KiB L1), docs/dense.md.
  s.panelPrefetchLines = 1;
  s.tileM = s.rowTile;
  s.tileN = s.groupCols();
  while (s.tileN * 2 <= 512 && s.tileM * s.tileN * 2 * bytes <= t.l2Bytes / 4)
    s.tileN *= 2;
  s.maxPackedBytes = 2 * t.l1Bytes;
  s.streamOutBytes = t.l3Bytes;
  s.farPanelBytes = t.l3Bytes;
  s.gemmStreamOutBytes = t.streamFromL3Shares * t.l3Bytes;
  s.hChunkBytes = 3 * t.l2Bytes / 2;
  return s;
}

int64_t GemmSchedule::rowsForVecs(int64_t nvec) const {
  return std::max<int64_t>(1, std::min(accumulators / nvec, accumulators / 2));
}

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

void mlir::loom::kernel::forRange(
    ImplicitLocOpBuilder &b, int64_t n,
    function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  if (n <= 0)
    return;
  if (n == 1) {
    body(b, idx(b, 0));
    return;
  }
  scf::ForOp::create(b, idx(b, 0), idx(b, n), idx(b, 1), ValueRange{},
                     [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                       ImplicitLocOpBuilder ib(loc, nb);
                       body(ib, iv);
                       scf::YieldOp::create(ib);
                     });
}

void mlir::loom::kernel::parallelRowTiles(
    ImplicitLocOpBuilder &b, int64_t rows, int64_t rowTile, int64_t blocks,
    function_ref<void(ImplicitLocOpBuilder &, Value, int64_t, Value)> body) {
  int64_t tiles = ceilDiv(rows, rowTile);
  if (tiles == 0 || blocks == 0)
    return;
  int64_t lastRows = rows - (tiles - 1) * rowTile;
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)},
      ValueRange{idx(b, tiles), idx(b, blocks)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value t = ivs[0], blk = ivs[1];
        Value row0 = muli(ib, t, rowTile);
        if (tiles == 1 || lastRows == rowTile) {
          body(ib, row0, lastRows, blk);
          return;
        }
        Value isLast = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq, t,
                                             idx(ib, tiles - 1));
        ifThen(
            ib, isLast,
            [&](ImplicitLocOpBuilder &bb) { body(bb, row0, lastRows, blk); },
            [&](ImplicitLocOpBuilder &bb) { body(bb, row0, rowTile, blk); });
      });
}

void mlir::loom::kernel::forRowGroups(
    ImplicitLocOpBuilder &b, Value row0, int64_t rows, int64_t perTile,
    function_ref<void(ImplicitLocOpBuilder &, Value, int64_t)> body) {
  int64_t full = rows / perTile, rem = rows % perTile;
  forRange(b, full, [&](ImplicitLocOpBuilder &ib, Value s) {
    body(ib, arith::AddIOp::create(ib, row0, muli(ib, s, perTile)), perTile);
  });
  if (rem)
    body(b, addi(b, row0, full * perTile), rem);
}

//===----------------------------------------------------------------------===//
// Stores
//===----------------------------------------------------------------------===//

Value mlir::loom::kernel::laneMask(ImplicitLocOpBuilder &b, int64_t lanes,
                                   int64_t n) {
  return vector::ConstantMaskOp::create(
      b, VectorType::get({lanes}, b.getI1Type()), ArrayRef<int64_t>{n});
}

void mlir::loom::kernel::storeLanes(ImplicitLocOpBuilder &b,
                                    const GemmSchedule &s, Value v, Value base,
                                    ValueRange indices, int64_t n, Value mask) {
  if (!mask && n < s.lanes)
    mask = laneMask(b, s.lanes, n);
  if (mask)
    vector::MaskedStoreOp::create(b, base, indices, mask, v);
  else
    vector::StoreOp::create(b, v, base, indices);
}

void mlir::loom::kernel::storeStreaming(ImplicitLocOpBuilder &b, Value v,
                                        Value base, ValueRange indices) {
  auto store = vector::StoreOp::create(b, v, base, indices);
  store.setNontemporal(true);
  // A whole vector, which starts on its own size in a line-aligned buffer
  // whose row length is a multiple of the vector.
  store.setAlignment(
      cast<VectorType>(v.getType()).getNumElements() * 4);
}

int64_t mlir::loom::kernel::viewedBufferBytes(Value view) {
  // Through subviews and reshapes (blockdiag's [rows, blocks, width] view of
  // its [rows, n] result) to the allocation or argument.
  while (auto viewLike = view.getDefiningOp<ViewLikeOpInterface>())
    view = viewLike.getViewSource();
  auto type = dyn_cast<MemRefType>(view.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return 0;
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

Value mlir::loom::kernel::startsLine(ImplicitLocOpBuilder &b, Value view) {
  auto metadata = memref::ExtractStridedMetadataOp::create(b, view);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, view);
  Value start = arith::AddIOp::create(b, base, muli(b, metadata.getOffset(), 4));
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                               arith::RemUIOp::create(b, start, idx(b, 64)),
                               idx(b, 0));
}

void mlir::loom::kernel::storeBranches(
    ImplicitLocOpBuilder &b, Value streamOut,
    function_ref<void(ImplicitLocOpBuilder &, bool)> storeAll) {
  ifThen(
      b, streamOut,
      [&](ImplicitLocOpBuilder &sb) { storeAll(sb, /*streaming=*/true); },
      [&](ImplicitLocOpBuilder &sb) { storeAll(sb, /*streaming=*/false); });
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

void mlir::loom::kernel::transposeRows(
    ImplicitLocOpBuilder &b, const GemmSchedule &s, int64_t n,
    function_ref<Value(ImplicitLocOpBuilder &, int64_t, Value, Value)> loadRow,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> storeColumn) {
  int64_t lanes = s.lanes;
  auto tile = [&](ImplicitLocOpBuilder &tb, Value i0, int64_t cols) {
    Value mask = cols < lanes ? laneMask(tb, lanes, cols) : Value();
    auto squareType = VectorType::get({lanes, lanes}, tb.getF32Type());
    Value square = arith::ConstantOp::create(
        tb, DenseElementsAttr::get(squareType, 0.0f));
    for (int64_t row = 0; row < lanes; ++row)
      square = vector::InsertOp::create(tb, loadRow(tb, row, i0, mask), square,
                                        ArrayRef<int64_t>{row});
    Value columns =
        vector::TransposeOp::create(tb, square, ArrayRef<int64_t>{1, 0});
    for (int64_t c = 0; c < cols; ++c)
      storeColumn(tb, addi(tb, i0, c),
                  vector::ExtractOp::create(tb, columns, ArrayRef<int64_t>{c}));
  };
  forRange(b, n / lanes, [&](ImplicitLocOpBuilder &ib, Value g) {
    tile(ib, muli(ib, g, lanes), lanes);
  });
  if (n % lanes)
    tile(b, idx(b, n / lanes * lanes), n % lanes);
}

Value mlir::loom::kernel::loadRunOrZero(ImplicitLocOpBuilder &b,
                                        const GemmSchedule &s, Value src,
                                        ValueRange rowIdx, Value i0, Value mask,
                                        Value valid) {
  VectorType vt = s.vectorType(b);
  Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
  SmallVector<Value, 4> at(rowIdx.begin(), rowIdx.end());
  at.push_back(i0);
  Value v = mask ? vector::MaskedLoadOp::create(b, vt, src, at, mask, zero)
                       .getResult()
                 : vector::LoadOp::create(b, vt, src, at).getResult();
  if (!valid)
    return v;
  return arith::SelectOp::create(b, valid, v, zero);
}

MemRefType mlir::loom::kernel::packedBType(Builder &b, const GemmSchedule &s,
                                           int64_t batch, int64_t n,
                                           int64_t k) {
  return MemRefType::get({batch, k * ceilDiv(n, s.lanes) * s.lanes},
                         b.getF32Type());
}

Value mlir::loom::kernel::packedBOffset(ImplicitLocOpBuilder &b, Value j0,
                                        Value i, Value groupWidth, int64_t k) {
  return arith::AddIOp::create(b, muli(b, j0, k),
                               arith::MulIOp::create(b, i, groupWidth));
}

void mlir::loom::kernel::packB(ImplicitLocOpBuilder &b, const GemmSchedule &s,
                               const BSource &src, Value dst, int64_t batch,
                               int64_t n, int64_t k, bool parallel) {
  int64_t lanes = s.lanes;
  int64_t np = ceilDiv(n, lanes) * lanes;
  int64_t groupCols = s.groupCols();
  int64_t fullGroups = (n / lanes) / s.vecs;
  int64_t remCols = np - fullGroups * groupCols;
  if (batch == 0 || n == 0 || k == 0)
    return;
  // Work items are (batch, vector of `lanes` columns j): each writes one
  // vector-wide column of its panel, i.e. the line of every i.
  auto workItem = [&](ImplicitLocOpBuilder &ib, Value blk, Value jv) {
    Value jv0 = muli(ib, jv, lanes);
    Value g = arith::DivUIOp::create(ib, jv0, idx(ib, groupCols));
    Value j0 = muli(ib, g, groupCols);
    Value full = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, g,
                                       idx(ib, fullGroups));
    Value width = arith::SelectOp::create(ib, full, idx(ib, groupCols),
                                          idx(ib, remCols));
    Value lineBase = arith::AddIOp::create(
        ib, muli(ib, j0, k), arith::SubIOp::create(ib, jv0, j0));
    auto storeLine = [&](ImplicitLocOpBuilder &sb, Value i, Value v) {
      Value off = arith::AddIOp::create(sb, lineBase,
                                        arith::MulIOp::create(sb, i, width));
      vector::StoreOp::create(sb, v, dst, ValueRange{blk, off});
    };
    if (src.layout == BLayout::NK) {
      // `lanes` rows w[blk, j, :] read `lanes` i's at a time and
      // transposed into the panel's lines (one line per i).
      transposeRows(
          ib, s, k,
          [&](ImplicitLocOpBuilder &rb, int64_t row, Value i0, Value mask) {
            Value j = addi(rb, jv0, row);
            Value valid = arith::CmpIOp::create(
                rb, arith::CmpIPredicate::ult, j, idx(rb, n));
            Value jc = arith::MinUIOp::create(rb, j, idx(rb, n - 1));
            return src.load(rb, blk, jc, i0, mask, valid);
          },
          storeLine);
      return;
    }
    // KN: each i's columns jv0 .. are already a contiguous run of w.
    Value mask;
    if (n % lanes) {
      Value left = arith::SubIOp::create(ib, idx(ib, n), jv0);
      Value count = arith::MinUIOp::create(ib, left, idx(ib, lanes));
      mask = vector::CreateMaskOp::create(ib, s.maskType(ib), ValueRange{count});
    }
    scf::ForOp::create(ib, idx(ib, 0), idx(ib, k), idx(ib, 1), ValueRange{},
                       [&](OpBuilder &nb, Location loc, Value i, ValueRange) {
                         ImplicitLocOpBuilder lb(loc, nb);
                         storeLine(lb, i, src.load(lb, blk, i, jv0, mask, Value()));
                         scf::YieldOp::create(lb);
                       });
  };
  if (!parallel) {
    forRange(b, batch, [&](ImplicitLocOpBuilder &bb, Value blk) {
      forRange(bb, np / lanes,
               [&](ImplicitLocOpBuilder &ib, Value jv) { workItem(ib, blk, jv); });
    });
    return;
  }
  scf::ParallelOp::create(
      b, ValueRange{idx(b, 0), idx(b, 0)},
      ValueRange{idx(b, batch), idx(b, np / lanes)},
      ValueRange{idx(b, 1), idx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        ImplicitLocOpBuilder ib(loc, nb);
        workItem(ib, ivs[0], ivs[1]);
      });
}

//===----------------------------------------------------------------------===//
// Register tiles
//===----------------------------------------------------------------------===//

SmallVector<Value> mlir::loom::kernel::broadcastTile(
    ImplicitLocOpBuilder &b, const GemmSchedule &s, Value lo, Value hi,
    ValueRange init, int64_t rows, int64_t nvec,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)> bVectors,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> aScalar) {
  VectorType vt = s.vectorType(b);
  auto loop = scf::ForOp::create(
      b, lo, hi, idx(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> wv = bVectors(ib, i);
        SmallVector<Value> next;
        for (int64_t r = 0; r < rows; ++r) {
          Value bc = vector::BroadcastOp::create(ib, vt, aScalar(ib, i, r));
          for (int64_t v = 0; v < nvec; ++v)
            next.push_back(
                vector::FMAOp::create(ib, wv[v], bc, acc[r * nvec + v]));
        }
        scf::YieldOp::create(ib, next);
      });
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value> mlir::loom::kernel::allocScratch(ImplicitLocOpBuilder &b,
                                                    ArrayRef<MemRefType> types) {
  constexpr int64_t kPage = 4096, kStagger = 17 * 64;
  SmallVector<int64_t> offsets;
  int64_t total = 0;
  for (auto [i, t] : llvm::enumerate(types)) {
    offsets.push_back(total + int64_t(i) * kStagger);
    total += ceilDiv(t.getNumElements() * 4 + int64_t(i) * kStagger, kPage) *
             kPage;
  }
  Value arena = allocCallScratch(
      b, MemRefType::get({std::max<int64_t>(total, 1)}, b.getI8Type()), kPage);
  SmallVector<Value> buffers;
  for (auto [t, off] : llvm::zip(types, offsets))
    buffers.push_back(
        memref::ViewOp::create(b, t, arena, idx(b, off), ValueRange{}));
  return buffers;
}
