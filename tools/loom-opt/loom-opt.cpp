//===- loom-opt.cpp - the Loom optimizer driver ---------------------------===//
//
// mlir-opt with the loom dialect, Loom's passes and its pipelines. The work
// runs on a thread with a large stack, and input nested deeper than the
// parser can take is refused with a located error (loom/Compiler/InputLimits.h).
// A pipeline option's error names the tool, not "<unknown>:0".
//
//===----------------------------------------------------------------------===//

#include "loom/Compiler/InputLimits.h"
#include "loom/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  DialectRegistry registry;
  loom::registerAllDialects(registry);
  loom::registerAllPasses();
  std::string inputFilename, outputFilename;
  std::tie(inputFilename, outputFilename) = registerAndParseCLIOptions(
      argc, argv,
      "Loom optimizer driver: every upstream dialect and pass, the loom "
      "dialect, convert-loom-to-loops and loom-cpu-pipeline\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  // A pipeline's bad options are reported by MLIR at an unknown location
  // ("<unknown>:0: error: ..."); they come from the command line, so say so.
  config.setPassPipelineSetupFn(
      [base = config](PassManager &pm) -> LogicalResult {
        ScopedDiagnosticHandler handler(pm.getContext(), [](Diagnostic &d) {
          if (!isa<UnknownLoc>(d.getLocation()))
            return failure();
          llvm::WithColor::error(llvm::errs(), "loom-opt")
              << d.str() << "\n";
          return success();
        });
        return base.setupPassPipeline(pm);
      });
  // Listing dialects or passes reads no input.
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  return loom::runWithLargeStack([&] {
    std::string error;
    std::unique_ptr<llvm::MemoryBuffer> file =
        openInputFile(inputFilename, &error);
    if (!file) {
      llvm::errs() << error << "\n";
      return 1;
    }
    if (failed(loom::checkNestingDepth(*file, llvm::errs())))
      return 1;
    std::unique_ptr<llvm::ToolOutputFile> output =
        openOutputFile(outputFilename, &error);
    if (!output) {
      llvm::errs() << error << "\n";
      return 1;
    }
    if (failed(MlirOptMain(output->os(), std::move(file), registry, config)))
      return 1;
    output->keep();
    return 0;
  });
}
