//===- loom-compile.cpp - .mlir to a shared object with a C ABI -----------===//

#include "loom/Compiler/Compile.h"
#include "loom/Compiler/InputLimits.h"
#include "loom/InitAll.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mlir::loom;
namespace cl = llvm::cl;

static cl::OptionCategory loomCategory("loom-compile options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input .mlir file>"),
                                          cl::init("-"), cl::cat(loomCategory));

static cl::opt<std::string>
    outputFilename("o", cl::desc("Output file (default: the input's name with "
                                 "the emitted kind's extension; stdout for "
                                 "text kinds when reading stdin)"),
                   cl::value_desc("path"), cl::cat(loomCategory));

static cl::opt<CompileTarget> targetKind(
    "target", cl::desc("Device to compile for"), cl::init(CompileTarget::Cpu),
    cl::values(clEnumValN(CompileTarget::Cpu, "cpu",
                          "the host CPU (default; see --mcpu)"),
               clEnumValN(CompileTarget::Cuda, "cuda",
                          "NVIDIA GPUs: kernels as PTX (+ cubin), see "
                          "--cuda-target")),
    cl::cat(loomCategory));

static cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::So),
    cl::values(
        clEnumValN(EmitKind::Mlir, "mlir", "the module after the pipeline (LLVM dialect)"),
        clEnumValN(EmitKind::Llvm, "llvm", "optimized LLVM IR"),
        clEnumValN(EmitKind::Asm, "asm", "assembly"),
        clEnumValN(EmitKind::Obj, "obj", "an object file"),
        clEnumValN(EmitKind::So, "so", "a shared object with the C ABI (default)")),
    cl::cat(loomCategory));

static cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("LLVM CPU to tune for, e.g. znver4, skylake-avx512, haswell "
                  "(default, or host / native: the host CPU and its features)"),
         cl::value_desc("name"), cl::cat(loomCategory));

static cl::opt<std::string> cpuTarget(
    "cpu-target",
    cl::desc("Size the kernels for this CPU description instead of the one "
             "--mcpu implies: avx512, avx2 or sse, optionally followed by "
             ":key=value fields (vector-bits, registers, fma-latency, "
             "fma-pipes, l1, l2, l3, line, stream-l3s)"),
    cl::value_desc("spec"), cl::cat(loomCategory));

static cl::opt<std::string> cudaTarget(
    "cuda-target",
    cl::desc("With --target=cuda: the GPU to compile for, sm_80, sm_86, "
             "sm_89, sm_90 (default) or sm_100, optionally followed by "
             ":key=value fields (ptx, smem, smem-optin, registers, sms, ...)"),
    cl::value_desc("spec"), cl::cat(loomCategory));

static cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("With --target=cuda: the CUDA toolkit (libdevice, ptxas); "
             "default $CUDA_PATH, $CUDA_HOME, ptxas on PATH, /usr/local/cuda"),
    cl::value_desc("dir"), cl::cat(loomCategory));

static cl::opt<bool> cudaEmulate(
    "cuda-emulate",
    cl::desc("With --target=cuda: run the GPU kernels on a CPU emulator "
             "(one block at a time, threads as fibers) instead of a GPU; a "
             "testing aid, slow, buffers in host memory"),
    cl::cat(loomCategory));

static cl::opt<bool> verbose("v", cl::desc("Print each stage and its time"),
                             cl::cat(loomCategory));

static std::string defaultOutput() {
  static const char *extensions[] = {".ll.mlir", ".ll", ".s", ".o", ".so"};
  if (inputFilename == "-")
    return emitKind <= EmitKind::Asm ? "-" : "a.out.so";
  llvm::SmallString<128> path(inputFilename);
  llvm::sys::path::replace_extension(path, "");
  return (path + extensions[static_cast<int>(emitKind.getValue())]).str();
}

/// Parses the input and compiles it; the exit code of the tool.
static int compileFile(DialectRegistry &registry, const std::string &output) {
  MLIRContext context(registry);
  // The located message is what a user needs; the op dump is noise here.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  // Errors of the whole compile (an option's value, the toolchain, the
  // link) are at the module, line 0 of the input: they read as the tool's
  // own ("loom-compile: error: ...", like a bad flag), not "in.mlir:0:0".
  ScopedDiagnosticHandler toolErrors(&context, [](Diagnostic &d) {
    auto file = dyn_cast<FileLineColLoc>(d.getLocation());
    if (!isa<UnknownLoc>(d.getLocation()) && !(file && file.getLine() == 0))
      return failure();
    auto &os = d.getSeverity() == DiagnosticSeverity::Error
                   ? llvm::WithColor::error(llvm::errs(), "loom-compile")
                   : llvm::WithColor::warning(llvm::errs(), "loom-compile");
    os << d.str() << "\n";
    for (const Diagnostic &note : d.getNotes())
      llvm::WithColor::note(llvm::errs(), "loom-compile") << note.str() << "\n";
    return success();
  });
  // Registered last, so asked first: a diagnostic at a very long line.
  LongLineDiagnosticHandler longLines(sourceMgr, &context);

  std::string error;
  auto file = openInputFile(inputFilename, &error);
  if (!file) {
    llvm::errs() << "loom-compile: error: " << error << "\n";
    return 1;
  }
  if (failed(checkNestingDepth(*file, llvm::errs())))
    return 1;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  CompileOptions options;
  options.target = targetKind;
  options.emit = emitKind;
  options.mcpu = mcpu;
  options.cpuTarget = cpuTarget;
  options.cudaTarget = cudaTarget;
  options.cudaPath = cudaPath;
  options.cudaEmulate = cudaEmulate;
  options.output = output;
  options.verbose = verbose;
  return failed(compileModule(*module, options)) ? 1 : 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  // libLLVM registers hundreds of backend flags; --help shows Loom's own.
  cl::HideUnrelatedOptions(loomCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "loom-compile: compile a .mlir module of loom (and upstream) ops into a "
      "shared object.\n\n"
      "Every public func.func @f becomes the C symbol _mlir_ciface_f(in_0*, "
      "..., out_0*, ...)\nwhose arguments point to MLIR strided memref "
      "descriptors; results are caller-allocated\nout-params. The .so also "
      "exports loom_manifest(), loom_set_num_threads(int) and\n"
      "loom_last_error(). Errors in the input are reported as "
      "file:line:col and exit code 1.\n\n"
      "Examples:\n"
      "  loom-compile model.mlir -o model.so\n"
      "  loom-compile model.mlir --emit=llvm -o -     # optimized LLVM IR\n"
      "  loom-compile model.mlir --emit=asm --mcpu=haswell -o model.s\n"
      "  loom-compile model.mlir -v --mlir-timing     # stage and pass timings\n\n"
      "MLIR's debugging flags (--mlir-timing, --mlir-print-ir-after-all, ...)\n"
      "are accepted too and listed by --help-hidden.\n");

  // The CUDA options on a CPU build were ignored without a word.
  if (targetKind != CompileTarget::Cuda) {
    for (const cl::Option *o : std::initializer_list<const cl::Option *>{
             &cudaEmulate, &cudaTarget, &cudaPath})
      if (o->getNumOccurrences()) {
        llvm::errs() << "loom-compile: error: --" << o->ArgStr
                     << " needs --target=cuda\n";
        return 1;
      }
  }
  std::string output =
      outputFilename.empty() ? defaultOutput() : outputFilename.getValue();
  if (output == "-" && emitKind > EmitKind::Asm) {
    llvm::errs() << "loom-compile: error: --emit=obj/so needs a file; pass -o\n";
    return 1;
  }
  // An output that cannot be written is the command line's error, said
  // before compiling (not a failed link at the input's first line).
  if (output != "-") {
    llvm::SmallString<256> dir(output);
    llvm::sys::path::remove_filename(dir);
    if (dir.empty())
      dir = ".";
    if (!llvm::sys::fs::is_directory(dir) ||
        llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write) ||
        llvm::sys::fs::is_directory(output)) {
      llvm::errs() << "loom-compile: error: cannot write the output '"
                   << output << "': "
                   << (!llvm::sys::fs::is_directory(dir)
                           ? "no directory '" + dir.str().str() + "'"
                       : llvm::sys::fs::is_directory(output)
                           ? std::string("it is a directory")
                           : "directory '" + dir.str().str() +
                                 "' is not writable")
                   << "\n";
      return 1;
    }
    // `-o model.mlir` (a slip for the input's name) replaced the source
    // with the shared object.
    if (inputFilename != "-" &&
        llvm::sys::fs::equivalent(inputFilename.getValue(), output)) {
      llvm::errs() << "loom-compile: error: the output '" << output
                   << "' is the input file; pass another -o\n";
      return 1;
    }
  }

  DialectRegistry registry;
  loom::registerAllDialects(registry);
  // The pipeline is partly spelled as text, so the passes must be known.
  loom::registerAllPasses();
  // Parsing and the passes recurse once per nesting level: they run on a
  // thread with a large stack (see InputLimits.h).
  return runWithLargeStack([&] { return compileFile(registry, output); });
}

