// Each CPU kernel pass reads its `target` option through
// CpuTargetDescription::parseOption: a bad one is an error naming the pass.
// RUN: not loom-opt %s --convert-fft-conv-tiles-to-vector="target=avx9" 2>&1 | FileCheck %s --check-prefix=LOOM
// RUN: not loom-opt %s --convert-monarch-tiles-to-vector="target=avx9" 2>&1 | FileCheck %s --check-prefix=MONARCH
// RUN: not loom-opt %s --convert-attention-tiles-to-vector="target=avx2:l1=12" 2>&1 | FileCheck %s --check-prefix=TILES
// RUN: not loom-opt %s --pass-pipeline="builtin.module(func.func(convert-linalg-to-vector{target=avx9}))" 2>&1 | FileCheck %s --check-prefix=LINALG

// LOOM: error: convert-fft-conv-tiles-to-vector: unknown CPU target 'avx9'
// MONARCH: error: convert-monarch-tiles-to-vector: unknown CPU target 'avx9'
// TILES: error: convert-attention-tiles-to-vector: {{.*}}l1
// LINALG: error: convert-linalg-to-vector: unknown CPU target 'avx9'
func.func @f() {
  return
}
