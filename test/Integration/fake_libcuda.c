// A stand-in for libcuda.so.1 that runs no kernel: it answers the driver
// calls runtime/loom_cuda.c makes, keeps "device" memory in host memory,
// refuses cubins (so the runtime falls back to the PTX, which this fake
// reads), and logs every call to $FAKE_CUDA_LOG. A launch is checked
// against the PTX: the kernel exists, and every parameter the PTX entry
// declares is read through the `params` array (u64 / u32 / f32), so the
// log shows what the host code passed, and a missing parameter would be
// read out of bounds (and caught by the test's own checks of the values).
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
static FILE *logf_;
static char *ptx_text;
static int context_current;
static struct {
  void *ptr;
  size_t bytes;
} allocations[4096];
static int allocation_count;

static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *format, ...) {
  if (!logf_) {
    const char *path = getenv("FAKE_CUDA_LOG");
    logf_ = path ? fopen(path, "w") : stderr;
  }
  va_list args;
  va_start(args, format);
  vfprintf(logf_, format, args);
  va_end(args);
  fputc('\n', logf_);
  fflush(logf_);
}

CUresult cuInit(unsigned flags) {
  say("cuInit %u", flags);
  return 0;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **ctx, int device) {
  say("cuDevicePrimaryCtxRetain %d", device);
  *ctx = (void *)0x1000;
  return 0;
}
CUresult cuCtxGetCurrent(void **ctx) {
  *ctx = context_current ? (void *)0x1000 : NULL;
  return 0;
}
CUresult cuCtxSetCurrent(void *ctx) {
  context_current = ctx != NULL;
  return 0;
}
CUresult cuCtxSynchronize(void) {
  say("cuCtxSynchronize");
  return 0;
}
CUresult cuModuleLoadData(void **module, const void *image) {
  say("cuModuleLoadData %s", memcmp(image, "\177ELF", 4) == 0 ? "elf" : "other");
  (void)module;
  return 209; // CUDA_ERROR_NO_BINARY_FOR_GPU: the runtime must use the PTX
}
CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n,
                            int *options, void **values) {
  (void)n, (void)options, (void)values;
  const char *text = image;
  if (!strstr(text, ".version") || !strstr(text, ".target sm_")) {
    say("cuModuleLoadDataEx not-ptx");
    return 218;
  }
  free(ptx_text);
  ptx_text = strdup(text);
  say("cuModuleLoadDataEx ptx %zu bytes", strlen(text));
  *module = (void *)0x2000;
  return 0;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  (void)module;
  char entry[512];
  snprintf(entry, sizeof entry, ".entry %s(", name);
  if (!ptx_text || !strstr(ptx_text, entry)) {
    say("cuModuleGetFunction %s missing", name);
    return 500; // CUDA_ERROR_NOT_FOUND
  }
  say("cuModuleGetFunction %s", name);
  *function = strdup(name);
  return 0;
}
CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  say("cuFuncSetAttribute %s %d %d", (const char *)function, attribute, value);
  return 0;
}
CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **extra) {
  (void)stream, (void)extra;
  const char *name = function;
  char line[8192];
  int n = snprintf(line, sizeof line, "launch %s grid %u %u %u block %u %u %u smem %u params",
                   name, gx, gy, gz, bx, by, bz, smem);
  char entry[512];
  snprintf(entry, sizeof entry, ".entry %s(", name);
  const char *p = strstr(ptx_text, entry);
  const char *end = p ? strchr(p, ')') : NULL;
  int index = 0;
  for (const char *q = p; q && q < end; ++index) {
    q = strstr(q + 1, ".param ");
    if (!q || q > end)
      break;
    const char *type = q + 7;
    if (strncmp(type, ".u64", 4) == 0 || strncmp(type, ".b64", 4) == 0)
      n += snprintf(line + n, sizeof line - n, " %llx",
                    (unsigned long long)*(uint64_t *)params[index]);
    else if (strncmp(type, ".u32", 4) == 0 || strncmp(type, ".b32", 4) == 0)
      n += snprintf(line + n, sizeof line - n, " %u", *(uint32_t *)params[index]);
    else if (strncmp(type, ".f32", 4) == 0)
      n += snprintf(line + n, sizeof line - n, " %g", *(float *)params[index]);
    else
      n += snprintf(line + n, sizeof line - n, " ?");
  }
  say("%s", line);
  return 0;
}
// The number of .param entries of kernel `name` in the loaded PTX.
static int param_count(const char *name) {
  char entry[512];
  snprintf(entry, sizeof entry, ".entry %s(", name);
  const char *p = ptx_text ? strstr(ptx_text, entry) : NULL;
  const char *end = p ? strchr(p, ')') : NULL;
  int n = 0;
  for (const char *q = p; q && (q = strstr(q + 1, ".param ")) && q < end;)
    ++n;
  return n;
}
CUresult cuFuncGetParamInfo(void *function, size_t index, size_t *offset,
                            size_t *size) {
  if ((int)index >= param_count(function))
    return 1; // CUDA_ERROR_INVALID_VALUE: no such parameter
  *offset = 8 * index;
  *size = 8;
  return 0;
}
CUresult cuMemAlloc_v2(uint64_t *ptr, size_t bytes) {
  void *p = malloc(bytes);
  allocations[allocation_count].ptr = p;
  allocations[allocation_count++].bytes = bytes;
  *ptr = (uint64_t)(uintptr_t)p;
  say("cuMemAlloc %zu %llx", bytes, (unsigned long long)*ptr);
  return 0;
}
CUresult cuMemFree_v2(uint64_t ptr) {
  say("cuMemFree %llx", (unsigned long long)ptr);
  return 0;
}
CUresult cuPointerGetAttribute(void *data, int attribute, uint64_t ptr) {
  (void)attribute;
  for (int i = 0; i < allocation_count; ++i) {
    uint64_t base = (uint64_t)(uintptr_t)allocations[i].ptr;
    if (ptr >= base && ptr < base + allocations[i].bytes) {
      *(unsigned *)data = 2; // CU_MEMORYTYPE_DEVICE
      return 0;
    }
  }
  say("cuPointerGetAttribute %llx not-device", (unsigned long long)ptr);
  return 1; // CUDA_ERROR_INVALID_VALUE, as for pageable host memory
}
CUresult cuGetErrorName(CUresult r, const char **name) {
  *name = r == 1 ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_FAKE";
  return 0;
}
CUresult cuGetErrorString(CUresult r, const char **what) {
  (void)r;
  *what = "reported by the fake driver";
  return 0;
}
// For loom.cuda.DeviceBuffer.
CUresult cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t bytes) {
  memcpy((void *)(uintptr_t)dst, src, bytes);
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t bytes) {
  memcpy(dst, (void *)(uintptr_t)src, bytes);
  return 0;
}
CUresult cuMemsetD32_v2(uint64_t dst, unsigned value, size_t count) {
  for (size_t i = 0; i < count; ++i)
    ((unsigned *)(uintptr_t)dst)[i] = value;
  return 0;
}
