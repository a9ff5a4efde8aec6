//===- InputLimits.h - what loom-opt and loom-compile refuse to read ---*- C++ -*-===//
//
// MLIR's parser (and many walks over the IR) recurse once per nesting level,
// so a few thousand nested `module {` or `[` overflow an 8 MiB stack. Both
// tools run on a thread with a large stack and refuse, with a located
// error, input nested deeper than kMaxNestingDepth. A diagnostic shows its
// source line cut to a window around the column when the line is long (a
// model's constants printed on one line of megabytes).
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_COMPILER_INPUTLIMITS_H
#define LOOM_COMPILER_INPUTLIMITS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace llvm {
class MemoryBuffer;
class SourceMgr;
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

/// Source lines longer than this are shown as a window of about this many
/// characters around the diagnostic's column.
inline constexpr unsigned kMaxShownLineChars = 160;

/// A message at such a line is cut after this many characters (it may
/// quote the line: an unknown op's name).
inline constexpr unsigned kMaxMessageChars = 1024;

/// Prints `file:line:col: <kind>: message`, then the source line (`lineText`,
/// without its newline) cut to kMaxShownLineChars around column `col`
/// (1-based) and a caret under the column.
void printSourceMessage(llvm::raw_ostream &os, StringRef file,
                        StringRef lineText, unsigned line, unsigned col,
                        StringRef kind, const Twine &message);

/// Prints, for a diagnostic at a line of `sourceMgr`'s main buffer longer
/// than kMaxShownLineChars, the message and that line's window (and so for
/// its notes); leaves other diagnostics to the handlers registered before.
/// A 20 MB line used to be printed whole, once per diagnostic and note.
class LongLineDiagnosticHandler : public ScopedDiagnosticHandler {
public:
  LongLineDiagnosticHandler(llvm::SourceMgr &sourceMgr, MLIRContext *context);
};

/// Runs `body` on a thread with a kToolStackBytes stack and returns its
/// result.
int runWithLargeStack(llvm::function_ref<int()> body);

} // namespace mlir::loom

#endif // LOOM_COMPILER_INPUTLIMITS_H
