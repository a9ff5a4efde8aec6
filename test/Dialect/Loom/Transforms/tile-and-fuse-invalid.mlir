// RUN: loom-opt %s -loom-tile-and-fuse="matmul-tile-m=0" -verify-diagnostics

// expected-error @+1 {{loom-tile-and-fuse: matmul-tile-m, matmul-tile-n, tile-bytes and line-elements must be positive}}
func.func @zero_tile() {
  return
}
