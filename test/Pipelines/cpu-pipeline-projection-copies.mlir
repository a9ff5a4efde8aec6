// The projections of a FIT local layer (L = 320: five 96-row GEMM tiles
// would overrun, so each projection is three whole tiles and a 32-row
// remainder, joined by insert_slice into its own tensor.empty) are written
// in place: no projection result is copied out of a buffer it shares with
// another. (cse used to merge the equal tensor.empty destinations of q, k,
// v and o before bufferization, which then copied every one but the last,
// 2 x 16 MiB per layer at L = 16K.) Copies of a buffer onto itself, which
// a bufferized parallel_insert_slice leaves, fold away under canonicalize.
//
// RUN: env PYTHONPATH=%S/../../python /usr/bin/python3 -m loom.models FIT batch=1 groups=5 group_len=64 latents=4 dx=64 dz=64 heads_x=2 heads_z=2 layers='(1)' > %t.mlir
// RUN: loom-opt %t.mlir --pass-pipeline='builtin.module(loom-cpu-pipeline{target=avx2})' -mlir-print-ir-after=convert-attention-tiles-to-vector -o /dev/null 2>&1 \
// RUN:   | sed -e '/IR Dump After/d' | loom-opt -canonicalize | FileCheck %s

// CHECK-LABEL: func.func private @local_layer
// CHECK:       scf.forall
// CHECK:       linalg.matmul
// CHECK-NOT:   memref.copy {{.*}}x64xf32
// CHECK:       return
