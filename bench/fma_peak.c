// Measures the FP32 FMA peak of this machine: every thread runs independent
// chains of 512-bit (or 256-bit) FMAs, enough of them to hide the latency.
// Prints one JSON line: {"threads": n, "gflops": total, "per_thread": ...}.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
static const long kIters = 1000000000L / CHAINS;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void *run(void *out) {
#ifdef __AVX512F__
  typedef __m512 vec;
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define LANES 16
#else
  typedef __m256 vec;
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define LANES 8
#endif
  vec acc[CHAINS];
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = SET1(0.0f);
  vec a = SET1(0.999999f), b = SET1(1e-7f);
  double t0 = now();
  for (long it = 0; it < kIters; ++it)
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = FMA(acc[i], a, b);
  double t = now() - t0;
  float sink = 0;
  for (int i = 0; i < CHAINS; ++i) {
    sink += ((float *)&acc[i])[0];
  }
  *(double *)out = 2.0 * LANES * CHAINS * kIters / t / 1e9 + (sink == 12345.f);
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  pthread_t th[64];
  double gf[64];
  for (int i = 0; i < n; ++i)
    pthread_create(&th[i], NULL, run, &gf[i]);
  double total = 0;
  for (int i = 0; i < n; ++i) {
    pthread_join(th[i], NULL);
    total += gf[i];
  }
  printf("{\"threads\": %d, \"gflops\": %.1f, \"per_thread\": %.1f}\n", n, total,
         total / n);
  return 0;
}
