//===- CachedScratch.h - scratch kept across calls --------------*- C++ -*-===//
//
// The contract between the kernels that mark large scratch allocations and
// loom-cache-scratch, which keeps one block per marked allocation across
// calls.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_CPU_CACHEDSCRATCH_H
#define LOOM_TARGET_CPU_CACHEDSCRATCH_H

#include <cstdint>

namespace mlir::loom {

/// Unit attribute of a function-level `memref.alloc` of kernel scratch
/// that loom-cache-scratch keeps across calls.
inline constexpr const char *kCachedScratchAttr = "loom.cached_scratch";

/// The size from which the kernels set it: glibc's adaptive mmap threshold
/// stops at 32 MiB, so a larger block is a fresh mapping on every call,
/// faulted in page by page (about 34,000 faults for monarch at N = 64K).
inline constexpr int64_t kCachedScratchBytes = int64_t(32) << 20;

/// The artifact-internal functions that hand out and take back a cached
/// block: `ptr acquire(ptr slot, i64 bytes)`, `void release(ptr slot, ptr)`.
inline constexpr const char *kScratchAcquireFunction = "loom_scratch_acquire";
inline constexpr const char *kScratchReleaseFunction = "loom_scratch_release";
/// The global destructor that frees every cached block when the .so is
/// unloaded.
inline constexpr const char *kScratchFreeAllFunction = "loom_scratch_free_all";

} // namespace mlir::loom

#endif // LOOM_TARGET_CPU_CACHEDSCRATCH_H
