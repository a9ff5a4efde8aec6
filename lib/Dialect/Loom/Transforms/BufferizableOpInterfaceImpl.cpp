//===- BufferizableOpInterfaceImpl.cpp - bufferizing tile ops -------------===//
//
// The tile ops take tensors or memrefs. On tensors they are destination-
// style (reads of every operand, a write of each init, each result the
// init's buffer), so one-shot bufferization rewrites them into the same op
// on the operands' buffers: a tile of a [B, L, H, D] tensor is then a
// strided subview, which a target's microkernel reads in place.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/BufferizableOpInterfaceImpl.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::loom;

namespace {

template <typename OpTy>
struct TileOpBufferization
    : public DstBufferizableOpInterfaceExternalModel<TileOpBufferization<OpTy>,
                                                     OpTy> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    SmallVector<Value> operands;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<TensorType>(operand.get().getType())) {
        operands.push_back(operand.get());
        continue;
      }
      FailureOr<Value> buffer =
          getBuffer(rewriter, operand.get(), options, state);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
    }
    SmallVector<Value> results;
    for (OpOperand &init : cast<DestinationStyleOpInterface>(op).getDpsInitsMutable())
      results.push_back(operands[init.getOperandNumber()]);
    rewriter.setInsertionPoint(op);
    OperationState newState(op->getLoc(), op->getName());
    newState.addOperands(operands);
    newState.addAttributes(llvm::to_vector(op->getDiscardableAttrs()));
    newState.propertiesAttr = op->getPropertiesAsAttribute();
    rewriter.create(newState);
    replaceOpWithBufferizedValues(rewriter, op, results);
    return success();
  }
};

} // namespace

void mlir::loom::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LoomDialect *) {
    AttentionTileOp::attachInterface<TileOpBufferization<AttentionTileOp>>(*ctx);
    AttentionStepOp::attachInterface<TileOpBufferization<AttentionStepOp>>(*ctx);
    MonarchTileOp::attachInterface<TileOpBufferization<MonarchTileOp>>(*ctx);
    FftConvTileOp::attachInterface<TileOpBufferization<FftConvTileOp>>(*ctx);
  });
}
