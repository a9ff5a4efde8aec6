//===- Compile.h - a module to a shared object ------------------*- C++ -*-===//
//
// The library behind loom-compile: run a target's pipeline, translate to
// LLVM IR, add the runtime exports of SPEC section 2 (loom_manifest,
// loom_set_num_threads, loom_last_error), optimize at O3 for the chosen CPU
// and write MLIR, LLVM IR, assembly, an object or a shared object.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_COMPILER_COMPILE_H
#define LOOM_COMPILER_COMPILE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::loom {

enum class CompileTarget { Cpu, Cuda };
enum class EmitKind { Mlir, Llvm, Asm, Obj, So };

struct CompileOptions {
  CompileTarget target = CompileTarget::Cpu;
  EmitKind emit = EmitKind::So;
  /// LLVM CPU name; empty means the host CPU with its detected features.
  std::string mcpu;
  /// A CpuTargetDescription in text form that sizes the kernels instead of
  /// the one derived from `mcpu` (for experiments and benchmarks).
  std::string cpuTarget;
  /// --target=cuda: the CudaTargetDescription in text form (default sm_90)
  /// and the CUDA toolkit (default: searched, see CudaCompile.cpp).
  std::string cudaTarget;
  std::string cudaPath;
  /// --target=cuda: run the kernels on the CPU emulator instead of a GPU
  /// (a testing aid; see docs/cuda.md).
  bool cudaEmulate = false;
  /// Where the artifact goes; "-" is stdout (not for obj/so).
  std::string output;
  /// Print each stage and its wall time to stderr.
  bool verbose = false;
};

/// JSON description of every public function of `module` (which must still
/// be at the tensor level): {"functions":[{"name", "inputs", "outputs"}]}.
/// An input or output carries a "name" where its argument or result has a
/// `loom.name` string attribute; those attributes are then removed from the
/// module (nothing after the manifest reads them). Fails, with a diagnostic
/// on the function, on a signature the ABI cannot express (anything but
/// statically shaped f32 tensors) or a `loom.name` that is not a string.
FailureOr<std::string> buildManifest(ModuleOp module);

/// Adds loom_manifest(), loom_set_num_threads() and loom_last_error() to a
/// translated module.
void addRuntimeExports(llvm::Module &module, StringRef manifestJson);

/// The module's functions with bodies, by visibility, before lowering.
struct ModuleFunctions {
  SmallVector<std::string> publicNames, privateNames;
};
ModuleFunctions collectModuleFunctions(ModuleOp module);

/// After translation: a public function `f` is exported only through its
/// C wrapper `_mlir_ciface_f` (f itself hidden, so the wrapper calls it
/// directly, never another library's `f` that the dynamic linker found
/// first); private functions and their wrappers are internal.
void restrictExports(llvm::Module &module, const ModuleFunctions &functions);

/// The --target=cuda half of compileModule (lib/Compiler/CudaCompile.cpp).
LogicalResult compileCudaModule(ModuleOp module, const CompileOptions &options);

/// Compiles `module` in place and writes the artifact. Diagnostics go to the
/// context's handler; the result says whether everything succeeded.
LogicalResult compileModule(ModuleOp module, const CompileOptions &options);

} // namespace mlir::loom

#endif // LOOM_COMPILER_COMPILE_H
