//===- TileAndFuse.cpp - the loom-tile-and-fuse pass ----------------------===//
//
// Roots, their tile sizes and the producers their tiles compute
// (TileAndFuse.h), then upstream tiling and fusion through TilingInterface.
// docs/dense.md describes the stage and its place in the CPU pipeline.
//
//===----------------------------------------------------------------------===//

#include "loom/Dialect/Loom/Transforms/TileAndFuse.h"
#include "loom/Dialect/Loom/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/DebugLog.h"

#define DEBUG_TYPE "loom-tile-and-fuse"

namespace mlir::loom {
#define GEN_PASS_DEF_LOOMTILEANDFUSEPASS
#include "loom/Dialect/Loom/Transforms/Passes.h.inc"
} // namespace mlir::loom

using namespace mlir;
using namespace mlir::loom;

namespace {

/// Marks a root that was visited (tiled ones are replaced; this keeps the
/// others from being visited again). Removed at the end of the pass.
constexpr const char *kVisitedAttr = "loom.tile_and_fuse_visited";

/// Whether `e` is a sum of dims with non-negative coefficients and a
/// constant (`d`, `d + c`, a convolution's `d0 + d1`, a stride's `2 * d`).
bool isNonDecreasing(AffineExpr e) {
  if (isa<AffineDimExpr, AffineConstantExpr>(e))
    return true;
  auto binary = dyn_cast<AffineBinaryOpExpr>(e);
  if (!binary)
    return false;
  if (binary.getKind() == AffineExprKind::Add)
    return isNonDecreasing(binary.getLHS()) && isNonDecreasing(binary.getRHS());
  if (binary.getKind() == AffineExprKind::Mul) {
    auto c = dyn_cast<AffineConstantExpr>(binary.getRHS());
    return c && c.getValue() >= 0 && isNonDecreasing(binary.getLHS());
  }
  return false;
}

/// Whether every index of every operand grows with the loop dims: a tile's
/// slice is then from the index at the tile's first point to the one at
/// its last. Linalg's tiling computes the slice of any other index (e.g.
/// the reversal `-d + c` of M2's bidirectional kernel) wrongly, a
/// one-element slice that the tiled op's verifier rejects, so such ops are
/// neither tiled nor fused.
bool hasNonDecreasingIndices(linalg::LinalgOp op) {
  for (AffineMap map : op.getIndexingMapsArray())
    if (!llvm::all_of(map.getResults(), isNonDecreasing))
      return false;
  return true;
}

/// A linalg op on static-shaped tensors that tiles. Not one with an
/// empty iteration space: there is nothing to tile (upstream's tiling
/// divides by its sizes), and loom-fold-empty-shapes folds it.
bool isStaticTensorLinalgOp(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.hasPureTensorSemantics() &&
         !linalgOp.hasDynamicShape() && isa<TilingInterface>(op) &&
         !llvm::is_contained(linalgOp.getStaticLoopRanges(), 0) &&
         hasNonDecreasingIndices(linalgOp);
}

bool isContraction(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalg::isaContractionOpInterface(linalgOp);
}

/// A tile of about `tile` along a dim of `range` that divides it: `tile`
/// itself when it divides the range (or covers it), else the largest
/// divisor of the range in [tile / 2, tile] that is a multiple of
/// `multiple`, else `tile` (the dim is then split, see splitRemainders). A whole number of tiles keeps each root one
/// scf.forall (no second nest for a remainder, no serial last tile, no copy
/// of a split result) at the price of a smaller tile: 16384 rows in tiles
/// of 64 instead of 170 tiles of 96 and one of 64.
int64_t dividingTile(int64_t range, int64_t tile, int64_t multiple = 1) {
  if (tile <= 0 || tile >= range || range % tile == 0)
    return tile;
  for (int64_t size = tile - 1; 2 * size >= tile; --size)
    if (range % size == 0 && size % multiple == 0)
      return size;
  return tile;
}

/// Contraction tiles: batch dims by 1, the innermost M and N dims by the
/// options' tile (outer M/N dims by 1; a dividing tile near it where there
/// is one), the reduction whole.
std::optional<SmallVector<int64_t>>
contractionTileSizes(linalg::LinalgOp op, const TileAndFuseOptions &options) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<int64_t> sizes(ranges.size(), 0);
  for (unsigned d : dims->batch)
    sizes[d] = 1;
  for (unsigned d : dims->m)
    sizes[d] = 1;
  for (unsigned d : dims->n)
    sizes[d] = 1;
  sizes[dims->m.back()] =
      dividingTile(ranges[dims->m.back()], options.matmulTileM);
  // Columns of a tile stay whole cache lines when the asked tile is.
  int64_t line = options.lineElements;
  sizes[dims->n.back()] =
      dividingTile(ranges[dims->n.back()], options.matmulTileN,
                   options.matmulTileN % line == 0 ? line : 1);
  return sizes;
}

/// Tiles of any other root: leading parallel dims so that a tile holds
/// about tileBytes of operands; the first reduction dim and everything
/// inside it whole (row reductions stay in one tile).
SmallVector<int64_t> rowTileSizes(linalg::LinalgOp op,
                                  const TileAndFuseOptions &options) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> sizes(ranges.size(), 0);
  int64_t bytesPerPoint = 4 * std::max<int64_t>(1, op->getNumOperands());
  int64_t inner = 1;
  for (int64_t r : ranges)
    inner *= std::max<int64_t>(r, 1);
  for (auto [d, range] : llvm::enumerate(ranges)) {
    inner /= std::max<int64_t>(range, 1);
    if (iterators[d] != utils::IteratorType::parallel)
      break;
    int64_t rowBytes = inner * bytesPerPoint;
    if (rowBytes >= options.tileBytes) {
      sizes[d] = 1;
      continue;
    }
    int64_t size = std::clamp<int64_t>(options.tileBytes / rowBytes, 1, range);
    // An innermost tile is a whole number of cache lines.
    bool innermost = d + 1 == ranges.size();
    int64_t line = options.lineElements;
    if (innermost && size > line)
      size = size / line * line;
    sizes[d] = dividingTile(range, size,
                            innermost && size % line == 0 ? line : 1);
    break;
  }
  return sizes;
}

/// Tiles of an all-parallel root with one output that reads an input
/// transposed (the input's innermost dim is a loop dim t other than the
/// output's innermost v, as in M2's [B, L, d] <-> [B, d, L] around
/// fft_conv): square blocks of about kTransposeBlock along t and v, the
/// other dims by 1, so that a block reads whole lines of both and the
/// vector code transposes it in registers (docs/dense.md).
constexpr int64_t kTransposeBlock = 64;
std::optional<SmallVector<int64_t>>
transposeTileSizes(linalg::LinalgOp op, const TileAndFuseOptions &options) {
  if (op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return std::nullopt;
  auto innermostDim = [&](OpOperand &operand) -> std::optional<unsigned> {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (map.getNumResults() == 0)
      return std::nullopt;
    auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!dim)
      return std::nullopt;
    return dim.getPosition();
  };
  std::optional<unsigned> v = innermostDim(*op.getDpsInitOperand(0));
  if (!v)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (OpOperand *input : op.getDpsInputOperands()) {
    std::optional<unsigned> t = innermostDim(*input);
    // v must index the input too: a row statistic read along v (a
    // LayerNorm's mean) is a broadcast, not a transpose.
    if (!t || *t == *v ||
        !op.getMatchingIndexingMap(input).isFunctionOfDim(*v) ||
        ranges[*t] < options.lineElements ||
        ranges[*v] < options.lineElements)
      continue;
    SmallVector<int64_t> sizes(ranges.size(), 1);
    for (unsigned d : {*t, *v})
      sizes[d] = dividingTile(ranges[d], kTransposeBlock, options.lineElements);
    return sizes;
  }
  return std::nullopt;
}

/// The tiles of `contraction` seen through `root`'s indexing map of
/// `operand`, which reads the contraction's result; std::nullopt unless
/// every dim of that result maps to one parallel dim of the root.
std::optional<SmallVector<int64_t>>
adoptContractionTiles(linalg::LinalgOp root, OpOperand &operand,
                      linalg::LinalgOp contraction,
                      const TileAndFuseOptions &options) {
  std::optional<SmallVector<int64_t>> contractionSizes =
      contractionTileSizes(contraction, options);
  if (!contractionSizes)
    return std::nullopt;
  auto result = cast<OpResult>(operand.get());
  AffineMap producerMap = contraction.getIndexingMapMatchingResult(result);
  AffineMap rootMap = root.getMatchingIndexingMap(&operand);
  if (!producerMap.isProjectedPermutation() ||
      !rootMap.isProjectedPermutation() ||
      producerMap.getNumResults() != rootMap.getNumResults())
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = root.getIteratorTypesArray();
  SmallVector<int64_t> sizes(root.getNumLoops(), 0);
  for (unsigned t = 0; t < rootMap.getNumResults(); ++t) {
    unsigned rootDim = rootMap.getDimPosition(t);
    if (iterators[rootDim] != utils::IteratorType::parallel)
      return std::nullopt;
    sizes[rootDim] = (*contractionSizes)[producerMap.getDimPosition(t)];
  }
  return sizes;
}

/// Whether every use of `producer`'s results is by `consumer`.
bool onlyUsedBy(Operation *producer, Operation *consumer) {
  return llvm::all_of(producer->getUsers(),
                      [&](Operation *user) { return user == consumer; });
}

/// The producers that `root`'s tiles compute: single-use linalg producers,
/// transitively, except the inputs of a contraction (they would be
/// recomputed for every output tile) and contractions other than the one
/// the root adopted.
void collectFusibleProducers(Operation *consumer, Operation *adopted,
                             DenseSet<Operation *> &fusible) {
  auto linalgConsumer = dyn_cast<linalg::LinalgOp>(consumer);
  if (!linalgConsumer)
    return;
  bool consumerIsContraction = isContraction(consumer);
  for (OpOperand &use : consumer->getOpOperands()) {
    Operation *producer = use.get().getDefiningOp();
    if (!producer || !isStaticTensorLinalgOp(producer) ||
        !onlyUsedBy(producer, consumer))
      continue;
    if (consumerIsContraction && !linalgConsumer.isDpsInit(&use))
      continue;
    if (isContraction(producer) && producer != adopted)
      continue;
    if (fusible.insert(producer).second)
      collectFusibleProducers(producer, adopted, fusible);
  }
}

/// Producers of a root that is not a contraction whose every user is the
/// root or already fused into its tiles (a LayerNorm's row sums, read by
/// both its variance and its normalization), transitively: the tile
/// computes them for its own rows (once per use; the pipeline's cse merges
/// the copies) instead of a nest of their own writing them out and the
/// root's nest reading them back.
void collectSharedProducers(Operation *root, DenseSet<Operation *> &fusible) {
  auto inTiles = [&](Operation *user) {
    return user == root || fusible.contains(user);
  };
  bool grew = true;
  while (grew) {
    grew = false;
    SmallVector<Operation *> consumers = {root};
    consumers.append(fusible.begin(), fusible.end());
    for (Operation *consumer : consumers)
      for (Value operand : consumer->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        if (!producer || fusible.contains(producer) ||
            !isStaticTensorLinalgOp(producer) || isContraction(producer) ||
            !llvm::all_of(producer->getUsers(), inTiles))
          continue;
        fusible.insert(producer);
        collectFusibleProducers(producer, nullptr, fusible);
        grew = true;
      }
  }
}

/// The input operand of `contraction` that its N dims do not index (A of
/// C = A.B), or nullptr.
OpOperand *rowOperand(linalg::LinalgOp contraction) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(contraction);
  if (failed(dims) || dims->n.empty())
    return nullptr;
  for (OpOperand *operand : contraction.getDpsInputOperands()) {
    AffineMap map = contraction.getMatchingIndexingMap(operand);
    if (llvm::none_of(dims->n, [&](unsigned d) {
          return map.isFunctionOfDim(d);
        }))
      return operand;
  }
  return nullptr;
}

/// The static number of points of `op`'s result tile along the given dims.
int64_t extentOf(linalg::LinalgOp op, ArrayRef<unsigned> dims) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t extent = 1;
  for (unsigned d : dims)
    extent *= ranges[d];
  return extent;
}

/// The prologue of C1, a contraction fused as a row block (below): its
/// whole N is computed in each row tile, so its A operand's row block is
/// read by exactly one tile and the chain that computes it (a LayerNorm's
/// row sums, variance and normalization) moves into the tile without any
/// recomputation. Fused: linalg producers, transitively, that are not
/// contractions and whose every user is fused (a LayerNorm's row sums feed
/// both its variance and its normalization; each fused use computes the
/// tile's sums, a row block read from L1/L2). The normalized rows then
/// exist one row block at a time instead of as a [rows, d] tensor written
/// and read once more.
void collectRowProducers(linalg::LinalgOp contraction,
                         const TileAndFuseOptions &options,
                         DenseSet<Operation *> &fusible) {
  OpOperand *a = rowOperand(contraction);
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(contraction);
  if (!a || failed(dims) ||
      4 * options.matmulTileM * extentOf(contraction, dims->k) >
          options.rowBlockFusionBytes)
    return;
  auto head = a->get().getDefiningOp<linalg::LinalgOp>();
  if (!head || !isStaticTensorLinalgOp(head) || isContraction(head) ||
      !onlyUsedBy(head, contraction) || fusible.contains(head))
    return;
  SmallVector<Operation *> chain = {head};
  DenseSet<Operation *> inChain = {head};
  // Grows the chain to a fixed point: a producer joins once all its users
  // are in it.
  bool grew = true;
  while (grew) {
    grew = false;
    for (unsigned i = 0; i < chain.size(); ++i)
      for (Value operand : chain[i]->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        if (!producer || inChain.contains(producer) ||
            !isStaticTensorLinalgOp(producer) || isContraction(producer) ||
            fusible.contains(producer) ||
            !llvm::all_of(producer->getUsers(), [&](Operation *user) {
              return inChain.contains(user);
            }))
          continue;
        chain.push_back(producer);
        inChain.insert(producer);
        grew = true;
      }
  }
  LDBG() << "row prologue of " << *contraction << ": " << chain.size()
         << " ops";
  fusible.insert_range(chain);
}

/// The row block producers of `adopted`, a contraction C2 (the root or the
/// contraction the root adopted) whose tiles span
/// all its N: its A operand is then read by exactly one tile per row block,
/// so the chain that computes A is fused into the tile without any
/// recomputation. That chain is an optional all-parallel elementwise
/// generic (a bias and GELU) over a contraction C1 whose N is C2's K: an
/// MLP's fc1 -> GELU -> fc2, whose hidden activation then exists one row
/// block at a time (tile rows x hidden width, at most `maxBytes`) instead
/// of whole. C1's own inputs follow the usual rule (not fused).
void collectRowBlockProducers(linalg::LinalgOp adopted,
                              const TileAndFuseOptions &options,
                              DenseSet<Operation *> &fusible) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(adopted);
  if (failed(dims) || dims->n.size() != 1 ||
      extentOf(adopted, dims->n) > options.matmulTileN)
    return;
  OpOperand *a = rowOperand(adopted);
  if (!a)
    return;
  int64_t blockBytes = 4 * options.matmulTileM * extentOf(adopted, dims->k);
  if (blockBytes > options.rowBlockFusionBytes)
    return;
  auto producer = a->get().getDefiningOp<linalg::LinalgOp>();
  if (!producer || !isStaticTensorLinalgOp(producer) ||
      !onlyUsedBy(producer, adopted))
    return;
  linalg::LinalgOp contraction = producer;
  if (!isContraction(producer)) {
    // The epilogue: all parallel, identity on its result, one operand from
    // a single-use contraction read at the same points.
    if (producer.getNumParallelLoops() != producer.getNumLoops() ||
        producer->getNumResults() != 1 ||
        !producer.getIndexingMapMatchingResult(producer->getResult(0))
             .isIdentity())
      return;
    contraction = nullptr;
    for (OpOperand *input : producer.getDpsInputOperands()) {
      auto inner = input->get().getDefiningOp<linalg::LinalgOp>();
      if (!inner || !isContraction(inner) || !isStaticTensorLinalgOp(inner) ||
          !onlyUsedBy(inner, producer) ||
          !producer.getMatchingIndexingMap(input).isIdentity())
        continue;
      contraction = inner;
      break;
    }
    if (!contraction)
      return;
  }
  LDBG() << "row block producers of " << *adopted << ": " << *producer;
  if (contraction != producer) {
    fusible.insert(producer);
    collectFusibleProducers(producer, contraction, fusible);
  }
  fusible.insert(contraction);
  collectFusibleProducers(contraction, contraction, fusible);
  collectRowProducers(contraction, options, fusible);
}

/// Splits `root` along every tiled dim whose size is not a multiple of its
/// tile, so that each piece tiles into whole, static tiles. Returns the
/// pieces with their tile sizes.
SmallVector<std::pair<TilingInterface, SmallVector<int64_t>>>
splitRemainders(RewriterBase &rewriter, TilingInterface root,
                SmallVector<int64_t> sizes, DenseSet<Operation *> &fusible) {
  auto linalgOp = cast<linalg::LinalgOp>(root.getOperation());
  SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
  SmallVector<std::pair<TilingInterface, SmallVector<int64_t>>> pieces;
  bool splits = false;
  for (auto [d, size] : llvm::enumerate(sizes)) {
    if (size >= ranges[d])
      size = 0;
    splits |= size != 0 && ranges[d] % size != 0;
  }
  // A destination filled by a single-use linalg.fill (a matmul's zeros, a
  // reduction's initial value): each piece would get a slice of the filled
  // tensor as its loop's shared output, which fusion cannot see through,
  // and the fill would become a loop of its own. So each piece fills its
  // own destination instead; the pieces cover the whole result.
  SmallVector<std::pair<unsigned, Value>> fills;
  if (splits) {
    for (OpOperand &init : linalgOp.getDpsInitsMutable()) {
      auto fill = init.get().getDefiningOp<linalg::FillOp>();
      if (!fill || !fill->hasOneUse() || !fusible.contains(fill))
        continue;
      fills.push_back({init.getOperandNumber(), fill.getInputs()[0]});
      rewriter.modifyOpInPlace(root, [&] { init.set(fill.getOutputs()[0]); });
      fusible.erase(fill);
      rewriter.eraseOp(fill);
    }
  }
  pieces.push_back({root, sizes});
  for (auto [d, size] : llvm::enumerate(sizes)) {
    if (size == 0 || ranges[d] % size == 0)
      continue;
    int64_t point = ranges[d] / size * size;
    SmallVector<std::pair<TilingInterface, SmallVector<int64_t>>> next;
    for (auto &[piece, pieceSizes] : pieces) {
      rewriter.setInsertionPoint(piece);
      auto [full, rest] = linalg::splitOp(rewriter, piece, d,
                                          rewriter.getIndexAttr(point));
      // One tile along d: still a loop, so that the piece's producers fuse.
      SmallVector<int64_t> restSizes = pieceSizes;
      restSizes[d] = ranges[d] - point;
      if (full)
        next.push_back({full, pieceSizes});
      if (rest)
        next.push_back({rest, restSizes});
    }
    pieces = std::move(next);
  }
  for (auto &[piece, pieceSizes] : pieces)
    for (auto [operand, value] : fills) {
      OpOperand &init = piece->getOpOperand(operand);
      rewriter.setInsertionPoint(piece);
      auto fill = linalg::FillOp::create(rewriter, piece.getLoc(), value,
                                         init.get());
      rewriter.modifyOpInPlace(piece, [&] { init.set(fill.getResult(0)); });
      fusible.insert(fill);
    }
  return pieces;
}

/// Erases the ops whose results nobody uses: the fused producers, and the
/// slices fusion leaves in the tiles (they would keep the producers alive,
/// to be tiled again as roots of their own).
void eraseDeadOps(func::FuncOp func) {
  GreedyRewriteConfig config;
  config.enableFolding(false);
  (void)applyPatternsGreedily(func, FrozenRewritePatternSet(), config);
}

LogicalResult tileRoot(RewriterBase &rewriter, TilingInterface root,
                       const TileAndFuseOptions &options) {
  Operation *adopted = nullptr;
  std::optional<SmallVector<int64_t>> sizes =
      rootTileSizes(root, options, &adopted);
  if (!sizes || llvm::all_of(*sizes, [](int64_t s) { return s == 0; }))
    return success();
  DenseSet<Operation *> fusible;
  if (adopted)
    fusible.insert(adopted);
  collectFusibleProducers(root, adopted, fusible);
  if (adopted)
    collectFusibleProducers(adopted, adopted, fusible);
  if (Operation *contraction =
          adopted ? adopted : (isContraction(root) ? root.getOperation()
                                                   : nullptr))
  {
    auto linalgContraction = cast<linalg::LinalgOp>(contraction);
    collectRowBlockProducers(linalgContraction, options, fusible);
    // A contraction whose tiles span all its N reads each row block of A
    // in one tile: A's prologue (a LayerNorm) fuses too.
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(linalgContraction);
    if (succeeded(dims) && dims->n.size() == 1 &&
        extentOf(linalgContraction, dims->n) <= options.matmulTileN)
      collectRowProducers(linalgContraction, options, fusible);
  } else {
    collectSharedProducers(root, fusible);
  }
  LDBG() << "root " << *root << " with " << fusible.size()
         << " fusible producers";

  MLIRContext *ctx = root->getContext();
  for (auto &[piece, pieceSizes] :
       splitRemainders(rewriter, root, *sizes, fusible)) {
    scf::SCFTilingOptions tiling;
    tiling.setTileSizes(getAsIndexOpFoldResult(ctx, pieceSizes))
        .setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    scf::SCFTileAndFuseOptions fuse;
    fuse.setTilingOptions(tiling);
    fuse.setFusionControlFn(
        [&](tensor::ExtractSliceOp, OpResult producer,
            bool) -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          if (!fusible.contains(producer.getOwner()))
            return std::nullopt;
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        });
    // Splitting leaves slices of slices; merged, the fusion sees through
    // them to the producer.
    RewritePatternSet cleanup(ctx);
    tensor::populateMergeConsecutiveInsertExtractSlicePatterns(cleanup);
    tensor::populateFoldTensorEmptyPatterns(cleanup);
    fuse.cleanupPatterns = FrozenRewritePatternSet(std::move(cleanup));
    rewriter.setInsertionPoint(piece);
    FailureOr<scf::SCFTileAndFuseResult> tiled =
        scf::tileConsumerAndFuseProducersUsingSCF(rewriter, piece, fuse);
    if (failed(tiled))
      return piece->emitError("loom-tile-and-fuse: cannot tile this op");
    for (OpResult result : piece->getResults())
      rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
    rewriter.eraseOp(piece);
  }
  return success();
}

/// Whether `op` has an operand that a contraction computes.
bool readsContractionDirectly(Operation *op) {
  return llvm::any_of(op->getOperands(), [](Value v) {
    Operation *producer = v.getDefiningOp();
    return producer && isContraction(producer);
  });
}

void fuseElementwiseChains(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  RewritePatternSet patterns(ctx);
  // Only single-use producers (no recomputation), and never into a
  // contraction (its inputs are read once per output tile).
  linalg::populateElementwiseOpsFusionPatterns(
      patterns, [](OpOperand *fused) {
        Operation *producer = fused->get().getDefiningOp();
        return producer && producer->hasOneUse() &&
               !isContraction(fused->getOwner());
      });
  // A Linear's result is expanded back to [B, L, N] and the elementwise op
  // after it (GELU, a residual add) runs on that shape: collapsing the
  // consumer's dims through the reshape puts it next to the bias add, so
  // that both fuse into the matmul's epilogue.
  linalg::populateFoldReshapeOpsByCollapsingPatterns(
      patterns, [](OpOperand *fused) {
        Operation *producer = fused->get().getDefiningOp();
        return producer && producer->hasOneUse() &&
               !readsContractionDirectly(producer) &&
               !readsContractionDirectly(fused->getOwner());
      });
  // A batched contraction's result collapsed after it (blockdiag_matmul's
  // [..., k, q] -> [..., k*q]) and the elementwise op after that (its bias
  // add): the consumer is expanded to the contraction's shape instead, so
  // that it becomes the contraction's epilogue. (The collapsing patterns
  // above leave such an op alone, or the two would undo each other.)
  linalg::populateFoldReshapeOpsByExpansionPatterns(
      patterns, [](OpOperand *fused) {
        auto collapse = fused->get().getDefiningOp<tensor::CollapseShapeOp>();
        if (!collapse || !collapse->hasOneUse())
          return false;
        Operation *source = collapse.getSrc().getDefiningOp();
        auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
        return source && isContraction(source) && source->hasOneUse() &&
               consumer && !isContraction(consumer) &&
               consumer.getNumParallelLoops() == consumer.getNumLoops();
      });
  tensor::populateReassociativeReshapeFoldingPatterns(patterns);
  linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
  // A reduction's fill reshaped with it (a LayerNorm's row sums collapsed
  // to [B·L]): the fill is made in the reshaped type, so that it fuses
  // into the reduction's tiles instead of filling the whole tensor.
  linalg::FillOp::getCanonicalizationPatterns(patterns, ctx);
  linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
  (void)applyPatternsGreedily(func, std::move(patterns));
}

struct LoomTileAndFusePass
    : loom::impl::LoomTileAndFusePassBase<LoomTileAndFusePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (matmulTileM < 1 || matmulTileN < 1 || tileBytes < 1 ||
        lineElements < 1) {
      func.emitError("loom-tile-and-fuse: matmul-tile-m, matmul-tile-n, "
                     "tile-bytes and line-elements must be positive");
      return signalPassFailure();
    }
    TileAndFuseOptions options;
    options.matmulTileM = matmulTileM;
    options.matmulTileN = matmulTileN;
    options.tileBytes = tileBytes;
    options.lineElements = lineElements;
    options.fuseElementwise = fuseElementwise;
    options.rowBlockFusionBytes = rowBlockFusionBytes;
    IRRewriter rewriter(&getContext());
    if (failed(tileAndFuse(rewriter, func, options)))
      return signalPassFailure();
  }
};

} // namespace

std::optional<SmallVector<int64_t>>
mlir::loom::rootTileSizes(TilingInterface root,
                          const TileAndFuseOptions &options,
                          Operation **adoptedContraction) {
  *adoptedContraction = nullptr;
  // Loom ops are not roots: in the CPU pipeline loom-tile-attention has
  // already tiled the attention ops (their head transposes folded into the
  // tiles' slices, which tiling them here as roots would cut as copies),
  // and the other loom ops are lowered whole. A loom op with a tile-level
  // form would return its tile sizes here.
  if (!isStaticTensorLinalgOp(root))
    return std::nullopt;
  auto linalgOp = cast<linalg::LinalgOp>(root.getOperation());
  if (isContraction(root))
    return contractionTileSizes(linalgOp, options);
  if (linalgOp.getNumParallelLoops() == linalgOp.getNumLoops()) {
    for (OpOperand *operand : linalgOp.getDpsInputOperands()) {
      auto producer = operand->get().getDefiningOp<linalg::LinalgOp>();
      if (!producer || !isContraction(producer) ||
          !isStaticTensorLinalgOp(producer) || !onlyUsedBy(producer, root))
        continue;
      if (std::optional<SmallVector<int64_t>> sizes =
              adoptContractionTiles(linalgOp, *operand, producer, options)) {
        *adoptedContraction = producer;
        return sizes;
      }
    }
  }
  if (std::optional<SmallVector<int64_t>> sizes =
          transposeTileSizes(linalgOp, options))
    return sizes;
  return rowTileSizes(linalgOp, options);
}

LogicalResult mlir::loom::tileAndFuse(RewriterBase &rewriter,
                                      func::FuncOp func,
                                      const TileAndFuseOptions &options) {
  if (func.isExternal())
    return success();
  if (options.fuseElementwise)
    fuseElementwiseChains(func);
  Block &body = func.getBody().front();
  UnitAttr visited = rewriter.getUnitAttr();
  while (true) {
    // The last unvisited root: consumers before their producers, so that a
    // producer is still untiled when its consumer decides to fuse it.
    Operation *root = nullptr;
    for (Operation &op : llvm::reverse(body))
      if (isStaticTensorLinalgOp(&op) && !op.hasAttr(kVisitedAttr)) {
        root = &op;
        break;
      }
    if (!root)
      break;
    root->setAttr(kVisitedAttr, visited);
    if (failed(tileRoot(rewriter, cast<TilingInterface>(root), options)))
      return failure();
    eraseDeadOps(func);
  }
  func.walk([](Operation *op) { op->removeAttr(kVisitedAttr); });
  return success();
}
