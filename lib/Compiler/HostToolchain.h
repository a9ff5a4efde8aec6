//===- HostToolchain.h - LLVM and cc steps both targets share ---*- C++ -*-===//
//
// What compileModule (CPU) and compileCudaModule (the CUDA host half) do the
// same way once their pipeline has run: time the stages, make a host target
// machine, optimize, write text or machine code, and link with `cc`. Private
// to lib/Compiler.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_LIB_COMPILER_HOSTTOOLCHAIN_H
#define LOOM_LIB_COMPILER_HOSTTOOLCHAIN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <memory>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir::loom {

/// Prints "loom-compile: <stage>: <ms> ms" when verbose: the form the Python
/// frontend reads back for its progress line.
class StageClock {
public:
  explicit StageClock(bool verbose) : verbose(verbose) {}
  void done(const llvm::Twine &stage);

private:
  bool verbose;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

/// A located error when `module` names a target (its `llvm.target_triple`
/// or `llvm.data_layout` attribute) that the shared object for this host
/// cannot have: another architecture, pointers other than 64 bits, or big
/// endian. A matching triple or layout is accepted; the host's own are used
/// either way.
LogicalResult checkModuleTargetAttributes(ModuleOp module);

/// A target machine for this process's triple and `mcpu` (empty: the host
/// CPU with its detected features). A located error on `module` for an
/// unknown CPU name.
FailureOr<std::unique_ptr<llvm::TargetMachine>>
createHostTargetMachine(ModuleOp module, StringRef mcpu,
                        llvm::CodeGenOptLevel codeGenLevel);

/// Runs LLVM's default module pipeline at `level` for `machine`, after
/// setting the module's data layout and triple from it.
void optimizeModule(llvm::Module &llvmModule, llvm::TargetMachine &machine,
                    llvm::OptimizationLevel level);

/// Writes `path` ("-" is stdout) through `write`.
LogicalResult writeFile(ModuleOp module, StringRef path,
                        function_ref<void(llvm::raw_ostream &)> write,
                        bool text = true);

/// Writes `llvmModule` as assembly or an object file to `path`.
LogicalResult emitMachineCode(ModuleOp module, llvm::Module &llvmModule,
                              llvm::TargetMachine &machine, StringRef path,
                              llvm::CodeGenFileType kind);

/// Runs `cc <args>` to produce `outputPath`; a located error when there is
/// no cc on PATH or it fails.
LogicalResult runCc(ModuleOp module, ArrayRef<StringRef> args,
                    StringRef outputPath);

} // namespace mlir::loom

#endif // LOOM_LIB_COMPILER_HOSTTOOLCHAIN_H
