//===- TileDynamicRows.cpp - static blocks for dynamic-shape matmuls ------===//
//
// A linalg.matmul with dynamic dims (a sequence length: the rows of a
// projection, the keys of an attention product) is rewritten into loops over
// blocks of static size, each block of A, B and C zero-padded to it where
// the dims run out, so that every matmul left has a static shape:
//
//   for i < M step Rm:  for j < N step Rn:  acc = pad(C[i.., j..])
//     for k < K step Rk:  acc += pad(A[i.., k..]) x pad(B[k.., j..])
//     C[i.., j..] = acc[0..m', 0..n']
//
// A static dim is one block, taken whole (no loop, no padding); a dense
// projection with dynamic rows reads its constant B whole, which
// kiln-tile-contractions packs once at compile time. Along a dynamic dim
// the whole blocks come first, slices of static size read in place; only
// the one block left over is padded (zero rows and columns add nothing to
// the products, so the padding costs work but never changes a result).
// kiln-tile-contractions then makes every block matmul a register-blocked
// kernel.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/Passes.h"
#include "lowering/Vectorize/MatmulKernel.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_TILEDYNAMICROWS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// The destination `v` was written into (the tensor it has the shape of),
/// or null: a tied init, a forall's shared output.
Value destinationOf(Value v) {
  auto r = dyn_cast<OpResult>(v);
  if (!r)
    return Value();
  Operation *o = r.getOwner();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(o))
    return dps.getTiedOpOperand(r)->get();
  if (auto forall = dyn_cast<scf::ForallOp>(o))
    return forall.getOutputs()[r.getResultNumber()];
  return Value();
}

/// A value of the shape of `v` defined as far out of loops as can be seen:
/// back through the destinations `v` was written into, and, for a tensor
/// carried by an scf.for whose every iteration yields it back written in
/// place, the loop's initial value (an RNN's state: its batch is known
/// before the time steps).
Value shapeSource(Value v) {
  while (Value d = destinationOf(v))
    v = d;
  auto arg = dyn_cast<BlockArgument>(v);
  auto loop = arg ? dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp())
                  : scf::ForOp();
  if (!loop || arg.getArgNumber() < loop.getNumInductionVars())
    return v;
  unsigned n = arg.getArgNumber() - loop.getNumInductionVars();
  Value y = loop.getYieldedValues()[n];
  while (y && y != arg)
    y = destinationOf(y);
  return y ? shapeSource(loop.getInitArgs()[n]) : v;
}

struct TileDynamicRowsPass
    : public kiln::impl::TileDynamicRowsBase<TileDynamicRowsPass> {
  using TileDynamicRowsBase::TileDynamicRowsBase;

  /// Rewrites `op` into blocks; false if it has static shapes (or is not
  /// an f32 matmul on tensors) and stays.
  bool tile(linalg::MatmulOp op) {
    Value a = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    Value c = op.getDpsInits()[0];
    auto at = dyn_cast<RankedTensorType>(a.getType());
    auto wt = dyn_cast<RankedTensorType>(w.getType());
    auto ct = dyn_cast<RankedTensorType>(c.getType());
    if (!at || !wt || !ct || ct.hasStaticShape() && at.hasStaticShape() &&
                                 wt.hasStaticShape())
      return false;
    if (!op.hasPureTensorSemantics() || !ct.getElementType().isF32())
      return false;
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type elem = ct.getElementType();
    auto idx = [&](OpBuilder &ib, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(ib, loc, v);
    };
    // Each dim: its size (a Value, or static) and its block.
    struct Dim {
      bool dynamic;
      int64_t block;
      Value size;
    };
    auto dimOf = [&](Value v, RankedTensorType t, int64_t d, int64_t block) {
      if (!t.isDynamicDim(d))
        return Dim{false, t.getDimSize(d), idx(b, t.getDimSize(d))};
      return Dim{true, block,
                 tensor::DimOp::create(b, loc, shapeSource(v), d).getResult()};
    };
    Dim m = dimOf(c, ct, 0, rows), n = dimOf(c, ct, 1, cols),
        k = dimOf(a, at, 1, depth);
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    Value pad0 = kiln::scalarConstant(b, loc, elem, 0);
    // C filled with a constant (a product from zero): each block's
    // accumulator starts as that constant (the kernels then start from
    // registers), and C itself need not be filled first: every element of
    // it is written by a block. The blocks write into the fill's
    // destination (a buffer carried by a loop stays that buffer).
    auto fill = c.getDefiningOp<linalg::FillOp>();
    Value fillValue = fill ? fill.getInputs()[0] : Value();
    if (fillValue && !matchPattern(fillValue, m_Constant()))
      fillValue = Value();
    if (fillValue)
      c = fill.getOutputs()[0];
    // The block of `v` at (r, q) of sizes (rs, qs), zero-padded to the
    // static (br, bq) where the sizes are dynamic.
    auto block = [&](OpBuilder &ib, Value v, Value r, Value q, Value rs,
                     Value qs, const Dim &dr, const Dim &dq) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      auto ofr = [&](const Dim &d, Value size) -> OpFoldResult {
        return d.dynamic ? OpFoldResult(size) : ib.getIndexAttr(d.block);
      };
      Value s = tensor::ExtractSliceOp::create(
          ib, loc, v, SmallVector<OpFoldResult>{r, q},
          SmallVector<OpFoldResult>{ofr(dr, rs), ofr(dq, qs)},
          SmallVector<OpFoldResult>{one, one});
      auto to = RankedTensorType::get({dr.block, dq.block}, t.getElementType());
      if (s.getType() == to)
        return s;
      auto high = [&](const Dim &d, Value size) -> OpFoldResult {
        if (!d.dynamic)
          return zero;
        return arith::SubIOp::create(ib, loc, idx(ib, d.block), size)
            .getResult();
      };
      return tensor::PadOp::create(ib, loc, to, s,
                                   SmallVector<OpFoldResult>{zero, zero},
                                   SmallVector<OpFoldResult>{high(dr, rs),
                                                             high(dq, qs)},
                                   pad0);
    };
    // The size of the block at `at` along `d`: min(block, size - at).
    auto extent = [&](OpBuilder &ib, const Dim &d, Value at) -> Value {
      if (!d.dynamic)
        return idx(ib, d.block);
      return arith::MinSIOp::create(
          ib, loc, idx(ib, d.block),
          arith::SubIOp::create(ib, loc, d.size, at));
    };
    // Loops over the blocks of `d` carrying `init`: the whole blocks, of
    // static size (nothing padded, nothing copied), then the one left if
    // any, padded; or the body once at 0 for a static dim. The body gets
    // the dim its block has (static inside the whole blocks).
    auto over = [&](OpBuilder &ib, const Dim &d, Value init,
                    function_ref<Value(OpBuilder &, Value, Value, const Dim &)>
                        body) {
      if (!d.dynamic)
        return body(ib, idx(ib, 0), init, d);
      Value step = idx(ib, d.block);
      Value whole = arith::MulIOp::create(
          ib, loc, arith::DivUIOp::create(ib, loc, d.size, step), step);
      auto loop = [&](Value from, Value to, const Dim &bd, Value in) {
        return scf::ForOp::create(
                   ib, loc, from, to, step, ValueRange{in},
                   [&](OpBuilder &lb, Location, Value iv, ValueRange iters) {
                     scf::YieldOp::create(lb, loc,
                                          body(lb, iv, iters[0], bd));
                   })
            .getResult(0);
      };
      Value wholeDone =
          loop(idx(ib, 0), whole, Dim{false, d.block, step}, init);
      return loop(whole, d.size, d, wholeDone);
    };
    auto ofr = [&](OpBuilder &ob, const Dim &d, Value size) -> OpFoldResult {
      return d.dynamic ? OpFoldResult(size) : ob.getIndexAttr(d.block);
    };
    // The rows [i, i + mi) of the result, in blocks of `rm`: C's rows
    // `rows` (at row 0 of it) with A's rows from i.
    auto rowBlock = [&](OpBuilder &ib, const Dim &rm, Value i, Value mi,
                        Value rows) {
      return over(ib, n, rows, [&](OpBuilder &jb, Value j, Value cn,
                                   const Dim &nd) {
        Value nj = extent(jb, nd, j);
        Value r0 = idx(jb, 0);
        auto blockC = RankedTensorType::get({rm.block, n.block}, elem);
        Value acc0 =
            fillValue
                ? linalg::FillOp::create(
                      jb, loc, fillValue,
                      ValueRange{tensor::EmptyOp::create(jb, loc, blockC.getShape(),
                                                         elem)})
                      .getResult(0)
                : block(jb, cn, r0, j, mi, nj, rm, nd);
        Value acc = over(jb, k, acc0, [&](OpBuilder &kb, Value kk, Value acc,
                                          const Dim &kd) {
          Value ks = extent(kb, kd, kk);
          Value ab = block(kb, a, i, kk, mi, ks, rm, kd);
          Value bb = block(kb, w, kk, j, ks, nj, kd, nd);
          auto product = linalg::MatmulOp::create(
              kb, loc, TypeRange{blockC}, ValueRange{ab, bb}, ValueRange{acc});
          product->setAttr(kiln::kRowBlockAttr, kb.getUnitAttr());
          return product.getResult(0);
        });
        SmallVector<OpFoldResult> sizes{ofr(jb, rm, mi), ofr(jb, nd, nj)};
        Value used = acc;
        if (rm.dynamic || nd.dynamic)
          used = tensor::ExtractSliceOp::create(
              jb, loc, acc, SmallVector<OpFoldResult>{zero, zero}, sizes,
              SmallVector<OpFoldResult>{one, one});
        return tensor::InsertSliceOp::create(
                   jb, loc, used, cn, SmallVector<OpFoldResult>{r0, j}, sizes,
                   SmallVector<OpFoldResult>{one, one})
            .getResult();
      });
    };
    // Row blocks write disjoint rows: parallel loops over them.
    OpFoldResult nAll = n.dynamic ? OpFoldResult(n.size)
                                  : b.getIndexAttr(n.block);
    auto rowsAt = [&](OpBuilder &fb, Value cm, Value i, Value mi) {
      return tensor::ExtractSliceOp::create(
          fb, loc, cm, SmallVector<OpFoldResult>{i, zero},
          SmallVector<OpFoldResult>{mi, nAll},
          SmallVector<OpFoldResult>{one, one});
    };
    auto insertRows = [&](OpBuilder &fb, Value out, Value cm, Value i,
                          Value mi) {
      auto inParallel = scf::InParallelOp::create(fb, loc);
      OpBuilder pb = OpBuilder::atBlockBegin(inParallel.getBody());
      tensor::ParallelInsertSliceOp::create(
          pb, loc, out, cm, SmallVector<OpFoldResult>{i, zero},
          SmallVector<OpFoldResult>{mi, nAll},
          SmallVector<OpFoldResult>{one, one});
    };
    Value result;
    if (!m.dynamic) {
      result = rowBlock(b, m, idx(b, 0), idx(b, m.block), c);
    } else {
      // Whole blocks of `rows` first; the rest (fewer than two blocks) in
      // blocks of `tailRows` (a register tile), so a short sequence pads
      // fewer rows. An even number of whole blocks (at 128 rows, 4 of 24
      // and 4 of 8, not 5 of 24 and 1 of 8). One parallel loop runs both
      // kinds, alternating while both last and then the rest, so that a
      // thread's contiguous share of the blocks holds about as many rows as
      // another's (and a matmul joins its threads once, not twice).
      Dim whole{false, m.block, idx(b, m.block)};
      int64_t small = std::min<int64_t>(tailRows, m.block);
      Dim tail{true, small, m.size};
      Value pair = idx(b, 2 * m.block);
      Value full = arith::MulIOp::create(
          b, loc, arith::DivUIOp::create(b, loc, m.size, pair), pair);
      Value rest = arith::RemUIOp::create(b, loc, m.size, pair);
      Value nWhole = arith::DivUIOp::create(b, loc, full, whole.size);
      Value nTail = arith::CeilDivUIOp::create(b, loc, rest, idx(b, small));
      Value both = arith::MinUIOp::create(b, loc, nWhole, nTail);
      Value total = arith::AddIOp::create(b, loc, nWhole, nTail);
      auto forall = scf::ForallOp::create(
          b, loc, ArrayRef<OpFoldResult>{zero}, ArrayRef<OpFoldResult>{total},
          ArrayRef<OpFoldResult>{one}, ValueRange{c}, std::nullopt,
          [&](OpBuilder &fb, Location, ValueRange args) {
            Value t = args[0], cm = args[1];
            auto ult = [&](Value x, Value y) {
              return arith::CmpIOp::create(fb, loc, arith::CmpIPredicate::ult,
                                           x, y);
            };
            auto sel = [&](Value cond, Value x, Value y) {
              return arith::SelectOp::create(fb, loc, cond, x, y).getResult();
            };
            // Block t: while both kinds last (t < 2 * both), even t are
            // whole blocks and odd t tail blocks, number t / 2 of their
            // kind; then number t - both of the kind left.
            Value inPairs = ult(t, arith::AddIOp::create(fb, loc, both, both));
            Value odd = arith::CmpIOp::create(
                fb, loc, arith::CmpIPredicate::ne,
                arith::AndIOp::create(fb, loc, t, idx(fb, 1)), idx(fb, 0));
            Value isTail = sel(inPairs, odd, ult(nWhole, nTail));
            Value number =
                sel(inPairs, arith::DivUIOp::create(fb, loc, t, idx(fb, 2)),
                    arith::SubIOp::create(fb, loc, t, both));
            Value tailAt = arith::AddIOp::create(
                fb, loc, full,
                arith::MulIOp::create(fb, loc, number, idx(fb, small)));
            Value i = sel(isTail, tailAt,
                          arith::MulIOp::create(fb, loc, number, whole.size));
            Value tailRowsHere = arith::MinSIOp::create(
                fb, loc, idx(fb, small),
                arith::SubIOp::create(fb, loc, m.size, i));
            Value mi = sel(isTail, tailRowsHere, whole.size);
            Value rows = rowsAt(fb, cm, i, mi);
            auto branch = scf::IfOp::create(
                fb, loc, isTail,
                [&](OpBuilder &tb, Location) {
                  scf::YieldOp::create(tb, loc,
                                       rowBlock(tb, tail, i, mi, rows));
                },
                [&](OpBuilder &wb, Location) {
                  scf::YieldOp::create(
                      wb, loc, rowBlock(wb, whole, i, whole.size, rows));
                });
            insertRows(fb, branch.getResult(0), cm, i, mi);
          });
      result = forall.getResult(0);
    }
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    return true;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<linalg::MatmulOp> ops;
    func.walk([&](linalg::MatmulOp op) { ops.push_back(op); });
    bool tiled = false;
    for (linalg::MatmulOp op : ops)
      tiled |= tile(op);
    if (!tiled)
      return;
    // The index arithmetic of the blocks out of the loops it does not
    // depend on: kiln-plan-arena sizes the padded blocks' buffers by the
    // parallel loop's trip count, which must be known before the outermost
    // loop.
    func.walk([&](LoopLikeOpInterface loop) {
      moveLoopInvariantCode(
          loop.getLoopRegions(),
          [&](Value v, Region *r) { return loop.isDefinedOutsideOfLoop(v); },
          [&](Operation *op, Region *) {
            return isPure(op) &&
                   (isa<tensor::DimOp>(op) ||
                    isa<arith::ArithDialect>(op->getDialect()));
          },
          [&](Operation *op, Region *) { loop.moveOutOfLoop(op); });
    });
  }
};

} // namespace
