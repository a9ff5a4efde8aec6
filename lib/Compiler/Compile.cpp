//===- Compile.cpp - a module to a shared object --------------------------===//

#include "loom/Compiler/Compile.h"
#include "loom/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Prints "loom-compile: <stage> ... <ms> ms" when verbose.
class StageClock {
public:
  explicit StageClock(bool verbose) : verbose(verbose) {}
  void done(StringRef stage) {
    auto now = std::chrono::steady_clock::now();
    if (verbose)
      llvm::errs() << "loom-compile: " << stage << ": "
                   << llvm::format("%.1f", std::chrono::duration<double, std::milli>(
                                               now - last)
                                               .count())
                   << " ms\n";
    last = now;
  }

private:
  bool verbose;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(ModuleOp module, StringRef mcpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError() << "no LLVM target for " << triple.str() << ": "
                              << error;
  std::string cpu = mcpu.str(), features;
  if (cpu.empty()) {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return module.emitError() << "cannot create an LLVM target machine for CPU '"
                              << cpu << "'";
  if (!mcpu.empty() && !machine->getMCSubtargetInfo()->isCPUStringValid(cpu))
    return module.emitError() << "unknown --mcpu '" << cpu << "' for "
                              << triple.str();
  return machine;
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&machine);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(module, mam);
}

LogicalResult writeText(ModuleOp module, StringRef path,
                        function_ref<void(llvm::raw_ostream &)> write) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return module.emitError() << "cannot open '" << path
                              << "': " << ec.message();
  write(out.os());
  out.keep();
  return success();
}

/// Links an object into a shared object with the system C compiler driver.
/// The artifact needs libc and libm at load time, plus LLVM's OpenMP runtime
/// (libomp.so.5, installed by scripts/install-deps) when it has parallel
/// loops.
LogicalResult linkSharedObject(ModuleOp module, StringRef objectPath,
                               StringRef outputPath, bool needsOpenMP) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return module.emitError()
           << "cannot find 'cc' on PATH to link the shared object (run "
              "scripts/install-deps)";
  std::string ccPath = *cc;
  SmallVector<StringRef> args{ccPath,     "-shared", "-o", outputPath,
                              objectPath, "-lm"};
  if (needsOpenMP)
    args.push_back("-l:libomp.so.5");
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(ccPath, args, std::nullopt, {}, 0, 0,
                                     &error);
  if (rc != 0)
    return module.emitError() << "linking '" << outputPath << "' failed (cc exit "
                              << rc << ")" << (error.empty() ? "" : ": ")
                              << error;
  return success();
}

} // namespace

LogicalResult mlir::loom::emitMachineCode(ModuleOp module, llvm::Module &llvmModule,
                              llvm::TargetMachine &machine, StringRef path,
                              llvm::CodeGenFileType kind) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return module.emitError() << "cannot open '" << path
                              << "': " << ec.message();
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, out.os(), nullptr, kind))
    return module.emitError() << "the target cannot emit this file type";
  pm.run(llvmModule);
  out.keep();
  return success();
}

LogicalResult mlir::loom::compileModule(ModuleOp module,
                                        const CompileOptions &options) {
  StageClock clock(options.verbose);
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

  PassManager pm(module.getContext());
  buildLoomCpuPipeline(pm, pipelineOptions);
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  if (failed(pm.run(module)))
    return failure();
  clock.done("loom-cpu-pipeline");

  if (options.emit == EmitKind::Mlir)
    return writeText(module, options.output,
                     [&](llvm::raw_ostream &os) { module.print(os); });

  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  registerOpenMPDialectTranslation(*module.getContext());
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "loom");
  if (!llvmModule)
    return module.emitError() << "translation to LLVM IR failed";
  addRuntimeExports(*llvmModule, *manifest);
  clock.done("translate to LLVM IR");

  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(module, options.mcpu);
  if (failed(machine))
    return failure();
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  optimize(*llvmModule, **machine);
  clock.done("LLVM O3 (" + (*machine)->getTargetCPU().str() + ")");

  switch (options.emit) {
  case EmitKind::Llvm:
    return writeText(module, options.output,
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
