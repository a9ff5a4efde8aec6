//===- ConvertLoomToLoops.cpp - the convert-loom-to-loops pass ------------===//
//
// The reference lowering, a second lowering of the same structured form the
// targets use: the attention ops are tiled through their TilingInterface
// (scf.for over batch row, head and query tiles of loom.attention_tile),
// every loom op is decomposed through AggregatedOpInterface down to linalg
// (attention_tile -> attention_step key-block loops -> linalg; the Monarch
// ops -> contractions), and fft_conv becomes a direct convolution. What is
// left is scf + linalg on tensors; after bufferization
// convert-linalg-to-loops makes it scalar loops.
//
//===----------------------------------------------------------------------===//

#include "loom/Conversion/LoomToLoops/LoomToLoops.h"
#include "loom/Conversion/Passes.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Dialect/Loom/Transforms/Transforms.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "convert-loom-to-loops"

namespace mlir::loom {
#define GEN_PASS_DEF_CONVERTLOOMTOLOOPSPASS
#include "loom/Conversion/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {
struct ConvertLoomToLoopsPass
    : loom::impl::ConvertLoomToLoopsPassBase<ConvertLoomToLoopsPass> {
  using ConvertLoomToLoopsPassBase::ConvertLoomToLoopsPassBase;

  void runOnOperation() override {
    if (queryTile <= 0 || keyBlock <= 0) {
      getOperation().emitError()
          << "convert-loom-to-loops: query-tile and key-block must be "
             "positive, got "
          << static_cast<int64_t>(queryTile) << " and "
          << static_cast<int64_t>(keyBlock);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    if (failed(tileAttentionOps(rewriter, getOperation(), queryTile,
                                /*forall=*/false)))
      return signalPassFailure();
    getOperation().walk([&](AttentionTileOp tile) {
      if (!tile.getKeyBlock())
        tile.setKeyBlockAttr(rewriter.getI64IntegerAttr(keyBlock));
    });
    if (failed(decomposeLoomOps(rewriter, getOperation())))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateFftConvToLoopsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
