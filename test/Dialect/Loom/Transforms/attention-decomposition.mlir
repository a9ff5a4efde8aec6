// RUN: loom-opt %s -split-input-file -loom-decompose='keep=loom.attention_tile' -canonicalize | FileCheck %s --check-prefix=TILES
// RUN: loom-opt %s -split-input-file -loom-decompose='keep=loom.attention_step' -canonicalize | FileCheck %s --check-prefix=STEPS
// RUN: loom-opt %s -split-input-file -loom-decompose -canonicalize | FileCheck %s --check-prefix=LINALG

// Level 1: grouped_attention -> one attention_tile per query group (all
// batch rows and heads: the unit batch dim is dropped), on exactly the keys
// and memory rows the group sees (lookback 1: the previous group too).
// TILES-DAG: #[[$KB:.+]] = affine_map<(d0) -> (0, (d0 floordiv 8) * 8 - 8)>
// TILES-DAG: #[[$MB:.+]] = affine_map<(d0) -> (0, (d0 floordiv 8) * 3)>
// TILES-LABEL: func.func @fam_block
// TILES:         scf.for %[[R:.+]] = %c0 to %c32 step %c8
// TILES:           %[[K0:.+]] = affine.max #[[$KB]](%[[R]])
// TILES:           tensor.extract_slice %arg0[0, 0, %[[R]], 0] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<1x2x32x8xf32> to tensor<2x8x8xf32>
// TILES:           tensor.extract_slice %arg1[0, 0, %[[K0]], 0] [1, 2, %{{.+}}, 8] [1, 1, 1, 1] : tensor<1x2x32x8xf32> to tensor<2x?x8xf32>
// TILES:           %[[M0:.+]] = affine.max #[[$MB]](%[[R]])
// TILES:           %[[T:.+]] = loom.attention_tile {{.+}} offsets(query = %[[R]], key = %[[K0]], memory = %[[M0]]) visibility = <queries_per_group = 8, keys_per_group = 8, lookback = 1, causal = true> memory_visibility = <queries_per_group = 8, keys_per_group = 3> scale = 0.353553385 -> tensor<2x8x4xf32>
// TILES:           tensor.insert_slice %[[T]] into %{{.+}}[0, 0, %[[R]], 0] [1, 2, 8, 4]
// TILES-NOT:     loom.grouped_attention
func.func @fam_block(%q: tensor<1x2x32x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x4xf32>, %mk: tensor<1x2x12x8xf32>, %mv: tensor<1x2x12x4xf32>) -> tensor<1x2x32x4xf32> {
  %o = loom.grouped_attention %q, %k, %v memory(%mk, %mv : tensor<1x2x12x8xf32>, tensor<1x2x12x4xf32>) group_size = 8 lookback = 1 causal = true : tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x4xf32> -> tensor<1x2x32x4xf32>
  return %o : tensor<1x2x32x4xf32>
}

// -----

// Level 2: attention_tile -> running state, then key blocks of 32 over the
// window in three loops: the masked head (keys only some rows see, left of
// the lookback edge), the unmasked middle (steps without a visibility) and
// the masked tail (the causal diagonal); then out = acc / sum.
// STEPS-LABEL: func.func @tile
// STEPS-SAME:    (%[[Q:.+]]: tensor<16x8xf32>, %[[K:.+]]: tensor<?x8xf32>, %[[V:.+]]: tensor<?x4xf32>, %[[O:.+]]: tensor<16x4xf32>, %[[I:.+]]: index, %[[J:.+]]: index)
// STEPS-DAG:     %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<16x4xf32>)
// STEPS-DAG:     %[[MAX:.+]] = linalg.fill ins(%[[NEGINF:.+]] : f32) outs(%{{.+}} : tensor<16xf32>)
// STEPS:         %[[H:.+]]:3 = scf.for %[[JH:.+]] = %{{.+}} to %[[FB:.+]] step %c32 iter_args({{.+}}) ->
// STEPS:           loom.attention_step {{.+}} offsets(query = %[[I]], key = %[[JH]]) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 2, causal = true>
// STEPS:         %[[M:.+]]:3 = scf.for %[[JM:.+]] = %[[FB]] to %[[FE:.+]] step %c32 iter_args(%{{.+}} = %[[H]]#0, %{{.+}} = %[[H]]#1, %{{.+}} = %[[H]]#2)
// STEPS:           loom.attention_step {{.+}} offsets(query = %[[I]], key = %[[JM]]) scale = 5.000000e-01 ->
// STEPS:         %[[T:.+]]:3 = scf.for %[[JT:.+]] = %[[FE]] to %{{.+}} step %c32 iter_args(%{{.+}} = %[[M]]#0, %{{.+}} = %[[M]]#1, %{{.+}} = %[[M]]#2)
// STEPS:           loom.attention_step {{.+}} offsets(query = %[[I]], key = %[[JT]]) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 2, causal = true>
// STEPS:         %[[OUT:.+]] = linalg.generic {{.+}} ins(%[[T]]#0, %[[T]]#2 : tensor<16x4xf32>, tensor<16xf32>) outs(%[[O]] : tensor<16x4xf32>)
// STEPS:           arith.cmpf ogt
// STEPS:           arith.divf
// STEPS:         return %[[OUT]]
func.func @tile(%q: tensor<16x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x4xf32>, %o: tensor<16x4xf32>, %i: index, %j: index) -> tensor<16x4xf32> {
  %0 = loom.attention_tile ins(%q, %k, %v : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) outs(%o : tensor<16x4xf32>) offsets(query = %i, key = %j) visibility = <queries_per_group = 16, keys_per_group = 16, lookback = 2, causal = true> scale = 0.5 key_block = 32 -> tensor<16x4xf32>
  return %0 : tensor<16x4xf32>
}

// -----

// Level 3: attention_step -> linalg. The mask is the visibility rule on the
// absolute rows (query offset + row, key offset + column); each state update
// writes into its own init so bufferization keeps the state in place.
// LINALG-LABEL: func.func @step
// LINALG-SAME:    (%[[Q:.+]]: tensor<16x8xf32>, %[[K:.+]]: tensor<?x8xf32>, %[[V:.+]]: tensor<?x4xf32>, %[[ACC:.+]]: tensor<16x4xf32>, %[[MAX:.+]]: tensor<16xf32>, %[[SUM:.+]]: tensor<16xf32>, %[[I:.+]]: index, %[[J:.+]]: index)
// LINALG:         %[[S:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] : tensor<16x8xf32>, tensor<?x8xf32>)
// LINALG:         %[[SM:.+]] = linalg.generic {{.+}} outs(%[[S]] : tensor<16x?xf32>)
// LINALG:           %[[ROW:.+]] = arith.addi %[[I]], %{{.+}} : index
// LINALG:           %[[KEY:.+]] = arith.addi %[[J]], %{{.+}} : index
// LINALG:           %[[G:.+]] = arith.floordivsi %[[ROW]], %c16 : index
// LINALG:           arith.cmpi sge, %[[KEY]]
// LINALG:           %[[END:.+]] = arith.addi %[[ROW]], %c1 : index
// LINALG:           arith.cmpi slt, %[[KEY]], %[[END]] : index
// LINALG:         %[[OLD:.+]] = linalg.copy ins(%[[MAX]] : tensor<16xf32>)
// LINALG:         %[[NEWMAX:.+]] = linalg.generic {{.+}} ins(%[[SM]] : tensor<16x?xf32>) outs(%[[MAX]] : tensor<16xf32>)
// LINALG:           arith.maximumf
// LINALG:         %[[ALPHA:.+]] = linalg.generic {{.+}} ins(%[[OLD]], %[[NEWMAX]] : tensor<16xf32>, tensor<16xf32>)
// LINALG:           math.exp
// LINALG:         %[[P:.+]] = linalg.generic {{.+}} ins(%[[NEWMAX]] : tensor<16xf32>) outs(%[[SM]] : tensor<16x?xf32>)
// LINALG:         %[[SUM1:.+]] = linalg.generic {{.+}} ins(%[[ALPHA]] : tensor<16xf32>) outs(%[[SUM]] : tensor<16xf32>)
// LINALG:         %[[NEWSUM:.+]] = linalg.generic {{.+}} ins(%[[P]] : tensor<16x?xf32>) outs(%[[SUM1]] : tensor<16xf32>)
// LINALG:         %[[ACC1:.+]] = linalg.generic {{.+}} ins(%[[ALPHA]] : tensor<16xf32>) outs(%[[ACC]] : tensor<16x4xf32>)
// LINALG:         %[[NEWACC:.+]] = linalg.generic {{.+}} ins(%[[P]], %[[V]] : tensor<16x?xf32>, tensor<?x4xf32>) outs(%[[ACC1]] : tensor<16x4xf32>)
// LINALG:         return %[[NEWACC]], %[[NEWMAX]], %[[NEWSUM]]
func.func @step(%q: tensor<16x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x4xf32>, %acc: tensor<16x4xf32>, %max: tensor<16xf32>, %sum: tensor<16xf32>, %i: index, %j: index) -> (tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>) {
  %0:3 = loom.attention_step ins(%q, %k, %v : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) outs(%acc, %max, %sum : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>) offsets(query = %i, key = %j) visibility = <queries_per_group = 16, keys_per_group = 16, causal = true> scale = 0.5 -> tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
  return %0#0, %0#1, %0#2 : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

// Without a visibility the step has no mask.
// LINALG-LABEL: func.func @negative_unmasked_step
// LINALG-NOT:     linalg.index
// LINALG:         return
func.func @negative_unmasked_step(%q: tensor<16x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x4xf32>, %acc: tensor<16x4xf32>, %max: tensor<16xf32>, %sum: tensor<16xf32>, %i: index, %j: index) -> (tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>) {
  %0:3 = loom.attention_step ins(%q, %k, %v : tensor<16x8xf32>, tensor<?x8xf32>, tensor<?x4xf32>) outs(%acc, %max, %sum : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>) offsets(query = %i, key = %j) scale = 0.5 -> tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
  return %0#0, %0#1, %0#2 : tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
}
