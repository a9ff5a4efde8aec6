// Input nested deeper than 1000 levels is a located error of both tools,
// never a stack overflow (issue 14.8); up to that depth both work, even
// with a small process stack (they run on a thread with a 512 MiB stack).

// RUN: python3 -c "print('module {\n' * 5000 + '}' * 5000)" > %t.modules.mlir
// RUN: not loom-opt %t.modules.mlir 2>&1 | FileCheck %s --check-prefix=MODULES -DFILE=%t.modules.mlir
// RUN: not loom-compile %t.modules.mlir -o %t.so 2>&1 | FileCheck %s --check-prefix=MODULES -DFILE=%t.modules.mlir
// MODULES: [[FILE]]:1001:8: error: nesting deeper than 1000 levels of brackets, braces, parentheses or angle brackets; Loom refuses such input rather than overflow its stack

// RUN: python3 -c "print('func.func @f() attributes {a = ' + '[' * 8000 + ']' * 8000 + '} {\n  return\n}')" > %t.arrays.mlir
// RUN: not loom-opt %t.arrays.mlir 2>&1 | FileCheck %s --check-prefix=ARRAYS -DFILE=%t.arrays.mlir
// ARRAYS: [[FILE]]:1:1031: error: nesting deeper than 1000 levels

// Brackets in strings and comments do not count; arrows are no brackets.
// RUN: python3 -c "print('// ' + '[' * 2000 + '\nfunc.func @f() -> () attributes {s = \"' + '{' * 2000 + '\"} {\n  return\n}')" > %t.text.mlir
// RUN: loom-opt %t.text.mlir | FileCheck %s --check-prefix=TEXT
// TEXT: func.func @f() attributes {s = "{{[{]+}}"}

// 990 nested modules need more than a 1 MiB stack to parse.
// RUN: python3 -c "print('module {\n' * 990 + 'func.func @f(%%a: tensor<4xf32>) -> tensor<4xf32> {\n  return %%a : tensor<4xf32>\n}\n' + '}' * 990)" > %t.ok.mlir
// RUN: bash -c "ulimit -s 1024 && loom-opt %t.ok.mlir --canonicalize" | FileCheck %s --check-prefix=OK
// RUN: python3 -c "print('func.func @f() attributes {a = ' + '[' * 990 + ']' * 990 + '} {\n  return\n}')" > %t.ok-arrays.mlir
// RUN: bash -c "ulimit -s 1024 && loom-opt %t.ok-arrays.mlir" | FileCheck %s --check-prefix=OK-ARRAYS
// OK: func.func @f(%{{.+}}: tensor<4xf32>) -> tensor<4xf32>
// OK-ARRAYS: func.func @f() attributes {a = {{\[+\]+}}}
