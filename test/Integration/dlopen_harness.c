// Loads a Loom shared object with plain dlopen, as a C program would, and
// calls one function through the ABI: f(x: [4,8]) -> [4,8], computed here
// as blockdiag_matmul with an identity weight, so the output must equal x.
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct { float *allocated, *aligned; int64_t offset, sizes[2], strides[2]; } Desc2;
typedef struct { float *allocated, *aligned; int64_t offset, sizes[3], strides[3]; } Desc3;

int main(int argc, char **argv) {
  void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!so) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
  const char *(*manifest)(void) = (const char *(*)(void))dlsym(so, "loom_manifest");
  const char *(*last_error)(void) = (const char *(*)(void))dlsym(so, "loom_last_error");
  void (*threads)(int) = (void (*)(int))dlsym(so, "loom_set_num_threads");
  void (*f)(Desc2 *, Desc3 *, Desc2 *) = (void (*)(Desc2 *, Desc3 *, Desc2 *))dlsym(so, "_mlir_ciface_f");
  if (!manifest || !last_error || !threads || !f) { fprintf(stderr, "missing symbol\n"); return 3; }
  printf("%s\n", manifest());
  threads(1);
  float x[32], w[2 * 4 * 4], y[32];
  for (int i = 0; i < 32; ++i) { x[i] = (float)i - 7.5f; y[i] = NAN; }
  memset(w, 0, sizeof w);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 4; ++j) w[b * 16 + j * 4 + j] = 1.0f;
  Desc2 dx = {x, x, 0, {4, 8}, {8, 1}}, dy = {y, y, 0, {4, 8}, {8, 1}};
  Desc3 dw = {w, w, 0, {2, 4, 4}, {16, 4, 1}};
  f(&dx, &dw, &dy);
  if (last_error() != NULL) { fprintf(stderr, "error: %s\n", last_error()); return 4; }
  for (int i = 0; i < 32; ++i)
    if (y[i] != x[i]) { fprintf(stderr, "y[%d] = %f, expected %f\n", i, y[i], x[i]); return 5; }
  printf("ok\n");
  return 0;
}
