//===- VectorMath.h - vector helpers of the attention kernels ---*- C++ -*-===//
//
// What the attention microkernels (AttentionTileToVector.cpp,
// FewKeysTileToVector.cpp) share: register tiles sized from the
// CpuTargetDescription, a polynomial exp, in-register transposes, the
// broadcast-FMA loop every register tile runs and the prefetch of the next
// tile's rows. Vectors have target.lanes() f32 lanes (16 on AVX-512, 8 on
// AVX2, 4 on SSE); nothing here assumes one width.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CPU_KERNELS_VECTORMATH_H
#define LOOM_LIB_TARGET_CPU_KERNELS_VECTORMATH_H

#include "CpuKernelBuilders.h"
#include "loom/Target/CPU/TargetDescription.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom {

/// Accumulator vectors a register tile may hold: three quarters of the
/// vector registers (24 of AVX-512's 32, 12 of AVX2's 16), the rest for the
/// tile's operands and the loop. Both are at least fmaLatency x fmaPipes
/// (8 on every preset), so the FMA pipes never wait for a result.
int64_t accumulatorBudget(const CpuTargetDescription &target);

/// A register tile of a broadcast-FMA loop: `rows` broadcast scalars times
/// `vectors` vector operands, rows x vectors accumulators.
struct RegisterTile {
  int64_t vectors = 1;
  int64_t rows = 1;
};

/// The register tile for an operand of `vectors` lane vectors (e.g. the
/// query tile) and at most `maxRows` rows: accumulatorBudget accumulators,
/// with the tile's vector operands and one broadcast also in registers, of
/// the width whose chunks (see chunkVectors) load the fewest operands per
/// FMA; the widest among equals. rows is that of a full-width chunk (a
/// narrower last chunk gets rowsForVectors of its own width).
RegisterTile chooseRegisterTile(const CpuTargetDescription &target,
                                int64_t vectors, int64_t maxRows);

/// Rows of a register tile `vectors` wide: as many as accumulatorBudget
/// allows, with the `vectors` operands and one broadcast also in registers;
/// in [1, maxRows].
int64_t rowsForVectors(const CpuTargetDescription &target, int64_t vectors,
                       int64_t maxRows);

/// [first, first + count) split into chunks of at most `width`: (start,
/// size) pairs.
SmallVector<std::pair<int64_t, int64_t>> chunkVectors(int64_t first,
                                                      int64_t count,
                                                      int64_t width);

/// vector<lanes x f32>.
VectorType f32Vector(OpBuilder &b, int64_t lanes);

/// A vector of `type` with every lane `value`.
Value splatF32(ImplicitLocOpBuilder &b, VectorType type, float value);

/// exp(x), lane by lane, for arguments x <= 0 (softmax arguments, rescale
/// factors): x below -87.4, -inf included, gives exactly 0 and a NaN lane
/// stays NaN. Upstream lowers a vector math.exp to scalar libm calls.
Value emitExpOfNonPositive(ImplicitLocOpBuilder &b, Value x);

/// max(x, y) as `x > y ? x : y`: NaN in x gives y, NaN in y stays. One
/// vmaxps on x86, defined for NaN (no fast-math flag), so a kernel whose
/// NaNs reach the result by another path (exp(NaN - m) is NaN) may use it.
Value emitMax(ImplicitLocOpBuilder &b, Value x, Value y);

/// The integer vector [0, 1, ..., lanes - 1] of `bits`-bit lanes: lane
/// numbers for lane masks.
Value laneNumbers(ImplicitLocOpBuilder &b, int64_t lanes, unsigned bits = 32);

/// The transpose of a square of vectors (lanes of them, each of `lanes`
/// f32): result i holds element i of every row. 16 x 16 through
/// vector.transpose (lowered with shuffle16x16); 8 x 8 and 4 x 4 as the
/// unpack / shuffle / lane-permute network of AVX and SSE.
SmallVector<Value> transposeSquare(ImplicitLocOpBuilder &b,
                                   ArrayRef<Value> rows);

using TileOperand =
    function_ref<Value(ImplicitLocOpBuilder &, Value /*k*/, int64_t)>;
using TileMask = TileOperand;

/// The register tile of the loom kernels: for k in [lo, hi),
///   acc[r * cols + c] += broadcast(scalarAt(k, r)) * vectorAt(k, c)
/// for r < rows, c < cols, the accumulators (`init`, row-major) carried by
/// one scf.for. Per k: `cols` vector operands, `rows` broadcast scalars and
/// rows * cols vector.fma. With `maskAt`, lanes where maskAt(k, c) (an i1
/// vector) is false keep their accumulator (a select, so a non-finite
/// operand there never reaches it). Returns the final accumulators.
SmallVector<Value> emitBroadcastFmaLoop(ImplicitLocOpBuilder &b, Value lo,
                                        Value hi, ValueRange init,
                                        int64_t rows, int64_t cols,
                                        TileOperand vectorAt,
                                        TileOperand scalarAt,
                                        TileMask maskAt = TileMask());

/// dst[d][i] = scale * src[min(first + i, first + count - 1)][d] for the
/// `slots` (a multiple of `lanes`) columns i of dst and every column d of
/// src ([rows, width] with a unit innermost stride): lanes x lanes blocks
/// through register transposes, the last width % lanes columns one element
/// at a time. Slots past `count` repeat the last row: finite values the
/// caller masks or never stores, and no read past the rows. The attention
/// kernels pack their queries (flash) or keys (few keys) this way.
void emitTransposedPack(ImplicitLocOpBuilder &b, int64_t lanes, Value src,
                        Value first, Value count, int64_t slots, float scale,
                        Value dst);

/// A [rows, cols] buffer with a unit innermost stride seen as flat f32s
/// from its base buffer up to the end of its rows: element (r, c) is
/// flat[offset + r * stride + c], and rows before the view (r < 0, in the
/// same allocation) are reachable too, for prefetches.
struct FlatRows {
  Value flat, offset, stride;
};
FlatRows flatRowsOf(ImplicitLocOpBuilder &b, Value buf);

} // namespace mlir::loom

#endif // LOOM_LIB_TARGET_CPU_KERNELS_VECTORMATH_H
