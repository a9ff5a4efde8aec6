// RUN: loom-opt %s --split-input-file --transform-interpreter --cse --verify-diagnostics | FileCheck %s

// grouped_attention without lookback: per group, scores over the group's
// memory rows then its own rows (concatenated), the causal mask (key j is
// memory, j < F, or row j - F <= i), softmax over keys, P . v.
// CHECK-LABEL: func.func @fam_block
// CHECK:         %[[Q:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0], [1], [2, 3], [4]] output_shape [1, 2, 4, 8, 8]
// CHECK:         %[[K:.+]] = tensor.concat dim(3) %{{.+}}, %{{.+}} : (tensor<1x2x4x3x8xf32>, tensor<1x2x4x8x8xf32>) -> tensor<1x2x4x11x8xf32>
// CHECK:         %[[S:.+]] = linalg.generic {{.+}} ins(%[[Q]], %[[K]] : tensor<1x2x4x8x8xf32>, tensor<1x2x4x11x8xf32>) outs(%{{.+}} : tensor<1x2x4x8x11xf32>)
// CHECK:         %[[M:.+]] = linalg.generic {{.+}} outs(%[[S]] : tensor<1x2x4x8x11xf32>)
// CHECK:           %[[I:.+]] = linalg.index 3 : index
// CHECK:           %[[J:.+]] = linalg.index 4 : index
// CHECK:           %[[I3:.+]] = arith.addi %[[I]], %c3 : index
// CHECK:           arith.cmpi ule, %[[J]], %[[I3]] : index
// CHECK:         %[[P:.+]] = linalg.softmax dimension(4) ins(%[[M]] : tensor<1x2x4x8x11xf32>)
// CHECK:         %[[O:.+]] = linalg.generic {{.+}} ins(%[[P]], %{{.+}} : tensor<1x2x4x8x11xf32>, tensor<1x2x4x11x4xf32>)
// CHECK:         tensor.collapse_shape %[[O]] {{\[\[}}0], [1], [2, 3], [4]] : tensor<1x2x4x8x4xf32> into tensor<1x2x32x4xf32>
func.func @fam_block(%q: tensor<1x2x32x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x4xf32>, %mk: tensor<1x2x12x8xf32>, %mv: tensor<1x2x12x4xf32>) -> tensor<1x2x32x4xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x2x12x8xf32>, tensor<1x2x12x4xf32>) group_size = 8 causal = true : tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x4xf32> -> tensor<1x2x32x4xf32>
  return %o : tensor<1x2x32x4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %d = transform.structured.decompose_interface %op : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}

// -----

// latent_route with shift 1: query groups 1..3 read key groups 0..2; the
// result of group 0 stays zero.
// CHECK-LABEL: func.func @shifted_pull
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x1x16x4xf32>)
// CHECK:         tensor.extract_slice %{{.+}}[0, 0, 4, 0] [1, 1, 12, 4] [1, 1, 1, 1] : tensor<1x1x16x4xf32> to tensor<1x1x12x4xf32>
// CHECK:         tensor.extract_slice %{{.+}}[0, 0, 0, 0] [1, 1, 6, 4] [1, 1, 1, 1] : tensor<1x1x8x4xf32> to tensor<1x1x6x4xf32>
// CHECK-NOT:     linalg.index
// CHECK:         linalg.softmax dimension(4)
// CHECK:         tensor.insert_slice %{{.+}} into %[[Z]][0, 0, 4, 0] [1, 1, 12, 4] [1, 1, 1, 1]
func.func @shifted_pull(%x: tensor<1x1x16x4xf32>, %z: tensor<1x1x8x4xf32>) -> tensor<1x1x16x4xf32> {
  %o = loom.latent_route %x, %z, %z groups = 4 shift = 1 : tensor<1x1x16x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x16x4xf32>
  return %o : tensor<1x1x16x4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.latent_route"]} in %root : (!transform.any_op) -> !transform.any_op
    %d = transform.structured.decompose_interface %op : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}

// -----

// A lookback would make a group's scores span several groups: refused.
func.func @bswa(%q: tensor<1x1x32x8xf32>) -> tensor<1x1x32x8xf32> {
  // expected-error @+2 {{decomposes only with lookback = 0 (its groups' scores would span several groups); lower it with convert-loom-to-vector}}
  // expected-note @+1 {{when applied to this op}}
  %o = loom.grouped_attention %q, %q, %q group_size = 8 lookback = 1 causal = true : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32> -> tensor<1x1x32x8xf32>
  return %o : tensor<1x1x32x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["loom.grouped_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    // expected-error @+1 {{transform.structured.decompose_interface failed to apply}}
    %d = transform.structured.decompose_interface %op : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
