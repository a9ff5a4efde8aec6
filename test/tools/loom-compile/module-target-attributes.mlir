// A module may carry llvm.target_triple and llvm.data_layout (from another
// tool); the shared object is always built for this host, so a triple of
// another architecture, or a layout whose pointers or byte order differ
// from the C ABI's, is an error at the module rather than being ignored
// (a malformed layout is the LLVM dialect verifier's error).
// RUN: split-file %s %t
// RUN: not loom-compile %t/other-arch.mlir -o %t/a.so 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not loom-compile %t/pointers32.mlir -o %t/b.so 2>&1 | FileCheck %s --check-prefix=P32
// RUN: not loom-compile %t/big-endian.mlir -o %t/c.so 2>&1 | FileCheck %s --check-prefix=BIG
// RUN: not loom-compile %t/not-a-layout.mlir -o %t/d.so 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: loom-compile %t/host.mlir -o %t/e.so
// RUN: test -f %t/e.so
// ARCH: other-arch.mlir:1:1: error: the module's llvm.target_triple is 'aarch64-linux-gnu', but loom-compile builds shared objects for this host ({{.+}}); remove the attribute
// P32: pointers32.mlir:1:1: error: the module's llvm.data_layout 'e-p:32:32' asks for 32-bit pointers, but the shared object's C ABI has the host's (little-endian, 64-bit pointers); remove the attribute
// BIG: big-endian.mlir:1:1: error: the module's llvm.data_layout 'E' asks for big-endian data
// BAD: not-a-layout.mlir:1:1: error: 'builtin.module' op invalid data layout descriptor: unknown specifier 'q'

//--- other-arch.mlir
module attributes {llvm.target_triple = "aarch64-linux-gnu"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

//--- pointers32.mlir
module attributes {llvm.data_layout = "e-p:32:32"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

//--- big-endian.mlir
module attributes {llvm.data_layout = "E"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

//--- not-a-layout.mlir
module attributes {llvm.data_layout = "q"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

//--- host.mlir
// The host's architecture under another vendor and a 64-bit little-endian
// layout: accepted.
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu", llvm.data_layout = "e-m:e-p:64:64-i64:64-n8:16:32:64-S128"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
