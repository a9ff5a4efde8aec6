//===- MatmulToVector.cpp - linalg contractions as GEMM microkernels ------===//
//
// A contraction on buffers with static shapes (linalg.matmul, batch_matmul,
// either operand transposed through indexing_maps, a contraction
// linalg.generic) and the elementwise linalg.generic that consumes its
// result (after loom-tile-and-fuse: the bias, GELU, residual or scaling of
// the same tile) become the shared GEMM microkernel of GemmKernels.h:
//
//   pack B        panels of `vecs` vectors of columns, [K][width] each
//                 (packB): once per call before the enclosing scf.forall
//                 when B is a loop-invariant buffer (a weight), whole or
//                 sliced by the tile, else once per work item;
//   per block of kc reductions (a kc x width panel fills half of L1):
//     pack A      the tile's rows of the block into a stack buffer
//                 ([rows][kc], or [kc][rows] when A is stored transposed);
//     for each column group, for each group of register-tile rows:
//                 the broadcast register tile over the block, starting from
//                 the fill value (or C) or the partial sums of the previous
//                 blocks (after prefetching its share of the next panel of
//                 B and of A's next block), ending in the partial sums, or,
//                 after the last block, through the epilogue's body on the
//                 accumulators into the epilogue's output (one store per
//                 element).
//
// Tiles larger than the schedule's tileM x tileN (a matmul nobody tiled)
// run block after block. docs/dense.md has the picture.
//
//===----------------------------------------------------------------------===//

#include "ElementwiseKernels.h"
#include "GemmKernels.h"
#include "loom/Target/CPU/Kernels.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::kernel;

DenseTileSizes mlir::loom::denseTileSizes(const CpuTargetDescription &target) {
  GemmSchedule s = GemmSchedule::forTarget(target);
  DenseTileSizes sizes;
  sizes.matmulTileM = s.tileM;
  sizes.matmulTileN = s.tileN;
  sizes.tileBytes = target.l2Bytes / 4;
  sizes.lineFloats = target.lineFloats();
  return sizes;
}

namespace {

/// The loop dim of each index of an operand read through `map`.
SmallVector<unsigned> dimsOf(AffineMap map) {
  SmallVector<unsigned> dims;
  for (unsigned r = 0; r < map.getNumResults(); ++r)
    dims.push_back(map.getDimPosition(r));
  return dims;
}

bool isF32UnitStride(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32() &&
         type.isLastDimUnitStride();
}

bool mayWriteMemory(Operation *op) {
  if (isMemoryEffectFree(op))
    return false;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return true;
  return effects.hasEffect<MemoryEffects::Write>() ||
         effects.hasEffect<MemoryEffects::Free>();
}

/// Whether `v`, a tile's column offset into B's source, is a multiple of
/// `multiple`: a constant, or an induction variable of `forall` whose lower
/// bound and step are.
bool isMultipleOf(OpFoldResult v, int64_t multiple, scf::ForallOp forall) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return *c % multiple == 0;
  // iv + c, as the split remainder of a tiled dim indexes its source.
  if (auto apply = cast<Value>(v).getDefiningOp<affine::AffineApplyOp>()) {
    AffineMap map = apply.getAffineMap();
    auto sum = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
    if (map.getNumResults() != 1 || apply->getNumOperands() != 1 || !sum ||
        sum.getKind() != AffineExprKind::Add)
      return false;
    auto cst = dyn_cast<AffineConstantExpr>(sum.getRHS());
    if (!cst || !isa<AffineDimExpr, AffineSymbolExpr>(sum.getLHS()))
      return false;
    return cst.getValue() % multiple == 0 &&
           isMultipleOf(apply->getOperand(0), multiple, forall);
  }
  auto arg = dyn_cast<BlockArgument>(cast<Value>(v));
  if (!forall || !arg || arg.getOwner() != forall.getBody())
    return false;
  unsigned i = arg.getArgNumber();
  if (i >= forall.getRank())
    return false;
  std::optional<int64_t> lb = getConstantIntValue(forall.getMixedLowerBound()[i]);
  std::optional<int64_t> step = getConstantIntValue(forall.getMixedStep()[i]);
  return lb && step && *lb % multiple == 0 && *step % multiple == 0;
}

/// The value of `v` when it is known: a constant, the induction variable
/// of a dim of `forall` that runs once, or such a value plus a constant.
std::optional<int64_t> knownValue(OpFoldResult v, scf::ForallOp forall) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return c;
  Value value = cast<Value>(v);
  if (auto apply = value.getDefiningOp<affine::AffineApplyOp>()) {
    if (apply->getNumOperands() != 1)
      return std::nullopt;
    std::optional<int64_t> x = knownValue(apply->getOperand(0), forall);
    if (!x)
      return std::nullopt;
    SmallVector<int64_t> results =
        apply.getAffineMap().compose(ArrayRef<int64_t>{*x});
    if (results.size() != 1)
      return std::nullopt;
    return results[0];
  }
  auto arg = dyn_cast<BlockArgument>(value);
  if (!forall || !arg || arg.getOwner() != forall.getBody() ||
      arg.getArgNumber() >= forall.getRank())
    return std::nullopt;
  unsigned i = arg.getArgNumber();
  std::optional<int64_t> lb = getConstantIntValue(forall.getMixedLowerBound()[i]);
  std::optional<int64_t> ub = getConstantIntValue(forall.getMixedUpperBound()[i]);
  std::optional<int64_t> step = getConstantIntValue(forall.getMixedStep()[i]);
  if (lb && ub && step && *ub - *lb <= *step)
    return lb;
  return std::nullopt;
}

struct GemmMatch {
  linalg::LinalgOp op;
  unsigned m = 0, n = 0, k = 0;
  std::optional<unsigned> batch;
  int64_t M = 0, N = 0, K = 0, B = 1;
  Value a, b, c;
  SmallVector<unsigned> aDims, bDims, cDims;
  bool aKContiguous = true;
  BLayout bLayout = BLayout::NK;
  /// The accumulators start from `fillValue` (fill erased) or from C.
  linalg::FillOp fill;
  /// The epilogue and where its operands and output are read and written
  /// (loop dims of the contraction per memref dim).
  linalg::GenericOp epilogue;
  unsigned epilogueC = 0;
  SmallVector<SmallVector<unsigned>> epilogueDims;
  Value out;
  SmallVector<unsigned> outDims;
  /// Where the packed B comes from: B itself, or the loop-invariant buffer
  /// B is a slice of (then packed once before the scf.forall).
  Value bSource;
  bool hoist = false;
  OpFoldResult batchOffset, nOffset;
  int64_t srcN = 0, srcB = 1;
};

/// The contraction's shape, operands and layouts, or std::nullopt when it
/// is not a GEMM this kernel handles (it then stays for
/// convert-linalg-to-loops).
std::optional<GemmMatch> matchContraction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // An empty iteration space has nothing for the microkernel (K = 0 would
  // read a first column of A that is not there); the loops lowering runs
  // zero iterations.
  if (llvm::any_of(ranges, ShapedType::isDynamic) ||
      llvm::is_contained(ranges, 0))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() ||
      dims->k.size() != 1 || dims->batch.size() > 1)
    return std::nullopt;
  // A tile of a contraction over several M or N dims, all but one of
  // extent 1 in the tile (a projection written head-major, [B, H, L, Dh] =
  // x[B, L, K] · W[H, Dh, K], tiled by (b, h) = 1): the unit dims are
  // indexed like a batch dim of extent 1, so at 0.
  auto theDim = [&](ArrayRef<unsigned> candidates) -> std::optional<unsigned> {
    std::optional<unsigned> wide;
    for (unsigned d : candidates) {
      if (ranges[d] == 1)
        continue;
      if (wide)
        return std::nullopt;
      wide = d;
    }
    return wide ? wide : std::optional<unsigned>(candidates.back());
  };
  std::optional<unsigned> m = theDim(dims->m), n = theDim(dims->n);
  bool unitExtras = dims->m.size() > 1 || dims->n.size() > 1;
  // With unit M or N dims, a batch dim of extent 1 (the tile of one block
  // of a blockdiag_matmul, [.., M, k, q] = x[.., M, k, p] · w[k, q, p]) is
  // one more of them.
  bool unitBatch = dims->batch.size() == 1 && ranges[dims->batch[0]] == 1;
  if (!m || !n || (unitExtras && !dims->batch.empty() && !unitBatch))
    return std::nullopt;
  GemmMatch g;
  g.op = op;
  g.m = *m;
  g.n = *n;
  g.k = dims->k[0];
  if (!dims->batch.empty() && !(unitExtras && unitBatch)) {
    g.batch = dims->batch[0];
    g.B = ranges[*g.batch];
  }
  g.M = ranges[g.m];
  g.N = ranges[g.n];
  g.K = ranges[g.k];
  OpOperand *lhs = op.getDpsInputOperand(0), *rhs = op.getDpsInputOperand(1);
  if (!llvm::is_contained(dimsOf(op.getMatchingIndexingMap(lhs)), g.m))
    std::swap(lhs, rhs);
  OpOperand *init = op.getDpsInitOperand(0);
  for (OpOperand *o : {lhs, rhs, init})
    if (!isF32UnitStride(o->get()) ||
        !op.getMatchingIndexingMap(o).isProjectedPermutation())
      return std::nullopt;
  g.a = lhs->get();
  g.b = rhs->get();
  g.c = init->get();
  g.aDims = dimsOf(op.getMatchingIndexingMap(lhs));
  g.bDims = dimsOf(op.getMatchingIndexingMap(rhs));
  g.cDims = dimsOf(op.getMatchingIndexingMap(init));
  if (g.aDims.back() != g.k && g.aDims.back() != g.m)
    return std::nullopt;
  g.aKContiguous = g.aDims.back() == g.k;
  if (g.bDims.back() != g.k && g.bDims.back() != g.n)
    return std::nullopt;
  g.bLayout = g.bDims.back() == g.k ? BLayout::NK : BLayout::KN;
  if (g.cDims.back() != g.n)
    return std::nullopt;
  g.out = g.c;
  g.outDims = g.cDims;
  return g;
}

/// The linalg.fill of C just before the contraction, if nothing between
/// them writes memory.
void matchFill(GemmMatch &g) {
  for (Operation *prev = g.op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
      if (fill.hasPureBufferSemantics() &&
          sameBuffer(fill.getDpsInits()[0], g.c) &&
          fill.getInputs()[0].getType().isF32())
        g.fill = fill;
      return;
    }
    if (mayWriteMemory(prev))
      return;
  }
}

/// The elementwise generic that reads C next, when C is a temporary only it
/// reads: its body then runs on the accumulators and C never exists.
void matchEpilogue(GemmMatch &g) {
  auto alloc = g.c.getDefiningOp<memref::AllocOp>();
  if (!alloc)
    return;
  linalg::GenericOp generic;
  for (Operation *next = g.op->getNextNode(); next; next = next->getNextNode()) {
    if (llvm::is_contained(next->getOperands(), g.c)) {
      generic = dyn_cast<linalg::GenericOp>(next);
      break;
    }
    if (mayWriteMemory(next))
      return;
  }
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !isVectorizableBody(*generic.getBlock()))
    return;
  for (Operation *user : g.c.getUsers())
    if (user != g.op && user != generic && user != g.fill &&
        !isa<memref::DeallocOp>(user))
      return;
  OpOperand *cUse = nullptr;
  for (OpOperand *input : generic.getDpsInputOperands())
    if (input->get() == g.c) {
      if (cUse)
        return;
      cUse = input;
    }
  OpOperand *init = generic.getDpsInitOperand(0);
  AffineMap cMap = generic.getMatchingIndexingMap(cUse);
  if (!cUse || !cMap.isPermutation() ||
      cMap != generic.getMatchingIndexingMap(init) ||
      cMap.getNumResults() != g.cDims.size())
    return;
  // Epilogue loop dim d reads C's dim p: the contraction's dim cDims[p].
  SmallVector<unsigned> toContraction(generic.getNumLoops());
  for (unsigned p = 0; p < cMap.getNumResults(); ++p)
    toContraction[cMap.getDimPosition(p)] = g.cDims[p];
  SmallVector<SmallVector<unsigned>> operandDims;
  for (OpOperand &operand : generic->getOpOperands()) {
    SmallVector<unsigned> dims;
    if (isa<MemRefType>(operand.get().getType())) {
      AffineMap map = generic.getMatchingIndexingMap(&operand);
      if (!map.isProjectedPermutation())
        return;
      for (unsigned d : dimsOf(map))
        dims.push_back(toContraction[d]);
      // The vector runs along n: n last (contiguous) or absent (broadcast).
      bool usesN = llvm::is_contained(dims, g.n);
      if (usesN && (dims.back() != g.n || !isF32UnitStride(operand.get())))
        return;
      if (!cast<MemRefType>(operand.get().getType()).getElementType().isF32())
        return;
      if (&operand == init && (!usesN || !isF32UnitStride(operand.get())))
        return;
    } else if (!operand.get().getType().isF32()) {
      return;
    }
    operandDims.push_back(dims);
  }
  g.epilogue = generic;
  g.epilogueC = cUse->getOperandNumber();
  g.epilogueDims = std::move(operandDims);
  g.out = init->get();
  g.outDims = g.epilogueDims[init->getOperandNumber()];
}

/// Where the packed B comes from: when B is a slice, taken inside an
/// scf.forall, of a buffer defined outside it (a weight), the whole buffer
/// is packed once before the loop and the tiles read their panels.
void matchBSource(GemmMatch &g, const GemmSchedule &s) {
  g.bSource = g.b;
  g.nOffset = OpBuilder(g.op).getIndexAttr(0);
  g.batchOffset = g.nOffset;
  g.srcN = g.N;
  g.srcB = g.B;
  auto forall = g.op->getParentOfType<scf::ForallOp>();
  if (!forall)
    return;
  auto slice = g.b.getDefiningOp<memref::SubViewOp>();
  if (!slice) {
    // B itself is defined outside the loop (a tile that spans all of N, so
    // nothing sliced the weight): packed once before it, not per tile.
    if (g.b.getParentRegion()->isAncestor(forall->getParentRegion())) {
      g.bSource = g.b;
      g.hoist = true;
    }
    return;
  }
  Value source = slice.getSource();
  if (!source.getParentRegion()->isAncestor(forall->getParentRegion()) ||
      !isF32UnitStride(source))
    return;
  auto sourceType = cast<MemRefType>(source.getType());
  if (sourceType.getRank() != cast<MemRefType>(g.b.getType()).getRank() ||
      !llvm::all_of(slice.getStaticStrides(), [](int64_t s) { return s == 1; }))
    return;
  OpFoldResult nOffset, batchOffset;
  int64_t srcN = 0, srcB = 1;
  for (auto [p, dim] : llvm::enumerate(g.bDims)) {
    OpFoldResult offset = slice.getMixedOffsets()[p];
    int64_t extent = sourceType.getDimSize(p);
    if (dim == g.k) {
      if (getConstantIntValue(offset) != 0 || extent != g.K)
        return;
    } else if (dim == g.n) {
      nOffset = offset;
      srcN = extent;
    } else {
      batchOffset = offset;
      srcB = extent;
    }
  }
  // The tile's column groups must be the source's: it starts on a group,
  // and a partial last group is the source's last.
  if (!isMultipleOf(nOffset, s.groupCols(), forall))
    return;
  if (g.N % s.groupCols() != 0) {
    std::optional<int64_t> start = knownValue(nOffset, forall);
    if (!start || *start + g.N != srcN)
      return;
  }
  g.bSource = source;
  g.hoist = true;
  g.nOffset = nOffset;
  if (batchOffset)
    g.batchOffset = batchOffset;
  g.srcN = srcN;
  g.srcB = srcB;
}

/// The buffer a view is a view of.
Value baseBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `root` or an op nested in it may write `buffer` (or a view of
/// it); an op whose effects are unknown may.
bool mayWrite(Operation *root, Value buffer) {
  Value base = baseBuffer(buffer);
  WalkResult result = root->walk([&](Operation *op) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects) {
      if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
          isMemoryEffectFree(op))
        return WalkResult::advance();
      return WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (MemoryEffects::EffectInstance &e : instances) {
      if (!isa<MemoryEffects::Write>(e.getEffect()))
        continue;
      Value target = e.getValue();
      if (!target || baseBuffer(target) == base)
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Packed B buffers created before a loop, by source buffer and layout.
using PackCache = DenseMap<std::pair<Value, int>, Value>;

class GemmEmitter {
public:
  GemmEmitter(const GemmSchedule &s, GemmMatch &g,
              SmallVectorImpl<Operation *> &mathOps)
      : s(s), g(g), mathOps(mathOps) {}

  void emit(RewriterBase &rewriter, PackCache &cache) {
    ImplicitLocOpBuilder b(g.op.getLoc(), rewriter);
    // At the epilogue, whose operands may be views made after the
    // contraction (nothing in between writes memory or touches C).
    b.setInsertionPoint(g.epilogue ? g.epilogue.getOperation()
                                   : g.op.getOperation());
    packed = g.hoist ? hoistedPack(rewriter, cache) : localPack(b);
    int64_t lanes = s.lanes;
    tileM = std::min(g.M, s.tileM);
    tileN = std::min(g.N, s.tileN);
    kcMax = g.K <= s.kcWhole ? g.K : s.kc;
    // Work-item scratch on the stack: a parallel work item restores it
    // (memref.alloca_scope); inside a serial loop it would grow by one
    // buffer per iteration, so there it is a heap buffer (freed by the
    // deallocation pipeline).
    bool stack = true;
    for (Operation *parent = g.op->getParentOp(); parent;
         parent = parent->getParentOp()) {
      if (isa<scf::ForallOp, scf::ParallelOp, FunctionOpInterface>(parent))
        break;
      if (isa<LoopLikeOpInterface>(parent)) {
        stack = false;
        break;
      }
    }
    auto scratch = [&](MemRefType type) -> Value {
      if (stack)
        return memref::AllocaOp::create(b, type, b.getI64IntegerAttr(64));
      return memref::AllocOp::create(b, type, b.getI64IntegerAttr(64));
    };
    if (tileM > 0 && kcMax > 0)
      ap = scratch(g.aKContiguous
                       ? MemRefType::get({tileM, kcMax}, b.getF32Type())
                       : MemRefType::get({kcMax, ceilDiv(tileM, lanes) * lanes},
                                         b.getF32Type()));
    if (g.K > kcMax)
      partial = scratch(MemRefType::get({tileM, ceilDiv(tileN, lanes) * lanes},
                                        b.getF32Type()));
    streamOut = streamingOutput(b);
    forRange(b, g.B, [&](ImplicitLocOpBuilder &bb, Value bt) {
      batchIdx = bt;
      forBlocks(bb, g.M, tileM, [&](ImplicitLocOpBuilder &mb, Value m0, int64_t rows) {
        forBlocks(mb, g.N, tileN, [&](ImplicitLocOpBuilder &nb, Value n0, int64_t cols) {
          emitTile(nb, m0, rows, n0, cols);
        });
      });
    });
    // C existed only for the epilogue: it, the fill and the ops are gone.
    Operation *cAlloc = g.epilogue ? g.c.getDefiningOp() : nullptr;
    if (g.epilogue)
      rewriter.eraseOp(g.epilogue);
    rewriter.eraseOp(g.op);
    if (g.fill)
      rewriter.eraseOp(g.fill);
    if (cAlloc) {
      for (Operation *user : llvm::make_early_inc_range(g.c.getUsers()))
        rewriter.eraseOp(user);
      rewriter.eraseOp(cAlloc);
    }
  }

private:
  /// Blocks of `block` along a dim of `total`: an scf.for over the whole
  /// ones and a static remainder.
  static void
  forBlocks(ImplicitLocOpBuilder &b, int64_t total, int64_t block,
            function_ref<void(ImplicitLocOpBuilder &, Value, int64_t)> body) {
    if (total == 0 || block == 0)
      return;
    forRowGroups(b, idx(b, 0), total, block, body);
  }

  /// The index vector of a memref whose dims are the contraction dims
  /// `dims`, at the given values of batch, m, n and k.
  SmallVector<Value> at(ArrayRef<unsigned> dims, Value m, Value n, Value k) {
    SmallVector<Value> indices;
    for (unsigned d : dims)
      indices.push_back(d == g.m ? m : d == g.n ? n : d == g.k ? k : batchIdx);
    return indices;
  }

  /// `lanes` floats of B's source along its contiguous dim (see BSource).
  Value loadB(ImplicitLocOpBuilder &b, Value batch, Value row, Value col0,
              Value mask, Value valid) {
    VectorType vt = s.vectorType(b);
    Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
    SmallVector<Value> indices;
    for (unsigned d : g.bDims) {
      bool nk = g.bLayout == BLayout::NK;
      if (d == g.n)
        indices.push_back(nk ? row : col0);
      else if (d == g.k)
        indices.push_back(nk ? col0 : row);
      else
        indices.push_back(batch);
    }
    Value v = mask ? vector::MaskedLoadOp::create(b, vt, g.bSource, indices,
                                                  mask, zero)
                         .getResult()
                   : vector::LoadOp::create(b, vt, g.bSource, indices)
                         .getResult();
    return valid ? arith::SelectOp::create(b, valid, v, zero).getResult() : v;
  }

  void pack(ImplicitLocOpBuilder &b, Value dst, bool parallel) {
    auto load = [&](ImplicitLocOpBuilder &lb, Value batch, Value row, Value col0,
                    Value mask, Value valid) {
      return loadB(lb, batch, row, col0, mask, valid);
    };
    packB(b, s, BSource{g.bLayout, load}, dst, g.srcB, g.srcN, g.K, parallel);
  }

  Value localPack(ImplicitLocOpBuilder &b) {
    Value dst = memref::AllocOp::create(
        b, packedBType(b, s, g.srcB, g.srcN, g.K), b.getI64IntegerAttr(64));
    pack(b, dst, /*parallel=*/false);
    return dst;
  }

  /// The packed source, made just before the scf.forall of this tile (what
  /// the program wrote into B before the loop is there), or the one an
  /// earlier loop of the same block used when nothing in between may write
  /// B (the pieces of a split root share one pack).
  Value hoistedPack(RewriterBase &rewriter, PackCache &cache) {
    auto forall = g.op->getParentOfType<scf::ForallOp>();
    auto key = std::make_pair(g.bSource, int(g.bLayout));
    if (Value cached = cache.lookup(key)) {
      Operation *pack = cached.getDefiningOp();
      bool reusable = pack->getBlock() == forall->getBlock() &&
                      pack->isBeforeInBlock(forall);
      for (Operation *op = pack->getNextNode(); reusable && op != forall;
           op = op->getNextNode())
        reusable = !mayWrite(op, g.bSource);
      if (reusable)
        return cached;
    }
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(forall);
    ImplicitLocOpBuilder b(g.bSource.getLoc(), rewriter);
    // Parallel over (batch, column vector) unless already inside a
    // parallel loop.
    Operation *parent = b.getInsertionBlock()->getParentOp();
    bool parallel = !parent->getParentOfType<scf::ForallOp>() &&
                    !parent->getParentOfType<scf::ParallelOp>() &&
                    !isa<scf::ForallOp, scf::ParallelOp>(parent);
    Value dst = allocCallScratch(b, packedBType(b, s, g.srcB, g.srcN, g.K), 64);
    pack(b, dst, parallel);
    cache[key] = dst;
    return dst;
  }

  void emitTile(ImplicitLocOpBuilder &b, Value m0, int64_t rows, Value n0,
                int64_t cols) {
    if (g.K <= kcMax) {
      emitBlock(b, m0, rows, n0, cols, idx(b, 0), g.K, true, true);
      return;
    }
    int64_t tailK = g.K % kcMax;
    int64_t blocks = g.K / kcMax + (tailK ? 1 : 0);
    emitBlock(b, m0, rows, n0, cols, idx(b, 0), kcMax, true, false);
    forRange(b, blocks - 2, [&](ImplicitLocOpBuilder &ib, Value c) {
      emitBlock(ib, m0, rows, n0, cols, muli(ib, addi(ib, c, 1), kcMax), kcMax,
                false, false);
    });
    emitBlock(b, m0, rows, n0, cols, idx(b, (blocks - 1) * kcMax),
              tailK ? tailK : kcMax, false, true);
  }

  /// i1 whether the final stores may stream (non-temporal: no read of each
  /// line for ownership first), or null when they never may. A result of
  /// the target's stream-l3s L3 shares or more (the whole L3; on Intel one
  /// share) is gone from cache, or costlier to own than to miss, before
  /// anyone reads it; whole column groups then stream when the tile starts
  /// a line and every row does (strides in whole lines; tested once per
  /// work item).
  Value streamingOutput(ImplicitLocOpBuilder &b) {
    if (viewedBufferBytes(g.out) < s.gemmStreamOutBytes)
      return Value();
    auto type = cast<MemRefType>(g.out.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)))
      return Value();
    for (auto [dim, stride] : llvm::zip_equal(g.outDims, strides)) {
      // Rows in whole lines (whole write-combining buffers) and whole
      // vectors (each streaming store is aligned to its size).
      bool lineRows = !ShapedType::isDynamic(stride) &&
                      stride % s.lineFloats == 0 && stride % s.lanes == 0;
      if (dim == g.n ? stride != 1 : !lineRows)
        return Value();
    }
    return startsLine(b, g.out);
  }

  /// Vectors per run of A's packing copied without a loop.
  static constexpr int64_t kUnrolledPackVectors = 16;

  /// The tile's rows [m0, m0 + rows) of A's reductions [k0, k0 + len) into
  /// the stack buffer ap.
  void packA(ImplicitLocOpBuilder &b, Value m0, int64_t rows, Value k0,
             int64_t len) {
    int64_t lanes = s.lanes;
    VectorType vt = s.vectorType(b);
    // Rows of A along its contiguous dim: runs of `runLen` floats, `runs`
    // of them.
    int64_t runs = g.aKContiguous ? rows : len;
    int64_t runLen = g.aKContiguous ? len : rows;
    forRange(b, runs, [&](ImplicitLocOpBuilder &rb, Value r) {
      auto copy = [&](ImplicitLocOpBuilder &cb, Value c, int64_t n) {
        Value mask = n < lanes ? laneMask(cb, lanes, n) : Value();
        SmallVector<Value> src =
            g.aKContiguous
                ? at(g.aDims, arith::AddIOp::create(cb, m0, r),
                     Value(), arith::AddIOp::create(cb, k0, c))
                : at(g.aDims, arith::AddIOp::create(cb, m0, c), Value(),
                     arith::AddIOp::create(cb, k0, r));
        Value zero =
            arith::ConstantOp::create(cb, DenseElementsAttr::get(vt, 0.0f));
        Value v = mask ? vector::MaskedLoadOp::create(cb, vt, g.a, src, mask,
                                                      zero)
                             .getResult()
                       : vector::LoadOp::create(cb, vt, g.a, src).getResult();
        storeLanes(cb, s, v, ap, ValueRange{r, c}, n);
      };
      int64_t full = runLen / lanes;
      // A short run is copied in straight-line code: as a loop LLVM turns
      // it into a call to memcpy per row (1-2 % of a GEMM on Intel).
      if (full > 1 && full <= kUnrolledPackVectors)
        for (int64_t c = 0; c < full; ++c)
          copy(rb, idx(rb, c * lanes), lanes);
      else if (full > 1)
        scf::ForOp::create(rb, idx(rb, 0), idx(rb, full * lanes), idx(rb, lanes),
                           ValueRange{},
                           [&](OpBuilder &nb, Location loc, Value c, ValueRange) {
                             ImplicitLocOpBuilder ib(loc, nb);
                             copy(ib, c, lanes);
                             scf::YieldOp::create(ib);
                           });
      else if (full == 1)
        copy(rb, idx(rb, 0), lanes);
      if (runLen % lanes)
        copy(rb, idx(rb, full * lanes), runLen % lanes);
    });
  }

  void emitBlock(ImplicitLocOpBuilder &b, Value m0, int64_t rows, Value n0,
                 int64_t cols, Value k0, int64_t len, bool first, bool last) {
    int64_t lanes = s.lanes;
    blockRows = rows;
    blockCols = cols;
    if (len > 0)
      packA(b, m0, rows, k0, len);
    int64_t groupCols = s.groupCols();
    int64_t fullGroups = cols / groupCols;
    int64_t remCols = cols - fullGroups * groupCols;
    // The packed width of B's last, partial group of columns.
    int64_t srcPadded = ceilDiv(g.srcN, lanes) * lanes;
    int64_t srcLastWidth = srcPadded - (g.srcN / lanes / s.vecs) * groupCols;
    auto group = [&](ImplicitLocOpBuilder &gb, Value j0, int64_t nvec,
                     int64_t lastLanes, int64_t width) {
      forRowGroups(gb, idx(gb, 0), rows, s.rowsForVecs(nvec),
                   [&](ImplicitLocOpBuilder &rb, Value r0, int64_t rr) {
                     emitMicro(rb, m0, n0, r0, rr, j0, nvec, lastLanes, width,
                               k0, len, first, last);
                   });
    };
    // Column groups outer: a kc x width panel of B stays in L1 while the
    // tile's rows of A stream from the stack buffer (L2).
    forRange(b, fullGroups, [&](ImplicitLocOpBuilder &ib, Value gi) {
      group(ib, muli(ib, gi, groupCols), s.vecs, lanes, groupCols);
    });
    if (remCols) {
      int64_t remVecs = ceilDiv(remCols, lanes);
      group(b, idx(b, fullGroups * groupCols), remVecs,
            remCols % lanes ? remCols % lanes : lanes, srcLastWidth);
    }
  }

  void emitMicro(ImplicitLocOpBuilder &b, Value m0, Value n0, Value r0,
                 int64_t rr, Value j0, int64_t nvec, int64_t lastLanes,
                 int64_t width, Value k0, int64_t len, bool first, bool last) {
    int64_t lanes = s.lanes;
    VectorType vt = s.vectorType(b);
    SmallVector<Value> rowIdx, colIdx, m, n;
    for (int64_t r = 0; r < rr; ++r) {
      rowIdx.push_back(addi(b, r0, r));
      m.push_back(arith::AddIOp::create(b, m0, rowIdx.back()));
    }
    for (int64_t v = 0; v < nvec; ++v) {
      colIdx.push_back(addi(b, j0, v * lanes));
      n.push_back(arith::AddIOp::create(b, n0, colIdx.back()));
    }
    auto maskFor = [&](ImplicitLocOpBuilder &mb, int64_t v) {
      return v == nvec - 1 && lastLanes < lanes ? laneMask(mb, lanes, lastLanes)
                                                : Value();
    };
    Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
    SmallVector<Value> init;
    for (int64_t r = 0; r < rr; ++r)
      for (int64_t v = 0; v < nvec; ++v) {
        if (!first) {
          init.push_back(vector::LoadOp::create(b, vt, partial,
                                                ValueRange{rowIdx[r], colIdx[v]}));
        } else if (g.fill) {
          init.push_back(
              vector::BroadcastOp::create(b, vt, g.fill.getInputs()[0]));
        } else {
          SmallVector<Value> where = at(g.cDims, m[r], n[v], Value());
          Value mask = maskFor(b, v);
          init.push_back(
              mask ? vector::MaskedLoadOp::create(b, vt, g.c, where, mask, zero)
                         .getResult()
                   : vector::LoadOp::create(b, vt, g.c, where).getResult());
        }
      }
    // B's panel of this column group in the packed source: its first
    // column, and the batch row.
    Value batchRow = arith::AddIOp::create(
        b, getValueOrCreateConstantIndexOp(b, b.getLoc(), g.batchOffset),
        batchIdx);
    Value groupCol = arith::AddIOp::create(
        b,
        arith::AddIOp::create(
            b, getValueOrCreateConstantIndexOp(b, b.getLoc(), g.nOffset), n0),
        j0);
    prefetchNext(b, batchRow, groupCol, m, r0, j0, nvec, width, k0, len,
                 last);
    SmallVector<Value> acc = broadcastTile(
        b, s, idx(b, 0), idx(b, len), init, rr, nvec,
        [&](ImplicitLocOpBuilder &ib, Value i) {
          Value panel = packedBOffset(ib, groupCol,
                                      arith::AddIOp::create(ib, k0, i),
                                      idx(ib, width), g.K);
          SmallVector<Value> wv;
          for (int64_t v = 0; v < nvec; ++v)
            wv.push_back(vector::LoadOp::create(
                ib, vt, packed, ValueRange{batchRow, addi(ib, panel, v * lanes)}));
          return wv;
        },
        [&](ImplicitLocOpBuilder &ib, Value i, int64_t r) {
          // Owned indices: a ValueRange of a braced list would point into
          // a temporary gone by the next statement.
          SmallVector<Value, 2> where{rowIdx[r], i};
          if (!g.aKContiguous)
            std::swap(where[0], where[1]);
          return memref::LoadOp::create(ib, ap, where).getResult();
        });
    if (!last) {
      for (int64_t v = 0; v < nvec; ++v)
        for (int64_t r = 0; r < rr; ++r)
          vector::StoreOp::create(b, acc[r * nvec + v], partial,
                                  ValueRange{rowIdx[r], colIdx[v]});
      return;
    }
    auto storeOne = [&](ImplicitLocOpBuilder &sb, int64_t r, int64_t v,
                        bool streaming) {
      Value mask = maskFor(sb, v);
      Value value = acc[r * nvec + v];
      if (g.epilogue)
        value = applyEpilogue(sb, value, m[r], n[v], mask);
      SmallVector<Value> where = at(g.outDims, m[r], n[v], Value());
      if (mask)
        vector::MaskedStoreOp::create(sb, g.out, where, mask, value);
      else if (streaming)
        storeStreaming(sb, value, g.out, where);
      else
        vector::StoreOp::create(sb, value, g.out, where);
    };
    // Only whole column groups stream: whole lines, a row's written back
    // to back. The epilogue runs next to each store (computing them all
    // first would spill).
    if (streamOut && nvec == s.vecs && lastLanes == lanes) {
      storeBranches(b, streamOut, [&](ImplicitLocOpBuilder &sb, bool streaming) {
        for (int64_t r = 0; r < rr; ++r)
          for (int64_t v = 0; v < nvec; ++v)
            storeOne(sb, r, v, streaming);
      });
      return;
    }
    for (int64_t v = 0; v < nvec; ++v)
      for (int64_t r = 0; r < rr; ++r)
        storeOne(b, r, v, /*streaming=*/false);
  }

  /// Software prefetches spread over the micro kernels of a block, so
  /// that what the next ones read first is on its way to L1 when they
  /// start: this micro's share of the next column group's packed panel
  /// (after the tile's last group: of the first group's next block of
  /// reductions; with s.panelPrefetchLines, only the panel's first lines,
  /// that many per micro), and, before a block that is not the last, its
  /// rows' share of A's next block of reductions (A's rows of a tile are
  /// `K` floats apart: short streams the hardware prefetcher starts late
  /// on). Panel offsets past the end are clamped (a prefetch never faults,
  /// but the index stays in bounds).
  void prefetchNext(ImplicitLocOpBuilder &b, Value batchRow, Value groupCol,
                    ArrayRef<Value> m, Value r0, Value j0, int64_t nvec,
                    int64_t width, Value k0, int64_t len, bool last) {
    const int64_t lineFloats = s.lineFloats;
    int64_t groupCols = s.groupCols();
    if (len == 0)
      return;
    auto prefetch = [&](Value buffer, ValueRange indices) {
      memref::PrefetchOp::create(b, buffer, indices, /*isWrite=*/false,
                                 /*localityHint=*/3, /*isDataCache=*/true);
    };
    if (width == groupCols) {
      int64_t rowsPerMicro = s.rowsForVecs(nvec);
      int64_t lines = ceilDiv(len * width, lineFloats);
      // Panels of a packed B larger than a core's L3 share come from
      // memory: a few lines of lead are not enough there, the whole next
      // panel is (AVX2 K = 4096 x N = 1024: 1049 -> 826 ms on two threads).
      auto packedType = cast<MemRefType>(packed.getType());
      bool fromMemory = !packedType.hasStaticShape() ||
                        packedType.getNumElements() * 4 > s.farPanelBytes;
      int64_t per = s.panelPrefetchLines && !fromMemory
                        ? std::min(s.panelPrefetchLines, lines)
                        : ceilDiv(lines, ceilDiv(blockRows, rowsPerMicro));
      Value micro = arith::DivUIOp::create(b, r0, idx(b, rowsPerMicro));
      Value isLastGroup =
          arith::CmpIOp::create(b, arith::CmpIPredicate::uge,
                                addi(b, j0, groupCols), idx(b, blockCols));
      Value nextGroup = arith::AddIOp::create(
          b, muli(b, addi(b, groupCol, groupCols), g.K), muli(b, k0, width));
      Value firstGroup = arith::SubIOp::create(b, groupCol, j0);
      Value nextBlock = arith::AddIOp::create(
          b, muli(b, firstGroup, g.K), muli(b, addi(b, k0, len), width));
      Value base =
          arith::SelectOp::create(b, isLastGroup, nextBlock, nextGroup);
      int64_t total = cast<MemRefType>(packed.getType()).getDimSize(1);
      for (int64_t j = 0; j < per; ++j) {
        Value off = arith::AddIOp::create(
            b, base, muli(b, addi(b, muli(b, micro, per), j), lineFloats));
        prefetch(packed, {batchRow, arith::MinUIOp::create(
                                        b, off, idx(b, total - 1))});
      }
    }
    if (last || !g.aKContiguous)
      return;
    int64_t lines = ceilDiv(len, lineFloats);
    int64_t per = ceilDiv(lines, ceilDiv(blockCols, groupCols));
    Value group = arith::DivUIOp::create(b, j0, idx(b, groupCols));
    for (Value row : m)
      for (int64_t j = 0; j < per; ++j) {
        Value k = arith::AddIOp::create(
            b, addi(b, k0, len),
            muli(b, addi(b, muli(b, group, per), j), lineFloats));
        prefetch(g.a, at(g.aDims, row,
                         Value(), arith::MinUIOp::create(b, k, idx(b, g.K - 1))));
      }
  }

  /// The epilogue's body on the accumulator vector of row m, columns n...
  Value applyEpilogue(ImplicitLocOpBuilder &b, Value acc, Value m, Value n,
                      Value mask) {
    VectorType vt = s.vectorType(b);
    Block &body = *g.epilogue.getBlock();
    SmallVector<Value> args;
    for (OpOperand &operand : g.epilogue->getOpOperands()) {
      unsigned i = operand.getOperandNumber();
      if (i == g.epilogueC) {
        args.push_back(acc);
        continue;
      }
      if (g.epilogue.isDpsInit(&operand) && body.getArgument(i).use_empty()) {
        args.push_back(Value());
        continue;
      }
      Value v = operand.get();
      if (!isa<MemRefType>(v.getType())) {
        args.push_back(vector::BroadcastOp::create(b, vt, v));
        continue;
      }
      const SmallVector<unsigned> &dims = g.epilogueDims[i];
      SmallVector<Value> where = at(dims, m, n, Value());
      if (!llvm::is_contained(dims, g.n)) {
        args.push_back(vector::BroadcastOp::create(
            b, vt, memref::LoadOp::create(b, v, where)));
        continue;
      }
      if (mask) {
        Value zero = arith::ConstantOp::create(b, DenseElementsAttr::get(vt, 0.0f));
        args.push_back(
            vector::MaskedLoadOp::create(b, vt, v, where, mask, zero));
      } else {
        args.push_back(vector::LoadOp::create(b, vt, v, where));
      }
    }
    return vectorizeBody(b, body, args, s.lanes, mathOps).front();
  }

  const GemmSchedule &s;
  GemmMatch &g;
  SmallVectorImpl<Operation *> &mathOps;
  Value packed, ap, partial, batchIdx, streamOut;
  int64_t tileM = 0, tileN = 0, kcMax = 0, blockRows = 0, blockCols = 0;
};

} // namespace

LogicalResult mlir::loom::lowerContractionsToVector(
    RewriterBase &rewriter, Operation *root, const CpuTargetDescription &target,
    SmallVectorImpl<Operation *> &mathOps) {
  GemmSchedule s = GemmSchedule::forTarget(target);
  SmallVector<linalg::LinalgOp> contractions;
  root->walk([&](linalg::LinalgOp op) {
    if (op.hasPureBufferSemantics() && linalg::isaContractionOpInterface(op))
      contractions.push_back(op);
  });
  PackCache cache;
  for (linalg::LinalgOp op : contractions) {
    std::optional<GemmMatch> g = matchContraction(op);
    if (!g)
      continue;
    matchFill(*g);
    matchEpilogue(*g);
    matchBSource(*g, s);
    GemmEmitter(s, *g, mathOps).emit(rewriter, cache);
  }
  return success();
}
