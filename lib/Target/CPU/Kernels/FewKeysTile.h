//===- FewKeysTile.h - the few-keys attention tile microkernel -*- C++ -*-===//
//
// An attention tile whose rows all see one small window (FIT's pull: a
// group's queries over its m latents) takes keys along the lanes instead
// of the flash kernel's queries along the lanes (FewKeysTileToVector.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CPU_KERNELS_FEWKEYSTILE_H
#define LOOM_LIB_TARGET_CPU_KERNELS_FEWKEYSTILE_H

#include "loom/Target/CPU/TargetDescription.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::loom {

class AttentionTileOp;

/// Whether the few-keys microkernel takes `op` (on memrefs, no batch dims),
/// whose query rows number at most `rowBound`: every row sees the same
/// window (rows_in_group, not causal, a lookback bound, no memory rows) of
/// at most 4 key vectors, E is a multiple of the lanes and the tile has at
/// least one vector of rows.
bool fewKeysTileApplies(AttentionTileOp op, const CpuTargetDescription &target,
                        int64_t rowBound);

/// Emits the few-keys microkernel in place of `op` (which stays; the caller
/// erases it).
void emitFewKeysTile(ImplicitLocOpBuilder &b, AttentionTileOp op,
                     const CpuTargetDescription &target, int64_t rowBound);

} // namespace mlir::loom

#endif // LOOM_LIB_TARGET_CPU_KERNELS_FEWKEYSTILE_H
