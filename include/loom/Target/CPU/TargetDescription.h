//===- TargetDescription.h - what a CPU kernel needs to know ----*- C++ -*-===//
//
// The small description of a CPU from which every register tile, query
// tile, key block and cache block of the CPU kernels is derived: vector
// width, vector registers, FMA latency and pipes, cache and line sizes, and
// from how many L3 shares a GEMM's result is streamed past the caches.
// Kernels never hard-code an ISA; the pipeline passes one of these to every
// kernel pass as its `target` option, in the text form `str()` writes and
// `parse()` reads:
//
//   avx2                                   a preset
//   avx512:l2=2097152:fma-latency=4        a preset with fields overridden
//
// Presets: avx512 (512-bit, 32 registers), avx2 (256-bit, 16 registers),
// sse (128-bit, 16 registers). loom-compile derives the description from
// --mcpu (or the host) through LLVM's CPU tables, and the host's caches.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_CPU_TARGETDESCRIPTION_H
#define LOOM_TARGET_CPU_TARGETDESCRIPTION_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir {
class Operation;
} // namespace mlir

namespace mlir::loom {

struct CpuTargetDescription {
  /// The preset this description started from: "avx512", "avx2" or "sse".
  std::string isa = "avx512";
  /// Bits per vector register and the number of vector registers.
  int64_t vectorBits = 512;
  int64_t vectorRegisters = 32;
  /// Cycles from an FMA's issue to its result, and FMAs issued per cycle:
  /// a register tile needs latency x pipes independent accumulators to keep
  /// every pipe busy.
  int64_t fmaLatency = 4;
  int64_t fmaPipes = 2;
  /// Data cache sizes in bytes, per core for L1 and L2; L3 is the share
  /// one core can count on.
  int64_t l1Bytes = 48 << 10;
  int64_t l2Bytes = 2 << 20;
  int64_t l3Bytes = 8 << 20;
  /// Bytes per cache line: the step of software prefetches, and the unit
  /// tile widths are rounded to.
  int64_t lineBytes = 64;
  /// A dense GEMM's result of at least this many L3 shares is written with
  /// streaming (non-temporal) stores. 8 (the L3 of a Zen CCD, where a
  /// 16 MiB result is still cached when the next op reads it) by default;
  /// 1 on Intel CPUs, where an ordinary store's read for ownership from
  /// the mesh L3 costs more than the reader's later miss.
  int64_t streamFromL3Shares = 8;

  /// f32 lanes per vector register.
  int64_t lanes() const { return vectorBits / 32; }
  /// f32s per cache line.
  int64_t lineFloats() const { return lineBytes / 4; }
  /// Independent FMA chains that hide the FMA latency on every pipe.
  int64_t fmasInFlight() const { return fmaLatency * fmaPipes; }

  static CpuTargetDescription avx512();
  static CpuTargetDescription avx2();
  static CpuTargetDescription sse();

  /// Reads the form str() writes: a preset name, then `:key=value` for each
  /// field that differs (vector-bits, registers, fma-latency, fma-pipes, l1,
  /// l2, l3, line, stream-l3s). On failure, says why in `error`.
  static FailureOr<CpuTargetDescription> parse(llvm::StringRef spec,
                                               std::string &error);
  /// parse() for a pass's `target` option: a failure is reported on
  /// `anchor` as "<pass>: <why>".
  static FailureOr<CpuTargetDescription>
  parseOption(llvm::StringRef spec, Operation *anchor, llvm::StringRef pass);
  /// The preset, then every field that differs from it.
  std::string str() const;

  /// The description of an LLVM CPU name (e.g. "x86-64-v3", "znver3",
  /// "skylake-avx512"), or of the host when `cpu` is empty, "host" or
  /// "native" (then with the host's cache and line sizes where the OS
  /// reports them). Intel CPUs stream GEMM results from one L3 share.
  static FailureOr<CpuTargetDescription> forLlvmCpu(llvm::StringRef cpu,
                                                    std::string &error);
};

/// Whether LLVM knows `cpu` for the host's triple and it runs x86-64 code.
/// An unknown name would make LLVM warn and go on with a generic CPU; a
/// 32-bit-only one made it abort. Sets `error` to say which.
LogicalResult checkLlvmCpuName(llvm::StringRef cpu, std::string &error);

} // namespace mlir::loom

#endif // LOOM_TARGET_CPU_TARGETDESCRIPTION_H
