//===- KernelBuilders.cpp - reshapes and buffer views of loom operands ----===//
//
// Shared by the loop-nest lowerings. blockdiag_matmul, monarch and fft_conv
// accept any number of leading dims.
// The lowerings work on one folded leading dim; these reshapes are views
// after bufferization, never copies.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/KernelBuilders.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace {
/// [[0 .. lead-1], [lead], [lead+1], ...] for a rank-`rank` tensor whose
/// first `lead` dims fold into one.
SmallVector<ReassociationIndices> foldLeading(int64_t rank, int64_t lead) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices first;
  for (int64_t i = 0; i < lead; ++i)
    first.push_back(i);
  groups.push_back(first);
  for (int64_t i = lead; i < rank; ++i)
    groups.push_back({i});
  return groups;
}

/// [[0, 1], [2], ...]: a unit leading dim in front of `rank` dims.
SmallVector<ReassociationIndices> unitLeading(int64_t rank) {
  SmallVector<ReassociationIndices> groups{{0, 1}};
  for (int64_t i = 2; i <= rank; ++i)
    groups.push_back({i});
  return groups;
}
} // namespace

Value mlir::loom::collapseLeadingDims(OpBuilder &b, Location loc, Value value,
                                      int64_t numTrailing) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t lead = type.getRank() - numTrailing;
  if (lead == 1)
    return value;
  ArrayRef<int64_t> shape = type.getShape();
  if (lead == 0) {
    SmallVector<int64_t> newShape{1};
    newShape.append(shape.begin(), shape.end());
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(newShape, type.getElementType()), value,
        unitLeading(numTrailing));
  }
  int64_t folded = 1;
  for (int64_t i = 0; i < lead; ++i)
    folded *= shape[i];
  SmallVector<int64_t> newShape{folded};
  newShape.append(shape.begin() + lead, shape.end());
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(newShape, type.getElementType()), value,
      foldLeading(type.getRank(), lead));
}

Value mlir::loom::expandLeadingDims(OpBuilder &b, Location loc, Value value,
                                    RankedTensorType targetType,
                                    int64_t numTrailing) {
  int64_t lead = targetType.getRank() - numTrailing;
  if (lead == 1)
    return value;
  if (lead == 0)
    return tensor::CollapseShapeOp::create(b, loc, targetType, value,
                                           unitLeading(numTrailing));
  return tensor::ExpandShapeOp::create(b, loc, targetType, value,
                                       foldLeading(targetType.getRank(), lead));
}

Value mlir::loom::toReadOnlyBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                           /*read_only=*/true);
}

void mlir::loom::kernel::ifThen(
    ImplicitLocOpBuilder &b, Value cond,
    function_ref<void(ImplicitLocOpBuilder &)> thenBody,
    function_ref<void(ImplicitLocOpBuilder &)> elseBody) {
  auto region = [](function_ref<void(ImplicitLocOpBuilder &)> body) {
    return [body](OpBuilder &nb, Location loc) {
      ImplicitLocOpBuilder ib(loc, nb);
      body(ib);
      scf::YieldOp::create(ib);
    };
  };
  if (elseBody)
    scf::IfOp::create(b, cond, region(thenBody), region(elseBody));
  else
    scf::IfOp::create(b, cond, region(thenBody));
}
