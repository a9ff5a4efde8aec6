//===- GpuNameKernels.cpp - the loom-gpu-name-kernels pass ----------------===//

#include "loom/Target/CUDA/Passes.h"

#include "llvm/ADT/StringSet.h"

#define DEBUG_TYPE "loom-gpu-name-kernels"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMGPUNAMEKERNELSPASS
#include "loom/Target/CUDA/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct LoomGpuNameKernelsPass
    : loom::impl::LoomGpuNameKernelsPassBase<LoomGpuNameKernelsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    llvm::StringSet<> taken;
    // Kernels already outlined into the module keep their names.
    getOperation().walk([&](gpu::GPUModuleOp module) {
      if (module.getName() == kKernelModuleName)
        for (auto func : module.getOps<gpu::GPUFuncOp>())
          taken.insert(func.getName());
    });
    auto moduleRef = FlatSymbolRefAttr::get(ctx, kKernelModuleName);
    getOperation().walk([&](gpu::LaunchOp launch) {
      std::string base;
      if (FlatSymbolRefAttr given = launch.getFunctionAttr())
        base = given.getValue().str();
      else if (auto func = launch->getParentOfType<FunctionOpInterface>())
        base = (func.getName() + "_kernel").str();
      else
        base = "kernel";
      std::string name = base;
      for (int64_t n = 0; taken.contains(name); ++n)
        name = base + "_" + std::to_string(n);
      taken.insert(name);
      launch.setModuleAttr(moduleRef);
      launch.setFunctionAttr(FlatSymbolRefAttr::get(ctx, name));
    });
  }
};
} // namespace
