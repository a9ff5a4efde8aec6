// RUN: loom-opt %s --loom-cache-scratch --verify-diagnostics

// The runtime's names are Loom's: a module that already defines one of
// them is rejected with a diagnostic, not miscompiled.
// expected-error @below {{loom-cache-scratch: the module already defines Loom's scratch runtime; the pass runs once}}
module {
  llvm.func @loom_scratch_acquire(%slot: !llvm.ptr, %bytes: i64) -> !llvm.ptr {
    llvm.return %slot : !llvm.ptr
  }
  func.func @user() {
    %a = memref.alloc() {loom.cached_scratch} : memref<16777216xf32>
    memref.dealloc %a : memref<16777216xf32>
    return
  }
}
