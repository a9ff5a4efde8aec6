//===- loom-opt.cpp - the Loom optimizer driver ---------------------------===//
//
// mlir-opt with the loom dialect, Loom's passes and its pipelines.
//
//===----------------------------------------------------------------------===//

#include "loom/InitAll.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::loom::registerAllDialects(registry);
  mlir::loom::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "Loom optimizer driver: every upstream dialect and pass, the loom "
      "dialect, convert-loom-to-loops and loom-cpu-pipeline\n",
      registry));
}
