// RUN: rm -f %t.so
// RUN: not loom-compile %s -o %t.so 2>&1 | FileCheck %s -DFILE=%s
// RUN: not ls %t.so

// vector.print lowers to calls of MLIR's runner utilities (printF32,
// printNewline), which no library the shared object links defines: the
// link (with -z defs) fails, and the error points at the op, not at a
// dlopen that cannot resolve the symbol later.
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %x = tensor.extract %a[%c0] : tensor<4xf32>
  // CHECK: [[FILE]]:[[@LINE+1]]:3: error: this op is not supported in a compiled model: it calls 'printF32', 'printNewline', which no library the shared object links (libc, libm, libomp) defines
  vector.print %x : f32
  return %a : tensor<4xf32>
}
