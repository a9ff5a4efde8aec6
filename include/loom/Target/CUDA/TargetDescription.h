//===- TargetDescription.h - what a GPU kernel needs to know ----*- C++ -*-===//
//
// The small description of an NVIDIA GPU from which the CUDA kernels take
// their tile shapes and the device compiler its chip and PTX version:
// compute capability, PTX ISA version, shared memory per block, registers,
// warp size, threads per block, multiprocessors. The pipeline passes one of
// these to every CUDA pass as its `target` option, in the text form
// `str()` writes and `parse()` reads:
//
//   sm_90                                  a preset (H100 / H200)
//   sm_90:ptx=85:smem-optin=232448         a preset with fields overridden
//
// Presets: sm_80 (A100), sm_86, sm_89, sm_90 (H100, H200), sm_100.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_TARGET_CUDA_TARGETDESCRIPTION_H
#define LOOM_TARGET_CUDA_TARGETDESCRIPTION_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::loom {

struct CudaTargetDescription {
  /// Compute capability times ten plus the minor version: 90 is sm_90.
  int64_t sm = 90;
  /// PTX ISA version times ten (80 is PTX 8.0). LLVM's NVPTX backend needs
  /// at least 7.8 for sm_90, and CUDA 13's ptxas rejects what sm_50 emits.
  int64_t ptx = 80;
  /// Static shared memory a block may declare, and what a kernel may opt
  /// into with cuFuncSetAttribute (dynamic shared memory).
  int64_t sharedMemoryPerBlock = 48 << 10;
  int64_t sharedMemoryPerBlockOptin = 232448;
  /// Shared memory of one multiprocessor (bounds the blocks resident on it).
  int64_t sharedMemoryPerMultiprocessor = 233472;
  /// 32-bit registers a thread may use, and the register file of one
  /// multiprocessor.
  int64_t registersPerThread = 255;
  int64_t registersPerMultiprocessor = 65536;
  int64_t warpSize = 32;
  int64_t maxThreadsPerBlock = 1024;
  int64_t maxThreadsPerMultiprocessor = 2048;
  int64_t multiprocessors = 132;

  /// "sm_90".
  std::string chip() const;
  /// "+ptx80": the feature string of LLVM's NVPTX target.
  std::string features() const;

  static CudaTargetDescription sm80();
  static CudaTargetDescription sm86();
  static CudaTargetDescription sm89();
  static CudaTargetDescription sm90();
  static CudaTargetDescription sm100();

  /// Reads the form str() writes: a preset name, then `:key=value` for each
  /// field that differs (ptx, smem, smem-optin, smem-sm, registers,
  /// registers-sm, warp, threads, threads-sm, sms). On failure, says why
  /// in `error`.
  static FailureOr<CudaTargetDescription> parse(llvm::StringRef spec,
                                                std::string &error);
  /// The preset, then every field that differs from it.
  std::string str() const;
};

} // namespace mlir::loom

#endif // LOOM_TARGET_CUDA_TARGETDESCRIPTION_H
