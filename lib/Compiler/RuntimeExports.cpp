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

  // The thread count a caller asked for (0: all online CPUs).
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

  // int loom_thread_count(void), called before every parallel region (see
  // loom-bind-openmp-threads): the requested count, else the online CPUs,
  // asked once of sysconf(_SC_NPROCESSORS_ONLN) and cached.
  if (Function *count = module.getFunction("loom_thread_count")) {
    count->setLinkage(GlobalValue::InternalLinkage);
    auto *online = new GlobalVariable(module, i32, false,
                                      GlobalValue::InternalLinkage,
                                      ConstantInt::get(i32, 0),
                                      "loom_online_cpus");
    FunctionCallee sysconf = module.getOrInsertFunction(
        "sysconf", FunctionType::get(b.getInt64Ty(), {i32}, false));
    BasicBlock *entry = BasicBlock::Create(ctx, "entry", count);
    BasicBlock *useDefault = BasicBlock::Create(ctx, "default", count);
    BasicBlock *query = BasicBlock::Create(ctx, "query", count);
    BasicBlock *done = BasicBlock::Create(ctx, "done", count);
    b.SetInsertPoint(entry);
    Value *requested = b.CreateLoad(i32, threads);
    b.CreateCondBr(b.CreateICmpSGT(requested, ConstantInt::get(i32, 0)), done,
                   useDefault);
    b.SetInsertPoint(useDefault);
    Value *cached = b.CreateLoad(i32, online);
    b.CreateCondBr(b.CreateICmpSGT(cached, ConstantInt::get(i32, 0)), done,
                   query);
    b.SetInsertPoint(query);
    constexpr int kScNprocessorsOnln = 84; // glibc's _SC_NPROCESSORS_ONLN
    Value *cpus = b.CreateTrunc(
        b.CreateCall(sysconf, {ConstantInt::get(i32, kScNprocessorsOnln)}), i32);
    Value *atLeastOne = b.CreateSelect(
        b.CreateICmpSGT(cpus, ConstantInt::get(i32, 0)), cpus,
        ConstantInt::get(i32, 1));
    b.CreateStore(atLeastOne, online);
    b.CreateBr(done);
    b.SetInsertPoint(done);
    PHINode *result = b.CreatePHI(i32, 3);
    result->addIncoming(requested, entry);
    result->addIncoming(cached, useDefault);
    result->addIncoming(atLeastOne, query);
    b.CreateRet(result);
  }

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
