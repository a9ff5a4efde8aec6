// RUN: loom-opt %s -split-input-file -verify-diagnostics -loom-verify-lowered

// LLVM and OpenMP ops are what translation takes: nothing to report.
llvm.func @lowered(%a: f32) -> f32 {
  %0 = llvm.fadd %a, %a : f32
  llvm.return %0 : f32
}

// -----

// An op no pass lowered: one error per op kind, at its first op.
llvm.func @cbrt(%a: f32) -> f32 {
  // expected-error @below {{'math.cbrt' is not supported by this target: loom-cpu-pipeline has no lowering for it}}
  %0 = math.cbrt %a : f32
  %1 = math.cbrt %0 : f32
  llvm.return %1 : f32
}

// -----

// A value whose type the conversion could not take: the cast it left.
llvm.func @cast(%a: i64) -> i64 {
  // expected-error @below {{loom-cpu-pipeline could not convert every value to an LLVM type: a cast from 'i64' to 'index' is left}}
  %0 = builtin.unrealized_conversion_cast %a : i64 to index
  %1 = builtin.unrealized_conversion_cast %0 : index to i64
  llvm.return %1 : i64
}
