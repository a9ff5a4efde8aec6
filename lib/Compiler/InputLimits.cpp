//===- InputLimits.cpp - nesting depth and the tools' stack ---------------===//

#include "loom/Compiler/InputLimits.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/thread.h"

using namespace mlir;

LogicalResult mlir::loom::checkNestingDepth(const llvm::MemoryBuffer &buffer,
                                            llvm::raw_ostream &os) {
  StringRef text = buffer.getBuffer();
  int depth = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '"') {
      // A string literal ends at an unescaped quote (or the line's end,
      // where the lexer reports it).
      for (++i; i < e && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      continue;
    }
    if (c == '/' && i + 1 < e && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == StringRef::npos)
        break;
      continue;
    }
    if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth <= kMaxNestingDepth)
        continue;
      size_t lineStart = text.rfind('\n', i);
      lineStart = lineStart == StringRef::npos ? 0 : lineStart + 1;
      size_t lineEnd = std::min(text.find('\n', i), text.size());
      unsigned line = 1 + text.take_front(lineStart).count('\n');
      printSourceMessage(
          os, buffer.getBufferIdentifier(),
          text.slice(lineStart, lineEnd), line, i - lineStart + 1, "error",
          "nesting deeper than " + Twine(kMaxNestingDepth) +
              " levels of brackets, braces, parentheses or angle brackets; "
              "Loom refuses such input rather than overflow its stack");
      return failure();
    }
    // `->` is an arrow, not a closing angle bracket.
    bool closes = c == ')' || c == ']' || c == '}' ||
                  (c == '>' && (i == 0 || text[i - 1] != '-'));
    if (closes && depth > 0)
      --depth;
  }
  return success();
}

void mlir::loom::printSourceMessage(llvm::raw_ostream &os, StringRef file,
                                    StringRef lineText, unsigned line,
                                    unsigned col, StringRef kind,
                                    const Twine &message) {
  os << file << ":" << line << ":" << col << ": " << kind << ": " << message
     << "\n";
  // The window: half before the column, half after, within the line.
  size_t at = std::min<size_t>(col ? col - 1 : 0, lineText.size());
  size_t half = kMaxShownLineChars / 2;
  size_t begin = lineText.size() <= kMaxShownLineChars || at <= half
                     ? 0
                     : std::min(at - half,
                                lineText.size() - kMaxShownLineChars);
  size_t end = std::min(lineText.size(), begin + kMaxShownLineChars);
  StringRef before = begin ? "..." : "";
  StringRef after = end < lineText.size() ? "..." : "";
  os << before << lineText.slice(begin, end) << after << "\n";
  os.indent(before.size() + at - begin) << "^\n";
}

namespace {

StringRef severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

/// The line of `sourceMgr`'s main buffer that `loc` points at, when `loc`
/// (or a location inside it) is a file location in that buffer.
std::optional<std::pair<FileLineColLoc, StringRef>>
lineOf(llvm::SourceMgr &sourceMgr, Location loc) {
  auto file = loc->findInstanceOf<FileLineColLoc>();
  if (!file || file.getLine() == 0 || sourceMgr.getNumBuffers() == 0)
    return std::nullopt;
  unsigned id = sourceMgr.getMainFileID();
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(id);
  if (file.getFilename().getValue() != buffer->getBufferIdentifier())
    return std::nullopt;
  llvm::SMLoc start = sourceMgr.FindLocForLineAndColumn(id, file.getLine(), 1);
  if (!start.isValid())
    return std::nullopt;
  StringRef rest(start.getPointer(),
                 buffer->getBufferEnd() - start.getPointer());
  return std::make_pair(file, rest.take_until([](char c) { return c == '\n'; }));
}

} // namespace

mlir::loom::LongLineDiagnosticHandler::LongLineDiagnosticHandler(
    llvm::SourceMgr &sourceMgr, MLIRContext *context)
    : ScopedDiagnosticHandler(context) {
  setHandler([&sourceMgr](Diagnostic &d) -> LogicalResult {
    auto at = lineOf(sourceMgr, d.getLocation());
    if (!at || at->second.size() <= kMaxShownLineChars)
      return failure();
    auto print = [&](const Diagnostic &diag) {
      auto where = lineOf(sourceMgr, diag.getLocation());
      if (!where) {
        llvm::errs() << severityName(diag.getSeverity()) << ": " << diag.str()
                     << "\n";
        return;
      }
      // The message may quote the line (an unknown op's name).
      std::string message = diag.str();
      if (message.size() > kMaxMessageChars)
        message = message.substr(0, kMaxMessageChars) + "... (" +
                  std::to_string(message.size() - kMaxMessageChars) +
                  " more characters)";
      printSourceMessage(llvm::errs(), where->first.getFilename().getValue(),
                         where->second, where->first.getLine(),
                         where->first.getColumn(),
                         severityName(diag.getSeverity()), message);
    };
    print(d);
    for (const Diagnostic &note : d.getNotes())
      print(note);
    return success();
  });
}

int mlir::loom::runWithLargeStack(llvm::function_ref<int()> body) {
  int result = 1;
  llvm::thread worker(std::optional<unsigned>(kToolStackBytes),
                      [&] { result = body(); });
  worker.join();
  return result;
}
