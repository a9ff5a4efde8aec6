//===- GemmKernel.cpp - the strided, batched FFMA GEMM kernel -------------===//
//
// C = A . B (+ init) for matrices anywhere in 1-D buffers (StridedMatrix):
//
//   grid    (ceil(n / BN), ceil(m / BM), batch)
//   block   (BM / TM) x (BN / TN) threads; thread (ty, tx) owns the TM x TN
//           outputs at rows ty*TM.., columns tx*TN..
//   K loop  BK at a time: the block stages A as As[BK][BM + 4] (k-major, so a
//           thread's TM rows are one vector load) and B as Bs[BK][BN + 4],
//           reading global memory along whichever index has unit stride;
//           then every thread runs BK rank-1 updates of its TM x TN
//           accumulators (TM * TN FFMAs per TM + TN shared loads).
//
// Out-of-range rows, columns and k are loaded as zeros (a clamped address
// and a select, no branch) and never stored. f32 accumulation in FFMA:
// no tensor cores, so the result keeps f32 accuracy (SPEC section 5).
//
//===----------------------------------------------------------------------===//

#include "Kernels/GpuKernelBuilders.h"
#include "Kernels/Kernels.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::cuda;

namespace {

constexpr int64_t kPad = 4; // keeps shared rows 16-byte aligned, spreads banks

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The element offset of (batch..., row, col) of `m`, with the batch
/// offset already computed.
Value elementOffset(ImplicitLocOpBuilder &b, const StridedMatrix &m,
                    Value batchOffset, Value row, Value col) {
  return add(b, add(b, batchOffset, mul(b, row, m.rowStride)),
             mul(b, col, m.colStride));
}

/// offset + sum(batchIndex_d * stride_d) for the batch index `linear`
/// (row-major over `sizes`).
Value batchOffset(ImplicitLocOpBuilder &b, const StridedMatrix &m,
                  ArrayRef<int64_t> sizes, Value linear) {
  Value offset = idx(b, m.offset);
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    Value index = d == 0 ? linear : remu(b, linear, sizes[d]);
    offset = add(b, offset, mul(b, index, m.batchStrides[d]));
    if (d > 0)
      linear = divu(b, linear, sizes[d]);
  }
  return offset;
}

/// Stages a (rows x cols) tile of a matrix into a shared buffer laid out
/// [cols][rows + kPad] (`transpose`: A, whose k is the tile's column) or
/// [rows][cols + kPad] (B). `rowLimit`/`colLimit` are the matrix bounds.
struct TileLoad {
  const StridedMatrix *matrix;
  Value base;           // batch offset
  Value row0, col0;     // tile origin in the matrix
  int64_t rows, cols;   // tile shape
  int64_t rowLimit, colLimit;
  bool kMajorStore;     // store at [col][row] instead of [row][col]
};

void stageTile(ImplicitLocOpBuilder &b, const TileLoad &t, Value shared,
               Value thread, int64_t threads) {
  int64_t elements = t.rows * t.cols;
  // Walk the tile along the unit-stride index of the source so that
  // neighbouring threads read neighbouring addresses.
  bool colsFastest = t.matrix->colStride == 1 || t.matrix->rowStride != 1;
  Value zero = f32(b, 0.0f), zeroIdx = idx(b, 0);
  for (int64_t r = 0; r * threads < elements; ++r) {
    Value e = add(b, thread, r * threads);
    Value inTile = r * threads + threads <= elements
                       ? Value()
                       : lt(b, e, idx(b, elements));
    Value row = colsFastest ? divu(b, e, t.cols) : remu(b, e, t.rows);
    Value col = colsFastest ? remu(b, e, t.cols) : divu(b, e, t.rows);
    Value gRow = add(b, t.row0, row), gCol = add(b, t.col0, col);
    Value valid = andI(b, lt(b, gRow, idx(b, t.rowLimit)),
                       lt(b, gCol, idx(b, t.colLimit)));
    Value offset = elementOffset(b, *t.matrix, t.base, gRow, gCol);
    Value safe = select(b, valid, offset, zeroIdx);
    Value value = select(b, valid, load(b, t.matrix->flat, safe), zero);
    Value dst = t.kMajorStore ? add(b, mul(b, col, t.rows + kPad), row)
                              : add(b, mul(b, row, t.cols + kPad), col);
    if (inTile)
      ifThen(b, inTile,
             [&](ImplicitLocOpBuilder &ib) { store(ib, value, shared, dst); });
    else
      store(b, value, shared, dst);
  }
}

} // namespace

GemmTile cuda::chooseGemmTile(const GemmProblem &p,
                              const CudaTargetDescription &target) {
  int64_t batch = 1;
  for (int64_t s : p.batch)
    batch *= s;
  // Largest first. Every tile loads its A and B tiles in whole rounds of
  // its threads; the narrow ones serve Monarch factors (n = block size).
  static const GemmTile tiles[] = {
      {128, 128, 8, 8, 8}, {128, 64, 8, 8, 4}, {64, 64, 16, 4, 4},
      {128, 32, 8, 8, 4},  {64, 32, 16, 4, 4}, {32, 32, 32, 2, 2},
  };
  auto blocks = [&](const GemmTile &t) {
    return ceilDiv(p.m, t.bm) * ceilDiv(p.n, t.bn) * batch;
  };
  // The largest tile the problem fills (at least half its rows and
  // columns used) that still gives every multiprocessor a block.
  for (const GemmTile &t : tiles)
    if (2 * p.m >= t.bm && 2 * p.n >= t.bn &&
        blocks(t) >= target.multiprocessors)
      return t;
  return tiles[std::size(tiles) - 1];
}

void cuda::buildGemmKernel(ImplicitLocOpBuilder &b, const GemmProblem &p,
                           const CudaTargetDescription &target,
                           StringRef name) {
  GemmTile tile = chooseGemmTile(p, target);
  int64_t batch = 1;
  for (int64_t s : p.batch)
    batch *= s;
  int64_t threads = tile.threads();
  int64_t aStride = tile.bm + kPad, bStride = tile.bn + kPad;

  KernelShape shape;
  shape.name = name.str();
  shape.grid = {ceilDiv(p.n, tile.bn), ceilDiv(p.m, tile.bm), batch};
  shape.threads = threads;
  shape.sharedRegions = {tile.bk * aStride, tile.bk * bStride};

  buildKernel(b, shape, [&](ImplicitLocOpBuilder &kb, const KernelIds &ids) {
    Value as = ids.shared[0], bs = ids.shared[1];
    Value aBase = batchOffset(kb, p.a, p.batch, ids.block[2]);
    Value bBase = batchOffset(kb, p.b, p.batch, ids.block[2]);
    Value cBase = batchOffset(kb, p.c, p.batch, ids.block[2]);
    Value m0 = mul(kb, ids.block[1], tile.bm), n0 = mul(kb, ids.block[0], tile.bn);
    int64_t tcols = tile.bn / tile.tn;
    Value tx = remu(kb, ids.thread, tcols), ty = divu(kb, ids.thread, tcols);

    SmallVector<Value> acc(tile.tm, zeros(kb, tile.tn));
    int64_t kTiles = ceilDiv(p.k, tile.bk);
    acc = forLoop(
        kb, idx(kb, 0), idx(kb, kTiles), idx(kb, 1), acc,
        [&](ImplicitLocOpBuilder &lb, Value kt, ValueRange carried) {
          Value k0 = mul(lb, kt, tile.bk);
          stageTile(lb,
                    TileLoad{&p.a, aBase, m0, k0, tile.bm, tile.bk, p.m, p.k,
                             /*kMajorStore=*/true},
                    as, ids.thread, threads);
          stageTile(lb,
                    TileLoad{&p.b, bBase, k0, n0, tile.bk, tile.bn, p.k, p.n,
                             /*kMajorStore=*/false},
                    bs, ids.thread, threads);
          barrier(lb);
          SmallVector<Value> next(carried);
          int64_t aAlign = tile.tm % 4 == 0 ? 16 : 4 * tile.tm;
          int64_t bAlign = tile.tn % 4 == 0 ? 16 : 4 * tile.tn;
          Value aCol = mul(lb, ty, tile.tm), bCol = mul(lb, tx, tile.tn);
          for (int64_t kk = 0; kk < tile.bk; ++kk) {
            Value av = loadVector(lb, as, add(lb, aCol, kk * aStride), tile.tm,
                                  aAlign);
            Value bv = loadVector(lb, bs, add(lb, bCol, kk * bStride), tile.tn,
                                  bAlign);
            for (int64_t i = 0; i < tile.tm; ++i) {
              Value ai = vector::ExtractOp::create(lb, av, ArrayRef<int64_t>{i});
              next[i] = vector::FMAOp::create(lb, splat(lb, ai, tile.tn), bv,
                                              next[i]);
            }
          }
          barrier(lb);
          return next;
        });

    // Epilogue: every in-range output, plus init where there is one.
    Value rowBase = add(kb, m0, mul(kb, ty, tile.tm));
    Value colBase = add(kb, n0, mul(kb, tx, tile.tn));
    Value initBase =
        p.init ? batchOffset(kb, *p.init, p.batch, ids.block[2]) : Value();
    for (int64_t i = 0; i < tile.tm; ++i) {
      Value row = add(kb, rowBase, i);
      for (int64_t j = 0; j < tile.tn; ++j) {
        Value col = add(kb, colBase, j);
        Value inRange = andI(kb, lt(kb, row, idx(kb, p.m)),
                             lt(kb, col, idx(kb, p.n)));
        ifThen(kb, inRange, [&](ImplicitLocOpBuilder &ib) {
          Value v = vector::ExtractOp::create(ib, acc[i], ArrayRef<int64_t>{j});
          if (p.init)
            v = arith::AddFOp::create(
                ib, v,
                load(ib, p.init->flat,
                     elementOffset(ib, *p.init, initBase, row, col)));
          store(ib, v, p.c.flat, elementOffset(ib, p.c, cBase, row, col));
        });
      }
    }
  });
}
