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
// kiln-tile-contractions packs once at compile time. Zero rows and columns
// add nothing to the products, so the padding costs work (at most one block
// per dynamic dim) but never changes a result. kiln-tile-contractions then
// makes every block matmul a register-blocked kernel.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/Passes.h"
#include "lowering/Vectorize/MatmulKernel.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_TILEDYNAMICROWS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct TileDynamicRowsPass
    : public kiln::impl::TileDynamicRowsBase<TileDynamicRowsPass> {
  using TileDynamicRowsBase::TileDynamicRowsBase;

  void tile(linalg::MatmulOp op) {
    Value a = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    Value c = op.getDpsInits()[0];
    auto at = dyn_cast<RankedTensorType>(a.getType());
    auto wt = dyn_cast<RankedTensorType>(w.getType());
    auto ct = dyn_cast<RankedTensorType>(c.getType());
    if (!at || !wt || !ct || ct.hasStaticShape() && at.hasStaticShape() &&
                                 wt.hasStaticShape())
      return;
    if (!op.hasPureTensorSemantics() || !ct.getElementType().isF32())
      return;
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
      return Dim{true, block, tensor::DimOp::create(b, loc, v, d).getResult()};
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
    // A loop over the blocks of `d` carrying `init`, or the body once at 0
    // for a static dim.
    auto over = [&](OpBuilder &ib, const Dim &d, Value init,
                    function_ref<Value(OpBuilder &, Value, Value)> body) {
      if (!d.dynamic)
        return body(ib, idx(ib, 0), init);
      auto loop = scf::ForOp::create(
          ib, loc, idx(ib, 0), d.size, idx(ib, d.block), ValueRange{init},
          [&](OpBuilder &lb, Location, Value iv, ValueRange iters) {
            scf::YieldOp::create(lb, loc, body(lb, iv, iters[0]));
          });
      return loop.getResult(0);
    };
    auto ofr = [&](OpBuilder &ob, const Dim &d, Value size) -> OpFoldResult {
      return d.dynamic ? OpFoldResult(size) : ob.getIndexAttr(d.block);
    };
    // The rows [i, i + mi) of the result, in blocks of `rm`: C's rows
    // `rows` (at row 0 of it) with A's rows from i.
    auto rowBlock = [&](OpBuilder &ib, const Dim &rm, Value i, Value mi,
                        Value rows) {
      return over(ib, n, rows, [&](OpBuilder &jb, Value j, Value cn) {
        Value nj = extent(jb, n, j);
        Value r0 = idx(jb, 0);
        auto blockC = RankedTensorType::get({rm.block, n.block}, elem);
        Value acc0 =
            fillValue
                ? linalg::FillOp::create(
                      jb, loc, fillValue,
                      ValueRange{tensor::EmptyOp::create(jb, loc, blockC.getShape(),
                                                         elem)})
                      .getResult(0)
                : block(jb, cn, r0, j, mi, nj, rm, n);
        Value acc = over(jb, k, acc0, [&](OpBuilder &kb, Value kk, Value acc) {
          Value ks = extent(kb, k, kk);
          Value ab = block(kb, a, i, kk, mi, ks, rm, k);
          Value bb = block(kb, w, kk, j, ks, nj, k, n);
          auto product = linalg::MatmulOp::create(
              kb, loc, TypeRange{blockC}, ValueRange{ab, bb}, ValueRange{acc});
          product->setAttr(kiln::kRowBlockAttr, kb.getUnitAttr());
          return product.getResult(0);
        });
        SmallVector<OpFoldResult> sizes{ofr(jb, rm, mi), ofr(jb, n, nj)};
        Value used = acc;
        if (rm.dynamic || n.dynamic)
          used = tensor::ExtractSliceOp::create(
              jb, loc, acc, SmallVector<OpFoldResult>{zero, zero}, sizes,
              SmallVector<OpFoldResult>{one, one});
        return tensor::InsertSliceOp::create(
                   jb, loc, used, cn, SmallVector<OpFoldResult>{r0, j}, sizes,
                   SmallVector<OpFoldResult>{one, one})
            .getResult();
      });
    };
    // Row blocks write disjoint rows: a parallel loop over those of `rm`
    // rows from `first`, `count` rows in all.
    OpFoldResult nAll = n.dynamic ? OpFoldResult(n.size)
                                  : b.getIndexAttr(n.block);
    auto rowLoop = [&](Value into, const Dim &rm, Value first, Value count) {
      auto forall = scf::ForallOp::create(
          b, loc, ArrayRef<OpFoldResult>{zero}, ArrayRef<OpFoldResult>{count},
          ArrayRef<OpFoldResult>{b.getIndexAttr(rm.block)}, ValueRange{into},
          std::nullopt, [&](OpBuilder &fb, Location, ValueRange args) {
            Value i = arith::AddIOp::create(fb, loc, first, args[0]);
            Value mi = rm.dynamic ? (Value)arith::MinSIOp::create(
                                        fb, loc, idx(fb, rm.block),
                                        arith::SubIOp::create(fb, loc, count,
                                                              args[0]))
                                  : idx(fb, rm.block);
            Value cm = args[1];
            SmallVector<OpFoldResult> offs{i, zero}, sizes{mi, nAll};
            Value rows = tensor::ExtractSliceOp::create(
                fb, loc, cm, offs, sizes, SmallVector<OpFoldResult>{one, one});
            Value out = rowBlock(fb, rm, i, mi, rows);
            auto inParallel = scf::InParallelOp::create(fb, loc);
            OpBuilder pb = OpBuilder::atBlockBegin(inParallel.getBody());
            tensor::ParallelInsertSliceOp::create(
                pb, loc, out, cm, offs, sizes,
                SmallVector<OpFoldResult>{one, one});
          });
      return forall.getResult(0);
    };
    Value result;
    if (!m.dynamic) {
      result = rowBlock(b, m, idx(b, 0), idx(b, m.block), c);
    } else {
      // Whole blocks first; the rest (fewer than two blocks) in blocks of
      // `tailRows` (a register tile), so a short sequence pads fewer rows.
      // An even number of whole blocks, so that two threads (or four)
      // share them evenly: an odd one left goes to the tail (at 128 rows,
      // 4 blocks of 24 and 4 of 8, not 5 of 24 and 1 of 8).
      Value step = idx(b, m.block), pair = idx(b, 2 * m.block);
      Value full = arith::MulIOp::create(
          b, loc, arith::DivUIOp::create(b, loc, m.size, pair), pair);
      Value rest = arith::RemUIOp::create(b, loc, m.size, pair);
      // Whole blocks: static rows, nothing to pad.
      result = rowLoop(c, Dim{false, m.block, step}, idx(b, 0), full);
      int64_t small = std::min<int64_t>(tailRows, m.block);
      if (small < m.block)
        result = rowLoop(result, Dim{true, small, m.size}, full, rest);
      else
        result = rowLoop(result, m, full, rest);
    }
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
  }

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> ops;
    getOperation().walk([&](linalg::MatmulOp op) { ops.push_back(op); });
    for (linalg::MatmulOp op : ops)
      tile(op);
  }
};

} // namespace
