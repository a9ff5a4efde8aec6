//===- InputLimits.cpp - nesting depth and the tools' stack ---------------===//

#include "loom/Compiler/InputLimits.h"

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
      llvm::SourceMgr sourceMgr;
      sourceMgr.AddNewSourceBuffer(
          llvm::MemoryBuffer::getMemBuffer(buffer.getMemBufferRef(),
                                           /*RequiresNullTerminator=*/false),
          llvm::SMLoc());
      sourceMgr.PrintMessage(
          os, llvm::SMLoc::getFromPointer(text.data() + i),
          llvm::SourceMgr::DK_Error,
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

int mlir::loom::runWithLargeStack(llvm::function_ref<int()> body) {
  int result = 1;
  llvm::thread worker(std::optional<unsigned>(kToolStackBytes),
                      [&] { result = body(); });
  worker.join();
  return result;
}
