//===- Compile.cpp - a module to a shared object --------------------------===//

#include "loom/Compiler/Compile.h"
#include "HostToolchain.h"
#include "loom/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Links an object into a shared object with the system C compiler driver.
/// The artifact needs libc and libm at load time, plus LLVM's OpenMP runtime
/// (libomp.so.5, installed by scripts/install-deps) when it has parallel
/// loops.
LogicalResult linkSharedObject(ModuleOp module, StringRef objectPath,
                               StringRef outputPath, bool needsOpenMP) {
  SmallVector<StringRef> args{"-shared", "-o", outputPath, objectPath, "-lm"};
  if (needsOpenMP)
    args.push_back("-l:libomp.so.5");
  return runCc(module, args, outputPath);
}

} // namespace

LogicalResult mlir::loom::compileModule(ModuleOp module,
                                        const CompileOptions &options) {
  StageClock clock(options.verbose);
  if (failed(checkModuleTargetAttributes(module)))
    return failure();
  if (options.target == CompileTarget::Cuda) {
#if LOOM_ENABLE_CUDA
    return compileCudaModule(module, options);
#else
    return module.emitError() << "this loom-compile was built without the "
                                 "CUDA target (LOOM_ENABLE_CUDA=OFF)";
#endif
  }

  FailureOr<std::string> manifest = buildManifest(module);
  if (failed(manifest))
    return failure();

  CpuPipelineOptions pipelineOptions;
  std::string targetError;
  FailureOr<CpuTargetDescription> cpu =
      options.cpuTarget.empty()
          ? CpuTargetDescription::forLlvmCpu(options.mcpu, targetError)
          : CpuTargetDescription::parse(options.cpuTarget, targetError);
  if (failed(cpu))
    return module.emitError() << targetError;
  pipelineOptions.target = *cpu;
  if (options.verbose)
    llvm::errs() << "loom-compile: CPU target " << cpu->str() << "\n";

  ModuleFunctions functions = collectModuleFunctions(module);

  PassManager pm(module.getContext());
  buildLoomCpuPipeline(pm, pipelineOptions);
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  if (failed(pm.run(module)))
    return failure();
  clock.done("loom-cpu-pipeline");

  if (options.emit == EmitKind::Mlir)
    return writeFile(module, options.output,
                     [&](llvm::raw_ostream &os) { module.print(os); });

  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  registerOpenMPDialectTranslation(*module.getContext());
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "loom");
  if (!llvmModule)
    return module.emitError() << "translation to LLVM IR failed";
  restrictExports(*llvmModule, functions);
  addRuntimeExports(*llvmModule, *manifest);
  clock.done("translate to LLVM IR");

  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createHostTargetMachine(module, options.mcpu,
                              llvm::CodeGenOptLevel::Aggressive);
  if (failed(machine))
    return failure();
  optimizeModule(*llvmModule, **machine, llvm::OptimizationLevel::O3);
  clock.done("LLVM O3 (" + (*machine)->getTargetCPU().str() + ")");

  switch (options.emit) {
  case EmitKind::Llvm:
    return writeFile(module, options.output,
                     [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });
  case EmitKind::Asm:
    return emitMachineCode(module, *llvmModule, **machine, options.output,
                           llvm::CodeGenFileType::AssemblyFile);
  case EmitKind::Obj:
    return emitMachineCode(module, *llvmModule, **machine, options.output,
                           llvm::CodeGenFileType::ObjectFile);
  case EmitKind::So:
    break;
  case EmitKind::Mlir:
    llvm_unreachable("handled above");
  }

  SmallString<128> objectPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("loom", "o", objectPath))
    return module.emitError() << "cannot create a temporary object file: "
                              << ec.message();
  llvm::FileRemover removeObject(objectPath);
  if (failed(emitMachineCode(module, *llvmModule, **machine, objectPath,
                             llvm::CodeGenFileType::ObjectFile)))
    return failure();
  clock.done("code generation");
  bool needsOpenMP = llvmModule->getFunction("__kmpc_fork_call") != nullptr;
  if (failed(linkSharedObject(module, objectPath, options.output, needsOpenMP)))
    return failure();
  clock.done("link " + options.output);
  return success();
}
