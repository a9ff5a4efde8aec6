//===- RuntimeExports.cpp - the C functions every artifact exports --------===//
//
// Emitted straight into the LLVM module so that a .so needs nothing but the
// C runtime: no helper library has to be found at link or load time.
//
//===----------------------------------------------------------------------===//

#include "loom/Compiler/Compile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace llvm;

/// loom_set_num_threads clamps its argument to this many threads per online
/// CPU (docs/design.md).
static constexpr int kThreadsPerCpu = 4;
/// Keeps kThreadsPerCpu times the online CPUs inside an int.
static constexpr int64_t kMaxOnlineCpus = 1 << 20;

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

  // int loom_online_cpus(void): sysconf(_SC_NPROCESSORS_ONLN), at least 1,
  // asked once and cached (a benign race: every thread stores the same).
  auto *onlineCache = new GlobalVariable(module, i32, false,
                                         GlobalValue::InternalLinkage,
                                         ConstantInt::get(i32, 0),
                                         "loom_online_cpus_cache");
  auto *online = Function::Create(FunctionType::get(i32, false),
                                  GlobalValue::InternalLinkage,
                                  "loom_online_cpus", module);
  {
    FunctionCallee sysconf = module.getOrInsertFunction(
        "sysconf", FunctionType::get(b.getInt64Ty(), {i32}, false));
    BasicBlock *entry = BasicBlock::Create(ctx, "entry", online);
    BasicBlock *query = BasicBlock::Create(ctx, "query", online);
    BasicBlock *done = BasicBlock::Create(ctx, "done", online);
    b.SetInsertPoint(entry);
    Value *cached = b.CreateLoad(i32, onlineCache);
    b.CreateCondBr(b.CreateICmpSGT(cached, ConstantInt::get(i32, 0)), done,
                   query);
    b.SetInsertPoint(query);
    constexpr int kScNprocessorsOnln = 84; // glibc's _SC_NPROCESSORS_ONLN
    Value *cpus = b.CreateCall(
        sysconf, {ConstantInt::get(i32, kScNprocessorsOnln)});
    // Clamp in 64 bits first: the count must fit an int and be positive.
    Value *bounded = b.CreateSelect(
        b.CreateICmpSGT(cpus, b.getInt64(kMaxOnlineCpus)),
        b.getInt64(kMaxOnlineCpus), cpus);
    Value *positive = b.CreateTrunc(
        b.CreateSelect(b.CreateICmpSGT(bounded, b.getInt64(0)), bounded,
                       b.getInt64(1)),
        i32);
    b.CreateStore(positive, onlineCache);
    b.CreateBr(done);
    b.SetInsertPoint(done);
    PHINode *result = b.CreatePHI(i32, 2);
    result->addIncoming(cached, entry);
    result->addIncoming(positive, query);
    b.CreateRet(result);
  }

  // void loom_set_num_threads(int n): n <= 0 means all online CPUs; more
  // than kThreadsPerCpu threads per online CPU is clamped to that (libomp
  // aborts the process when it cannot create the threads it was asked for,
  // and oversubscribing further only slows every call down).
  auto *threads = new GlobalVariable(module, i32, false,
                                     GlobalValue::InternalLinkage,
                                     ConstantInt::get(i32, 0),
                                     "loom_requested_threads");
  auto *setThreads = Function::Create(FunctionType::get(b.getVoidTy(), {i32}, false),
                                      GlobalValue::ExternalLinkage,
                                      "loom_set_num_threads", module);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", setThreads));
  Value *n = setThreads->getArg(0);
  Value *limit = b.CreateMul(b.CreateCall(online), b.getInt32(kThreadsPerCpu));
  Value *clamped = b.CreateSelect(b.CreateICmpSLT(n, b.getInt32(0)),
                                  b.getInt32(0), n);
  clamped = b.CreateSelect(b.CreateICmpSGT(clamped, limit), limit, clamped);
  b.CreateStore(clamped, threads);
  b.CreateRetVoid();

  // int loom_thread_count(void), called before every parallel region (see
  // loom-bind-openmp-threads): the requested count, else the online CPUs.
  if (Function *count = module.getFunction("loom_thread_count")) {
    count->setLinkage(GlobalValue::InternalLinkage);
    BasicBlock *entry = BasicBlock::Create(ctx, "entry", count);
    BasicBlock *useDefault = BasicBlock::Create(ctx, "default", count);
    BasicBlock *done = BasicBlock::Create(ctx, "done", count);
    b.SetInsertPoint(entry);
    Value *requested = b.CreateLoad(i32, threads);
    b.CreateCondBr(b.CreateICmpSGT(requested, ConstantInt::get(i32, 0)), done,
                   useDefault);
    b.SetInsertPoint(useDefault);
    Value *all = b.CreateCall(online);
    b.CreateBr(done);
    b.SetInsertPoint(done);
    PHINode *result = b.CreatePHI(i32, 2);
    result->addIncoming(requested, entry);
    result->addIncoming(all, useDefault);
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

mlir::loom::ModuleFunctions
mlir::loom::collectModuleFunctions(mlir::ModuleOp module) {
  ModuleFunctions functions;
  for (auto func : module.getOps<mlir::func::FuncOp>()) {
    if (func.isExternal())
      continue;
    (func.isPrivate() ? functions.privateNames : functions.publicNames)
        .push_back(func.getSymName().str());
  }
  return functions;
}

void mlir::loom::restrictExports(Module &module,
                                 const ModuleFunctions &functions) {
  for (const std::string &name : functions.publicNames)
    if (Function *function = module.getFunction(name))
      function->setVisibility(GlobalValue::HiddenVisibility);
  for (const std::string &name : functions.privateNames)
    for (const std::string &symbol : {name, "_mlir_ciface_" + name})
      if (Function *function = module.getFunction(symbol))
        function->setLinkage(GlobalValue::InternalLinkage);
}
