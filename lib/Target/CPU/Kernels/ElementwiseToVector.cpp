//===- ElementwiseToVector.cpp - linalg elementwise/reductions on vectors -===//
//
// Elementwise and reduction linalg ops on buffers (after loom-tile-and-fuse
// they are static tiles: a bias-add tile, a LayerNorm or softmax row block)
// become loops whose innermost dim runs on vectors of the target's lanes:
//
// - the vector dim v is one along which every operand is either contiguous
//   (its last dim, unit stride: vector loads and stores, masked for the
//   tail) or absent (a scalar load, broadcast): normally the innermost
//   loop, else the contiguous dim of an operand (a transposed iteration);
// - v parallel: every output is contiguous along v; the other loops are
//   scalar scf.for (outer reductions read-modify-write the output vector);
// - v a reduction (row sums, maxima): every output is absent along v and
//   yields combine(out, x) for an add, mul, max or min; the lanes carry
//   four independent partial results (the FMA/add latency) that are
//   combined, reduced across lanes and into the output once per row.
//
// A body of arith and math ops is cloned onto vectors (vectorizeBody, also
// used by the GEMM epilogue); math ops are then replaced by polynomial
// approximations. Anything else (linalg.index, gathers, non-f32 buffers)
// is left to convert-linalg-to-loops.
//
//===----------------------------------------------------------------------===//

#include "ElementwiseKernels.h"
#include "VectorMath.h"
#include "loom/Target/CPU/Kernels.h"

#include "loom/Conversion/KernelBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <limits>

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::kernel;

bool mlir::loom::kernel::sameBuffer(Value a, Value b) {
  if (a == b)
    return true;
  auto va = a.getDefiningOp<memref::SubViewOp>();
  auto vb = b.getDefiningOp<memref::SubViewOp>();
  return va && vb &&
         OperationEquivalence::isEquivalentTo(
             va, vb, OperationEquivalence::exactValueMatch, nullptr,
             OperationEquivalence::IgnoreLocations);
}

bool mlir::loom::kernel::isVectorizableBody(Block &body) {
  auto scalar = [](Type t) {
    return isa<FloatType>(t) || (isa<IntegerType>(t));
  };
  for (Operation &op : body.without_terminator()) {
    if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op))
      return false;
    if (!isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return false;
    if (!isa<arith::ConstantOp>(op) && !op.hasTrait<OpTrait::Elementwise>())
      return false;
    // LLVM's powi takes a scalar exponent: vectors of them do not lower.
    if (isa<math::FPowIOp>(op))
      return false;
    if (!llvm::all_of(op.getOperandTypes(), scalar) ||
        !llvm::all_of(op.getResultTypes(), scalar))
      return false;
  }
  return llvm::all_of(body.getArgumentTypes(), scalar);
}

SmallVector<Value>
mlir::loom::kernel::vectorizeBody(ImplicitLocOpBuilder &b, Block &body,
                                  ValueRange args, int64_t lanes,
                                  SmallVectorImpl<Operation *> &mathOps) {
  IRMapping map;
  for (auto [arg, value] : llvm::zip(body.getArguments(), args))
    if (value)
      map.map(arg, value);
  auto vectorOf = [&](Type t) { return VectorType::get({lanes}, t); };
  auto operand = [&](Value v) -> Value {
    if (Value mapped = map.lookupOrNull(v))
      return mapped;
    return vector::BroadcastOp::create(b, vectorOf(v.getType()), v);
  };
  for (Operation &op : body.without_terminator()) {
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      auto type = vectorOf(cst.getType());
      map.map(cst.getResult(),
              arith::ConstantOp::create(
                  b, type, DenseElementsAttr::get(type, cst.getValue())));
      continue;
    }
    OperationState state(op.getLoc(), op.getName());
    for (Value v : op.getOperands())
      state.addOperands(operand(v));
    for (Type t : op.getResultTypes())
      state.addTypes(vectorOf(t));
    state.addAttributes(op.getAttrs());
    Operation *vectorOp = b.create(state);
    if (isa<math::MathDialect>(vectorOp->getDialect()))
      mathOps.push_back(vectorOp);
    for (auto [from, to] : llvm::zip(op.getResults(), vectorOp->getResults()))
      map.map(from, to);
  }
  SmallVector<Value> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(operand(v));
  return results;
}

namespace {

/// erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (erf(4) = 1 - 1.5e-8 in f32):
/// degree-5 P and Q fitted to erf(x)/x by iteratively reweighted linear
/// least squares (Sanathanan-Koerner, Lawson weights) on 40,000 points of
/// (0, 4]. Evaluated in f32: at most 3.7e-7 from erf (float64) on [-6, 6],
/// 3.2e-7 relative below 4.
constexpr double kErfP[] = {1.128379,     0.19622397,    0.05346442,
                            0.0040026456, 0.00028803118, 1.9751794e-06};
constexpr double kErfQ[] = {1.0,         0.50723016,   0.11646632,
                            0.015442405, 0.0012161405, 3.7483955e-05};

struct FastErf : OpRewritePattern<math::ErfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::ErfOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto constant = [&](double v) -> Value {
      auto attr = b.getF32FloatAttr(v);
      if (auto vt = dyn_cast<VectorType>(type))
        return arith::ConstantOp::create(b, vt, DenseElementsAttr::get(vt, attr));
      return arith::ConstantOp::create(b, attr);
    };
    auto polynomial = [&](Value y, ArrayRef<double> c) {
      Value acc = constant(c.back());
      for (double coefficient : llvm::reverse(c.drop_back()))
        acc = math::FmaOp::create(b, y, acc, constant(coefficient));
      return acc;
    };
    Value x = arith::MaximumFOp::create(
        b, arith::MinimumFOp::create(b, op.getOperand(), constant(4.0)),
        constant(-4.0));
    Value y = arith::MulFOp::create(b, x, x);
    Value p = arith::MulFOp::create(b, x, polynomial(y, kErfP));
    rewriter.replaceOpWithNewOp<arith::DivFOp>(op, p, polynomial(y, kErfQ));
    return success();
  }
};

/// How an operand is read along the vector dim. A transposed operand is
/// contiguous along another loop dim (the generic's transposed dim t): it is
/// read in lanes x lanes blocks, transposed in registers. A gathered one
/// (e.g. a [C, 1, 3] convolution weight read at (c, 0, j)) is read one lane
/// at a time.
enum class Access { Contiguous, Broadcast, Transposed, Gathered, Scalar };

/// What planFor may use beyond contiguous and broadcast operands, tried in
/// this order so that the cheapest plan wins.
enum class Reads { Direct, Transposes, Gathers };

struct OperandPlan {
  Access access;
  /// For memref operands, per index: the loop dim it reads (-1 for a
  /// constant index) plus `offsets` (a map result `d + c`, or `c`).
  SmallVector<int64_t> dims;
  SmallVector<int64_t> offsets;
};

/// The indices of a memref operand's map when each is `d`, `d + c` or `c`
/// (what the frontend's shifted reads and the M2 short convolution's taps
/// use); false for anything else.
bool parseIndexing(AffineMap map, OperandPlan &p) {
  for (AffineExpr e : map.getResults()) {
    int64_t offset = 0;
    if (auto add = dyn_cast<AffineBinaryOpExpr>(e);
        add && add.getKind() == AffineExprKind::Add) {
      auto c = dyn_cast<AffineConstantExpr>(add.getRHS());
      if (!c)
        return false;
      offset = c.getValue();
      e = add.getLHS();
    }
    if (auto c = dyn_cast<AffineConstantExpr>(e)) {
      p.dims.push_back(-1);
      p.offsets.push_back(offset + c.getValue());
    } else if (auto d = dyn_cast<AffineDimExpr>(e)) {
      p.dims.push_back(d.getPosition());
      p.offsets.push_back(offset);
    } else {
      return false;
    }
  }
  return true;
}

/// A reduction output's combiner: the op yielding combine(out, x).
struct Combiner {
  vector::CombiningKind kind;
  Attribute neutral;
};

std::optional<Combiner> combinerOf(Operation *op, Type elementType) {
  auto f32 = [&](double v) { return FloatAttr::get(elementType, v); };
  double inf = std::numeric_limits<double>::infinity();
  if (isa<arith::AddFOp>(op))
    return Combiner{vector::CombiningKind::ADD, f32(0.0)};
  if (isa<arith::MulFOp>(op))
    return Combiner{vector::CombiningKind::MUL, f32(1.0)};
  if (isa<arith::MaximumFOp>(op))
    return Combiner{vector::CombiningKind::MAXIMUMF, f32(-inf)};
  if (isa<arith::MaxNumFOp>(op))
    return Combiner{vector::CombiningKind::MAXNUMF, f32(-inf)};
  if (isa<arith::MinimumFOp>(op))
    return Combiner{vector::CombiningKind::MINIMUMF, f32(inf)};
  if (isa<arith::MinNumFOp>(op))
    return Combiner{vector::CombiningKind::MINNUMF, f32(inf)};
  return std::nullopt;
}

/// Emits the nest of scf.for over `dims` (static ranges) and calls `body`
/// with every loop dim's value (dims not in `dims` stay null).
void loopNest(ImplicitLocOpBuilder &b, ArrayRef<unsigned> dims,
              ArrayRef<int64_t> ranges, SmallVector<Value> &ivs,
              function_ref<void(ImplicitLocOpBuilder &)> body) {
  if (dims.empty()) {
    body(b);
    return;
  }
  unsigned d = dims.front();
  if (ranges[d] == 1) {
    ivs[d] = idx(b, 0);
    loopNest(b, dims.drop_front(), ranges, ivs, body);
    return;
  }
  if (ranges[d] == 0)
    return;
  scf::ForOp::create(b, idx(b, 0), idx(b, ranges[d]), idx(b, 1), ValueRange{},
                     [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                       ImplicitLocOpBuilder ib(loc, nb);
                       ivs[d] = iv;
                       loopNest(ib, dims.drop_front(), ranges, ivs, body);
                       scf::YieldOp::create(ib);
                     });
}

class GenericVectorizer {
public:
  GenericVectorizer(linalg::GenericOp op, int64_t lanes,
                    SmallVectorImpl<Operation *> &mathOps)
      : op(op), lanes(lanes), mathOps(mathOps) {}

  /// Plans the vectorization; false when the op must stay scalar.
  bool plan() {
    if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
        !isVectorizableBody(*op.getBlock()))
      return false;
    ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return false;
    // The innermost loop, else the contiguous dim of an operand.
    SmallVector<unsigned> candidates{op.getNumLoops() - 1};
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type)
        continue;
      OperandPlan p;
      if (!type.getElementType().isF32() ||
          !parseIndexing(op.getMatchingIndexingMap(&operand), p))
        return false;
      if (!p.dims.empty() && p.dims.back() >= 0)
        candidates.push_back(p.dims.back());
    }
    // Every operand contiguous or broadcast along v first; then v with
    // some inputs transposed (read in square blocks), then gathered.
    for (Reads reads : {Reads::Direct, Reads::Transposes, Reads::Gathers})
      for (unsigned v : candidates)
        if (planFor(v, reads))
          return true;
    return false;
  }

  void emit(RewriterBase &rewriter) {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    b.setInsertionPoint(op);
    SmallVector<unsigned> outer;
    for (unsigned d = 0; d < op.getNumLoops(); ++d)
      if (d != vdim)
        outer.push_back(d);
    if (tdim >= 0)
      llvm::erase(outer, unsigned(tdim));
    SmallVector<Value> ivs(op.getNumLoops());
    loopNest(b, outer, ranges, ivs, [&](ImplicitLocOpBuilder &ib) {
      if (reduction)
        emitReductionRow(ib, ivs);
      else if (tdim >= 0)
        emitTransposedBlocks(ib, ivs);
      else
        emitParallelRow(ib, ivs);
    });
    rewriter.eraseOp(op);
  }

private:
  bool planFor(unsigned v, Reads reads) {
    vdim = v;
    tdim = -1;
    reduction = op.getIteratorTypesArray()[v] == utils::IteratorType::reduction;
    bool transposes = reads == Reads::Transposes;
    plans.clear();
    for (OpOperand &operand : op->getOpOperands()) {
      OperandPlan p;
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type) {
        p.access = Access::Scalar;
        plans.push_back(p);
        continue;
      }
      parseIndexing(op.getMatchingIndexingMap(&operand), p);
      int64_t uses = llvm::count(p.dims, int64_t(v));
      bool isOutput = op.isDpsInit(&operand);
      if (uses == 0)
        p.access = Access::Broadcast;
      else if (uses == 1 && p.dims.back() == v && type.isLastDimUnitStride())
        p.access = Access::Contiguous;
      else if (transposes && !reduction && !isOutput && uses == 1 &&
               p.dims.back() >= 0 && p.dims.back() != int64_t(v) &&
               op.getIteratorTypesArray()[p.dims.back()] ==
                   utils::IteratorType::parallel &&
               type.isLastDimUnitStride() &&
               llvm::count(p.dims, p.dims.back()) == 1 &&
               (tdim < 0 || tdim == p.dims.back()))
        // Contiguous along t != v: read as lanes x lanes blocks.
        p.access = Access::Transposed, tdim = p.dims.back();
      else if (reads == Reads::Gathers && !isOutput)
        p.access = Access::Gathered;
      else
        return false;
      if (isOutput && reduction && p.access != Access::Broadcast)
        return false;
      if (isOutput && !reduction && p.access != Access::Contiguous)
        return false;
      plans.push_back(p);
    }
    if (tdim >= 0 &&
        (ranges[v] % lanes != 0 || ranges[tdim] % lanes != 0))
      return false;
    if (!reduction)
      return true;
    // Each output yields combine(out, x), and out feeds nothing else.
    combiners.clear();
    Block &body = *op.getBlock();
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    for (OpOperand &init : op.getDpsInitsMutable()) {
      BlockArgument arg = op.getMatchingBlockArgument(&init);
      Value yielded = yield.getOperand(init.getOperandNumber() -
                                       op.getNumDpsInputs());
      Operation *combine = yielded.getDefiningOp();
      if (!combine || combine->getBlock() != &body || !yielded.hasOneUse() ||
          !arg.hasOneUse() || *arg.getUsers().begin() != combine)
        return false;
      std::optional<Combiner> c = combinerOf(combine, arg.getType());
      if (!c)
        return false;
      combiners.push_back(*c);
    }
    return true;
  }

  SmallVector<Value> indices(ImplicitLocOpBuilder &b, const OperandPlan &p,
                             ArrayRef<Value> ivs) {
    SmallVector<Value> at;
    for (auto [d, offset] : llvm::zip(p.dims, p.offsets)) {
      if (d < 0)
        at.push_back(idx(b, offset));
      else
        at.push_back(offset ? addi(b, ivs[d], offset) : ivs[d]);
    }
    return at;
  }

  VectorType vectorType(Type element) {
    return VectorType::get({lanes}, element);
  }

  /// The value of operand `i` for the chunk at ivs (v = its first lane),
  /// `mask` for a partial chunk.
  Value read(ImplicitLocOpBuilder &b, unsigned i, ArrayRef<Value> ivs,
             Value mask) {
    Value v = op->getOperand(i);
    const OperandPlan &p = plans[i];
    if (p.access == Access::Scalar)
      return vector::BroadcastOp::create(b, vectorType(v.getType()), v);
    Type element = cast<MemRefType>(v.getType()).getElementType();
    if (p.access == Access::Broadcast)
      return vector::BroadcastOp::create(
          b, vectorType(element), memref::LoadOp::create(b, v, indices(b, p, ivs)));
    if (p.access == Access::Gathered) {
      // Lane l at v + l; masked-off lanes stay zero and are never read.
      int64_t count = lanes;
      if (mask)
        count = cast<vector::ConstantMaskOp>(mask.getDefiningOp())
                    .getMaskDimSizes()[0];
      Value gathered = arith::ConstantOp::create(
          b, DenseElementsAttr::get(vectorType(element), b.getZeroAttr(element)));
      for (int64_t l = 0; l < count; ++l) {
        SmallVector<Value> at(ivs);
        at[vdim] = addi(b, ivs[vdim], l);
        Value x = memref::LoadOp::create(b, v, indices(b, p, at));
        gathered = vector::InsertOp::create(b, x, gathered, l);
      }
      return gathered;
    }
    if (mask) {
      Value zero = arith::ConstantOp::create(
          b, DenseElementsAttr::get(vectorType(element),
                                    b.getZeroAttr(element)));
      return vector::MaskedLoadOp::create(b, vectorType(element), v,
                                          indices(b, p, ivs), mask, zero);
    }
    return vector::LoadOp::create(b, vectorType(element), v, indices(b, p, ivs));
  }

  void emitParallelRow(ImplicitLocOpBuilder &b, SmallVector<Value> &ivs) {
    Block &body = *op.getBlock();
    auto chunk = [&](ImplicitLocOpBuilder &cb, Value j, Value mask) {
      SmallVector<Value> at(ivs);
      at[vdim] = j;
      SmallVector<Value> args;
      for (OpOperand &operand : op->getOpOperands()) {
        unsigned i = operand.getOperandNumber();
        BlockArgument arg = body.getArgument(i);
        if (op.isDpsInit(&operand) && arg.use_empty()) {
          args.push_back(Value());
          continue;
        }
        args.push_back(read(cb, i, at, mask));
      }
      SmallVector<Value> results =
          vectorizeBody(cb, body, args, lanes, mathOps);
      for (OpOperand &init : op.getDpsInitsMutable()) {
        unsigned i = init.getOperandNumber();
        Value value = results[i - op.getNumDpsInputs()];
        SmallVector<Value> where = indices(cb, plans[i], at);
        if (mask)
          vector::MaskedStoreOp::create(cb, init.get(), where, mask, value);
        else
          vector::StoreOp::create(cb, value, init.get(), where);
      }
    };
    int64_t len = ranges[vdim], full = len / lanes * lanes, rem = len % lanes;
    if (full == lanes)
      chunk(b, idx(b, 0), Value());
    else if (full > 0)
      scf::ForOp::create(b, idx(b, 0), idx(b, full), idx(b, lanes),
                         ValueRange{},
                         [&](OpBuilder &nb, Location loc, Value j, ValueRange) {
                           ImplicitLocOpBuilder ib(loc, nb);
                           chunk(ib, j, Value());
                           scf::YieldOp::create(ib);
                         });
    if (rem)
      chunk(b, idx(b, full),
            vector::ConstantMaskOp::create(
                b, VectorType::get({lanes}, b.getI1Type()),
                ArrayRef<int64_t>{rem}));
  }

  /// A parallel generic with transposed inputs: lanes x lanes blocks of
  /// (t, v). Each transposed input is read as lanes vectors along t (one
  /// per v) and transposed in registers; the body then runs once per t of
  /// the block on vectors along v, as emitParallelRow's.
  void emitTransposedBlocks(ImplicitLocOpBuilder &b, SmallVector<Value> &ivs) {
    Block &body = *op.getBlock();
    unsigned t = tdim;
    auto block = [&](ImplicitLocOpBuilder &bb, Value t0, Value v0) {
      SmallVector<Value> at(ivs);
      at[vdim] = v0;
      // columns[i][j]: input i's lanes along v at t = t0 + j.
      DenseMap<unsigned, SmallVector<Value>> columns;
      for (OpOperand &operand : op->getOpOperands()) {
        unsigned i = operand.getOperandNumber();
        if (plans[i].access != Access::Transposed)
          continue;
        SmallVector<Value> rows;
        for (int64_t l = 0; l < lanes; ++l) {
          SmallVector<Value> rowAt(at);
          rowAt[vdim] = addi(bb, v0, l);
          rowAt[t] = t0;
          rows.push_back(vector::LoadOp::create(
              bb, vectorType(bb.getF32Type()), operand.get(),
              indices(bb, plans[i], rowAt)));
        }
        columns[i] = transposeSquare(bb, rows);
      }
      for (int64_t j = 0; j < lanes; ++j) {
        at[t] = addi(bb, t0, j);
        SmallVector<Value> args;
        for (OpOperand &operand : op->getOpOperands()) {
          unsigned i = operand.getOperandNumber();
          BlockArgument arg = body.getArgument(i);
          if (op.isDpsInit(&operand) && arg.use_empty())
            args.push_back(Value());
          else if (plans[i].access == Access::Transposed)
            args.push_back(columns[i][j]);
          else
            args.push_back(read(bb, i, at, Value()));
        }
        SmallVector<Value> results =
            vectorizeBody(bb, body, args, lanes, mathOps);
        for (OpOperand &init : op.getDpsInitsMutable()) {
          unsigned i = init.getOperandNumber();
          vector::StoreOp::create(bb, results[i - op.getNumDpsInputs()],
                                  init.get(), indices(bb, plans[i], at));
        }
      }
    };
    auto loop = [&](ImplicitLocOpBuilder &lb, int64_t range,
                    function_ref<void(ImplicitLocOpBuilder &, Value)> f) {
      if (range == lanes) {
        f(lb, idx(lb, 0));
        return;
      }
      scf::ForOp::create(lb, idx(lb, 0), idx(lb, range), idx(lb, lanes),
                         ValueRange{},
                         [&](OpBuilder &nb, Location loc, Value iv, ValueRange) {
                           ImplicitLocOpBuilder ib(loc, nb);
                           f(ib, iv);
                           scf::YieldOp::create(ib);
                         });
    };
    // v outermost: the lanes lines a block reads along t are read again
    // by the next block along t, while they are in L1.
    loop(b, ranges[vdim], [&](ImplicitLocOpBuilder &vb, Value v0) {
      loop(vb, ranges[t], [&](ImplicitLocOpBuilder &tb, Value t0) {
        block(tb, t0, v0);
      });
    });
  }

  void emitReductionRow(ImplicitLocOpBuilder &b, SmallVector<Value> &ivs) {
    Block &body = *op.getBlock();
    unsigned numInputs = op.getNumDpsInputs();
    unsigned numOutputs = op.getNumDpsInits();
    int64_t len = ranges[vdim];
    // Independent partial results per output: the add/max latency would
    // otherwise bound a long row.
    int64_t unroll = len >= 4 * lanes ? 4 : 1;
    int64_t step = unroll * lanes;
    int64_t full = len / step * step;
    SmallVector<Value> acc;
    for (unsigned o = 0; o < numOutputs; ++o) {
      Type element = body.getArgument(numInputs + o).getType();
      Value neutral = arith::ConstantOp::create(
          b, DenseElementsAttr::get(vectorType(element),
                                    combiners[o].neutral));
      for (int64_t u = 0; u < unroll; ++u)
        acc.push_back(neutral);
    }
    // One chunk: the body with the accumulators as the outputs' values;
    // a partial chunk keeps the old accumulator in its masked-off lanes.
    auto chunk = [&](ImplicitLocOpBuilder &cb, Value j, Value mask,
                     ValueRange current, int64_t u) {
      SmallVector<Value> at(ivs);
      at[vdim] = j;
      SmallVector<Value> args;
      for (unsigned i = 0; i < numInputs; ++i)
        args.push_back(read(cb, i, at, mask));
      for (unsigned o = 0; o < numOutputs; ++o)
        args.push_back(current[o * unroll + u]);
      SmallVector<Value> next = vectorizeBody(cb, body, args, lanes, mathOps);
      if (mask)
        for (unsigned o = 0; o < numOutputs; ++o)
          next[o] = arith::SelectOp::create(cb, mask, next[o],
                                            current[o * unroll + u]);
      return next;
    };
    if (full > 0) {
      auto loop = scf::ForOp::create(
          b, idx(b, 0), idx(b, full), idx(b, step), acc,
          [&](OpBuilder &nb, Location loc, Value j, ValueRange current) {
            ImplicitLocOpBuilder ib(loc, nb);
            SmallVector<Value> next(current.begin(), current.end());
            for (int64_t u = 0; u < unroll; ++u) {
              SmallVector<Value> r =
                  chunk(ib, addi(ib, j, u * lanes), Value(), current, u);
              for (unsigned o = 0; o < numOutputs; ++o)
                next[o * unroll + u] = r[o];
            }
            scf::YieldOp::create(ib, next);
          });
      acc.assign(loop.getResults().begin(), loop.getResults().end());
    }
    for (int64_t j = full; j < len; j += lanes) {
      int64_t n = std::min(lanes, len - j);
      Value mask = n < lanes ? vector::ConstantMaskOp::create(
                                   b, VectorType::get({lanes}, b.getI1Type()),
                                   ArrayRef<int64_t>{n})
                             : Value();
      SmallVector<Value> r = chunk(b, idx(b, j), mask, acc, 0);
      for (unsigned o = 0; o < numOutputs; ++o)
        acc[o * unroll] = r[o];
    }
    for (unsigned o = 0; o < numOutputs; ++o) {
      vector::CombiningKind kind = combiners[o].kind;
      Value total = acc[o * unroll];
      for (int64_t u = 1; u < unroll; ++u)
        total = vector::makeArithReduction(b, b.getLoc(), kind, total,
                                           acc[o * unroll + u]);
      unsigned i = numInputs + o;
      Value out = op->getOperand(i);
      SmallVector<Value> where = indices(b, plans[i], ivs);
      Value old = memref::LoadOp::create(b, out, where);
      Value reduced = vector::ReductionOp::create(b, kind, total, old);
      memref::StoreOp::create(b, reduced, out, where);
    }
  }

  linalg::GenericOp op;
  int64_t lanes;
  SmallVectorImpl<Operation *> &mathOps;
  SmallVector<int64_t> ranges;
  unsigned vdim = 0;
  /// The transposed inputs' contiguous dim, or -1 when there are none.
  int64_t tdim = -1;
  bool reduction = false;
  SmallVector<OperandPlan> plans;
  SmallVector<Combiner> combiners;
};

} // namespace

void mlir::loom::kernel::populateFastErfPattern(RewritePatternSet &patterns) {
  patterns.add<FastErf>(patterns.getContext(), /*benefit=*/2);
}

LogicalResult mlir::loom::vectorizeElementwiseOps(
    RewriterBase &rewriter, Operation *root, const CpuTargetDescription &target,
    SmallVectorImpl<Operation *> &mathOps) {
  int64_t lanes = target.lanes();
  SmallVector<linalg::LinalgOp> candidates;
  root->walk([&](linalg::LinalgOp op) {
    if (op.hasPureBufferSemantics() && !linalg::isaContractionOpInterface(op) &&
        !isa<linalg::ConvolutionOpInterface>(op.getOperation()))
      candidates.push_back(op);
  });
  for (linalg::LinalgOp op : candidates) {
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic) {
      // Named elementwise ops (fill, copy, add, ...) as generics; kept
      // named when they do not vectorize.
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(op);
      auto clone = cast<linalg::LinalgOp>(rewriter.clone(*op));
      FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, clone);
      if (failed(g)) {
        rewriter.eraseOp(clone);
        continue;
      }
      GenericVectorizer v(*g, lanes, mathOps);
      if (!v.plan()) {
        rewriter.eraseOp(*g);
        continue;
      }
      v.emit(rewriter);
      rewriter.eraseOp(op);
      continue;
    }
    GenericVectorizer v(generic, lanes, mathOps);
    if (v.plan())
      v.emit(rewriter);
  }
  return success();
}
