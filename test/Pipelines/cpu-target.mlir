// The CPU the kernels are sized for reaches every kernel pass as its
// `target` option: from an LLVM CPU name (mcpu=) through LLVM's CPU tables,
// or spelled out (target=), which wins.
// RUN: loom-opt %s --loom-cpu-pipeline="mcpu=x86-64-v3" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=AVX2
// RUN: loom-opt %s --loom-cpu-pipeline="mcpu=skylake-avx512" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=AVX512
// RUN: loom-opt %s --loom-cpu-pipeline="mcpu=znver4" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=ZEN
// RUN: not loom-opt %s --loom-cpu-pipeline="target=avx512:stream-l3s=-1" 2>&1 | FileCheck %s --check-prefix=BADSTREAM
// RUN: loom-opt %s --loom-cpu-pipeline="mcpu=x86-64" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=SSE
// RUN: loom-opt %s --loom-cpu-pipeline="mcpu=skylake-avx512 target=avx2:l2=1048576:fma-latency=5" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPELLED
// RUN: loom-opt %s --loom-cpu-pipeline="target=avx512:l2=1048576" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=AVX512-L2
// RUN: loom-opt %s --loom-cpu-pipeline="target=avx2:line=128" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=LINE
// RUN: not loom-opt %s --loom-cpu-pipeline="target=avx2:line=48" 2>&1 | FileCheck %s --check-prefix=BADLINE
// RUN: not loom-opt %s --loom-cpu-pipeline="target=avx9" 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not loom-opt %s --loom-cpu-pipeline="mcpu=no-such-cpu" 2>&1 | FileCheck %s --check-prefix=BADCPU
// RUN: not loom-opt %s --loom-cpu-pipeline="mcpu=i386" 2>&1 | FileCheck %s --check-prefix=CPU32
// RUN: not loom-opt %s --loom-cpu-pipeline="bogus=1" 2>&1 | FileCheck %s --check-prefix=BADOPTION
// RUN: loom-compile -v --mcpu=x86-64-v3 %s -o %t.so 2>&1 | FileCheck %s --check-prefix=COMPILE-AVX2
// RUN: loom-compile -v --mcpu=x86-64-v3 --cpu-target=avx512:registers=16 %s -o %t.so 2>&1 | FileCheck %s --check-prefix=COMPILE-SPELLED
// RUN: not loom-compile --cpu-target=avx2:l1=12 %s -o %t.so 2>&1 | FileCheck %s --check-prefix=COMPILE-BAD

// Monarch's work items of 64 rows: on AVX2 while an item's h is under
// 32 MiB, with full-line vectors while it is under 1.5 L2s, and items of
// 32 rows only while both weights fit in L2.
// AVX2: loom-tile-monarch{item-rows=64 max-halved-weight-bytes=9223372036854775807 max-item-bytes=33554432 min-items=16}
// AVX512: loom-tile-monarch{item-rows=64 max-halved-weight-bytes=2097152 max-item-bytes=3145728 min-items=16}
// AVX512-L2: loom-tile-monarch{item-rows=64 max-halved-weight-bytes=1048576 max-item-bytes=1572864 min-items=16}
// AVX2: convert-monarch-tiles-to-vector{{.*}}target=avx2{{[ }]}}
// AVX2: convert-fft-conv-tiles-to-vector{{.*}}target=avx2{{[ }]}}
// An Intel CPU streams GEMM results from one L3 share, AMD's (and the
// generic x86-64 levels) from eight.
// AVX512: convert-fft-conv-tiles-to-vector{{.*}}target=avx512:stream-l3s=1{{[ }]}}
// ZEN: convert-fft-conv-tiles-to-vector{{.*}}target=avx512{{[ }]}}
// SSE: convert-fft-conv-tiles-to-vector{{.*}}target=sse{{[ }]}}
// SPELLED: convert-fft-conv-tiles-to-vector{{.*}}target=avx2:fma-latency=5:l2=1048576{{[ }]}}
// The line size sizes the prefetch steps and the tiles' column rounding.
// LINE: loom-tile-and-fuse{{.*}}line-elements=32
// LINE: convert-fft-conv-tiles-to-vector{{.*}}target=avx2:line=128{{[ }]}}
// BADLINE: {{^}}loom-opt: error: loom-cpu-pipeline: line must be a power of two from 16 to 1024 bytes, got 48
// BADSTREAM: {{^}}loom-opt: error: loom-cpu-pipeline: stream-l3s must be 0..1024 L3 shares, got -1
// BADTARGET: {{^}}loom-opt: error: loom-cpu-pipeline: unknown CPU target 'avx9'
// BADCPU: {{^}}loom-opt: error: loom-cpu-pipeline: unknown --mcpu 'no-such-cpu'
// A 32-bit CPU, as loom-compile says (the pipeline took it before):
// CPU32: {{^}}loom-opt: error: loom-cpu-pipeline: --mcpu 'i386' is a 32-bit CPU; Loom builds x86-64 code
// An option the pipeline does not have: LLVM's parser names it, and the
// pipeline says which options it could not use.
// BADOPTION: no such option bogus
// BADOPTION-NEXT: {{^}}loom-opt: error: loom-cpu-pipeline: cannot use the options 'bogus=1' (see --help)
// COMPILE-AVX2: loom-compile: CPU target avx2{{$}}
// COMPILE-SPELLED: loom-compile: CPU target avx512:registers=16{{$}}
// COMPILE-BAD: error: cache sizes must satisfy 4 KiB <= l1 <= l2 <= 4 GiB

func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
