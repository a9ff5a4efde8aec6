/*===- loom_cuda.c - the runtime of --target=cuda artifacts ---------------===*
 *
 * See loom_cuda.h for the API and docs/cuda.md for the design. Plain C99 +
 * POSIX threads and dlopen; the CUDA driver types are declared here so
 * that no CUDA header is needed to build an artifact.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include "loom_cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
  CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2,
  CU_JIT_INFO_LOG_BUFFER = 3,
  CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

/* The calling thread's last error (NULL: the last call succeeded). The
 * variable belongs to the generated code, whose loom_last_error() returns
 * it; the runtime only writes it. */
extern __thread const char *loom_last_error_message;

/* The driver entry points this runtime uses. */
static struct {
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*CtxGetCurrent)(CUcontext *);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxSynchronize)(void);
  CUresult (*ModuleLoadData)(CUmodule *, const void *);
  CUresult (*ModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                               void **);
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*FuncSetAttribute)(CUfunction, int, int);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*MemAlloc)(CUdeviceptr *, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*PointerGetAttribute)(void *, int, CUdeviceptr);
  /* CUDA 12.4 and later; NULL before. */
  CUresult (*FuncGetParamInfo)(CUfunction, size_t, size_t *, size_t *);
  CUresult (*GetErrorName)(CUresult, const char **);
  CUresult (*GetErrorString)(CUresult, const char **);
} cu;

static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
static char driver_error[512];    /* set once when the driver is unusable */
static CUcontext primary_context; /* device 0's, retained on first need */

/* The module of this artifact per context it was loaded in, and the
 * kernels looked up in each. */
#define LOOM_MAX_MODULES 16
#define LOOM_MAX_FUNCTIONS 1024
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  CUcontext context;
  CUmodule module;
} modules[LOOM_MAX_MODULES];
static int module_count;
static struct {
  CUmodule module;
  const char *name; /* a constant of the artifact: compared by address */
  CUfunction function;
  int shared_bytes; /* dynamic shared memory the kernel was opted into */
} functions[LOOM_MAX_FUNCTIONS];
static int function_count;

/* The state of the call running on this thread. */
static __thread int call_failed;
static __thread CUmodule call_module;
static __thread char message[1024];

static void fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  loom_last_error_message = message;
  call_failed = 1;
}

/* Names of the errors a caller is most likely to meet, for drivers (the
 * CUDA stub library, say) whose cuGetErrorName fails too. */
static const char *known_error(CUresult r) {
  switch (r) {
  case 1: return "CUDA_ERROR_INVALID_VALUE";
  case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
  case 3: return "CUDA_ERROR_NOT_INITIALIZED";
  case 34: return "CUDA_ERROR_STUB_LIBRARY: libcuda.so.1 is the toolkit's "
                  "stub, not a driver";
  case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER";
  case 100: return "CUDA_ERROR_NO_DEVICE";
  case 200: return "CUDA_ERROR_INVALID_IMAGE";
  case 209: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case 218: return "CUDA_ERROR_INVALID_PTX";
  case 222: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION: the driver is older "
                   "than the PTX";
  case 700: return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case 701: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
  case 719: return "CUDA_ERROR_LAUNCH_FAILED";
  default: return NULL;
  }
}

static const char *describe(CUresult r) {
  static __thread char text[256];
  const char *name = NULL, *what = NULL;
  if (cu.GetErrorName && cu.GetErrorName(r, &name) != CUDA_SUCCESS)
    name = NULL;
  if (cu.GetErrorString && cu.GetErrorString(r, &what) != CUDA_SUCCESS)
    what = NULL;
  if (!name)
    name = known_error(r);
  snprintf(text, sizeof text, "%s (%d): %s", name ? name : "CUDA error", r,
           what ? what : "no description");
  return text;
}

static void load_driver(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(driver_error, sizeof driver_error,
             "no CUDA driver: this artifact was compiled with --target=cuda "
             "and needs an NVIDIA GPU and its driver (libcuda.so.1): %s",
             why ? why : "dlopen failed");
    return;
  }
#define LOOM_SYMBOL(field, symbol)                                             \
  do {                                                                         \
    *(void **)(&cu.field) = dlsym(lib, symbol);                                \
    if (!cu.field) {                                                           \
      snprintf(driver_error, sizeof driver_error,                              \
               "the CUDA driver (libcuda.so.1) lacks %s: it is older than "   \
               "CUDA 11.1",                                                    \
               symbol);                                                        \
      return;                                                                  \
    }                                                                          \
  } while (0)
  LOOM_SYMBOL(Init, "cuInit");
  LOOM_SYMBOL(DeviceGet, "cuDeviceGet");
  LOOM_SYMBOL(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  LOOM_SYMBOL(CtxGetCurrent, "cuCtxGetCurrent");
  LOOM_SYMBOL(CtxSetCurrent, "cuCtxSetCurrent");
  LOOM_SYMBOL(CtxSynchronize, "cuCtxSynchronize");
  LOOM_SYMBOL(ModuleLoadData, "cuModuleLoadData");
  LOOM_SYMBOL(ModuleLoadDataEx, "cuModuleLoadDataEx");
  LOOM_SYMBOL(ModuleGetFunction, "cuModuleGetFunction");
  LOOM_SYMBOL(FuncSetAttribute, "cuFuncSetAttribute");
  LOOM_SYMBOL(LaunchKernel, "cuLaunchKernel");
  LOOM_SYMBOL(MemAlloc, "cuMemAlloc_v2");
  LOOM_SYMBOL(MemFree, "cuMemFree_v2");
  LOOM_SYMBOL(PointerGetAttribute, "cuPointerGetAttribute");
  LOOM_SYMBOL(GetErrorName, "cuGetErrorName");
  LOOM_SYMBOL(GetErrorString, "cuGetErrorString");
#undef LOOM_SYMBOL
  *(void **)(&cu.FuncGetParamInfo) = dlsym(lib, "cuFuncGetParamInfo");
  CUresult r = cu.Init(0);
  if (r != CUDA_SUCCESS) {
    snprintf(driver_error, sizeof driver_error,
             "the CUDA driver failed to initialize (no usable GPU?): %s",
             describe(r));
    return;
  }
}

/* The context the call runs in: the thread's current one, else device 0's
 * primary context, made current. */
static CUcontext current_context(void) {
  CUcontext context = NULL;
  CUresult r = cu.CtxGetCurrent(&context);
  if (r != CUDA_SUCCESS) {
    fail("cuCtxGetCurrent: %s", describe(r));
    return NULL;
  }
  if (context)
    return context;
  pthread_mutex_lock(&table_lock);
  if (!primary_context) {
    CUdevice device;
    r = cu.DeviceGet(&device, 0);
    if (r == CUDA_SUCCESS)
      r = cu.DevicePrimaryCtxRetain(&primary_context, device);
  }
  context = primary_context;
  pthread_mutex_unlock(&table_lock);
  if (r != CUDA_SUCCESS || !context) {
    fail("cannot open a context on CUDA device 0: %s", describe(r));
    return NULL;
  }
  r = cu.CtxSetCurrent(context);
  if (r != CUDA_SUCCESS) {
    fail("cuCtxSetCurrent: %s", describe(r));
    return NULL;
  }
  return context;
}

/* The artifact's module in `context`, loaded on first use; call with
 * table_lock held. */
static CUmodule module_for(CUcontext context, const char *ptx,
                           const void *cubin, int64_t cubin_size) {
  for (int i = 0; i < module_count; ++i)
    if (modules[i].context == context)
      return modules[i].module;
  if (module_count == LOOM_MAX_MODULES) {
    fail("more than %d CUDA contexts used this artifact", LOOM_MAX_MODULES);
    return NULL;
  }
  CUmodule module = NULL;
  CUresult r = 1;
  /* A cubin for another architecture is refused; the PTX is then compiled
   * for the device by the driver. */
  if (cubin_size > 0)
    r = cu.ModuleLoadData(&module, cubin);
  if (r != CUDA_SUCCESS) {
    char log[4096] = "";
    int options[] = {CU_JIT_ERROR_LOG_BUFFER,
                     CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, (void *)(uintptr_t)sizeof log};
    r = cu.ModuleLoadDataEx(&module, ptx, 2, options, values);
    if (r != CUDA_SUCCESS) {
      fail("loading the artifact's GPU code failed: %s%s%s", describe(r),
           log[0] ? "\n" : "", log);
      return NULL;
    }
  }
  modules[module_count].context = context;
  modules[module_count].module = module;
  ++module_count;
  return module;
}

int loom_cuda_begin(const char *ptx, const void *cubin, int64_t cubin_size) {
  loom_last_error_message = NULL;
  call_failed = 0;
  call_module = NULL;
  pthread_once(&driver_once, load_driver);
  if (driver_error[0]) {
    fail("%s", driver_error);
    return 0;
  }
  CUcontext context = current_context();
  if (!context)
    return 0;
  pthread_mutex_lock(&table_lock);
  call_module = module_for(context, ptx, cubin, cubin_size);
  pthread_mutex_unlock(&table_lock);
  if (!call_module)
    return 0;
  CUresult r = cu.CtxSynchronize();
  if (r != CUDA_SUCCESS) {
    fail("the CUDA context had failed before this call: %s", describe(r));
    return 0;
  }
  return 1;
}

/* Whether `function` takes exactly `count` parameters, where the driver
 * can tell (cuFuncGetParamInfo): a mismatch between the host code and the
 * kernel would otherwise pass garbage. */
static int parameters_match(CUfunction function, int count) {
  if (!cu.FuncGetParamInfo)
    return 1;
  size_t offset, size;
  if (count > 0 &&
      cu.FuncGetParamInfo(function, (size_t)count - 1, &offset, &size) !=
          CUDA_SUCCESS)
    return 0;
  return cu.FuncGetParamInfo(function, (size_t)count, &offset, &size) !=
         CUDA_SUCCESS;
}

static CUfunction function_for(const char *name, int shared_bytes,
                               int param_count) {
  CUfunction function = NULL;
  int index = -1;
  pthread_mutex_lock(&table_lock);
  for (int i = 0; i < function_count; ++i)
    if (functions[i].module == call_module && functions[i].name == name) {
      index = i;
      break;
    }
  if (index < 0) {
    CUresult r = cu.ModuleGetFunction(&function, call_module, name);
    if (r != CUDA_SUCCESS) {
      pthread_mutex_unlock(&table_lock);
      fail("kernel %s is missing from the artifact's GPU code: %s", name,
           describe(r));
      return NULL;
    }
    if (!parameters_match(function, param_count)) {
      pthread_mutex_unlock(&table_lock);
      fail("kernel %s does not take the %d parameters the host code passes",
           name, param_count);
      return NULL;
    }
    if (function_count == LOOM_MAX_FUNCTIONS) {
      pthread_mutex_unlock(&table_lock);
      fail("more than %d kernels", LOOM_MAX_FUNCTIONS);
      return NULL;
    }
    index = function_count++;
    functions[index].module = call_module;
    functions[index].name = name;
    functions[index].function = function;
    functions[index].shared_bytes = 48 << 10;
  }
  function = functions[index].function;
  if (shared_bytes > functions[index].shared_bytes) {
    CUresult r = cu.FuncSetAttribute(
        function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared_bytes);
    if (r != CUDA_SUCCESS) {
      pthread_mutex_unlock(&table_lock);
      fail("kernel %s needs %d bytes of shared memory, more than the device "
           "gives a block: %s",
           name, shared_bytes, describe(r));
      return NULL;
    }
    functions[index].shared_bytes = shared_bytes;
  }
  pthread_mutex_unlock(&table_lock);
  return function;
}

void loom_cuda_launch(const char *name, int64_t grid_x, int64_t grid_y,
                      int64_t grid_z, int64_t block_x, int64_t block_y,
                      int64_t block_z, int32_t shared_bytes, void **params,
                      int32_t param_count) {
  if (call_failed)
    return;
  if (grid_x <= 0 || grid_y <= 0 || grid_z <= 0)
    return; /* an empty grid has nothing to do */
  if (grid_x > 2147483647 || grid_y > 65535 || grid_z > 65535) {
    fail("kernel %s: grid %lld x %lld x %lld exceeds the CUDA limits", name,
         (long long)grid_x, (long long)grid_y, (long long)grid_z);
    return;
  }
  CUfunction function = function_for(name, shared_bytes, param_count);
  if (!function)
    return;
  CUresult r = cu.LaunchKernel(function, (unsigned)grid_x, (unsigned)grid_y,
                               (unsigned)grid_z, (unsigned)block_x,
                               (unsigned)block_y, (unsigned)block_z,
                               (unsigned)shared_bytes, NULL, params, NULL);
  if (r != CUDA_SUCCESS)
    fail("launching kernel %s (grid %lld x %lld x %lld, block %lld, %d bytes "
         "of shared memory): %s",
         name, (long long)grid_x, (long long)grid_y, (long long)grid_z,
         (long long)block_x, shared_bytes, describe(r));
}

void loom_cuda_check_argument(int32_t index, const void *ptr) {
  if (call_failed || !ptr)
    return;
  unsigned type = 0;
  CUresult r = cu.PointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                      (CUdeviceptr)(uintptr_t)ptr);
  if (r != CUDA_SUCCESS)
    fail("argument %d (%p) is not memory the GPU can use: a --target=cuda "
         "artifact takes device pointers in its descriptors "
         "(cuPointerGetAttribute: %s)",
         index, ptr, describe(r));
}

void loom_cuda_end(void) {
  if (call_failed)
    return;
  CUresult r = cu.CtxSynchronize();
  if (r != CUDA_SUCCESS)
    fail("running the artifact's kernels failed: %s", describe(r));
}

void *_mlir_memref_to_llvm_alloc(uint64_t bytes) {
  if (call_failed)
    return NULL;
  CUdeviceptr ptr = 0;
  CUresult r = cu.MemAlloc(&ptr, bytes ? bytes : 1);
  if (r != CUDA_SUCCESS) {
    fail("allocating %llu bytes of device memory: %s",
         (unsigned long long)bytes, describe(r));
    return NULL;
  }
  return (void *)(uintptr_t)ptr;
}

void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t bytes) {
  /* cuMemAlloc aligns to at least 256 bytes. */
  if (alignment > 256) {
    if (!call_failed)
      fail("a device buffer asks for %llu-byte alignment; cuMemAlloc gives "
           "256",
           (unsigned long long)alignment);
    return NULL;
  }
  return _mlir_memref_to_llvm_alloc(bytes);
}

void _mlir_memref_to_llvm_free(void *ptr) {
  if (ptr && cu.MemFree)
    cu.MemFree((CUdeviceptr)(uintptr_t)ptr);
}
