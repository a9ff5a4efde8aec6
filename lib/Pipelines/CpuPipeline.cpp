//===- CpuPipeline.cpp - loom-cpu-pipeline --------------------------------===//
//
// Stages, in order:
//   0. Symbol names the compiled library reserves are rejected.
//   1. Tensor arithmetic a frontend emits (residual adds) -> linalg;
//      fft_conv tiled per (block of rows, channel) into fft_conv_tile ops
//      (loom-tile-fft-conv); the attention ops tiled per (batch row,
//      head, query tile) into attention_tile ops with the head transposes
//      folded into their slices (loom-tile-attention); monarch tiled over
//      its rows into monarch_tile ops (loom-tile-monarch);
//      blockdiag_matmul -> its linalg contraction
//      (loom-decompose); the dense linalg ops tiled into parallel
//      tiles with their producers and epilogues fused (loom-tile-and-fuse,
//      tiles from the options' CpuTargetDescription).
//   2. Public inputs marked read-only (the caller's buffers), one-shot
//      bufferization with identity layouts at function boundaries (the
//      attention tiles in place on strided views; a tile operand whose
//      innermost stride is not 1 copied, loom-contiguous-tile-rows); the
//      attention tiles ->
//      their microkernels, flash or few-keys
//      (convert-attention-tiles-to-vector); the Monarch and fft_conv tiles
//      -> theirs (convert-monarch-tiles-to-vector,
//      convert-fft-conv-tiles-to-vector); the
//      tiles' linalg ops -> GEMM microkernels with fused epilogues and
//      vector loops (convert-linalg-to-vector); results turned into
//      caller-allocated out-params (the result allocation is hoisted into
//      the caller's buffer), then ownership-based deallocation of every
//      temporary.
//   3. The standard path to the LLVM dialect, with C-interface wrappers.
//
//===----------------------------------------------------------------------===//

#include "loom/Pipelines/Pipelines.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"
#include "loom/Target/CPU/Kernels.h"
#include "loom/Target/CPU/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

// TOSA input (TFLite, torch-mlir exports) lowers through upstream's
// conversions first; on a module without tosa ops they change nothing.
static constexpr const char *kToLinalg =
    "tosa-to-scf,func.func(tosa-to-linalg-named,tosa-to-linalg),"
    "tosa-to-arith,tosa-to-tensor,loom-inline-constant-global-loads,"
    "func.func(convert-elementwise-to-linalg)";

// eliminate-empty-tensors makes each attention tile write the result's own
// slice; the tensor.empty ops left are then made allocations before cse,
// which would otherwise merge equal-typed ones (e.g. the destinations of
// the q, k and v projections, each split into whole tiles and a remainder)
// and make bufferization copy every result but the last out of the shared
// buffer. cse after bufferization folds the copy of a subview onto itself
// that a bufferized parallel_insert_slice leaves.
static constexpr const char *kBufferize =
    "func.func(convert-elementwise-to-linalg,loom-read-only-arguments),"
    "canonicalize,eliminate-empty-tensors,empty-tensor-to-alloc-tensor,cse,"
    "one-shot-bufferize{bufferize-function-boundaries allow-return-allocs-from-loops "
    "function-boundary-type-conversion=identity-layout-map},cse";

static constexpr const char *kLower =
    "func.func(loom-distinct-result-buffers),"
    "buffer-results-to-out-params{modify-public-functions hoist-static-allocs},"
    "buffer-deallocation-pipeline,loom-cache-scratch,"
    "func.func(loom-expand-strided-copies,convert-linalg-to-loops),"
    "canonicalize,cse,"
    "expand-strided-metadata,lower-affine,arith-expand,"
    "func.func(llvm-request-c-wrappers),loom-emit-c-wrappers,"
    "func.func(scf-forall-to-parallel),"
    "convert-scf-to-openmp,loom-bind-openmp-threads,"
    // memref.alloca_scope (around every parallel work item) must be lowered
    // while its body is still one block, i.e. before scf-to-cf.
    "convert-vector-to-llvm{vector-transpose-lowering=shuffle16x16 "
    "reassociate-fp-reductions},"
    "finalize-memref-to-llvm,"
    "convert-scf-to-cf,"
    "convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-openmp-to-llvm,"
    "convert-func-to-llvm,convert-cf-to-llvm,"
    "reconcile-unrealized-casts";

void mlir::loom::buildLoomCpuPipeline(OpPassManager &pm,
                                      const CpuPipelineOptions &options) {
  pm.addPass(createLoomVerifySymbolNamesPass());
  pm.addPass(createLoomVerifyConstantIndicesPass());
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  // The upstream stages are spelled as text so that the pipeline reads the
  // same here, in docs/ and on a loom-opt command line.
  auto addText = [&](const char *text) {
    if (failed(parsePassPipeline(text, pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("loom-cpu-pipeline is malformed: ") + error);
  };
  addText(kToLinalg);
  // No kernel below takes a dimension of size 0.
  pm.addNestedPass<func::FuncOp>(createLoomFoldEmptyShapesPass());
  // A large splat constant would be a global of every element.
  pm.addNestedPass<func::FuncOp>(createLoomSplatConstantsToFillsPass());
  // fft_conv: an scf.forall of fft_conv_tile ops, one per channel (and
  // block of rows, when the channels alone are too few work items).
  pm.addNestedPass<func::FuncOp>(createLoomTileFftConvPass());
  // Attention: per (batch row, head, query tile) attention_tile ops, the
  // head transposes folded into their slices, heaviest tiles first. Before
  // the dense tiling, which would otherwise cut the transposes as copies.
  LoomTileAttentionPassOptions attention;
  attention.queryTile = options.attentionTiles.queryTile;
  attention.forall = true;
  attention.fitGroups = true;
  attention.heaviestFirst = true;
  // Ops whose rows see only a few keys (FIT's pull) take the few-keys
  // microkernel: longer tiles, first to last (docs/attention-kernels.md).
  attention.smallWindowKeys = fewKeysWindowKeys(options.target);
  // Heads interleaved in memory (a model's [B, L, H*D] projections): the
  // tiles of one query tile's heads run back to back, on the same lines.
  attention.interleavedHeadsInner = true;
  pm.addNestedPass<func::FuncOp>(createLoomTileAttentionPass(attention));
  // Monarch: monarch_tile ops over rows, an scf.forall of work items
  // where the target's kernel is faster so, else one tile that the
  // kernel splits by blocks and lane groups itself.
  LoomTileMonarchPassOptions monarch;
  MonarchWorkSplit monarchSplit = monarchWorkSplit(options.target);
  monarch.itemRows = monarchSplit.itemRows;
  monarch.maxItemBytes = monarchSplit.maxItemBytes;
  monarch.maxHalvedWeightBytes = monarchSplit.maxHalvedWeightBytes;
  pm.addNestedPass<func::FuncOp>(createLoomTileMonarchPass(monarch));
  // blockdiag_matmul as its linalg contraction (a batched GEMM over the
  // blocks, the Monarch decomposition): tiled and fused with its bias and
  // epilogues like any dense contraction, and run by the GEMM microkernel
  // with its weight packed once (docs/dense.md). The attention tiles stay.
  LoomDecomposePassOptions blockdiag;
  blockdiag.keep = {"loom.attention_tile"};
  pm.addNestedPass<func::FuncOp>(createLoomDecomposePass(blockdiag));
  DenseTileSizes tiles = denseTileSizes(options.target);
  LoomTileAndFusePassOptions tileAndFuse;
  tileAndFuse.matmulTileM = tiles.matmulTileM;
  tileAndFuse.matmulTileN = tiles.matmulTileN;
  tileAndFuse.tileBytes = tiles.tileBytes;
  tileAndFuse.lineElements = tiles.lineFloats;
  // An MLP's hidden row block (GEMM tile rows x hidden width) is computed
  // inside fc2's tile when it fits in L2 (docs/dense.md).
  tileAndFuse.rowBlockFusionBytes = options.target.l2Bytes;
  pm.addNestedPass<func::FuncOp>(createLoomTileAndFusePass(tileAndFuse));
  addText(kBufferize);
  // The kernels read rows with a unit innermost stride; any other view of
  // a tile's operand (valid IR: a slice of every other column) is copied.
  pm.addNestedPass<func::FuncOp>(createLoomContiguousTileRowsPass());
  ConvertAttentionTilesToVectorPassOptions attentionKernels;
  attentionKernels.target = options.target.str();
  attentionKernels.queryTile = options.attentionTiles.queryTile;
  attentionKernels.keyBlock = options.attentionTiles.keyBlock;
  pm.addPass(createConvertAttentionTilesToVectorPass(attentionKernels));
  ConvertMonarchTilesToVectorPassOptions monarchKernels;
  monarchKernels.target = options.target.str();
  pm.addPass(createConvertMonarchTilesToVectorPass(monarchKernels));
  ConvertFftConvTilesToVectorPassOptions fftKernels;
  fftKernels.target = options.target.str();
  pm.addPass(createConvertFftConvTilesToVectorPass(fftKernels));
  ConvertLinalgToVectorPassOptions dense;
  dense.target = options.target.str();
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToVectorPass(dense));
  addText(kLower);
  // An op nothing lowered: a located error here, not a translation failure
  // at its function.
  pm.addPass(createLoomVerifyLoweredPass());
}

namespace {
struct CpuPipelineCLOptions
    : public PassPipelineOptions<CpuPipelineCLOptions> {
  Option<std::string> mcpu{
      *this, "mcpu",
      llvm::cl::desc("LLVM CPU whose description sizes the kernels, e.g. "
                     "x86-64-v3, znver3, skylake-avx512 (default: the host)"),
      llvm::cl::init("host")};
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("CPU target description (avx512, avx2 or sse, "
                     "optionally followed by :key=value fields); wins over "
                     "mcpu")};
};
} // namespace

void mlir::loom::registerLoomPipelines() {
  registerPassPipeline(
      "loom-cpu-pipeline",
      "Lower loom ops and tensors to the LLVM dialect for a CPU (the host "
      "unless mcpu= or target= says otherwise), with C-interface wrappers "
      "whose results are caller-allocated out-params",
      [](OpPassManager &pm, StringRef optionsText,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CpuPipelineCLOptions cl;
        // LLVM's option parser has printed what it could not take.
        if (failed(cl.parseFromString(optionsText)))
          return errorHandler("loom-cpu-pipeline: cannot use the options '" +
                              optionsText + "' (see --help)");
        std::string error;
        FailureOr<CpuTargetDescription> target =
            cl.target.empty()
                ? CpuTargetDescription::forLlvmCpu(cl.mcpu, error)
                : CpuTargetDescription::parse(cl.target, error);
        if (failed(target))
          return errorHandler("loom-cpu-pipeline: " + error);
        CpuPipelineOptions options;
        options.target = *target;
        buildLoomCpuPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(CpuPipelineCLOptions());
      });
}
