/*===- loom_cuda_emulator.c - GPU kernels of an artifact on the CPU -------===*
 *
 * What loom-compile --target=cuda --cuda-emulate links instead of
 * loom_cuda.c: the same kernels (the gpu.launch bodies Loom builds, after
 * outlining) compiled for the host and run here, one block after another,
 * each thread of a block as a fiber (ucontext) of the calling thread. A
 * barrier switches to the next fiber until every thread of the block has
 * reached it; a warp shuffle is a write, a barrier, a read and a barrier.
 * Buffers are host memory. It exists to test the kernels' logic (indices,
 * masks, barriers, shuffles, shared memory) where no GPU is present; it is
 * slow and checks more than a GPU does: a barrier that some threads of a
 * block skip is an error here, not undefined behaviour.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

extern __thread const char *loom_last_error_message;

enum { STACK_BYTES = 128 << 10, MAX_THREADS = 1024 };
/* Room for the largest dynamic shared memory a kernel may ask for. */
enum { SHARED_BYTES = 256 << 10 };

/* The generated kernels address shared memory through this global. */
__attribute__((aligned(64))) char loom_emu_shared_memory[SHARED_BYTES];

static pthread_mutex_t launch_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char message[512];
static __thread int call_failed;

/* The launch being emulated (one at a time: launch_lock). */
static struct {
  int64_t grid[3], block[3], block_id[3];
  int64_t threads;
  void (*entry)(void **);
  void **params;
  ucontext_t scheduler;
  ucontext_t *fibers;
  char *stacks;
  int current;
  int *state; /* 0 running/runnable, 1 at barrier, 2 done */
  float *exchange;
  const char *error;
} emu;

static void fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  loom_last_error_message = message;
  call_failed = 1;
}

int64_t loom_emu_block_id(int32_t d) { return emu.block_id[d]; }
int64_t loom_emu_thread_id(int32_t d) {
  return d == 0 ? emu.current : 0;
}
int64_t loom_emu_block_dim(int32_t d) { return emu.block[d]; }
int64_t loom_emu_grid_dim(int32_t d) { return emu.grid[d]; }

void loom_emu_barrier(void) {
  emu.state[emu.current] = 1;
  swapcontext(&emu.fibers[emu.current], &emu.scheduler);
}

float loom_emu_shuffle_xor_f32(float value, int32_t offset, int32_t width) {
  int self = emu.current;
  emu.exchange[self] = value;
  loom_emu_barrier();
  int lane = self % 32, base = self - lane;
  int source = lane ^ offset;
  float result = source < width && base + source < emu.threads
                     ? emu.exchange[base + source]
                     : value;
  loom_emu_barrier();
  return result;
}

static void fiber_main(void) {
  emu.entry(emu.params);
  emu.state[emu.current] = 2;
  /* uc_link returns to the scheduler. */
}

/* Runs the fibers of one block to completion; 0 on success. */
static int run_block(void) {
  for (int t = 0; t < emu.threads; ++t) {
    getcontext(&emu.fibers[t]);
    emu.fibers[t].uc_stack.ss_sp = emu.stacks + (size_t)t * STACK_BYTES;
    emu.fibers[t].uc_stack.ss_size = STACK_BYTES;
    emu.fibers[t].uc_link = &emu.scheduler;
    makecontext(&emu.fibers[t], fiber_main, 0);
    emu.state[t] = 0;
  }
  for (;;) {
    int waiting = 0, done = 0;
    for (int t = 0; t < emu.threads; ++t) {
      if (emu.state[t] != 0)
        continue;
      emu.current = t;
      swapcontext(&emu.scheduler, &emu.fibers[t]);
    }
    for (int t = 0; t < emu.threads; ++t) {
      waiting += emu.state[t] == 1;
      done += emu.state[t] == 2;
    }
    if (done == emu.threads)
      return 0;
    if (waiting + done == emu.threads && done > 0) {
      emu.error = "a barrier was reached by some threads of a block and "
                  "skipped by others";
      return 1;
    }
    for (int t = 0; t < emu.threads; ++t)
      if (emu.state[t] == 1)
        emu.state[t] = 0;
  }
}

int loom_cuda_begin(const char *ptx, const void *cubin, int64_t cubin_size) {
  (void)ptx, (void)cubin, (void)cubin_size;
  loom_last_error_message = NULL;
  call_failed = 0;
  return 1;
}

void loom_cuda_check_argument(int32_t index, const void *ptr) {
  (void)index, (void)ptr; /* every buffer is host memory here */
}

void loom_cuda_end(void) {}

void loom_emu_launch(void (*entry)(void **), const char *name, int64_t gx,
                     int64_t gy, int64_t gz, int64_t bx, int64_t by,
                     int64_t bz, int32_t shared_bytes, void **params,
                     int32_t param_count) {
  (void)param_count; /* the trampoline loads exactly the kernel's */
  if (call_failed || gx <= 0 || gy <= 0 || gz <= 0)
    return;
  if (by != 1 || bz != 1 || bx < 1 || bx > MAX_THREADS ||
      shared_bytes > SHARED_BYTES) {
    fail("kernel %s: the emulator runs 1-D blocks of at most %d threads "
         "and %d bytes of shared memory",
         name, MAX_THREADS, SHARED_BYTES);
    return;
  }
  pthread_mutex_lock(&launch_lock);
  emu.grid[0] = gx, emu.grid[1] = gy, emu.grid[2] = gz;
  emu.block[0] = bx, emu.block[1] = by, emu.block[2] = bz;
  emu.threads = bx;
  emu.entry = entry;
  emu.params = params;
  emu.error = NULL;
  emu.fibers = calloc((size_t)bx, sizeof(ucontext_t));
  emu.stacks = malloc((size_t)bx * STACK_BYTES);
  emu.state = calloc((size_t)bx, sizeof(int));
  emu.exchange = calloc((size_t)bx, sizeof(float));
  if (!emu.fibers || !emu.stacks || !emu.state || !emu.exchange)
    emu.error = "out of memory for the emulated threads";
  for (int64_t z = 0; z < gz && !emu.error; ++z)
    for (int64_t y = 0; y < gy && !emu.error; ++y)
      for (int64_t x = 0; x < gx && !emu.error; ++x) {
        emu.block_id[0] = x, emu.block_id[1] = y, emu.block_id[2] = z;
        /* Shared memory starts out as garbage on a GPU. */
        memset(loom_emu_shared_memory, 0xff, (size_t)shared_bytes);
        run_block();
      }
  if (emu.error)
    fail("kernel %s: %s", name, emu.error);
  free(emu.fibers);
  free(emu.stacks);
  free(emu.state);
  free(emu.exchange);
  pthread_mutex_unlock(&launch_lock);
}

void *_mlir_memref_to_llvm_alloc(uint64_t bytes) {
  /* Device memory starts out as garbage too. */
  void *p = malloc(bytes ? bytes : 1);
  if (p)
    memset(p, 0xff, bytes);
  return p;
}

void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t bytes) {
  uint64_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void *p = aligned_alloc(alignment, rounded ? rounded : alignment);
  if (p)
    memset(p, 0xff, bytes);
  return p;
}

void _mlir_memref_to_llvm_free(void *ptr) { free(ptr); }
