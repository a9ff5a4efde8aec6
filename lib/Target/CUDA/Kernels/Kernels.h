//===- Kernels.h - the CUDA kernels of the loom and dense ops ---*- C++ -*-===//
//
// One populate function per op family; every kernel takes the
// CudaTargetDescription its tiles derive from. The GEMM builder is shared:
// blockdiag_matmul, monarch and the dense contractions are all strided,
// batched GEMMs whose index algebra lives in the operands' strides.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_TARGET_CUDA_KERNELS_KERNELS_H
#define LOOM_LIB_TARGET_CUDA_KERNELS_KERNELS_H

#include "loom/Target/CUDA/TargetDescription.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::loom::cuda {

/// A matrix (with batch dimensions) inside a 1-D f32 buffer: element
/// (batch..., row, col) sits at offset + sum(batch * batchStrides) +
/// row * rowStride + col * colStride.
struct StridedMatrix {
  Value flat;
  int64_t offset = 0;
  SmallVector<int64_t> batchStrides;
  int64_t rowStride = 0, colStride = 0;
};

/// C = A . B (+ init), batched: A is m x k, B is k x n, C and init m x n.
struct GemmProblem {
  SmallVector<int64_t> batch;
  int64_t m = 0, n = 0, k = 0;
  StridedMatrix a, b, c;
  std::optional<StridedMatrix> init;
};

/// The register tile of the GEMM kernel: a BM x BN block tile, K staged BK
/// at a time through shared memory, TM x TN outputs per thread.
struct GemmTile {
  int64_t bm, bn, bk, tm, tn;
  int64_t threads() const { return (bm / tm) * (bn / tn); }
};

/// The tile the GEMM kernel uses for `problem` on `target`.
GemmTile chooseGemmTile(const GemmProblem &problem,
                        const CudaTargetDescription &target);

/// Emits the GEMM kernel (a gpu.launch) for `problem`.
void buildGemmKernel(ImplicitLocOpBuilder &b, const GemmProblem &problem,
                     const CudaTargetDescription &target, StringRef name);

/// grouped_attention and latent_route -> the flash attention kernel.
void populateAttentionToGpuPatterns(RewritePatternSet &patterns,
                                    const CudaTargetDescription &target);
/// blockdiag_matmul and monarch -> GEMM kernels.
void populateMonarchToGpuPatterns(RewritePatternSet &patterns,
                                  const CudaTargetDescription &target);
/// fft_conv -> the shared-memory FFT kernels.
void populateFftConvToGpuPatterns(RewritePatternSet &patterns,
                                  const CudaTargetDescription &target);
/// linalg contractions (matmul, batch_matmul, matmul-like generics, with
/// any operand transposed) -> GEMM kernels.
void populateContractionToGpuPatterns(RewritePatternSet &patterns,
                                      const CudaTargetDescription &target);

} // namespace mlir::loom::cuda

#endif // LOOM_LIB_TARGET_CUDA_KERNELS_KERNELS_H
