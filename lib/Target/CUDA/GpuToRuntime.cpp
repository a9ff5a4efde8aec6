//===- GpuToRuntime.cpp - the loom-gpu-to-runtime pass --------------------===//
//
// The host side of a CUDA artifact, at the LLVM dialect level: the device
// code becomes constant globals, every kernel launch a call into Loom's
// CUDA runtime (runtime/loom_cuda.c, linked into every CUDA .so), and every
// C-interface wrapper is bracketed by loom_cuda_begin / loom_cuda_end.
//
//===----------------------------------------------------------------------===//

#include "loom/Target/CUDA/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#define DEBUG_TYPE "loom-gpu-to-runtime"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMGPUTORUNTIMEPASS
#include "loom/Target/CUDA/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Assembles `ptx` for `chip` with ptxas; the cubin, or a failure reported
/// on `loc`.
FailureOr<std::string> assemble(Location loc, StringRef ptxas,
                                StringRef options, StringRef chip,
                                StringRef ptx) {
  SmallString<128> ptxPath, cubinPath, logPath;
  if (llvm::sys::fs::createTemporaryFile("loom", "ptx", ptxPath) ||
      llvm::sys::fs::createTemporaryFile("loom", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("loom", "log", logPath))
    return emitError(loc) << "cannot create temporary files for ptxas";
  llvm::FileRemover removePtx(ptxPath), removeCubin(cubinPath),
      removeLog(logPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(ptxPath, ec);
    if (ec)
      return emitError(loc) << "cannot write '" << ptxPath << "'";
    out << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  SmallVector<StringRef> args{ptxas, arch};
  SmallVector<StringRef> extra;
  options.split(extra, ' ', -1, /*KeepEmpty=*/false);
  args.append(extra.begin(), extra.end());
  args.append({ptxPath, "-o", cubinPath});
  std::optional<StringRef> redirects[] = {std::nullopt, logPath, logPath};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0, 0,
                                     &error);
  if (rc != 0) {
    std::string log;
    if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
      log = (*buffer)->getBuffer().trim().str();
    return emitError(loc) << "ptxas failed on the generated PTX (exit " << rc
                          << ")" << (error.empty() ? "" : ": " + error)
                          << (log.empty() ? "" : "\n" + log);
  }
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false);
  if (!cubin)
    return emitError(loc) << "cannot read the cubin ptxas wrote";
  return (*cubin)->getBuffer().str();
}

/// An internal constant byte array (with a trailing NUL when `cString`).
LLVM::GlobalOp byteGlobal(OpBuilder &b, ModuleOp module, StringRef name,
                          StringRef bytes, bool cString) {
  std::string data = bytes.str();
  if (cString || data.empty())
    data.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), data.size());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  return LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true,
                                LLVM::Linkage::Internal, name,
                                b.getStringAttr(data), /*alignment=*/16);
}

LLVM::LLVMFuncOp declare(OpBuilder &b, ModuleOp module, StringRef name,
                         Type result, ArrayRef<Type> args) {
  if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return f;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  return LLVM::LLVMFuncOp::create(
      b, module.getLoc(), name, LLVM::LLVMFunctionType::get(result, args));
}

struct LoomGpuToRuntimePass
    : loom::impl::LoomGpuToRuntimePassBase<LoomGpuToRuntimePass> {
  using Base::Base;

  /// The PTX of the single gpu.binary (and its cubin when ptxas is set);
  /// erases the binary.
  LogicalResult serializedCode(ModuleOp module, std::string &ptx,
                               std::string &cubin) {
    SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
    if (binaries.size() > 1)
      return module.emitError()
             << "loom-gpu-to-runtime expects one gpu.binary (run "
                "loom-gpu-name-kernels before outlining), found "
             << binaries.size();
    if (binaries.empty())
      return success();
    gpu::BinaryOp binary = binaries.front();
    auto objects = binary.getObjects();
    auto object = objects.size() == 1 ? dyn_cast<gpu::ObjectAttr>(objects[0])
                                      : gpu::ObjectAttr();
    auto nvvm = object ? dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget())
                       : NVVM::NVVMTargetAttr();
    if (!nvvm || object.getFormat() != gpu::CompilationTarget::Assembly)
      return binary.emitError()
             << "loom-gpu-to-runtime expects one NVVM object in PTX form "
                "(gpu-module-to-binary{format=isa})";
    ptx = object.getObject().str();
    if (!ptxas.empty()) {
      FailureOr<std::string> assembled =
          assemble(binary.getLoc(), ptxas, ptxasOptions, nvvm.getChip(), ptx);
      if (failed(assembled))
        return failure();
      cubin = std::move(*assembled);
    }
    binary.erase();
    return success();
  }

  /// Moves the kernels that loom-gpu-emulate-kernels made host functions
  /// (and lowered) into the host module, each with a trampoline that loads
  /// its arguments from a cuLaunchKernel-style array of pointers.
  LogicalResult
  moveEmulatedKernels(OpBuilder &b, ModuleOp module,
                      llvm::StringMap<LLVM::LLVMFuncOp> &trampolines) {
    MLIRContext *ctx = module.getContext();
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    SmallVector<gpu::GPUModuleOp> kernelModules(
        module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp kernels : kernelModules) {
      for (Operation &op :
           llvm::make_early_inc_range(kernels.getBody()->getOperations())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (!symbol)
          return op.emitError("loom-gpu-to-runtime{emulate}: unexpected op in "
                              "the kernel module");
        auto func = dyn_cast<LLVM::LLVMFuncOp>(op);
        bool kernel =
            func && func->hasAttr(gpu::GPUDialect::getKernelFuncAttrName());
        if (!kernel) {
          // Runtime declarations and the shared-memory global, once.
          if (module.lookupSymbol(symbol.getName()))
            op.erase();
          else
            op.moveBefore(module.getBody(), module.getBody()->end());
          continue;
        }
        std::string name = func.getName().str();
        func.setName("loom_emu_k_" + name);
        func->removeAttr(gpu::GPUDialect::getKernelFuncAttrName());
        func.setLinkage(LLVM::Linkage::Internal);
        op.moveBefore(module.getBody(), module.getBody()->end());
        // void loom_emu_t_<name>(void **params)
        b.setInsertionPointToEnd(module.getBody());
        Location loc = func.getLoc();
        auto trampoline = LLVM::LLVMFuncOp::create(
            b, loc, "loom_emu_t_" + name,
            LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr}),
            LLVM::Linkage::Internal);
        Block *entry = trampoline.addEntryBlock(b);
        b.setInsertionPointToStart(entry);
        SmallVector<Value> args;
        for (auto [i, type] :
             llvm::enumerate(func.getFunctionType().getParams())) {
          Value at = LLVM::GEPOp::create(b, loc, ptr, ptr, entry->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{int32_t(i)});
          Value slot = LLVM::LoadOp::create(b, loc, ptr, at);
          args.push_back(LLVM::LoadOp::create(b, loc, type, slot));
        }
        LLVM::CallOp::create(b, loc, func, args);
        LLVM::ReturnOp::create(b, loc, ValueRange{});
        trampolines[name] = trampoline;
      }
      kernels.erase();
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    Type i32 = b.getI32Type(), i64 = b.getI64Type();
    Type voidType = LLVM::LLVMVoidType::get(ctx);

    // The device code.
    std::string ptx, cubin;
    llvm::StringMap<LLVM::LLVMFuncOp> trampolines;
    if (emulate) {
      if (failed(moveEmulatedKernels(b, module, trampolines)))
        return signalPassFailure();
    } else if (failed(serializedCode(module, ptx, cubin))) {
      return signalPassFailure();
    }
    LLVM::GlobalOp ptxGlobal =
        byteGlobal(b, module, "loom_cuda_ptx", ptx, /*cString=*/true);
    LLVM::GlobalOp cubinGlobal =
        byteGlobal(b, module, "loom_cuda_cubin", cubin, /*cString=*/false);

    auto launchFn = declare(b, module, "loom_cuda_launch", voidType,
                            {ptr, i64, i64, i64, i64, i64, i64, i32, ptr, i32});
    auto emulateFn =
        declare(b, module, "loom_emu_launch", voidType,
                {ptr, ptr, i64, i64, i64, i64, i64, i64, i32, ptr, i32});
    auto beginFn =
        declare(b, module, "loom_cuda_begin", i32, {ptr, ptr, i64});
    auto endFn = declare(b, module, "loom_cuda_end", voidType, {});
    auto checkFn = declare(b, module, "loom_cuda_check_argument", voidType,
                           {i32, ptr});

    // Launches.
    llvm::StringMap<LLVM::GlobalOp> names;
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp op) { launches.push_back(op); });
    for (gpu::LaunchFuncOp op : launches) {
      auto func = op->getParentOfType<LLVM::LLVMFuncOp>();
      if (!func) {
        op.emitError() << "loom-gpu-to-runtime expects launches in LLVM "
                          "functions (run gpu-to-llvm first)";
        return signalPassFailure();
      }
      StringRef kernel = op.getKernelName().getValue();
      LLVM::GlobalOp &name = names[kernel];
      if (!name)
        name = byteGlobal(b, module, ("loom_kernel_name_" + kernel).str(),
                          kernel, /*cString=*/true);
      Location loc = op.getLoc();
      // Argument slots live in the entry block so that a launch in a loop
      // does not grow the stack.
      b.setInsertionPointToStart(&func.getBody().front());
      ValueRange args = op.getKernelOperands();
      Value one = LLVM::ConstantOp::create(b, loc, i64, 1);
      Value count = LLVM::ConstantOp::create(
          b, loc, i64, std::max<int64_t>(args.size(), 1));
      Value params = LLVM::AllocaOp::create(b, loc, ptr, ptr, count);
      SmallVector<Value> slots;
      for (Value arg : args)
        slots.push_back(
            LLVM::AllocaOp::create(b, loc, ptr, arg.getType(), one));
      b.setInsertionPoint(op);
      for (auto [i, arg] : llvm::enumerate(args)) {
        LLVM::StoreOp::create(b, loc, arg, slots[i]);
        Value at = LLVM::GEPOp::create(b, loc, ptr, ptr, params,
                                       ArrayRef<LLVM::GEPArg>{int32_t(i)});
        LLVM::StoreOp::create(b, loc, slots[i], at);
      }
      auto asI64 = [&](Value v) -> Value {
        if (v.getType() == i64)
          return v;
        return LLVM::ZExtOp::create(b, loc, i64, v);
      };
      Value smem = op.getDynamicSharedMemorySize();
      if (!smem)
        smem = LLVM::ConstantOp::create(b, loc, i32, 0);
      Value nameAddr = LLVM::AddressOfOp::create(b, loc, name);
      SmallVector<Value> callArgs{nameAddr,
                                  asI64(op.getGridSizeX()),
                                  asI64(op.getGridSizeY()),
                                  asI64(op.getGridSizeZ()),
                                  asI64(op.getBlockSizeX()),
                                  asI64(op.getBlockSizeY()),
                                  asI64(op.getBlockSizeZ()),
                                  smem,
                                  params,
                                  LLVM::ConstantOp::create(
                                      b, loc, i32, int64_t(args.size()))};
      if (emulate) {
        LLVM::LLVMFuncOp trampoline = trampolines.lookup(kernel);
        if (!trampoline) {
          op.emitError() << "no emulated kernel @" << kernel;
          return signalPassFailure();
        }
        callArgs.insert(callArgs.begin(),
                        LLVM::AddressOfOp::create(b, loc, trampoline));
        LLVM::CallOp::create(b, loc, emulateFn, callArgs);
      } else {
        LLVM::CallOp::create(b, loc, launchFn, callArgs);
      }
      op.erase();
    }

    // Unused runtime entry points would only clutter the module.
    for (LLVM::LLVMFuncOp f : {launchFn, emulateFn})
      if (SymbolTable::symbolKnownUseEmpty(f, module))
        f.erase();

    // No GPU op is left for the LLVM IR translation to see.
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());

    // The C-interface wrappers: begin, the call when it may proceed, end.
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      if (func.isExternal() || !func.getName().starts_with("_mlir_ciface_"))
        continue;
      if (!isa<LLVM::LLVMVoidType>(func.getFunctionType().getReturnType())) {
        func.emitError() << "loom-gpu-to-runtime expects C-interface wrappers "
                            "that return nothing (results as out-params)";
        return signalPassFailure();
      }
      Location loc = func.getLoc();
      Block *body = &func.getBody().front();
      SmallVector<Type> argTypes(body->getArgumentTypes());
      SmallVector<Location> argLocs(argTypes.size(), loc);
      Block *entry = b.createBlock(&func.getBody(), func.getBody().begin(),
                                   argTypes, argLocs);
      for (auto [from, to] :
           llvm::zip(body->getArguments(), entry->getArguments()))
        from.replaceAllUsesWith(to);
      body->eraseArguments(0, body->getNumArguments());
      SmallVector<LLVM::ReturnOp> returns;
      func.walk([&](LLVM::ReturnOp r) { returns.push_back(r); });
      for (LLVM::ReturnOp r : returns) {
        b.setInsertionPoint(r);
        LLVM::CallOp::create(b, loc, endFn, ValueRange{});
      }
      // Every descriptor's aligned pointer (at byte 8) must be GPU memory.
      b.setInsertionPointToStart(body);
      for (auto [i, arg] : llvm::enumerate(entry->getArguments())) {
        if (!isa<LLVM::LLVMPointerType>(arg.getType()))
          continue;
        Value field = LLVM::GEPOp::create(b, loc, ptr, b.getI8Type(), arg,
                                          ArrayRef<LLVM::GEPArg>{8});
        Value data = LLVM::LoadOp::create(b, loc, ptr, field);
        LLVM::CallOp::create(
            b, loc, checkFn,
            ValueRange{LLVM::ConstantOp::create(b, loc, i32, int64_t(i)), data});
      }
      Block *skip = b.createBlock(&func.getBody(), func.getBody().end());
      LLVM::ReturnOp::create(b, loc, ValueRange{});
      b.setInsertionPointToEnd(entry);
      Value ptxAddr = LLVM::AddressOfOp::create(b, loc, ptxGlobal);
      Value cubinAddr = LLVM::AddressOfOp::create(b, loc, cubinGlobal);
      Value cubinSize =
          LLVM::ConstantOp::create(b, loc, i64, int64_t(cubin.size()));
      Value ok = LLVM::CallOp::create(b, loc, beginFn,
                                      ValueRange{ptxAddr, cubinAddr, cubinSize})
                     .getResult();
      Value go = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, ok,
                                      LLVM::ConstantOp::create(b, loc, i32, 0));
      LLVM::CondBrOp::create(b, loc, go, body, skip);
    }
  }
};

} // namespace
