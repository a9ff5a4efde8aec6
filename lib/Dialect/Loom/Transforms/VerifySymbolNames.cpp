//===- VerifySymbolNames.cpp - the loom-verify-symbol-names pass ----------===//
//
// The names below are what a compiled library defines or imports besides the
// module's own functions: `nm -D` of artifacts of every op (the runtime's
// exports, libc's allocation and memory functions, sysconf, the OpenMP entry
// points) plus what LLVM may call for math intrinsics and what the C runtime
// and the linker put into every shared object. test/Integration/test_abi.py
// checks that every symbol of real artifacts is covered.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"

#define DEBUG_TYPE "loom-verify-symbol-names"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMVERIFYSYMBOLNAMESPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;

namespace {

struct ReservedPrefix {
  StringRef prefix;
  StringRef owner;
};

constexpr ReservedPrefix kReservedPrefixes[] = {
    {"loom_", "Loom's runtime"},
    {"_mlir_", "the C-interface wrappers"},
    {"__", "C and its runtimes"},
    {"omp_", "the OpenMP runtime"},
    {"kmp_", "the OpenMP runtime"},
    {"ompt_", "the OpenMP runtime"},
};

/// C runtime functions the lowering and LLVM call, and symbols the C
/// runtime's startup files and the linker define in every shared object.
constexpr StringLiteral kCRuntimeNames[] = {
    "malloc",  "free",    "calloc",  "realloc", "aligned_alloc",
    "posix_memalign", "memalign", "memcpy", "memmove", "memset",
    "memcmp",  "bcmp",    "sysconf", "abort",   "exit",
    "atexit",  "_init",   "_fini",   "_end",    "_edata",
    "_etext",  "memrefCopy",
    // runtime/loom_cuda.c and loom_cuda_emulator.c (--target=cuda).
    "dlopen",  "dlsym",   "dlerror", "pthread_once", "pthread_mutex_lock",
    "pthread_mutex_unlock", "snprintf", "vsnprintf", "getcontext",
    "makecontext", "swapcontext",
};

/// Math library functions (each also with an `f` and an `l` suffix) that
/// LLVM may call for math intrinsics.
constexpr StringLiteral kMathNames[] = {
    "exp",   "exp2",   "exp10",  "expm1",     "log",       "log2",
    "log10", "log1p",  "pow",    "sqrt",      "cbrt",      "sin",
    "cos",   "tan",    "asin",   "acos",      "atan",      "atan2",
    "sinh",  "cosh",   "tanh",   "asinh",     "acosh",     "atanh",
    "fma",   "fabs",   "floor",  "ceil",      "trunc",     "round",
    "roundeven", "rint", "nearbyint", "lround", "llround", "lrint",
    "llrint", "fmin",  "fmax",   "fminimum",  "fmaximum",  "fminimum_num",
    "fmaximum_num", "copysign", "ldexp", "frexp", "modf",   "sincos",
    "erf",   "erfc",   "hypot",  "fmod",      "remainder",
};

const llvm::StringSet<> &reservedNames() {
  static const llvm::StringSet<> names = [] {
    llvm::StringSet<> set;
    for (StringRef name : kCRuntimeNames)
      set.insert(name);
    for (StringRef name : kMathNames)
      for (StringRef suffix : {"", "f", "l"})
        set.insert((name + suffix).str());
    return set;
  }();
  return names;
}

bool isCIdentifier(StringRef name) {
  if (name.empty() || llvm::isDigit(name.front()))
    return false;
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// Why `name` may not be used, or an empty string.
std::string reservation(StringRef name) {
  for (const ReservedPrefix &reserved : kReservedPrefixes)
    if (name.starts_with(reserved.prefix))
      return ("names starting with '" + reserved.prefix + "' are reserved for " +
              reserved.owner)
          .str();
  if (name.size() > 1 && name[0] == '_' && llvm::isUpper(name[1]))
    return "names starting with '_' and an upper-case letter are reserved "
           "by C and its runtimes";
  if (reservedNames().contains(name))
    return "the compiled library imports or defines a C or math runtime "
           "symbol of that name";
  return "";
}

struct LoomVerifySymbolNamesPass
    : loom::impl::LoomVerifySymbolNamesPassBase<LoomVerifySymbolNamesPass> {
  void runOnOperation() override {
    bool ok = true;
    getOperation()->walk([&](SymbolOpInterface symbol) {
      // The module being compiled may have a name; it is no symbol of the
      // library.
      if (symbol.getOperation() == getOperation().getOperation())
        return;
      auto nameAttr = symbol->getAttrOfType<StringAttr>(
          SymbolTable::getSymbolAttrName());
      if (!nameAttr)
        return;
      StringRef name = nameAttr.getValue();
      std::string why = reservation(name);
      if (!why.empty()) {
        symbol->emitError() << "symbol name '" << name << "' is reserved: "
                            << why;
        ok = false;
        return;
      }
      auto func = dyn_cast<FunctionOpInterface>(symbol.getOperation());
      if (func && symbol.isPublic() && !func.isExternal() &&
          !isCIdentifier(name)) {
        symbol->emitError() << "public function name '" << name
                            << "' is not a C identifier "
                               "([A-Za-z_][A-Za-z0-9_]*); it is called from "
                               "C as _mlir_ciface_"
                            << name;
        ok = false;
      }
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
