// RUN: loom-opt %s --split-input-file --loom-cache-scratch | FileCheck %s

// A marked allocation and its dealloc become acquire/release calls on the
// site's slot; the buffer is the returned pointer as a memref descriptor
// (offset 0, identity strides). The unmarked allocation is left alone.
// Unloading the .so (or exit) frees whatever the slots hold.
// CHECK-LABEL: llvm.func internal @loom_scratch_free_all()
// CHECK:         %[[S0:.+]] = llvm.mlir.addressof @loom_scratch_slot_0
// CHECK:         %[[B0:.+]] = llvm.atomicrmw xchg %[[S0]], %{{.+}} acq_rel : !llvm.ptr, i64
// CHECK:         %[[P0:.+]] = llvm.inttoptr %[[B0]] : i64 to !llvm.ptr
// CHECK:         llvm.call @free(%[[P0]])
// CHECK:         llvm.return
// CHECK:       llvm.mlir.global internal @loom_scratch_slot_0(0 : i64) {{.*}}: i64
// CHECK-DAG:   llvm.func @aligned_alloc(i64, i64) -> !llvm.ptr
// CHECK-DAG:   llvm.func @free(!llvm.ptr)
// The block is taken with an atomic exchange (0: none cached) and reused
// when its capacity, in its first 8 bytes, is large enough; the buffer
// starts 4 KiB into the block.
// CHECK-LABEL: llvm.func internal @loom_scratch_release(
// CHECK:         llvm.getelementptr %{{.+}}[-4096]
// CHECK:         llvm.atomicrmw xchg %arg0, %{{.+}} acq_rel : !llvm.ptr, i64
// CHECK:         llvm.call @free
// CHECK-LABEL: llvm.func internal @loom_scratch_acquire(
// CHECK:         %[[OLD:.+]] = llvm.atomicrmw xchg %arg0, %{{.+}} acq_rel : !llvm.ptr, i64
// CHECK:         llvm.icmp "eq" %[[OLD]]
// CHECK:         %[[CAP:.+]] = llvm.load %{{.+}} : !llvm.ptr -> i64
// CHECK:         llvm.icmp "uge" %[[CAP]], %arg1
// CHECK:         llvm.getelementptr %{{.+}}[4096]
// CHECK:         llvm.call @free
// CHECK:         %[[BLOCK:.+]] = llvm.call @aligned_alloc
// CHECK:         llvm.store %arg1, %[[BLOCK]] : i64, !llvm.ptr
// CHECK-LABEL: func.func @one_site
// CHECK:         %[[SLOT:.+]] = llvm.mlir.addressof @loom_scratch_slot_0 : !llvm.ptr
// CHECK:         %[[BYTES:.+]] = llvm.mlir.constant(67108864 : i64) : i64
// CHECK:         %[[BUF:.+]] = llvm.call @loom_scratch_acquire(%[[SLOT]], %[[BYTES]])
// CHECK:         llvm.insertvalue %[[BUF]], %{{.+}}[0]
// CHECK:         llvm.insertvalue %[[BUF]], %{{.+}}[1]
// CHECK:         %[[N:.+]] = llvm.mlir.constant(16777216 : i64) : i64
// CHECK:         %[[D:.+]] = llvm.insertvalue %[[N]], %{{.+}}[3, 0]
// CHECK:         %[[SCRATCH:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<16777216xf32>
// CHECK:         %[[SMALL:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NOT:     loom.cached_scratch
// CHECK:         memref.store %{{.+}}, %[[SCRATCH]]
// CHECK:         %[[ADDR:.+]] = memref.extract_aligned_pointer_as_index %[[SCRATCH]]
// CHECK:         %[[A64:.+]] = arith.index_cast %[[ADDR]] : index to i64
// CHECK:         %[[APTR:.+]] = llvm.inttoptr %[[A64]] : i64 to !llvm.ptr
// CHECK:         %[[SLOT2:.+]] = llvm.mlir.addressof @loom_scratch_slot_0
// CHECK:         llvm.call @loom_scratch_release(%[[SLOT2]], %[[APTR]])
// CHECK-NOT:     memref.dealloc %[[SCRATCH]]
// CHECK:         memref.dealloc %[[SMALL]]
// CHECK:       llvm.mlir.global_dtors dtors = [@loom_scratch_free_all], priorities = [65535 : i32]
func.func @one_site(%v: f32, %i: index) {
  %scratch = memref.alloc() {alignment = 4096 : i64, loom.cached_scratch} : memref<16777216xf32>
  %small = memref.alloc() : memref<16xf32>
  memref.store %v, %scratch[%i] : memref<16777216xf32>
  memref.store %v, %small[%i] : memref<16xf32>
  memref.dealloc %scratch : memref<16777216xf32>
  memref.dealloc %small : memref<16xf32>
  return
}

// -----

// Two sites, two slots, both emptied on unload; the runtime functions are
// defined once. A 2-D buffer gets row-major sizes and strides.
// CHECK-LABEL: llvm.func internal @loom_scratch_free_all()
// CHECK-COUNT-2: llvm.call @free
// CHECK-DAG:   llvm.mlir.global internal @loom_scratch_slot_0(
// CHECK-DAG:   llvm.mlir.global internal @loom_scratch_slot_1(
// CHECK:       llvm.func internal @loom_scratch_acquire(
// CHECK-NOT:   llvm.func internal @loom_scratch_acquire(
// CHECK-LABEL: func.func @two_sites
// CHECK:         llvm.mlir.addressof @loom_scratch_slot_{{[01]}}
// CHECK:         llvm.insertvalue %{{.+}}, %{{.+}}[3, 1]
// CHECK:         %[[ONE:.+]] = llvm.mlir.constant(1 : i64) : i64
// CHECK:         llvm.insertvalue %[[ONE]], %{{.+}}[4, 1]
// CHECK:         llvm.insertvalue %{{.+}}, %{{.+}}[3, 0]
// CHECK-NEXT:    %[[ROW:.+]] = llvm.mlir.constant(4096 : i64) : i64
// CHECK-NEXT:    llvm.insertvalue %[[ROW]], %{{.+}}[4, 0]
// CHECK:         builtin.unrealized_conversion_cast %{{.+}} to memref<4096x4096xf32>
// CHECK:         llvm.mlir.addressof @loom_scratch_slot_{{[01]}}
// CHECK:         builtin.unrealized_conversion_cast %{{.+}} to memref<33554432xi8>
// CHECK-COUNT-2: llvm.call @loom_scratch_release
// CHECK:       llvm.mlir.global_dtors dtors = [@loom_scratch_free_all]
func.func @two_sites() {
  %a = memref.alloc() {loom.cached_scratch} : memref<4096x4096xf32>
  %b = memref.alloc() {loom.cached_scratch} : memref<33554432xi8>
  memref.dealloc %a : memref<4096x4096xf32>
  memref.dealloc %b : memref<33554432xi8>
  return
}

// -----

// An allocation that escapes (no dealloc: here it is returned) is not a
// call's scratch: it stays an ordinary allocation and loses the mark, and
// no runtime function, slot or destructor is defined.
// CHECK:       // {{-----}}
// CHECK-NEXT:  module {
// CHECK-NEXT:    func.func @escapes
// CHECK:         %[[A:.+]] = memref.alloc() : memref<16777216xf32>
// CHECK-NEXT:    return %[[A]]
// CHECK-NOT:   loom_scratch
func.func @escapes() -> memref<16777216xf32> {
  %a = memref.alloc() {loom.cached_scratch} : memref<16777216xf32>
  return %a : memref<16777216xf32>
}

// -----

// Buffers that calls fill (a private function's result made an out-param
// by buffer-results-to-out-params{hoist-static-allocs}, freed at the
// caller's end) are cached without a mark when they hold at least 1 MiB and
// have exactly one dealloc in their own block: the 4 MiB layer output. Left
// alone: one under 1 MiB, one freed on one branch only, and one no call
// fills.
// CHECK:       // {{-----}}
// CHECK:       func.func @layers
// CHECK:         %[[BUF:.+]] = llvm.call @loom_scratch_acquire(%{{.+}}, %{{.+}}) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK:         %[[OUT:.+]] = builtin.unrealized_conversion_cast %{{.+}} to memref<1024x1024xf32>
// CHECK:         %[[SMALL:.+]] = memref.alloc() : memref<256x256xf32>
// CHECK:         %[[BRANCH:.+]] = memref.alloc() : memref<1024x1024xf32>
// CHECK:         %[[NOCALL:.+]] = memref.alloc() : memref<1024x1024xf32>
// CHECK:         call @layer(%[[OUT]])
// CHECK:         call @small_layer(%[[SMALL]])
// CHECK:         call @layer(%[[BRANCH]])
// CHECK:         llvm.call @loom_scratch_release
// CHECK-NOT:     llvm.call @loom_scratch_release
// CHECK:         memref.dealloc %[[SMALL]]
// CHECK:         memref.dealloc %[[BRANCH]]
// CHECK:         memref.dealloc %[[NOCALL]]
// CHECK-NOT:     loom.cached_scratch
func.func private @layer(%out: memref<1024x1024xf32>)
func.func private @small_layer(%out: memref<256x256xf32>)
func.func @layers(%c: i1, %v: f32, %i: index) {
  %out = memref.alloc() : memref<1024x1024xf32>
  %small = memref.alloc() : memref<256x256xf32>
  %branch = memref.alloc() : memref<1024x1024xf32>
  %nocall = memref.alloc() : memref<1024x1024xf32>
  call @layer(%out) : (memref<1024x1024xf32>) -> ()
  call @small_layer(%small) : (memref<256x256xf32>) -> ()
  call @layer(%branch) : (memref<1024x1024xf32>) -> ()
  memref.store %v, %nocall[%i, %i] : memref<1024x1024xf32>
  memref.dealloc %out : memref<1024x1024xf32>
  memref.dealloc %small : memref<256x256xf32>
  scf.if %c {
    memref.dealloc %branch : memref<1024x1024xf32>
  }
  memref.dealloc %nocall : memref<1024x1024xf32>
  return
}
