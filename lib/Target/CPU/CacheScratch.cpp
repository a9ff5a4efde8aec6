//===- CacheScratch.cpp - the loom-cache-scratch pass ---------------------===//
//
// Keeps the kernels' large scratch buffers across calls: every memref.alloc
// marked loom.cached_scratch (with its memref.dealloc) becomes a call that
// takes the block its site cached at the end of the previous call, or
// allocates one, and a call that puts it back. See the pass description.
//
//===----------------------------------------------------------------------===//

#include "loom/Target/CPU/CachedScratch.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMCACHESCRATCHPASS
#include "loom/Target/CPU/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

/// A cached block starts with a header line holding its capacity in bytes;
/// the buffer starts one page in, so that it keeps a 4 KiB alignment.
constexpr int64_t kHeaderBytes = 4096;

struct RuntimeBuilder {
  OpBuilder &b;
  ModuleOp module;
  Location loc;
  Type i64, ptr;

  LLVM::ConstantOp constant(int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  }

  /// Atomically stores `value` (an i64 block address, 0: none) in `slot`
  /// and returns what it held.
  Value exchange(Value slot, Value value) {
    return LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::xchg, slot,
                                     value, LLVM::AtomicOrdering::acq_rel);
  }

  Value isNone(Value address) {
    return LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, address,
                                constant(0));
  }

  LLVM::LLVMFuncOp declare(StringRef name, Type result, ArrayRef<Type> args) {
    if (auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
      return fn;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    return LLVM::LLVMFuncOp::create(b, loc, name,
                                    LLVM::LLVMFunctionType::get(result, args));
  }

  /// Starts an internal definition of `name`; returns its entry block.
  Block *define(LLVM::LLVMFuncOp fn) {
    fn.setLinkage(LLVM::Linkage::Internal);
    return fn.addEntryBlock(b);
  }

  /// ptr acquire(ptr slot, i64 bytes): the slot holds the address of the
  /// site's cached block (0: none). The block is taken with an atomic
  /// exchange, so two concurrent calls never share one: the second finds
  /// the slot empty and allocates its own.
  void defineAcquire(LLVM::LLVMFuncOp fn, LLVM::LLVMFuncOp alloc,
                     LLVM::LLVMFuncOp free) {
    Block *entry = define(fn);
    Region &body = fn.getBody();
    Block *check = b.createBlock(&body), *reuse = b.createBlock(&body),
          *drop = b.createBlock(&body), *fresh = b.createBlock(&body);
    Value slot = entry->getArgument(0), bytes = entry->getArgument(1);

    b.setInsertionPointToStart(entry);
    Value old = exchange(slot, constant(0));
    LLVM::CondBrOp::create(b, loc, isNone(old), fresh, check);

    b.setInsertionPointToStart(check);
    Value oldBlock = LLVM::IntToPtrOp::create(b, loc, ptr, old);
    Value capacity = LLVM::LoadOp::create(b, loc, i64, oldBlock);
    Value fits = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::uge,
                                      capacity, bytes);
    LLVM::CondBrOp::create(b, loc, fits, reuse, drop);

    b.setInsertionPointToStart(reuse);
    LLVM::ReturnOp::create(b, loc, bufferOf(oldBlock));

    // Too small (the same site never asks for more, but a slot costs
    // nothing to get right): free it and allocate.
    b.setInsertionPointToStart(drop);
    LLVM::CallOp::create(b, loc, free, ValueRange{oldBlock});
    LLVM::BrOp::create(b, loc, fresh);

    b.setInsertionPointToStart(fresh);
    // aligned_alloc wants a multiple of the alignment.
    Value rounded = LLVM::AndOp::create(
        b, loc,
        LLVM::AddOp::create(b, loc, bytes,
                            constant(kHeaderBytes + kHeaderBytes - 1)),
        constant(-kHeaderBytes));
    Value block =
        LLVM::CallOp::create(b, loc, alloc,
                             ValueRange{constant(kHeaderBytes), rounded})
            .getResult();
    LLVM::StoreOp::create(b, loc, bytes, block);
    LLVM::ReturnOp::create(b, loc, bufferOf(block));
  }

  /// void release(ptr slot, ptr buffer): puts the block back; when another
  /// call put one back meanwhile, that one is freed.
  void defineRelease(LLVM::LLVMFuncOp fn, LLVM::LLVMFuncOp free) {
    Block *entry = define(fn);
    Region &body = fn.getBody();
    Block *drop = b.createBlock(&body), *done = b.createBlock(&body);
    Value slot = entry->getArgument(0), buffer = entry->getArgument(1);

    b.setInsertionPointToStart(entry);
    Value block = LLVM::GEPOp::create(b, loc, ptr, b.getI8Type(), buffer,
                                      ArrayRef<LLVM::GEPArg>{-kHeaderBytes});
    Value old = exchange(slot, LLVM::PtrToIntOp::create(b, loc, i64, block));
    LLVM::CondBrOp::create(b, loc, isNone(old), done, drop);

    b.setInsertionPointToStart(drop);
    Value oldBlock = LLVM::IntToPtrOp::create(b, loc, ptr, old);
    LLVM::CallOp::create(b, loc, free, ValueRange{oldBlock});
    LLVM::BrOp::create(b, loc, done);

    b.setInsertionPointToStart(done);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }

  /// void free_all(void), run when the .so is unloaded (and at exit):
  /// empties every slot and frees its block, so that a library that is
  /// loaded and closed again does not leak its cached scratch.
  void defineFreeAll(ArrayRef<std::string> slots, LLVM::LLVMFuncOp free) {
    auto fn = declare(loom::kScratchFreeAllFunction,
                      LLVM::LLVMVoidType::get(b.getContext()), {});
    Block *entry = define(fn);
    b.setInsertionPointToStart(entry);
    for (const std::string &name : slots) {
      Value slot = LLVM::AddressOfOp::create(b, loc, ptr, name);
      Value old = exchange(slot, constant(0));
      // free(NULL) does nothing: an empty slot needs no branch.
      Value block = LLVM::IntToPtrOp::create(b, loc, ptr, old);
      LLVM::CallOp::create(b, loc, free, ValueRange{block});
    }
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    b.setInsertionPointToEnd(module.getBody());
    LLVM::GlobalDtorsOp::create(
        b, loc, b.getArrayAttr({FlatSymbolRefAttr::get(fn)}),
        b.getI32ArrayAttr({65535}),
        b.getArrayAttr({LLVM::ZeroAttr::get(b.getContext())}));
  }

  Value bufferOf(Value block) {
    return LLVM::GEPOp::create(b, loc, ptr, b.getI8Type(), block,
                               ArrayRef<LLVM::GEPArg>{kHeaderBytes});
  }
};

/// The alloc's deallocations, or failure when it has a use this pass
/// cannot follow (it then stays an ordinary allocation).
FailureOr<SmallVector<memref::DeallocOp>> deallocsOf(memref::AllocOp alloc) {
  SmallVector<memref::DeallocOp> deallocs;
  for (Operation *user : alloc->getUsers())
    if (auto dealloc = dyn_cast<memref::DeallocOp>(user))
      deallocs.push_back(dealloc);
  if (deallocs.empty())
    return failure(); // escapes (returned, stored): not a call's scratch
  return deallocs;
}

/// The smallest buffer filled by a call that is kept across calls.
constexpr int64_t kCallBufferMinBytes = int64_t(1) << 20;

/// Marks the large buffers that calls fill as cached scratch:
/// buffer-results-to-out-params{hoist-static-allocs} turns a private
/// function's returned buffer into an out-param allocated by the caller,
/// which frees it at its end (the deallocation pipeline). A model's layer
/// output (16 MiB for a FIT layer at L = 16K) would otherwise fault its
/// pages in on every call. Only a static function-level allocation of at
/// least kCallBufferMinBytes that is passed to a func.call and freed by
/// exactly one dealloc in its own block qualifies: it is dead after that
/// dealloc, which then always runs.
void markCallBuffers(ModuleOp module) {
  module.walk([](func::FuncOp fn) {
    if (fn.getBody().empty())
      return;
    for (auto alloc : fn.getBody().front().getOps<memref::AllocOp>()) {
      MemRefType type = alloc.getType();
      if (alloc->hasAttr(loom::kCachedScratchAttr) || !type.hasStaticShape() ||
          !type.getLayout().isIdentity() ||
          !type.getElementType().isIntOrFloat() || type.getMemorySpace())
        continue;
      int64_t bytes = type.getNumElements() *
                      type.getElementType().getIntOrFloatBitWidth() / 8;
      if (bytes < kCallBufferMinBytes)
        continue;
      int deallocs = 0;
      bool ownBlock = true, passedToCall = false;
      for (Operation *user : alloc->getUsers()) {
        if (isa<memref::DeallocOp>(user)) {
          ++deallocs;
          ownBlock &= user->getBlock() == alloc->getBlock();
        } else if (isa<func::CallOp>(user)) {
          passedToCall = true;
        }
      }
      if (deallocs == 1 && ownBlock && passedToCall)
        alloc->setAttr(loom::kCachedScratchAttr,
                       UnitAttr::get(alloc.getContext()));
    }
  });
}

struct LoomCacheScratchPass
    : loom::impl::LoomCacheScratchPassBase<LoomCacheScratchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    markCallBuffers(module);
    using Site = std::pair<memref::AllocOp, SmallVector<memref::DeallocOp>>;
    SmallVector<Site> sites;
    module.walk([&](memref::AllocOp alloc) {
      if (!alloc->hasAttr(loom::kCachedScratchAttr))
        return;
      alloc->removeAttr(loom::kCachedScratchAttr);
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
          !type.getElementType().isIntOrFloat() ||
          type.getMemorySpace() ||
          alloc.getAlignment().value_or(0) > kHeaderBytes)
        return;
      FailureOr<SmallVector<memref::DeallocOp>> deallocs = deallocsOf(alloc);
      if (succeeded(deallocs))
        sites.emplace_back(alloc, std::move(*deallocs));
    });
    if (sites.empty())
      return;

    OpBuilder b(&getContext());
    RuntimeBuilder rt{b, module, module.getLoc(), b.getI64Type(),
                      LLVM::LLVMPointerType::get(&getContext())};
    auto acquire = rt.declare(loom::kScratchAcquireFunction, rt.ptr,
                              {rt.ptr, rt.i64});
    auto release = rt.declare(loom::kScratchReleaseFunction,
                              LLVM::LLVMVoidType::get(&getContext()),
                              {rt.ptr, rt.ptr});
    if (!acquire.isExternal() ||
        module.lookupSymbol(loom::kScratchFreeAllFunction)) {
      module.emitError() << "loom-cache-scratch: the module already defines "
                            "Loom's scratch runtime; the pass runs once";
      return signalPassFailure();
    }
    auto free = rt.declare("free", LLVM::LLVMVoidType::get(&getContext()),
                           {rt.ptr});
    {
      auto alloc = rt.declare("aligned_alloc", rt.ptr, {rt.i64, rt.i64});
      OpBuilder::InsertionGuard guard(b);
      rt.defineAcquire(acquire, alloc, free);
      rt.defineRelease(release, free);
    }
    SmallVector<std::string> slotNames;

    unsigned next = 0;
    for (auto &[alloc, deallocs] : sites) {
      // One slot per site: an i64 holding the cached block's address.
      std::string name;
      do
        name = "loom_scratch_slot_" + std::to_string(next++);
      while (module.lookupSymbol(name));
      b.setInsertionPointToStart(module.getBody());
      LLVM::GlobalOp::create(b, alloc.getLoc(), rt.i64, /*isConstant=*/false,
                             LLVM::Linkage::Internal, name,
                             b.getI64IntegerAttr(0), /*alignment=*/64);
      slotNames.push_back(name);

      Location loc = alloc.getLoc();
      MemRefType type = alloc.getType();
      int64_t bytes = type.getNumElements() *
                      type.getElementType().getIntOrFloatBitWidth() / 8;
      b.setInsertionPoint(alloc);
      rt.loc = loc;
      Value slot = LLVM::AddressOfOp::create(b, loc, rt.ptr, name);
      Value buffer =
          LLVM::CallOp::create(b, loc, acquire,
                               ValueRange{slot, rt.constant(bytes)})
              .getResult();
      alloc.replaceAllUsesWith(descriptor(b, loc, type, buffer, rt));
      for (memref::DeallocOp dealloc : deallocs) {
        b.setInsertionPoint(dealloc);
        Value address = memref::ExtractAlignedPointerAsIndexOp::create(
            b, loc, dealloc.getMemref());
        Value asI64 = arith::IndexCastOp::create(b, loc, rt.i64, address);
        Value asPtr = LLVM::IntToPtrOp::create(b, loc, rt.ptr, asI64);
        Value again = LLVM::AddressOfOp::create(b, loc, rt.ptr, name);
        LLVM::CallOp::create(b, loc, release, ValueRange{again, asPtr});
        dealloc.erase();
      }
      alloc.erase();
    }
    rt.loc = module.getLoc();
    rt.defineFreeAll(slotNames, free);
  }

  /// The memref descriptor of `buffer` as `type` (identity layout), cast to
  /// the memref type: finalize-memref-to-llvm and reconcile-unrealized-casts
  /// fold the cast away.
  static Value descriptor(OpBuilder &b, Location loc, MemRefType type,
                          Value buffer, RuntimeBuilder &rt) {
    int64_t rank = type.getRank();
    SmallVector<Type> fields{rt.ptr, rt.ptr, rt.i64};
    if (rank > 0) {
      fields.push_back(LLVM::LLVMArrayType::get(rt.i64, rank));
      fields.push_back(LLVM::LLVMArrayType::get(rt.i64, rank));
    }
    auto structType = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
    Value desc = LLVM::UndefOp::create(b, loc, structType);
    for (int64_t field : {0, 1}) // allocated and aligned pointer
      desc = LLVM::InsertValueOp::create(b, loc, desc, buffer,
                                         ArrayRef<int64_t>{field});
    desc = LLVM::InsertValueOp::create(b, loc, desc, rt.constant(0),
                                       ArrayRef<int64_t>{2});
    int64_t stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      desc = LLVM::InsertValueOp::create(b, loc, desc,
                                         rt.constant(type.getDimSize(d)),
                                         ArrayRef<int64_t>{3, d});
      desc = LLVM::InsertValueOp::create(b, loc, desc, rt.constant(stride),
                                         ArrayRef<int64_t>{4, d});
      stride *= type.getDimSize(d);
    }
    return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
  }
};
} // namespace
