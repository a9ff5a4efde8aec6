//===- GemmKernels.h - the GEMM microkernels the CPU kernels share -*- C++ -*-===//
//
// blockdiag_matmul, both Monarch factors and the dense linalg matmul family
// are GEMMs. What they share lives here: the schedule (register tiles, cache
// blocks, streaming-store threshold), derived from a CpuTargetDescription and
// from nothing else; the weight pack into panels; the broadcast and vector
// register tiles; lane-masked, streaming and aligned stores; and the loop
// builders of the work split.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CPU_KERNELS_GEMMKERNELS_H
#define LOOM_LIB_TARGET_CPU_KERNELS_GEMMKERNELS_H

#include "CpuKernelBuilders.h"
#include "loom/Target/CPU/TargetDescription.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom::kernel {

/// Every size of the GEMM-family kernels, from a CpuTargetDescription.
/// docs/dense.md has the derivation; for avx512 it gives exactly the tiles
/// the Monarch kernels were tuned with on AVX-512 (6x4 and 4x6 register
/// tiles of 16 lanes, 96-row work items).
struct GemmSchedule {
  /// f32 lanes per vector, and f32s per cache line.
  int64_t lanes = 16;
  int64_t lineFloats = 16;
  /// Accumulators a register tile may hold: three quarters of the vector
  /// registers, leaving the rest for operands.
  int64_t accumulators = 24;
  /// Broadcast register tile (a scalar of A broadcast times vectors of B):
  /// rows x vecs accumulators for whole column groups.
  int64_t rows = 6, vecs = 4;
  /// Vector register tile (both operands vectors; Monarch's factor 2):
  /// vrows rows x vcols output columns.
  int64_t vrows = 4, vcols = 6;
  /// Reduction chunk of the vector tile: its column group's slice of
  /// packed weights (vcols x chunk lines) stays in half of L1.
  int64_t vreduceChunk = 64;
  /// Rows per parallel work item of the Monarch factors.
  int64_t rowTile = 96;
  /// Reduction block of the dense GEMM: a kc x (vecs * lanes) panel of
  /// packed B fills half of L1.
  int64_t kc = 96;
  /// Largest K a dense GEMM takes in one reduction block although it
  /// exceeds kc: the panel fills at most 3/4 of L1. One block of K = 128
  /// beat kc 96 + a tail of 32 (two passes over the partial sums, the
  /// second a thin one) by 21 % (blockdiag 16K, 128-wide blocks, AVX-512).
  int64_t kcWhole = 144;
  /// Lines of the next column group's packed B panel that each micro kernel
  /// of a dense GEMM block prefetches: 0, its share of the whole panel;
  /// n > 0, n of the panel's first lines (micro kernel i its lines i·n ...),
  /// so that the next panel's stream starts on hits and the hardware
  /// prefetcher runs ahead of it.
  int64_t panelPrefetchLines = 1;
  /// Packed B larger than this (a core's L3 share) is read from memory:
  /// there every micro kernel prefetches its share of the whole next panel,
  /// whatever panelPrefetchLines says.
  int64_t farPanelBytes = 8 << 20;
  /// Output tile of a dense GEMM work item (loom-tile-and-fuse's tile and
  /// the kernel's own blocks for anything larger): tileM rows, whole
  /// register tiles; tileN columns, a power-of-two number of column groups
  /// whose partial sums (tileM x tileN) fill at most a quarter of L2.
  int64_t tileM = 96, tileN = 512;
  /// Largest row slice a Monarch work item copies to the stack.
  int64_t maxPackedBytes = 96 << 10;
  /// Smallest result written with streaming (non-temporal) stores: about
  /// the L3 share of a core; anything smaller stays cached for its reader.
  int64_t streamOutBytes = 8 << 20;
  /// The same for a dense GEMM's result, usually the next op's input and
  /// read back soon: the target's streamFromL3Shares shares. By default 8,
  /// the whole L3 (the share assumes 8 cores on it): streaming FIT's
  /// 16 MiB projections made the layer 5-8 % slower on Zen 4 (32 MiB L3).
  /// On Intel one share: the same layer 5 % faster (docs/dense.md).
  int64_t gemmStreamOutBytes = 64 << 20;
  /// Bytes of Monarch's intermediate h per chunk of rows: about 1.5 L2s.
  int64_t hChunkBytes = 3 << 20;

  static GemmSchedule forTarget(const CpuTargetDescription &target);

  /// Rows of the broadcast tile for `nvec` column vectors (the remainder
  /// column group): about `accumulators`, at most half of them.
  int64_t rowsForVecs(int64_t nvec) const;
  /// Columns of one whole column group of the broadcast tile.
  int64_t groupCols() const { return vecs * lanes; }
  VectorType vectorType(Builder &b) const {
    return VectorType::get({lanes}, b.getF32Type());
  }
  VectorType maskType(Builder &b) const {
    return VectorType::get({lanes}, b.getI1Type());
  }
};

int64_t ceilDiv(int64_t a, int64_t b);

//===----------------------------------------------------------------------===//
// Loops of the work split
//===----------------------------------------------------------------------===//

/// `scf.for iv in [0, n)` (nothing when n == 0, the body inline when
/// n == 1).
void forRange(ImplicitLocOpBuilder &b, int64_t n,
              function_ref<void(ImplicitLocOpBuilder &, Value)> body);

/// One scf.parallel over (row tile t, column block) work items covering
/// `rows` rows in tiles of `rowTile`. `body(b, row0, rowsInTile, block)`
/// gets a static row count: rowTile, or the remainder for the last tile.
void parallelRowTiles(
    ImplicitLocOpBuilder &b, int64_t rows, int64_t rowTile, int64_t blocks,
    function_ref<void(ImplicitLocOpBuilder &, Value, int64_t, Value)> body);

/// Splits `rows` rows at row0 into scf.for-iterated groups of `perTile`
/// rows and one static remainder group.
void forRowGroups(ImplicitLocOpBuilder &b, Value row0, int64_t rows,
                  int64_t perTile,
                  function_ref<void(ImplicitLocOpBuilder &, Value, int64_t)> body);

//===----------------------------------------------------------------------===//
// Stores
//===----------------------------------------------------------------------===//

/// A constant mask with the first `n` of `lanes` lanes set.
Value laneMask(ImplicitLocOpBuilder &b, int64_t lanes, int64_t n);

/// Stores `v` (of `s.lanes` lanes) at base[indices]: only its first `n`
/// lanes when n < lanes, or under `mask` when given.
void storeLanes(ImplicitLocOpBuilder &b, const GemmSchedule &s, Value v,
                Value base, ValueRange indices, int64_t n, Value mask = nullptr);

/// A streaming (non-temporal) store of a whole vector, 64-byte aligned.
void storeStreaming(ImplicitLocOpBuilder &b, Value v, Value base,
                    ValueRange indices);

/// The static size in bytes of the buffer `view` is a (sub)view of, or 0.
int64_t viewedBufferBytes(Value view);

/// i1: the first element of `view` (its base pointer plus its offset)
/// starts a 64-byte line (a caller's buffer may not), so streaming stores
/// may write its lines.
Value startsLine(ImplicitLocOpBuilder &b, Value view);

/// `storeAll(b, streaming)` under `scf.if streamOut`: streaming stores when
/// the result buffer is line-aligned (tested once per call), ordinary ones
/// otherwise.
void storeBranches(ImplicitLocOpBuilder &b, Value streamOut,
                   function_ref<void(ImplicitLocOpBuilder &, bool)> storeAll);

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

/// Transposes `lanes` rows of n floats, `lanes` columns at a time, in
/// registers: `loadRow(b, row, i0, mask)` returns row `row`'s floats i0 ..
/// i0 + lanes - 1 (only the lanes of `mask` when it is non-null, zeros
/// elsewhere), and `storeColumn(b, i, v)` gets v[row] = element i of every
/// row.
void transposeRows(
    ImplicitLocOpBuilder &b, const GemmSchedule &s, int64_t n,
    function_ref<Value(ImplicitLocOpBuilder &, int64_t, Value, Value)> loadRow,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> storeColumn);

/// The lanes of src[rowIdx..., i0 ...] (all, or those of `mask`), zeros
/// when `valid` is false (rowIdx is then a clamped, real row).
Value loadRunOrZero(ImplicitLocOpBuilder &b, const GemmSchedule &s, Value src,
                    ValueRange rowIdx, Value i0, Value mask, Value valid);

/// How a GEMM's B operand is stored, per batch: `NK`, rows of output
/// columns contiguous in the reduction dim (a torch Linear weight W[N, K],
/// blockdiag's w[block, q, p]); `KN`, rows of the reduction dim contiguous
/// in the output columns.
enum class BLayout { NK, KN };

/// The packed B of `batch` GEMMs of n output columns and k reductions:
/// [batch, k * Np] with Np = n rounded up to lanes.
MemRefType packedBType(Builder &b, const GemmSchedule &s, int64_t batch,
                       int64_t n, int64_t k);

/// Offset, within one batch row of packed B, of reduction i of the column
/// group that starts at column j0 and is `groupWidth` columns wide.
Value packedBOffset(ImplicitLocOpBuilder &b, Value j0, Value i,
                    Value groupWidth, int64_t k);

/// Reads B (`load(b, batch, j, i, mask)`: lanes consecutive elements of the
/// source along its contiguous dim, see BLayout) and writes it panel-major
/// into `dst` (of packedBType): for each group of up to s.vecs column
/// vectors starting at j0, `width` columns wide, the contiguous panel
/// [k][width], so that a register tile streams one panel. Columns past n
/// are zeros. One scf.parallel over (batch, column vector) when `parallel`.
struct BSource {
  BLayout layout = BLayout::NK;
  /// `lanes` elements of B along its contiguous dim: for NK, w[batch, j,
  /// i0 ...] (j < n); for KN, w[batch, i, j0 ...]. Lanes outside `mask`
  /// (when set) are zeros, and so is every lane when `valid` (an i1, set
  /// only for NK rows past n, which are then clamped to n - 1) is false.
  function_ref<Value(ImplicitLocOpBuilder &, Value batch, Value row,
                     Value col0, Value mask, Value valid)>
      load;
};
void packB(ImplicitLocOpBuilder &b, const GemmSchedule &s, const BSource &src,
           Value dst, int64_t batch, int64_t n, int64_t k, bool parallel);

//===----------------------------------------------------------------------===//
// Register tiles
//===----------------------------------------------------------------------===//

/// The broadcast register tile: for i in [lo, hi),
///   acc[r * nvec + v] += bVector(i)[v] * broadcast(aScalar(i, r))
/// with the accumulators carried by one scf.for (`init`, row-major). Per
/// i: nvec vector loads of B, rows scalar loads of A and rows * nvec
/// vector.fma. Returns the final accumulators.
SmallVector<Value> broadcastTile(
    ImplicitLocOpBuilder &b, const GemmSchedule &s, Value lo, Value hi,
    ValueRange init, int64_t rows, int64_t nvec,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)> bVectors,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> aScalar);

/// Function-level scratch: views of the given static f32 types in one
/// allocation (separate blocks were trimmed and faulted back in by glibc
/// on every call), each 17 lines further past a 4 KiB boundary than the one
/// before so their streams do not start in the same L1 sets. Kept across
/// calls from kCachedScratchBytes.
SmallVector<Value> allocScratch(ImplicitLocOpBuilder &b,
                                ArrayRef<MemRefType> types);

} // namespace mlir::loom::kernel

#endif // LOOM_LIB_TARGET_CPU_KERNELS_GEMMKERNELS_H
