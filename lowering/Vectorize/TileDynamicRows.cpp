//===- TileDynamicRows.cpp - static row blocks for dynamic-row matmuls ----===//
//
// A linalg.matmul whose rows are dynamic (a sequence length) but whose K and
// N are static is rewritten into a loop over blocks of `rows` rows, each a
// matmul of static shape, plus one last block for the remainder, padded
// with zero rows to the same static shape:
//
//   scf.for %i = 0 to (m / R) * R step R   -> matmul [R, K] x [K, N]
//   scf.if m % R != 0                      -> pad to [R, K], matmul, take m % R
//
// kiln-tile-contractions then turns every block into the register-blocked
// kernel of a static matmul (weights packed once, at compile time), so a
// dynamic sequence length runs the static kernels, wasting at most R - 1
// rows of work.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"
#include "lowering/Passes.h"

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
    auto at = cast<RankedTensorType>(a.getType());
    auto wt = cast<RankedTensorType>(w.getType());
    auto ct = cast<RankedTensorType>(c.getType());
    if (!at.isDynamicDim(0) || at.isDynamicDim(1) || !wt.hasStaticShape() ||
        ct.isDynamicDim(1) || !op.hasPureTensorSemantics())
      return;
    int64_t k = at.getDimSize(1), n = wt.getDimSize(1), r = rows;
    Type elem = ct.getElementType();
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto idx = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    Value m = tensor::DimOp::create(b, loc, a, 0);
    Value step = idx(r);
    Value full = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, m, step), step);
    auto blockA = RankedTensorType::get({r, k}, at.getElementType());
    auto blockC = RankedTensorType::get({r, n}, elem);
    auto attrs = [&](ArrayRef<OpFoldResult> v) {
      return SmallVector<OpFoldResult>(v.begin(), v.end());
    };
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    auto loop = scf::ForOp::create(
        b, loc, idx(0), full, step, ValueRange{c},
        [&](OpBuilder &lb, Location l, Value i, ValueRange iters) {
          SmallVector<OpFoldResult> offs = attrs({i, zero});
          Value ai = tensor::ExtractSliceOp::create(
              lb, l, blockA, a, offs,
              attrs({lb.getIndexAttr(r), lb.getIndexAttr(k)}), attrs({one, one}));
          Value ci = tensor::ExtractSliceOp::create(
              lb, l, blockC, iters[0], offs,
              attrs({lb.getIndexAttr(r), lb.getIndexAttr(n)}), attrs({one, one}));
          Value p = linalg::MatmulOp::create(lb, l, TypeRange{blockC},
                                             ValueRange{ai, w}, ValueRange{ci})
                        .getResult(0);
          Value out = tensor::InsertSliceOp::create(
              lb, l, p, iters[0], offs,
              attrs({lb.getIndexAttr(r), lb.getIndexAttr(n)}), attrs({one, one}));
          scf::YieldOp::create(lb, l, out);
        });
    Value rest = arith::SubIOp::create(b, loc, m, full);
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, rest,
                                      idx(0));
    auto tail = scf::IfOp::create(
        b, loc, any,
        [&](OpBuilder &tb, Location l) {
          Value acc = loop.getResult(0);
          SmallVector<OpFoldResult> offs = attrs({full, zero});
          Value high = arith::SubIOp::create(tb, l, idx(r), rest);
          Value pad0 = kiln::scalarConstant(tb, l, elem, 0);
          auto padRows = [&](Value v, RankedTensorType to) {
            return tensor::PadOp::create(tb, l, to, v, attrs({zero, zero}),
                                         attrs({high, zero}), pad0)
                .getResult();
          };
          Value ai = tensor::ExtractSliceOp::create(
              tb, l, a, offs, attrs({rest, tb.getIndexAttr(k)}), attrs({one, one}));
          Value ci = tensor::ExtractSliceOp::create(
              tb, l, acc, offs, attrs({rest, tb.getIndexAttr(n)}), attrs({one, one}));
          Value p = linalg::MatmulOp::create(
                        tb, l, TypeRange{blockC},
                        ValueRange{padRows(ai, blockA), w},
                        ValueRange{padRows(ci, blockC)})
                        .getResult(0);
          Value used = tensor::ExtractSliceOp::create(
              tb, l, p, attrs({zero, zero}), attrs({rest, tb.getIndexAttr(n)}),
              attrs({one, one}));
          Value out = tensor::InsertSliceOp::create(
              tb, l, used, acc, offs, attrs({rest, tb.getIndexAttr(n)}),
              attrs({one, one}));
          scf::YieldOp::create(tb, l, out);
        },
        [&](OpBuilder &eb, Location l) {
          scf::YieldOp::create(eb, l, loop.getResult(0));
        });
    op->getResult(0).replaceAllUsesWith(tail.getResult(0));
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
