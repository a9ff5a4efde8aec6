//===- HostToolchain.cpp - LLVM and cc steps both targets share -----------===//

#include "HostToolchain.h"

#include "loom/Target/CPU/TargetDescription.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::loom;

void StageClock::done(const llvm::Twine &stage) {
  auto now = std::chrono::steady_clock::now();
  if (verbose)
    llvm::errs() << "loom-compile: " << stage << ": "
                 << llvm::format(
                        "%.1f",
                        std::chrono::duration<double, std::milli>(now - last)
                            .count())
                 << " ms\n";
  last = now;
}

LogicalResult mlir::loom::checkModuleTargetAttributes(ModuleOp module) {
  llvm::Triple host(llvm::sys::getProcessTriple());
  if (auto attr = module->getAttrOfType<StringAttr>(
          LLVM::LLVMDialect::getTargetTripleAttrName())) {
    llvm::Triple asked(attr.getValue());
    if (asked.getArch() != host.getArch())
      return module.emitError()
             << "the module's " << LLVM::LLVMDialect::getTargetTripleAttrName()
             << " is '" << attr.getValue()
             << "', but loom-compile builds shared objects for this host ("
             << host.str() << "); remove the attribute";
  }
  if (auto attr = module->getAttrOfType<StringAttr>(
          LLVM::LLVMDialect::getDataLayoutAttrName())) {
    llvm::Expected<llvm::DataLayout> layout =
        llvm::DataLayout::parse(attr.getValue());
    if (!layout) {
      std::string message = llvm::toString(layout.takeError());
      return module.emitError()
             << "the module's " << LLVM::LLVMDialect::getDataLayoutAttrName()
             << " '" << attr.getValue() << "' is not a data layout: "
             << message;
    }
    std::string conflict;
    if (layout->isBigEndian())
      conflict = "big-endian data";
    else if (layout->getPointerSizeInBits() != 64)
      conflict = std::to_string(layout->getPointerSizeInBits()) +
                 "-bit pointers";
    if (!conflict.empty())
      return module.emitError()
             << "the module's " << LLVM::LLVMDialect::getDataLayoutAttrName()
             << " '" << attr.getValue() << "' asks for " << conflict
             << ", but the shared object's C ABI has the host's "
                "(little-endian, 64-bit pointers); remove the attribute";
  }
  return success();
}

FailureOr<std::unique_ptr<llvm::TargetMachine>>
mlir::loom::createHostTargetMachine(ModuleOp module, StringRef mcpu,
                                    llvm::CodeGenOptLevel codeGenLevel) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError() << "no LLVM target for " << triple.str() << ": "
                              << error;
  // "host" and "native" (clang's and llc's spellings) mean the host, as no
  // --mcpu does.
  bool host = mcpu.empty() || mcpu == "host" || mcpu == "native";
  std::string cpu = host ? "" : mcpu.str(), features;
  if (host) {
    // The host's name alone would miss features a VM's CPUID reports
    // differently from the named model.
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  } else {
    // Checked before the target machine exists (the same check as the CPU
    // target description's): an unknown name or a 32-bit CPU.
    if (failed(checkLlvmCpuName(cpu, error)))
      return module.emitError() << error;
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, codeGenLevel));
  if (!machine)
    return module.emitError() << "cannot create an LLVM target machine for CPU '"
                              << cpu << "'";
  return machine;
}

void mlir::loom::optimizeModule(llvm::Module &llvmModule,
                                llvm::TargetMachine &machine,
                                llvm::OptimizationLevel level) {
  llvmModule.setDataLayout(machine.createDataLayout());
  llvmModule.setTargetTriple(machine.getTargetTriple());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // CalledValuePropagation resolves indirect calls through stored function
  // pointers; a Loom module makes none (OpenMP's outlined bodies go to the
  // runtime), and the pass is quadratic in the pointers a function stores:
  // 88 % of O3 for a function of 800 memref arguments (4.2 of 4.8 s).
  llvm::PassInstrumentationCallbacks instrumentation;
  instrumentation.registerShouldRunOptionalPassCallback(
      [](llvm::StringRef pass, llvm::Any) {
        return pass != "CalledValuePropagationPass";
      });
  llvm::PassBuilder pb(&machine, llvm::PipelineTuningOptions(), std::nullopt,
                       &instrumentation);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(level).run(llvmModule, mam);
}

LogicalResult mlir::loom::writeFile(ModuleOp module, StringRef path,
                                    function_ref<void(llvm::raw_ostream &)> write,
                                    bool text) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec,
                           text ? llvm::sys::fs::OF_Text : llvm::sys::fs::OF_None);
  if (ec)
    return module.emitError() << "cannot open '" << path
                              << "': " << ec.message();
  write(out.os());
  out.keep();
  return success();
}

LogicalResult mlir::loom::emitMachineCode(ModuleOp module,
                                          llvm::Module &llvmModule,
                                          llvm::TargetMachine &machine,
                                          StringRef path,
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

namespace {

/// The functions a failed link named as undefined ("undefined reference to
/// `f'" from GNU ld, "undefined symbol: f" from lld), in order, once each.
SmallVector<std::string> undefinedSymbols(StringRef log) {
  SmallVector<std::string> names;
  auto add = [&](StringRef name) {
    name = name.trim();
    if (!name.empty() && !llvm::is_contained(names, name.str()))
      names.push_back(name.str());
  };
  SmallVector<StringRef> lines;
  log.split(lines, '\n');
  for (StringRef line : lines) {
    if (size_t at = line.find("undefined reference to `"); at != StringRef::npos)
      add(line.substr(at + 24).take_until([](char c) { return c == '\''; }));
    else if (size_t at = line.find("undefined symbol: "); at != StringRef::npos)
      add(line.substr(at + 18));
  }
  return names;
}

} // namespace

LogicalResult mlir::loom::runCc(ModuleOp module, ArrayRef<StringRef> args,
                                StringRef outputPath) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return module.emitError()
           << "cannot find 'cc' on PATH to link the shared object (run "
              "scripts/install-deps)";
  std::string ccPath = *cc;
  // Every symbol must resolve in the libraries linked here (-z defs): a
  // call to a function nothing provides (vector.print's printF32, from
  // MLIR's runner utilities) would otherwise link and fail at dlopen.
  SmallVector<StringRef> argv{ccPath, "-Wl,-z,defs"};
  argv.append(args.begin(), args.end());
  SmallString<128> logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("loom-link", "log", logPath))
    return module.emitError() << "cannot create a temporary file: "
                              << ec.message();
  llvm::FileRemover removeLog(logPath);
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(ccPath, argv, std::nullopt, redirects, 0,
                                     0, &error);
  std::string log;
  if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
    log = (*buffer)->getBuffer().trim().str();
  if (rc == 0) {
    if (!log.empty())
      llvm::errs() << log << "\n";
    return success();
  }
  SmallVector<std::string> undefined = undefinedSymbols(log);
  if (!undefined.empty()) {
    // One error per op the calls were lowered from, at its location.
    llvm::MapVector<Location, SmallVector<StringRef>> calls;
    module.walk([&](LLVM::CallOp call) {
      std::optional<StringRef> callee = call.getCallee();
      if (callee && llvm::is_contained(undefined, callee->str()) &&
          !llvm::is_contained(calls[call.getLoc()], *callee))
        calls[call.getLoc()].push_back(*callee);
    });
    for (auto &[loc, callees] : calls) {
      InFlightDiagnostic diag = emitError(loc) << "this op is not supported "
                                                  "in a compiled model: it "
                                                  "calls";
      for (auto [i, callee] : llvm::enumerate(callees))
        diag << (i ? ", '" : " '") << callee << "'";
      diag << ", which no library the shared object links (libc, libm, "
              "libomp) defines";
    }
    if (!calls.empty())
      return failure();
    InFlightDiagnostic diag = module.emitError()
                              << "the shared object would call functions no "
                                 "library it links defines:";
    for (const std::string &name : undefined)
      diag << " '" << name << "'";
    return diag;
  }
  return module.emitError() << "linking '" << outputPath << "' failed (cc exit "
                            << rc << ")" << (error.empty() ? "" : ": ")
                            << error << (log.empty() ? "" : "\n" + log);
}
