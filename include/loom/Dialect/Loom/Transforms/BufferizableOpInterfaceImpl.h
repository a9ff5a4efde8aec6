//===- BufferizableOpInterfaceImpl.h - bufferizing tile ops -----*- C++ -*-===//
#ifndef LOOM_DIALECT_LOOM_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define LOOM_DIALECT_LOOM_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::loom {

/// One-shot bufferization of loom.attention_tile and loom.attention_step:
/// destination-style, so each init is written in place and the op becomes
/// the same op on the operands' buffers (strided views of slices, no copy).
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);

} // namespace mlir::loom

#endif // LOOM_DIALECT_LOOM_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
