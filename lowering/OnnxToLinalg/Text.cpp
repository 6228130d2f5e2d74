//===- Text.cpp - text featurization ops to linalg ------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

/// TfIdfVectorizer: per output slot, the pool n-gram that maps to it (its
/// length, tokens and weight in constant tables; length 0 for slots no
/// counted gram maps to). One generic over Y; each element counts its
/// gram's matches in three scf.for loops: gap size, start, token.
struct TfIdfVectorizerPattern : OnnxPattern<kop::TfIdfVectorizerOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::TfIdfVectorizerOp op,
                      PatternRewriter &rewriter) const override {
    auto xType = cast<RankedTensorType>(op.getX().getType());
    auto type = cast<RankedTensorType>(op.getType());
    bool batched = xType.getRank() == 2;
    int64_t slots = type.getShape().back();
    int64_t length = xType.getShape().back();
    auto grams = op.grams();
    int64_t maxN = 1;
    for (auto &g : grams)
      maxN = std::max<int64_t>(maxN, g.size());
    SmallVector<int64_t> slotLen(slots, 0), slotTok(slots * maxN, 0);
    SmallVector<float> slotWeight(slots, 0.0f);
    SmallVector<bool> taken(slots, false);
    for (auto [g, gram] : llvm::enumerate(grams)) {
      int64_t slot = op.getNgramIndexes()[g];
      if (taken[slot])
        return rewriter.notifyMatchFailure(op, "two n-grams share an output");
      taken[slot] = true;
      int64_t n = gram.size();
      slotWeight[slot] = op.getWeights() ? (*op.getWeights())[g] : 1.0f;
      if (n < op.getMinGramLength() || n > op.getMaxGramLength())
        continue;
      slotLen[slot] = n;
      for (int64_t k = 0; k < n; ++k)
        slotTok[slot * maxN + k] = gram[k];
    }
    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type(), f32 = rewriter.getF32Type();
    auto table = [&](auto values, ArrayRef<int64_t> shape, Type elem) {
      auto t = RankedTensorType::get(shape, elem);
      return arith::ConstantOp::create(
                 rewriter, loc, t,
                 DenseElementsAttr::get(t, ArrayRef(values)))
          .getResult();
    };
    Value lenT = table(slotLen, {slots}, i64);
    Value tokT = table(slotTok, {slots, maxN}, i64);
    Value weightT = table(slotWeight, {slots}, f32);
    Value x = op.getX();
    int64_t maxSkip = op.getMaxSkipCount();
    StringRef mode = op.getMode();
    Value y = generateTensor(
        rewriter, loc, type, [&](OpBuilder &b, Location l, ArrayRef<Value> at) {
          auto ic = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          auto cmp = [&](arith::CmpIPredicate p, Value u, Value v) {
            return arith::CmpIOp::create(b, l, p, u, v).getResult();
          };
          Value slot = at.back();
          Value n = arith::IndexCastOp::create(
              b, l, b.getIndexType(),
              tensor::ExtractOp::create(b, l, lenT, ValueRange{slot}));
          // Unigrams are counted once, not once per gap size.
          Value gaps = arith::SelectOp::create(
              b, l, cmp(arith::CmpIPredicate::ule, n, ic(1)), ic(1),
              ic(maxSkip + 1));
          Value zero = scalarConstant(b, l, f32, 0);
          auto perGap = scf::ForOp::create(
              b, l, ic(0), gaps, ic(1), ValueRange{zero},
              [&](OpBuilder &b, Location l, Value gap, ValueRange acc) {
                Value stride = arith::AddIOp::create(b, l, gap, ic(1));
                // Starts s with s + (n - 1) * stride < length.
                Value span = arith::MulIOp::create(
                    b, l, arith::SubIOp::create(b, l, n, ic(1)), stride);
                Value starts = arith::SubIOp::create(
                    b, l, ic(length),
                    arith::MinUIOp::create(b, l, span, ic(length)));
                starts = arith::SelectOp::create(
                    b, l, cmp(arith::CmpIPredicate::eq, n, ic(0)), ic(0),
                    starts);
                auto perStart = scf::ForOp::create(
                    b, l, ic(0), starts, ic(1), acc,
                    [&](OpBuilder &b, Location l, Value s, ValueRange acc) {
                      auto match = scf::ForOp::create(
                          b, l, ic(0), n, ic(1),
                          ValueRange{arith::ConstantIntOp::create(b, l, 1, 1)},
                          [&](OpBuilder &b, Location l, Value k,
                              ValueRange all) {
                            Value pos = arith::AddIOp::create(
                                b, l, s, arith::MulIOp::create(b, l, k, stride));
                            SmallVector<Value> coords;
                            if (batched)
                              coords.push_back(at[0]);
                            coords.push_back(pos);
                            Value tok = convertScalar(
                                b, l, tensor::ExtractOp::create(b, l, x, coords),
                                i64);
                            Value want = tensor::ExtractOp::create(
                                b, l, tokT, ValueRange{slot, k});
                            scf::YieldOp::create(
                                b, l,
                                ValueRange{arith::AndIOp::create(
                                    b, l, all[0],
                                    cmp(arith::CmpIPredicate::eq, tok, want))});
                          });
                      Value one = arith::SelectOp::create(
                          b, l, match.getResult(0),
                          scalarConstant(b, l, f32, 1), zero);
                      scf::YieldOp::create(
                          b, l, ValueRange{addV(b, l, acc[0], one)});
                    });
                scf::YieldOp::create(b, l, perStart.getResults());
              });
          Value count = perGap.getResult(0);
          if (mode == "TF")
            return count;
          Value w = tensor::ExtractOp::create(b, l, weightT, ValueRange{slot});
          if (mode == "TFIDF")
            return mulV(b, l, count, w);
          Value seen = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                             count, zero);
          return arith::SelectOp::create(b, l, seen, w, zero).getResult();
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void kiln::populateTextPatterns(RewritePatternSet &patterns) {
  patterns.add<TfIdfVectorizerPattern>(patterns.getContext());
}
