//===- CudaCompile.cpp - a module to a CUDA shared object -----------------===//
//
// --target=cuda: run loom-cuda-pipeline (kernels serialized to PTX, host
// code in the LLVM dialect calling Loom's CUDA runtime), then either write
// the PTX (--emit=asm) or translate the host to LLVM IR, add the runtime
// exports of SPEC section 2, optimize for the host CPU and link it with
// the runtime (runtime/loom_cuda.c, embedded in this library and compiled
// by `cc`) into a shared object that needs only libc at load time.
//
// The CUDA toolkit is needed at compile time only: libdevice for the math
// functions (always), ptxas for the embedded cubin (optional: without it
// the artifact carries PTX alone, which the driver compiles at first use).
//
//===----------------------------------------------------------------------===//

#include "loom/Compiler/Compile.h"
#include "HostToolchain.h"
#include "loom/Pipelines/Pipelines.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Target/TargetMachine.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::loom;

namespace {

// kLoomCudaRuntimeHeader, kLoomCudaRuntimeSource, kLoomCudaEmulatorSource:
// runtime/loom_cuda.{h,c} and runtime/loom_cuda_emulator.c.
#include "loom/Compiler/CudaRuntimeSource.inc"

/// The thread-local variable behind loom_last_error() (RuntimeExports.cpp);
/// the runtime writes it.
constexpr const char *kLastErrorVariable = "loom_last_error_message";

struct Toolkit {
  std::string root, libdevice, ptxas;
};

/// The CUDA toolkit: --cuda-path, else $CUDA_PATH / $CUDA_HOME, else the
/// directory above the ptxas on PATH, else /usr/local/cuda.
FailureOr<Toolkit> findToolkit(ModuleOp module, StringRef given,
                               bool verbose) {
  SmallVector<std::string> candidates;
  if (!given.empty()) {
    candidates.push_back(given.str());
  } else {
    for (const char *var : {"CUDA_PATH", "CUDA_HOME"})
      if (const char *v = std::getenv(var); v && *v)
        candidates.push_back(v);
    if (auto ptxas = llvm::sys::findProgramByName("ptxas"))
      candidates.push_back(
          llvm::sys::path::parent_path(llvm::sys::path::parent_path(*ptxas))
              .str());
    candidates.push_back("/usr/local/cuda");
  }
  for (const std::string &root : candidates) {
    SmallString<256> libdevice(root);
    llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
    if (!llvm::sys::fs::exists(libdevice))
      continue;
    Toolkit t{root, libdevice.str().str(), ""};
    SmallString<256> ptxas(root);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(ptxas))
      t.ptxas = ptxas.str().str();
    else if (verbose)
      llvm::errs() << "loom-compile: no ptxas in " << root
                   << "/bin: the artifact carries PTX only\n";
    return t;
  }
  InFlightDiagnostic d = module.emitError()
                         << "--target=cuda needs the CUDA toolkit's libdevice "
                            "(nvvm/libdevice/libdevice.10.bc) to compile math "
                            "functions for the GPU, and none was found (looked "
                            "in ";
  llvm::interleaveComma(candidates, d);
  d << "); install the CUDA toolkit or pass --cuda-path=<toolkit directory>";
  return failure();
}

/// The bytes of a constant global the pipeline left (without the NUL of a
/// C string).
FailureOr<std::string> globalBytes(ModuleOp module, StringRef name) {
  auto global = module.lookupSymbol<LLVM::GlobalOp>(name);
  auto value = global ? dyn_cast_or_null<StringAttr>(global.getValueOrNull())
                      : StringAttr();
  if (!value)
    return module.emitError() << "loom-cuda-pipeline left no @" << name;
  StringRef bytes = value.getValue();
  if (bytes.ends_with(StringRef("\0", 1)))
    bytes = bytes.drop_back();
  return bytes.str();
}

/// Links the host object and the runtime (compiled from its embedded
/// source) into a shared object with `cc`.
LogicalResult linkWithRuntime(ModuleOp module, StringRef objectPath,
                              StringRef outputPath, bool emulate) {
  SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("loom-cuda-runtime", dir))
    return module.emitError() << "cannot create a temporary directory: "
                              << ec.message();
  SmallString<128> header(dir), source(dir);
  llvm::sys::path::append(header, "loom_cuda.h");
  llvm::sys::path::append(source, "loom_cuda.c");
  // The files first: a directory is only removed once it is empty.
  llvm::scope_exit cleanUp([&] {
    llvm::sys::fs::remove(header);
    llvm::sys::fs::remove(source);
    llvm::sys::fs::remove(dir);
  });
  std::pair<StringRef, StringRef> files[] = {
      {header, kLoomCudaRuntimeHeader},
      {source, emulate ? kLoomCudaEmulatorSource : kLoomCudaRuntimeSource}};
  for (const auto &file : files)
    if (failed(writeFile(module, file.first,
                         [&](llvm::raw_ostream &os) { os << file.second; })))
      return failure();
  SmallVector<StringRef> args{"-shared", "-fPIC", "-O2", "-fvisibility=hidden",
                              "-w", "-o", outputPath, objectPath, source,
                              "-lm", "-ldl", "-lpthread"};
  return runCc(module, args, outputPath);
}

/// The manifest with `"target": "cuda"` (or `"cuda-emulator"`), so that a
/// caller knows the descriptors must hold device pointers.
FailureOr<std::string> cudaManifest(ModuleOp module, bool emulate) {
  FailureOr<std::string> manifest = buildManifest(module);
  if (failed(manifest))
    return failure();
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(*manifest);
  llvm::json::Object *object = json ? json->getAsObject() : nullptr;
  if (!object) {
    if (!json)
      llvm::consumeError(json.takeError());
    return module.emitError() << "internal error: the manifest is not a JSON "
                                 "object";
  }
  (*object)["target"] = emulate ? "cuda-emulator" : "cuda";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << *json;
  return text;
}

} // namespace

LogicalResult mlir::loom::compileCudaModule(ModuleOp module,
                                            const CompileOptions &options) {
  StageClock clock(options.verbose);
  FailureOr<std::string> manifest = cudaManifest(module, options.cudaEmulate);
  if (failed(manifest))
    return failure();

  std::string error;
  FailureOr<CudaTargetDescription> gpu = CudaTargetDescription::parse(
      options.cudaTarget.empty() ? "sm_90" : options.cudaTarget, error);
  if (failed(gpu))
    return module.emitError() << error;
  // The emulator needs no toolkit: its kernels are host code.
  FailureOr<Toolkit> toolkit =
      options.cudaEmulate ? FailureOr<Toolkit>(Toolkit{})
                          : findToolkit(module, options.cudaPath, options.verbose);
  if (failed(toolkit))
    return failure();
  if (options.verbose)
    llvm::errs() << "loom-compile: CUDA target " << gpu->str() << ", toolkit "
                 << toolkit->root << "\n";

  CudaPipelineOptions pipelineOptions;
  pipelineOptions.target = *gpu;
  pipelineOptions.toolkit = toolkit->root;
  // Only a shared object runs: --emit=asm/mlir/llvm/obj need no cubin.
  if (options.emit == EmitKind::So)
    pipelineOptions.ptxas = toolkit->ptxas;
  pipelineOptions.emulate = options.cudaEmulate;
  ModuleFunctions functions = collectModuleFunctions(module);
  PassManager pm(module.getContext());
  buildLoomCudaPipeline(pm, pipelineOptions);
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  if (failed(pm.run(module)))
    return failure();
  clock.done("loom-cuda-pipeline");

  if (options.emit == EmitKind::Mlir)
    return writeFile(module, options.output,
                     [&](llvm::raw_ostream &os) { module.print(os); });
  if (options.emit == EmitKind::Asm) {
    FailureOr<std::string> ptx = globalBytes(module, "loom_cuda_ptx");
    if (failed(ptx))
      return failure();
    return writeFile(module, options.output,
                     [&](llvm::raw_ostream &os) { os << *ptx; });
  }

  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "loom");
  if (!llvmModule)
    return module.emitError() << "translation to LLVM IR failed";
  restrictExports(*llvmModule, functions);
  addRuntimeExports(*llvmModule, *manifest);
  llvm::GlobalVariable *lastError =
      llvmModule->getGlobalVariable(kLastErrorVariable, /*AllowInternal=*/true);
  if (!lastError || !lastError->isThreadLocal())
    return module.emitError() << "internal error: the runtime exports have no "
                                 "thread-local @"
                              << kLastErrorVariable
                              << " for the CUDA runtime to report errors in";
  lastError->setLinkage(llvm::GlobalValue::ExternalLinkage);
  lastError->setVisibility(llvm::GlobalValue::HiddenVisibility);
  clock.done("translate to LLVM IR");

  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createHostTargetMachine(module, options.mcpu, llvm::CodeGenOptLevel::Default);
  if (failed(machine))
    return failure();
  // The host code only launches kernels: O2 is plenty.
  optimizeModule(*llvmModule, **machine, llvm::OptimizationLevel::O2);
  clock.done("LLVM O2 (host)");

  switch (options.emit) {
  case EmitKind::Llvm:
    return writeFile(module, options.output, [&](llvm::raw_ostream &os) {
      llvmModule->print(os, nullptr);
    });
  case EmitKind::Obj:
    return emitMachineCode(module, *llvmModule, **machine, options.output,
                      llvm::CodeGenFileType::ObjectFile);
  case EmitKind::So:
    break;
  case EmitKind::Mlir:
  case EmitKind::Asm:
    llvm_unreachable("handled above");
  }

  SmallString<128> objectPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("loom-cuda", "o", objectPath))
    return module.emitError() << "cannot create a temporary object file: "
                              << ec.message();
  llvm::FileRemover removeObject(objectPath);
  if (failed(emitMachineCode(module, *llvmModule, **machine, objectPath,
                        llvm::CodeGenFileType::ObjectFile)))
    return failure();
  clock.done("code generation (host)");
  if (failed(linkWithRuntime(module, objectPath, options.output,
                             options.cudaEmulate)))
    return failure();
  clock.done("link " + options.output + " with the CUDA runtime");
  return success();
}
