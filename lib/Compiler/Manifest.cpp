//===- Manifest.cpp - the loom_manifest() JSON ----------------------------===//

#include "loom/Compiler/Compile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/JSON.h"

using namespace mlir;

static constexpr llvm::StringLiteral kLoomNameAttr = "loom.name";

/// The `loom.name` of argument or result `i`: the manifest's `name` of that
/// input or output (SPEC section 2); empty where the module sets none.
static FailureOr<StringRef> nameOf(func::FuncOp func, unsigned i,
                                   bool isResult) {
  Attribute attr = isResult ? func.getResultAttr(i, kLoomNameAttr)
                            : func.getArgAttr(i, kLoomNameAttr);
  if (!attr)
    return StringRef();
  auto name = dyn_cast<StringAttr>(attr);
  if (!name || name.getValue().empty())
    return func.emitError() << "public function @" << func.getSymName()
                            << ": " << kLoomNameAttr << " of "
                            << (isResult ? "result" : "argument") << " #" << i
                            << " must be a non-empty string, got " << attr;
  return name.getValue();
}

static FailureOr<llvm::json::Array> describe(func::FuncOp func,
                                             TypeRange types, StringRef role) {
  llvm::json::Array list;
  bool isResult = role == "result";
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
    FailureOr<StringRef> name = nameOf(func, i, isResult);
    if (failed(name))
      return failure();
    llvm::json::Object entry{{"shape", std::move(shape)}, {"dtype", "f32"}};
    if (!name->empty())
      entry["name"] = name->str();
    list.push_back(std::move(entry));
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
  // A library is self-contained: a function declared without a body would
  // stay an undefined symbol, and the library would fail to load.
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isExternal())
      return func.emitError()
             << "function @" << func.getSymName()
             << " has no body: a Loom library cannot call functions defined "
                "outside the module (the shared object would not load)";
  llvm::json::Array functions;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic())
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
  // The names now live in the manifest; the lowering has no use for them
  // (and LLVM's translation would warn about an unknown argument attribute).
  for (auto func : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      func.removeArgAttr(i, kLoomNameAttr);
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      func.removeResultAttr(i, StringAttr::get(func.getContext(), kLoomNameAttr));
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(llvm::json::Object{{"functions", std::move(functions)}});
  return text;
}
