//===- RuntimeExports.cpp - the C functions every artifact exports --------===//
//
// Emitted straight into the LLVM module so that a .so needs nothing but the
// C runtime: no helper library has to be found at link or load time.
//
//===----------------------------------------------------------------------===//

#include "loom/Compiler/Compile.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace llvm;

// At file scope so that Type, Value and FunctionType name LLVM's, not MLIR's.
static void emitRuntimeExports(Module &module, StringRef manifestJson) {
  LLVMContext &ctx = module.getContext();
  IRBuilder<> b(ctx);
  Type *i32 = b.getInt32Ty();
  PointerType *ptr = b.getPtrTy();

  // const char *loom_manifest(void)
  auto *manifest = Function::Create(FunctionType::get(ptr, false),
                                    GlobalValue::ExternalLinkage,
                                    "loom_manifest", module);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", manifest));
  b.CreateRet(b.CreateGlobalString(manifestJson, "loom_manifest_json", 0,
                                   &module));

  // The thread count a caller asked for (0: all online CPUs). The kernels
  // of this version run on the calling thread and only record it.
  auto *threads = new GlobalVariable(module, i32, false,
                                     GlobalValue::InternalLinkage,
                                     ConstantInt::get(i32, 0),
                                     "loom_requested_threads");
  auto *setThreads = Function::Create(FunctionType::get(b.getVoidTy(), {i32}, false),
                                      GlobalValue::ExternalLinkage,
                                      "loom_set_num_threads", module);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", setThreads));
  Value *n = setThreads->getArg(0);
  Value *clamped = b.CreateSelect(b.CreateICmpSLT(n, ConstantInt::get(i32, 0)),
                                  ConstantInt::get(i32, 0), n);
  b.CreateStore(clamped, threads);
  b.CreateRetVoid();

  // const char *loom_last_error(void): per calling thread; NULL after a
  // call that succeeded. CPU calls cannot fail, so nothing sets it yet.
  auto *lastError = new GlobalVariable(
      module, ptr, false, GlobalValue::InternalLinkage,
      ConstantPointerNull::get(ptr), "loom_last_error_message", nullptr,
      GlobalValue::GeneralDynamicTLSModel);
  auto *getError = Function::Create(FunctionType::get(ptr, false),
                                    GlobalValue::ExternalLinkage,
                                    "loom_last_error", module);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", getError));
  b.CreateRet(b.CreateLoad(ptr, b.CreateThreadLocalAddress(lastError)));
}

void mlir::loom::addRuntimeExports(Module &module, StringRef manifestJson) {
  emitRuntimeExports(module, manifestJson);
}
