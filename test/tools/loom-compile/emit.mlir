// RUN: loom-compile %s --emit=mlir -o - | FileCheck %s --check-prefix=MLIR
// RUN: loom-compile %s --emit=llvm -o - | FileCheck %s --check-prefix=LLVM
// RUN: loom-compile %s --emit=asm --mcpu=haswell -o - | FileCheck %s --check-prefix=ASM
// RUN: loom-compile %s --emit=asm --mcpu=x86-64 -o - | FileCheck %s --check-prefix=BASE
// RUN: loom-compile %s --emit=obj -o %t.o && od -A n -N 4 -c %t.o | FileCheck %s --check-prefix=OBJ
// RUN: loom-compile %s -o %t.so && od -A n -N 4 -c %t.so | FileCheck %s --check-prefix=OBJ
// RUN: %if cuda-target %{ not loom-compile %s --target=cuda --cuda-path=%t.no-toolkit -o %t.so 2>&1 | FileCheck %s --check-prefix=CUDA %}
// RUN: not loom-compile %s --mcpu=no-such-cpu -o %t.so 2>&1 | FileCheck %s --check-prefix=MCPU
// RUN: not loom-compile %s --mcpu=i686 -o %t.so 2>&1 | FileCheck %s --check-prefix=MCPU32
// RUN: not loom-compile %s --cuda-emulate -o %t.so 2>&1 | FileCheck %s --check-prefix=CUDAFLAG
// RUN: loom-compile %s -v --mcpu=host -o %t.host.so 2>&1 | FileCheck %s --check-prefix=HOST
// RUN: loom-compile %s -v --mcpu=native -o %t.native.so 2>&1 | FileCheck %s --check-prefix=HOST
// RUN: loom-compile --help | FileCheck %s --check-prefix=HELP
// RUN: not loom-compile %s -o %t.no-such-dir/out.so 2>&1 | FileCheck %s --check-prefix=NOOUT

// MLIR: llvm.func @_mlir_ciface_route(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)

// LLVM: @loom_manifest_json = {{.*}}c"{\22functions\22:[{\22inputs\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,2,8,4]},{\22dtype\22:\22f32\22,\22shape\22:[1,2,4,4]}],\22name\22:\22route\22,\22outputs\22:[{\22dtype\22:\22f32\22,\22shape\22:[1,2,8,4]}]}]}\00"
// LLVM: define {{.*}}void @_mlir_ciface_route(ptr {{.*}}, ptr {{.*}}, ptr {{.*}})
// LLVM: define {{.*}}ptr @loom_manifest()
// LLVM: define {{.*}}void @loom_set_num_threads(i32
// LLVM: define {{.*}}ptr @loom_last_error()

// --mcpu decides the instruction set: FMA on haswell, none on baseline x86-64.
// ASM: vfmadd
// ASM: _mlir_ciface_route:
// BASE-NOT: vfmadd
// BASE: _mlir_ciface_route:

// OBJ: 177   E   L   F

// Errors of the whole compile (options, toolchain) are the tool's own, not
// at line 0 of the input ("emit.mlir:0:0: error:" before).
// CUDA: {{^}}loom-compile: error: --target=cuda needs the CUDA toolkit's libdevice
// An unknown name is one error, without LLVM's own warning first.
// MCPU-NOT: not a recognized processor
// MCPU: {{^}}loom-compile: error: unknown --mcpu 'no-such-cpu'
// MCPU-NOT: not a recognized processor
// A 32-bit-only CPU is one located error too (LLVM aborted with "64-bit
// code requested on a subtarget that doesn't support it").
// MCPU32: {{^}}loom-compile: error: --mcpu 'i686' is a 32-bit CPU; Loom builds x86-64 code
// MCPU32-NOT: LLVM ERROR
// The CUDA options on a CPU build are an error, not ignored.
// CUDAFLAG: loom-compile: error: --cuda-emulate needs --target=cuda
// host and native mean the host CPU, as no --mcpu does.
// HOST-NOT: not a recognized processor
// HOST: loom-compile: CPU target {{avx512|avx2|sse}}

// An output that cannot be written is said before compiling, as the
// command line's error (not a failed link at the input's first line).
// NOOUT: loom-compile: error: cannot write the output '{{.+}}.no-such-dir/out.so': no directory '{{.+}}.no-such-dir'
// NOOUT-NOT: linking

// HELP: _mlir_ciface_f
// HELP: --emit=<value>
// HELP: --mcpu=<name>
// HELP: --target=<value>
// HELP-NOT: --amdgpu

func.func @route(%x: tensor<1x2x8x4xf32>, %z: tensor<1x2x4x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = loom.latent_route %x, %z, %z groups = 2 : tensor<1x2x8x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}
