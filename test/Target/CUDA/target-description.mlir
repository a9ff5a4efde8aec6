// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_42 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_90:ptx=70 2>&1 | FileCheck %s --check-prefix=OLDPTX
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_100:ptx=80 2>&1 | FileCheck %s --check-prefix=OLDPTX100
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_89:ptx=77 2>&1 | FileCheck %s --check-prefix=OLDPTX89
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_80:ptx=99 2>&1 | FileCheck %s --check-prefix=NOPTX
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_90:ptx=79 2>&1 | FileCheck %s --check-prefix=NOPTX79
// RUN: loom-opt %s -convert-loom-to-gpu=target=sm_100:ptx=88 | FileCheck %s --check-prefix=OK
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_90:smem=65536:smem-optin=49152 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_90:colour=7 2>&1 | FileCheck %s --check-prefix=FIELD
// RUN: not loom-opt %s -convert-loom-to-gpu=target=sm_90:sms=many 2>&1 | FileCheck %s --check-prefix=VALUE
// RUN: not loom-opt %s -loom-cuda-pipeline=target=sm_42 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: loom-opt %s -convert-loom-to-gpu=target=sm_80 | FileCheck %s --check-prefix=OK

// A CUDA target description is a preset with fields; every bad one is a
// message, never a crash.
// UNKNOWN: convert-loom-to-gpu: unknown CUDA target 'sm_42' (expected sm_80, sm_86, sm_89, sm_90 or sm_100
// OLDPTX: sm_90 needs PTX 7.8 or later (ptx=78 or more)
// LLVM aborted with a fatal error on these (sm_100 needs 8.6, sm_89 7.8):
// OLDPTX100: sm_100 needs PTX 8.6 or later (ptx=86 or more)
// OLDPTX89: sm_89 needs PTX 7.8 or later (ptx=78 or more)
// Versions LLVM does not know were ignored with a warning (the PTX said 7.0):
// NOPTX: ptx must be a PTX ISA version times ten that LLVM knows (60-65, 70-78, 80-88 or 90), got 99
// NOPTX79: that LLVM knows {{.*}} got 79
// SMEM: shared memory sizes must satisfy 16 KiB <= smem <= smem-optin <= smem-sm
// FIELD: unknown CUDA target field 'colour'
// VALUE: CUDA target field 'sms' needs an integer value, got 'many'
// PIPELINE: {{^}}loom-opt: error: loom-cuda-pipeline: unknown CUDA target 'sm_42'
// OK: gpu.launch
func.func @f(%x: tensor<4x8xf32>, %w: tensor<2x4x4xf32>) -> tensor<4x8xf32> {
  %y = loom.blockdiag_matmul %x, %w : tensor<4x8xf32>, tensor<2x4x4xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
