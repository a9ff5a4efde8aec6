//===- LoomDialect.td - the loom dialect -------------------*- tablegen -*-===//
//
// The dialect whose ops are the building blocks of sub-quadratic sequence
// models: grouped attention, latent routing, Monarch factors, long FFT
// convolutions. The contract of every op is ../shared/SPEC.md section 1.
//
//===----------------------------------------------------------------------===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMDIALECT_TD
#define LOOM_DIALECT_LOOM_IR_LOOMDIALECT_TD

include "mlir/IR/OpBase.td"

def Loom_Dialect : Dialect {
  let name = "loom";
  let summary = "Ops for FIT, TransformerFAM and Monarch Mixer models";
  let description = [{
    The `loom` dialect holds the structured building blocks of sub-quadratic
    sequence models. Every op is pure, works on statically shaped `f32`
    tensors and is verified: any violation of an op's contract is a located
    diagnostic, never a crash.
  }];
  let cppNamespace = "::mlir::loom";
  let hasConstantMaterializer = 0;
  let useDefaultAttributePrinterParser = 1;
  // The interface implementations (tiling, decomposition) build ops of these.
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Loom_Op<string mnemonic, list<Trait> traits = []>
    : Op<Loom_Dialect, mnemonic, traits>;

#endif // LOOM_DIALECT_LOOM_IR_LOOMDIALECT_TD
