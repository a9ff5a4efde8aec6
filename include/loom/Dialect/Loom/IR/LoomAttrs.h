//===- LoomAttrs.h - loom attributes ----------------------------*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOM_IR_LOOMATTRS_H
#define LOOM_DIALECT_LOOM_IR_LOOMATTRS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::loom {

/// The keys a range of query rows sees, as absolute key rows. Every key some
/// row of the range sees lies in [begin, end); every key in
/// [fullBegin, fullEnd) is seen by every row of the range, and
/// begin <= fullBegin <= fullEnd <= end. A lowering visits [begin, end) only,
/// and needs a mask only in [begin, fullBegin) and [fullEnd, end).
template <typename T>
struct KeyWindowT {
  T begin, end, fullBegin, fullEnd;
};
using KeyWindow = KeyWindowT<int64_t>;
using KeyWindowValues = KeyWindowT<OpFoldResult>;

} // namespace mlir::loom

#define GET_ATTRDEF_CLASSES
#include "loom/Dialect/Loom/IR/LoomAttrs.h.inc"

#endif // LOOM_DIALECT_LOOM_IR_LOOMATTRS_H
