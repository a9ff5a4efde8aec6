/*===- loom_cuda.h - the runtime API of --target=cuda artifacts -----------===*
 *
 * Code that loom-compile --target=cuda generates calls these functions; the
 * runtime (loom_cuda.c, plain C, no MLIR) is compiled into every CUDA .so
 * with hidden visibility, so two artifacts loaded into one process never
 * share it. It talks to the CUDA driver API through libcuda.so.1, opened
 * with dlopen at the first call (never in a global constructor): an
 * artifact loads on a machine without a GPU or a driver, and a call there
 * writes nothing and leaves a message for loom_last_error().
 *
 * One call of an exported function _mlir_ciface_f runs
 *
 *   if (loom_cuda_begin(ptx, cubin, cubin_size)) {
 *     loom_cuda_check_argument(i, descriptor_i->aligned)   for every argument
 *     ... _mlir_memref_to_llvm_alloc / loom_cuda_launch / _free ...
 *     loom_cuda_end();
 *   }
 *
 * Every function after a failed step of the same call does nothing, so
 * the first error is the one reported.
 *===----------------------------------------------------------------------===*/
#ifndef LOOM_RUNTIME_LOOM_CUDA_H
#define LOOM_RUNTIME_LOOM_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clears the calling thread's error, then on first use opens the driver,
 * makes a context current (the caller's current context, else device 0's
 * primary context) and loads the artifact's module: the cubin when the
 * device can run it, else the PTX (JIT-compiled by the driver). Waits for
 * work already queued in the context, so inputs another library produced
 * are complete. Returns 0, with the error recorded, when the call cannot
 * proceed. */
int loom_cuda_begin(const char *ptx, const void *cubin, int64_t cubin_size);

/* Fails the call unless `ptr` (the data of argument `index`) is memory the
 * GPU can address (device, managed or registered host memory): a host
 * pointer passed by mistake is reported, not dereferenced by a kernel.
 * NULL (an empty tensor) is accepted. */
void loom_cuda_check_argument(int32_t index, const void *ptr);

/* cuLaunchKernel of the module's kernel `name` on the default stream;
 * `params` points to `param_count` pointers, one per kernel argument (the
 * count is checked against the kernel once, where the driver can tell).
 * Kernels using more than 48 KiB of dynamic shared memory are opted into
 * it first. */
void loom_cuda_launch(const char *name, int64_t grid_x, int64_t grid_y,
                      int64_t grid_z, int64_t block_x, int64_t block_y,
                      int64_t block_z, int32_t shared_bytes, void **params,
                      int32_t param_count);

/* Waits for the call's kernels and records any error they raised. */
void loom_cuda_end(void);

/* Device memory for the buffers the code allocates (the generic
 * allocation functions of MLIR's memref lowering). NULL after an error. */
void *_mlir_memref_to_llvm_alloc(uint64_t bytes);
void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t bytes);
void _mlir_memref_to_llvm_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* LOOM_RUNTIME_LOOM_CUDA_H */
