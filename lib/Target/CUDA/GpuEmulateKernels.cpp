//===- GpuEmulateKernels.cpp - the loom-gpu-emulate-kernels pass ----------===//
//
// Kernels as host functions for runtime/loom_cuda_emulator.c: see the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "loom/Target/CUDA/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "loom-gpu-emulate-kernels"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMGPUEMULATEKERNELSPASS
#include "loom/Target/CUDA/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Bytes of loom_emu_shared_memory (runtime/loom_cuda_emulator.c).
constexpr int64_t kEmulatorSharedBytes = 256 << 10;

Type withoutMemorySpace(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !memref.getMemorySpace())
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(),
                         memref.getLayout());
}

func::FuncOp declare(OpBuilder &b, gpu::GPUModuleOp module, StringRef name,
                     TypeRange args, TypeRange results) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name,
                                b.getFunctionType(args, results));
  f.setPrivate();
  return f;
}

LogicalResult emulate(gpu::GPUModuleOp module, gpu::GPUFuncOp kernel) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  if (kernel.getNumWorkgroupAttributions() ||
      kernel.getNumPrivateAttributions())
    return kernel.emitError(
        "the CUDA emulator runs kernels without memory attributions only");
  Type i32 = b.getI32Type(), f32 = b.getF32Type(), index = b.getIndexType();
  StringRef idNames[] = {"loom_emu_block_id", "loom_emu_thread_id",
                         "loom_emu_block_dim", "loom_emu_grid_dim"};
  for (StringRef name : idNames)
    declare(b, module, name, {i32}, {index});
  declare(b, module, "loom_emu_barrier", {}, {});
  declare(b, module, "loom_emu_shuffle_xor_f32", {f32, i32, i32}, {f32});
  auto sharedType = MemRefType::get({kEmulatorSharedBytes}, b.getI8Type());
  if (!module.lookupSymbol("loom_emu_shared_memory")) {
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(b, module.getLoc(), "loom_emu_shared_memory",
                             b.getStringAttr("public"), sharedType,
                             /*initial_value=*/Attribute(), /*constant=*/false,
                             /*alignment=*/b.getI64IntegerAttr(64));
  }

  // The function: same name and arguments, the body moved over.
  b.setInsertionPoint(kernel);
  auto func = func::FuncOp::create(b, kernel.getLoc(), kernel.getName(),
                                   kernel.getFunctionType());
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.getBody().takeBody(kernel.getBody());
  kernel.erase();

  // Every value in the workgroup address space moves to the default one.
  func.walk([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          arg.setType(withoutMemorySpace(arg.getType()));
    for (OpResult result : op->getResults())
      result.setType(withoutMemorySpace(result.getType()));
  });

  SmallVector<Operation *> gpuOps;
  func.walk([&](Operation *op) {
    if (isa<gpu::GPUDialect>(op->getDialect()))
      gpuOps.push_back(op);
  });
  for (Operation *op : gpuOps) {
    b.setInsertionPoint(op);
    Location loc = op->getLoc();
    auto dim = [&](gpu::Dimension d) {
      return arith::ConstantIntOp::create(b, loc, static_cast<int64_t>(d), 32)
          .getResult();
    };
    auto call = [&](StringRef name, ValueRange args, TypeRange results) {
      return func::CallOp::create(b, loc, name, results, args);
    };
    Value replacement;
    if (auto id = dyn_cast<gpu::BlockIdOp>(op))
      replacement = call(idNames[0], dim(id.getDimension()), index).getResult(0);
    else if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
      replacement = call(idNames[1], dim(id.getDimension()), index).getResult(0);
    else if (auto id = dyn_cast<gpu::BlockDimOp>(op))
      replacement = call(idNames[2], dim(id.getDimension()), index).getResult(0);
    else if (auto id = dyn_cast<gpu::GridDimOp>(op))
      replacement = call(idNames[3], dim(id.getDimension()), index).getResult(0);
    else if (isa<gpu::BarrierOp>(op))
      call("loom_emu_barrier", {}, {});
    else if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
      if (shuffle.getMode() != gpu::ShuffleMode::XOR ||
          !shuffle.getValue().getType().isF32())
        return op->emitError("the CUDA emulator shuffles f32 with xor only");
      Value r = call("loom_emu_shuffle_xor_f32",
                     {shuffle.getValue(), shuffle.getOffset(),
                      shuffle.getWidth()},
                     f32)
                    .getResult(0);
      Value valid = arith::ConstantIntOp::create(b, loc, 1, 1);
      op->replaceAllUsesWith(ValueRange{r, valid});
      op->erase();
      continue;
    } else if (auto shared = dyn_cast<gpu::DynamicSharedMemoryOp>(op)) {
      Value global = memref::GetGlobalOp::create(b, loc, sharedType,
                                                 "loom_emu_shared_memory");
      replacement =
          memref::CastOp::create(b, loc, shared.getType(), global).getResult();
    } else if (isa<gpu::ReturnOp>(op)) {
      func::ReturnOp::create(b, loc);
    } else {
      return op->emitError() << "the CUDA emulator cannot run '"
                             << op->getName() << "'";
    }
    if (replacement)
      op->getResult(0).replaceAllUsesWith(replacement);
    op->erase();
  }
  return success();
}

struct LoomGpuEmulateKernelsPass
    : loom::impl::LoomGpuEmulateKernelsPassBase<LoomGpuEmulateKernelsPass> {
  void runOnOperation() override {
    for (auto module : getOperation().getOps<gpu::GPUModuleOp>()) {
      // Attached targets would serialize the module; it is host code now.
      module.removeTargetsAttr();
      SmallVector<gpu::GPUFuncOp> kernels(module.getOps<gpu::GPUFuncOp>());
      for (gpu::GPUFuncOp kernel : kernels)
        if (failed(emulate(module, kernel)))
          return signalPassFailure();
      // Math functions without an LLVM intrinsic (erf, ...) call libm, as
      // libdevice provides them on the GPU.
      RewritePatternSet patterns(&getContext());
      populateMathToLibmConversionPatterns(patterns);
      if (failed(applyPatternsGreedily(module, std::move(patterns))))
        return signalPassFailure();
    }
  }
};

} // namespace
