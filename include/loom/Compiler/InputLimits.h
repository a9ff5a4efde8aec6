//===- InputLimits.h - what loom-opt and loom-compile refuse to read ---*- C++ -*-===//
//
// MLIR's parser (and many walks over the IR) recurse once per nesting level,
// so a few thousand nested `module {` or `[` overflow an 8 MiB stack. Both
// tools run on a thread with a large stack and refuse, with a located
// error, input nested deeper than kMaxNestingDepth.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_COMPILER_INPUTLIMITS_H
#define LOOM_COMPILER_INPUTLIMITS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace llvm {
class MemoryBuffer;
class raw_ostream;
} // namespace llvm

namespace mlir::loom {

/// Brackets, braces, parentheses and angle brackets nested deeper than this
/// are an error. Real modules nest a few dozen levels.
inline constexpr int kMaxNestingDepth = 1000;

/// The stack of the thread the tools work on.
inline constexpr unsigned kToolStackBytes = 512u << 20;

/// Scans `buffer` (skipping string literals and comments) and reports
/// `file:line:col: error: ...` on `os` at the first opening bracket deeper
/// than kMaxNestingDepth.
LogicalResult checkNestingDepth(const llvm::MemoryBuffer &buffer,
                                llvm::raw_ostream &os);

/// Runs `body` on a thread with a kToolStackBytes stack and returns its
/// result.
int runWithLargeStack(llvm::function_ref<int()> body);

} // namespace mlir::loom

#endif // LOOM_COMPILER_INPUTLIMITS_H
