// RUN: loom-opt %s -split-input-file -convert-loom-to-loops | FileCheck %s

// Block sliding-window attention with memory rows: one loop per (b, h, row);
// keys start at group g - lookback (clamped at 0) and stop after the row
// itself; memory rows g*F .. g*F+F. Two passes: row max, then exp-sum.
// CHECK-LABEL: func.func @bswa_with_memory
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x8x4xf32>, %[[V:.+]]: tensor<1x2x8x3xf32>, %[[MK:.+]]: tensor<1x2x4x4xf32>, %[[MV:.+]]: tensor<1x2x4x3xf32>)
// CHECK-DAG: %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG: %[[MKB:.+]] = bufferization.to_buffer %[[MK]] read_only
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<1x2x8x3xf32>
// CHECK: scf.for %[[B:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[H:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[G:.+]] = arith.divui %[[I]], %[[N:.+]] : index
// CHECK: %[[CLAMP:.+]] = arith.maxsi %[[G]], %[[LB:.+]] : index
// CHECK: %[[FIRST:.+]] = arith.subi %[[CLAMP]], %{{.+}} : index
// CHECK: %[[LO:.+]] = arith.muli %[[FIRST]], %[[N]] : index
// CHECK: %[[HI:.+]] = arith.addi %[[I]], %{{.+}} : index
// CHECK: %[[MLO:.+]] = arith.muli %[[G]], %[[F:.+]] : index
// CHECK: %[[MHI:.+]] = arith.addi %[[MLO]], %{{.+}} : index
// CHECK: %[[MAX0:.+]] = scf.for %{{.+}} = %[[LO]] to %[[HI]]
// CHECK: arith.maxnumf
// CHECK: %[[MAX:.+]] = scf.for %[[J:.+]] = %[[MLO]] to %[[MHI]] {{.*}}iter_args(%{{.+}} = %[[MAX0]])
// CHECK: memref.load %[[MKB]][%[[B]], %[[H]], %[[J]], %{{.+}}]
// CHECK: %[[SUM0:.+]] = scf.for %{{.+}} = %[[LO]] to %[[HI]]
// CHECK: arith.subf %{{.+}}, %[[MAX]] : f32
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = scf.for %{{.+}} = %[[MLO]] to %[[MHI]] {{.*}}iter_args(%{{.+}} = %[[SUM0]])
// CHECK: arith.cmpf ogt, %[[SUM]]
// CHECK: %[[RES:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[RES]]
func.func @bswa_with_memory(%q: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x3xf32>, %mk: tensor<1x2x4x4xf32>, %mv: tensor<1x2x4x3xf32>) -> tensor<1x2x8x3xf32> {
  %0 = loom.grouped_attention %q, %q, %v memory(%mk, %mv : tensor<1x2x4x4xf32>, tensor<1x2x4x3xf32>) group_size = 4 lookback = 1 causal = true : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x3xf32> -> tensor<1x2x8x3xf32>
  return %0 : tensor<1x2x8x3xf32>
}

// -----

// lookback = -1 starts every row at key 0; not causal ends at the group's end.
// CHECK-LABEL: func.func @every_earlier_group
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[G:.+]] = arith.divui %[[I]], %[[N:.+]] : index
// CHECK-NOT: arith.maxsi
// CHECK: %[[NEXT:.+]] = arith.addi %[[G]], %{{.+}} : index
// CHECK: %[[HI:.+]] = arith.muli %[[NEXT]], %[[N]] : index
// CHECK: scf.for %{{.+}} = %[[ZERO:.+]] to %[[HI]]
func.func @every_earlier_group(%q: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = loom.grouped_attention %q, %q, %q group_size = 2 lookback = -1 : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x8x4xf32>
  return %0 : tensor<1x1x8x4xf32>
}

// -----

// latent_route: query group g reads key group g - shift, or nothing before it.
// CHECK-LABEL: func.func @shifted_route
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[G:.+]] = arith.divui %[[I]], %{{.+}} : index
// CHECK: %[[SEES:.+]] = arith.cmpi sge, %[[G]], %[[SHIFT:.+]] : index
// CHECK: %[[LO:.+]] = arith.muli %{{.+}}, %{{.+}} : index
// CHECK: %[[END:.+]] = arith.addi %[[LO]], %{{.+}} : index
// CHECK: %[[HI:.+]] = arith.select %[[SEES]], %[[END]], %[[LO]] : index
// CHECK: scf.for %{{.+}} = %[[LO]] to %[[HI]]
func.func @shifted_route(%x: tensor<1x2x16x4xf32>, %z: tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32> {
  %0 = loom.latent_route %x, %z, %z groups = 4 shift = 1 : tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x16x4xf32>
  return %0 : tensor<1x2x16x4xf32>
}

// -----

// Ops of other dialects are left alone.
// CHECK-LABEL: func.func @negative_not_loom
// CHECK: %[[S:.+]] = arith.addf %arg0, %arg0 : tensor<4xf32>
// CHECK-NEXT: return %[[S]]
func.func @negative_not_loom(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addf %x, %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
