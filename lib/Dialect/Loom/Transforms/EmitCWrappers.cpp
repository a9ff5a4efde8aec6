//===- EmitCWrappers.cpp - the loom-emit-c-wrappers pass ------------------===//
//
// The ABI's `_mlir_ciface_f` for public functions, built at the func level
// so that each memref's element type is still known: the wrapper moves the
// descriptor's offset into its aligned pointer, which is all the body reads.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#define DEBUG_TYPE "loom-emit-c-wrappers"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMEMITCWRAPPERSPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

constexpr StringLiteral kCInterfaceAttr = "llvm.emit_c_interface";

bool isScalar(Type type) { return type.isIntOrIndexOrFloat(); }

/// Whether this pass writes the wrapper of `func`; the others keep
/// upstream's.
bool wrapsHere(func::FuncOp func, const LLVMTypeConverter &converter) {
  if (!func.isPublic() || func.isExternal() ||
      !func->hasAttr(kCInterfaceAttr) || func.getNumResults() > 1 ||
      !llvm::all_of(func.getResultTypes(), isScalar))
    return false;
  bool anyMemRef = false;
  for (Type type : func.getArgumentTypes()) {
    if (isScalar(type))
      continue;
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref || !converter.convertType(memref) ||
        !converter.convertType(memref.getElementType()))
      return false;
    anyMemRef = true;
  }
  return anyMemRef;
}

void emitWrapper(OpBuilder &b, func::FuncOp func,
                 const LLVMTypeConverter &converter) {
  Location loc = func.getLoc();
  MLIRContext *ctx = func.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  SmallVector<Type> argTypes;
  for (Type type : func.getArgumentTypes())
    argTypes.push_back(isa<MemRefType>(type) ? Type(ptr) : type);
  b.setInsertionPointAfter(func);
  auto wrapper = func::FuncOp::create(
      b, loc, ("_mlir_ciface_" + func.getSymName()).str(),
      FunctionType::get(ctx, argTypes, func.getResultTypes()));
  Block *entry = wrapper.addEntryBlock();
  b.setInsertionPointToStart(entry);

  SmallVector<Value> operands;
  for (auto [type, arg] :
       llvm::zip_equal(func.getArgumentTypes(), entry->getArguments())) {
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref) {
      operands.push_back(arg);
      continue;
    }
    Type structType = converter.convertType(memref);
    Value loaded = LLVM::LoadOp::create(b, loc, structType, arg);
    if (memref.getLayout().isIdentity()) {
      MemRefDescriptor desc(loaded);
      Value aligned = LLVM::GEPOp::create(
          b, loc, desc.getElementPtrType(),
          converter.convertType(memref.getElementType()),
          desc.alignedPtr(b, loc), ValueRange{desc.offset(b, loc)});
      desc.setAlignedPtr(b, loc, aligned);
      desc.setConstantOffset(b, loc, 0);
      loaded = desc;
    }
    operands.push_back(
        UnrealizedConversionCastOp::create(b, loc, memref, loaded).getResult(0));
  }
  auto call = func::CallOp::create(b, loc, func, operands);
  func::ReturnOp::create(b, loc, call.getResults());
}

struct LoomEmitCWrappersPass
    : loom::impl::LoomEmitCWrappersPassBase<LoomEmitCWrappersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    LLVMTypeConverter converter(&getContext());
    SymbolTable symbols(module);
    OpBuilder b(&getContext());
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (!wrapsHere(func, converter) ||
          symbols.lookup(("_mlir_ciface_" + func.getSymName()).str()))
        continue;
      func->removeAttr(kCInterfaceAttr);
      emitWrapper(b, func, converter);
    }
  }
};

} // namespace
