//===- CpuKernelBuilders.h - builders of the CPU vector kernels -*- C++ -*-===//
//
// What the CPU microkernels share beyond the target-neutral builders:
// the f32 lane vectors, function-level scratch that loom-cache-scratch
// may keep across calls, and what the tile kernels need to know about the
// loops around a tile.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CPU_KERNELS_CPUKERNELBUILDERS_H
#define LOOM_LIB_TARGET_CPU_KERNELS_CPUKERNELBUILDERS_H

#include "loom/Conversion/KernelBuilders.h"
#include "loom/Target/CPU/CachedScratch.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::loom::kernel {

/// A function-level scratch buffer of `type`: marked for loom-cache-scratch
/// (kept across calls) when it is at least kCachedScratchBytes.
inline Value allocCallScratch(ImplicitLocOpBuilder &b, MemRefType type,
                              int64_t alignment) {
  auto alloc = memref::AllocOp::create(b, type, b.getI64IntegerAttr(alignment));
  int64_t bytes =
      type.getNumElements() * type.getElementType().getIntOrFloatBitWidth() / 8;
  if (bytes >= kCachedScratchBytes)
    alloc->setAttr(kCachedScratchAttr, b.getUnitAttr());
  return alloc;
}

/// The outermost scf.forall or scf.parallel `op` is in (within its
/// function), or null: a tile inside one is one work item of the tiling's
/// split, and what every item shares goes before that loop.
inline Operation *outermostParallelLoop(Operation *op) {
  Operation *outermost = nullptr;
  for (Operation *p = op->getParentOp(); p && !isa<FunctionOpInterface>(p);
       p = p->getParentOp())
    if (isa<scf::ForallOp, scf::ParallelOp>(p))
      outermost = p;
  return outermost;
}

/// Erases the copies of a buffer onto itself under `root`: what a
/// bufferized parallel_insert_slice of a tile written in place leaves.
inline void eraseSelfCopies(RewriterBase &rewriter, Operation *root) {
  SmallVector<memref::CopyOp> copies;
  root->walk([&](memref::CopyOp copy) {
    if (copy.getSource() == copy.getTarget())
      copies.push_back(copy);
  });
  for (memref::CopyOp copy : copies)
    rewriter.eraseOp(copy);
}

/// `view` with a unit innermost stride when its innermost dim holds one
/// element, else `view` itself. A rank-reducing subview that drops some of
/// several unit dims may keep the stride of another one
/// (memref<1x1xf32, strided<[2, 2]>> for a row of a [1, 1, 2, 1] tensor);
/// a kernel only ever reads index 0 of such a dim, which is the same
/// element for any stride.
inline Value withUnitInnermostStride(ImplicitLocOpBuilder &b, Value view) {
  auto type = dyn_cast<MemRefType>(view.getType());
  if (!type || type.getRank() == 0 || type.getShape().back() != 1 ||
      type.isLastDimUnitStride())
    return view;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return view;
  strides.back() = 1;
  auto unitType = MemRefType::get(
      type.getShape(), type.getElementType(),
      StridedLayoutAttr::get(b.getContext(), offset, strides),
      type.getMemorySpace());
  // Static sizes, strides and offset as attributes (the result type
  // states them), dynamic ones from the view's metadata.
  auto meta = memref::ExtractStridedMetadataOp::create(b, view);
  auto fold = [&](int64_t known, Value actual) -> OpFoldResult {
    if (ShapedType::isDynamic(known))
      return actual;
    return b.getIndexAttr(known);
  };
  SmallVector<OpFoldResult> sizes, unitStrides;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    sizes.push_back(fold(type.getDimSize(d), meta.getSizes()[d]));
    unitStrides.push_back(fold(strides[d], meta.getStrides()[d]));
  }
  return memref::ReinterpretCastOp::create(b, unitType, meta.getBaseBuffer(),
                                           fold(offset, meta.getOffset()),
                                           sizes, unitStrides);
}

} // namespace mlir::loom::kernel

#endif // LOOM_LIB_TARGET_CPU_KERNELS_CPUKERNELBUILDERS_H
