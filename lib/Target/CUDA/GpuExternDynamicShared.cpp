//===- GpuExternDynamicShared.cpp - loom-gpu-extern-dynamic-shared --------===//

#include "loom/Target/CUDA/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#define DEBUG_TYPE "loom-gpu-extern-dynamic-shared"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMGPUEXTERNDYNAMICSHAREDPASS
#include "loom/Target/CUDA/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct LoomGpuExternDynamicSharedPass
    : loom::impl::LoomGpuExternDynamicSharedPassBase<
          LoomGpuExternDynamicSharedPass> {
  void runOnOperation() override {
    for (auto global : getOperation().getOps<LLVM::GlobalOp>()) {
      auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
      if (global.getAddrSpace() ==
              static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared) &&
          array && array.getNumElements() == 0)
        global.setLinkage(LLVM::Linkage::External);
    }
  }
};
} // namespace
