//===- Manifest.cpp - the loom_manifest() JSON ----------------------------===//

#include "loom/Compiler/Compile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/JSON.h"

using namespace mlir;

static FailureOr<llvm::json::Array> describe(func::FuncOp func,
                                             TypeRange types, StringRef role) {
  llvm::json::Array list;
  for (auto [i, type] : llvm::enumerate(types)) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape() || !tensor.getElementType().isF32())
      return func.emitError() << "public function @" << func.getSymName()
                              << ": " << role << " #" << i << " has type "
                              << type
                              << "; the Loom ABI takes statically shaped f32 "
                                 "tensors only";
    llvm::json::Array shape;
    for (int64_t d : tensor.getShape())
      shape.push_back(d);
    list.push_back(llvm::json::Object{{"shape", std::move(shape)},
                                      {"dtype", "f32"}});
  }
  return list;
}

FailureOr<std::string> mlir::loom::buildManifest(ModuleOp module) {
  // Only the top level is compiled; a function in a nested module would be
  // left out of the library without a word.
  for (auto nested : module.getOps<ModuleOp>())
    return nested.emitError()
           << "nested modules are not compiled: loom-compile compiles the "
              "functions of the top-level module";
  llvm::json::Array functions;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    FunctionType type = func.getFunctionType();
    FailureOr<llvm::json::Array> inputs =
        describe(func, type.getInputs(), "argument");
    FailureOr<llvm::json::Array> outputs =
        describe(func, type.getResults(), "result");
    if (failed(inputs) || failed(outputs))
      return failure();
    functions.push_back(llvm::json::Object{{"name", func.getSymName()},
                                           {"inputs", std::move(*inputs)},
                                           {"outputs", std::move(*outputs)}});
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(llvm::json::Object{{"functions", std::move(functions)}});
  return text;
}
