//===- ControlFlow.cpp - If, Loop and Scan to scf on tensors --------------===//
//
// The subgraphs' blocks move into scf regions as they are (their onnx ops
// are lowered by the other patterns afterwards); onnx.Yield becomes
// scf.yield. If is scf.if; Loop is scf.while over (iteration, condition,
// carried values, scan buffers); Scan is scf.for over the scan axis (in an
// scf.for over the batch for opset 8's form). Scan outputs are written
// row by row into buffers of their full size: M rows for a Loop (a derived
// dim where M is read at run time), the scan length for a Scan.
//
//===----------------------------------------------------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

namespace {

/// `v` as type `t` (a tensor.cast where the shapes differ in what is known).
Value castTo(OpBuilder &b, Location l, Value v, Type t) {
  if (v.getType() == t)
    return v;
  // Sequences of different element shapes are one run-time handle.
  if (kop::isSeqOrOpt(t))
    return UnrealizedConversionCastOp::create(b, l, t, v).getResult(0);
  return tensor::CastOp::create(b, l, t, v);
}

/// Moves `block` (a subgraph) to the end of `dest`, its arguments replaced
/// by `args`; returns its onnx.Yield's operands and erases the yield.
SmallVector<Value> inlineSubgraph(PatternRewriter &rewriter, Block &block,
                                  Block *dest, ValueRange args) {
  auto yield = cast<kop::YieldOp>(block.getTerminator());
  SmallVector<Value> outs;
  for (Value v : yield.getOperands()) {
    auto arg = dyn_cast<BlockArgument>(v);
    outs.push_back(arg && arg.getOwner() == &block ? args[arg.getArgNumber()]
                                                   : v);
  }
  rewriter.inlineBlockBefore(&block, dest, dest->end(), args);
  rewriter.eraseOp(yield);
  return outs;
}

/// The next value of a loop-carried tensor, written into the buffer of the
/// current one (`iterArg`): bufferization wants each yielded tensor to be
/// its iteration argument's.
Value intoIterArg(OpBuilder &b, Location l, Value next, Value iterArg) {
  next = castTo(b, l, next, iterArg.getType());
  if (next == iterArg || kop::isSeqOrOpt(next.getType()))
    return next;
  return linalg::CopyOp::create(b, l, next, iterArg).getResult(0);
}

Value indexOf(OpBuilder &b, Location l, Value i64) {
  return arith::IndexCastOp::create(b, l, b.getIndexType(), i64);
}

/// Writes `row` (one step's scan value) into `buf` at position `at` of dim
/// `axis`.
Value insertRow(OpBuilder &b, Location l, Value row, Value buf, int64_t axis,
                Value at) {
  auto bufType = cast<RankedTensorType>(buf.getType());
  int64_t rank = bufType.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
      sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t d = 0; d < rank; ++d)
    sizes.push_back(d == axis ? b.getIndexAttr(1)
                              : OpFoldResult(b.getIndexAttr(bufType.getDimSize(d))));
  offsets[axis] = at;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && bufType.isDynamicDim(d))
      sizes[d] = tensor::DimOp::create(b, l, buf, d).getResult();
  return tensor::InsertSliceOp::create(b, l, row, buf, offsets, sizes, strides);
}

/// Slice `at` of `x` along `axis`, without that dim.
Value sliceAt(OpBuilder &b, Location l, Value x, int64_t axis, Value at,
              Type sliceType) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t rank = t.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
      strides(rank, b.getIndexAttr(1));
  for (int64_t d = 0; d < rank; ++d)
    sizes.push_back(b.getIndexAttr(d == axis ? 1 : t.getDimSize(d)));
  offsets[axis] = at;
  return tensor::ExtractSliceOp::create(b, l, cast<RankedTensorType>(sliceType),
                                        x, offsets, sizes, strides);
}

/// Where a value of type `t` must be static for the lowering: the reason
/// when it is not.
std::optional<std::string> needStatic(Type t, const Twine &what) {
  auto r = dyn_cast<RankedTensorType>(t);
  if ((r && r.hasStaticShape()) || kop::isSeqOrOpt(t))
    return std::nullopt;
  std::string type;
  llvm::raw_string_ostream os(type);
  os << t;
  return (what + " has a shape Kiln cannot fix before the model runs (" +
          type + "); loops and branches lower with static shapes")
      .str();
}

//===----------------------------------------------------------------------===//
// If
//===----------------------------------------------------------------------===//

struct IfPattern : OnnxPattern<kop::IfOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::IfOp op, PatternRewriter &rewriter) const override {
    if (auto why = controlFlowLimit(op))
      return rewriter.notifyMatchFailure(op, *why);
    Location loc = op.getLoc();
    Value cond = extractElement(rewriter, loc, op.getCond());
    auto ifOp = scf::IfOp::create(rewriter, loc, op.getResultTypes(), cond,
                                  /*addThenBlock=*/true,
                                  /*addElseBlock=*/true);
    for (auto [src, dst] : {std::make_pair(&op.getThenBranch(),
                                           &ifOp.getThenRegion()),
                            std::make_pair(&op.getElseBranch(),
                                           &ifOp.getElseRegion())}) {
      Block *dest = &dst->front();
      if (!dest->empty())
        rewriter.eraseOp(dest->getTerminator());
      SmallVector<Value> outs =
          inlineSubgraph(rewriter, src->front(), dest, ValueRange{});
      rewriter.setInsertionPointToEnd(dest);
      SmallVector<Value> casted;
      for (auto [v, t] : llvm::zip(outs, op.getResultTypes()))
        casted.push_back(castTo(rewriter, loc, v, t));
      scf::YieldOp::create(rewriter, loc, casted);
    }
    rewriter.replaceOp(op, ifOp.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Loop
//===----------------------------------------------------------------------===//

struct LoopPattern : OnnxPattern<kop::LoopOp> {
  using OnnxPattern::OnnxPattern;
  bool dynamicDims() const override { return true; }
  LogicalResult lower(kop::LoopOp op,
                      PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    unsigned numV = op.getVInitial().size(), numScan = op.getNumScanOutputs();
    if (auto why = controlFlowLimit(op))
      return rewriter.notifyMatchFailure(op, *why);
    Value rows;
    auto first = numScan ? cast<RankedTensorType>(op.getResult(numV).getType())
                         : RankedTensorType();
    if (first && first.isDynamicDim(0))
      rows = (*derivedSizes(op, first))[0];
    Type i64 = rewriter.getI64Type(), i1 = rewriter.getI1Type();
    Value limit =
        isNone(op.getM())
            ? (Value)arith::ConstantIntOp::create(
                  rewriter, loc, std::numeric_limits<int64_t>::max(), 64)
            : extractElement(rewriter, loc, op.getM());
    Value cond0 = isNone(op.getCond())
                      ? (Value)arith::ConstantIntOp::create(rewriter, loc, 1, 1)
                      : extractElement(rewriter, loc, op.getCond());
    SmallVector<Value> inits{arith::ConstantIntOp::create(rewriter, loc, 0, 64),
                             cond0};
    for (unsigned i = 0; i < numV; ++i)
      inits.push_back(castTo(rewriter, loc, op.getVInitial()[i],
                             op.getResult(i).getType()));
    for (unsigned i = numV; i < op.getNumResults(); ++i)
      inits.push_back(emptyTensor(rewriter, loc,
                                  cast<RankedTensorType>(op.getResult(i).getType()),
                                  rows ? ValueRange{rows} : ValueRange{}));
    SmallVector<Type> types = llvm::map_to_vector(
        inits, [](Value v) { return v.getType(); });
    SmallVector<Location> locs(types.size(), loc);
    auto loop = scf::WhileOp::create(rewriter, loc, types, inits);
    Block *before = rewriter.createBlock(&loop.getBefore(), {}, types, locs);
    rewriter.setInsertionPointToEnd(before);
    Value go = arith::AndIOp::create(
        rewriter, loc, before->getArgument(1),
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                              before->getArgument(0), limit));
    scf::ConditionOp::create(rewriter, loc, go, before->getArguments());

    Block *after = rewriter.createBlock(&loop.getAfter(), {}, types, locs);
    rewriter.setInsertionPointToEnd(after);
    Value iter = after->getArgument(0);
    SmallVector<Value> args{
        tensor::FromElementsOp::create(
            rewriter, loc, RankedTensorType::get({}, i64), ValueRange{iter}),
        tensor::FromElementsOp::create(rewriter, loc,
                                       RankedTensorType::get({}, i1),
                                       ValueRange{after->getArgument(1)})};
    for (unsigned i = 0; i < numV; ++i)
      args.push_back(castTo(rewriter, loc, after->getArgument(2 + i),
                            op.getBody().front().getArgument(2 + i).getType()));
    SmallVector<Value> outs =
        inlineSubgraph(rewriter, op.getBody().front(), after, args);
    rewriter.setInsertionPointToEnd(after);
    SmallVector<Value> next{
        arith::AddIOp::create(rewriter, loc, iter,
                              arith::ConstantIntOp::create(rewriter, loc, 1, 64)),
        extractElement(rewriter, loc, outs[0])};
    // Scan rows first: they may read a carried value's buffer, which the
    // next carried value then overwrites.
    SmallVector<Value> rowsOut;
    for (unsigned i = 0; i < numScan; ++i)
      rowsOut.push_back(insertRow(rewriter, loc, outs[1 + numV + i],
                                  after->getArgument(2 + numV + i), 0,
                                  indexOf(rewriter, loc, iter)));
    for (unsigned i = 0; i < numV; ++i)
      next.push_back(
          intoIterArg(rewriter, loc, outs[1 + i], after->getArgument(2 + i)));
    llvm::append_range(next, rowsOut);
    scf::YieldOp::create(rewriter, loc, next);
    rewriter.setInsertionPointAfter(loop);
    SmallVector<Value> results(loop.getResults().drop_front(2));
    for (unsigned i = numV; i < results.size(); ++i)
      results[i] = pinSizes(rewriter, loc, results[i],
                            rows ? ValueRange{rows} : ValueRange{});
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Scan
//===----------------------------------------------------------------------===//

struct ScanPattern : OnnxPattern<kop::ScanOp> {
  using OnnxPattern::OnnxPattern;
  LogicalResult lower(kop::ScanOp op, PatternRewriter &rewriter) const override {
    if (auto why = controlFlowLimit(op))
      return rewriter.notifyMatchFailure(op, *why);
    Location loc = op.getLoc();
    unsigned numState = op.getNumState();
    unsigned numScanIn = op.getNumScanInputs();
    unsigned numScanOut = op.getNumResults() - numState;
    bool batched = op.getBatched();
    Block &body = op.getBody().front();
    auto first = cast<RankedTensorType>(op.getInputs()[numState].getType());
    int64_t lead = batched ? 1 : 0;
    int64_t length = first.getDimSize(lead + op.inputAxis(0));
    int64_t batch = batched ? first.getDimSize(0) : 1;
    auto ic = [&](OpBuilder &b, int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    // Read from the body's yield: before the body moves.
    SmallVector<int64_t> outAxes;
    SmallVector<bool> outReversed;
    for (unsigned i = 0; i < numScanOut; ++i) {
      outAxes.push_back(op.outputAxis(i));
      outReversed.push_back(op.outputReversed(i));
    }
    // Per batch entry: state types, scan input types, scan output types.
    SmallVector<Type> outTypes;
    for (unsigned i = 0; i < op.getNumResults(); ++i) {
      auto t = cast<RankedTensorType>(op.getResult(i).getType());
      outTypes.push_back(batched ? RankedTensorType::get(t.getShape().drop_front(),
                                                         t.getElementType())
                                 : t);
    }
    auto perBatch = [&](OpBuilder &b, Value bIdx, Value v) -> Value {
      if (!batched)
        return v;
      auto t = cast<RankedTensorType>(v.getType());
      return sliceAt(b, loc, v, 0, bIdx,
                     RankedTensorType::get(t.getShape().drop_front(),
                                           t.getElementType()));
    };
    // The scan over one batch entry: state and scan inputs in, the final
    // state and the scan outputs out.
    auto scanOne = [&](OpBuilder &b, Value bIdx) -> SmallVector<Value> {
      SmallVector<Value> inits;
      for (unsigned i = 0; i < numState; ++i)
        inits.push_back(perBatch(b, bIdx, op.getInputs()[i]));
      SmallVector<Value> scanIns;
      for (unsigned i = 0; i < numScanIn; ++i)
        scanIns.push_back(perBatch(b, bIdx, op.getInputs()[numState + i]));
      for (unsigned i = 0; i < numScanOut; ++i)
        inits.push_back(emptyTensor(
            b, loc, cast<RankedTensorType>(outTypes[numState + i])));
      auto loop = scf::ForOp::create(
          b, loc, ic(b, 0), ic(b, length), ic(b, 1), inits,
          [&](OpBuilder &nb, Location l, Value t, ValueRange iterArgs) {
            Value back = arith::SubIOp::create(nb, l, ic(nb, length - 1), t);
            SmallVector<Value> args;
            for (unsigned i = 0; i < numState; ++i)
              args.push_back(castTo(nb, l, iterArgs[i],
                                    body.getArgument(i).getType()));
            for (unsigned i = 0; i < numScanIn; ++i)
              args.push_back(sliceAt(nb, l, scanIns[i], op.inputAxis(i),
                                     op.inputReversed(i) ? back : t,
                                     body.getArgument(numState + i).getType()));
            Block *dest = nb.getInsertionBlock();
            SmallVector<Value> outs = inlineSubgraph(rewriter, body, dest, args);
            nb.setInsertionPointToEnd(dest);
            // Scan rows before the state's copies (see Loop).
            SmallVector<Value> rowsOut;
            for (unsigned i = 0; i < numScanOut; ++i)
              rowsOut.push_back(insertRow(nb, l, outs[numState + i],
                                          iterArgs[numState + i], outAxes[i],
                                          outReversed[i] ? back : t));
            SmallVector<Value> next;
            for (unsigned i = 0; i < numState; ++i)
              next.push_back(intoIterArg(nb, l, outs[i], iterArgs[i]));
            llvm::append_range(next, rowsOut);
            scf::YieldOp::create(nb, l, next);
          });
      return SmallVector<Value>(loop.getResults());
    };
    if (!batched) {
      rewriter.replaceOp(op, scanOne(rewriter, Value()));
      return success();
    }
    // Opset 8: once per batch entry, each result written at its row.
    SmallVector<Value> inits;
    for (Value r : op.getResults())
      inits.push_back(emptyTensor(rewriter, loc,
                                  cast<RankedTensorType>(r.getType())));
    auto outer = scf::ForOp::create(
        rewriter, loc, ic(rewriter, 0), ic(rewriter, batch), ic(rewriter, 1),
        inits, [&](OpBuilder &nb, Location l, Value bIdx, ValueRange iterArgs) {
          SmallVector<Value> one = scanOne(nb, bIdx);
          SmallVector<Value> next;
          for (auto [i, v] : llvm::enumerate(one))
            next.push_back(insertRow(nb, l, v, iterArgs[i], 0, bIdx));
          scf::YieldOp::create(nb, l, next);
        });
    rewriter.replaceOp(op, outer.getResults());
    return success();
  }
};

} // namespace

std::optional<std::string> kiln::controlFlowLimit(Operation *op) {
  auto body = [&](Region &r) {
    return cast<kop::YieldOp>(r.front().getTerminator());
  };
  if (auto ifOp = dyn_cast<kop::IfOp>(op)) {
    for (auto [i, t] : llvm::enumerate(ifOp.getResultTypes()))
      if (auto why = needStatic(t, "output " + Twine(i) +
                                       " (the branches' values merged)"))
        return why;
    return std::nullopt;
  }
  if (auto loop = dyn_cast<kop::LoopOp>(op)) {
    unsigned numV = loop.getVInitial().size();
    kop::YieldOp y = body(loop.getBody());
    // What the body yields must be known to keep the carried shape: a
    // shape found only at run time could differ, unchecked.
    for (unsigned i = 0; i < numV; ++i) {
      if (auto why = needStatic(loop.getResult(i).getType(),
                                "loop-carried value " + Twine(i)))
        return why;
      if (auto why = needStatic(y.getOperand(1 + i).getType(),
                                "the next value of loop-carried value " +
                                    Twine(i)))
        return why;
    }
    if (loop.getNumScanOutputs() == 0)
      return std::nullopt;
    if (!loop.conditionPassesThrough())
      return std::string("a Loop whose body computes its condition has scan "
                         "outputs, whose row count is known only once it "
                         "has run");
    for (unsigned i = numV; i < loop.getNumResults(); ++i)
      if (auto why = needStatic(y.getOperand(1 + i).getType(),
                                "the row of scan output " + Twine(i - numV)))
        return why;
    auto first = cast<RankedTensorType>(loop.getResult(numV).getType());
    if (first.isDynamicDim(0)) {
      auto derived = derivedSizes(loop, first);
      if (!derived || derived->empty())
        return std::string("the trip count M cannot be computed from the "
                           "inputs before the loop runs, and it sizes the "
                           "scan outputs");
    }
    return std::nullopt;
  }
  if (auto scan = dyn_cast<kop::ScanOp>(op)) {
    for (Value v : scan.getInputs())
      if (auto why = needStatic(v.getType(), "a Scan input"))
        return why;
    for (auto [i, t] : llvm::enumerate(scan.getResultTypes()))
      if (auto why = needStatic(t, "output " + Twine(i)))
        return why;
    kop::YieldOp y = body(scan.getBody());
    for (unsigned i = 0; i < scan.getNumState(); ++i)
      if (auto why = needStatic(y.getOperand(i).getType(),
                                "the next value of state " + Twine(i)))
        return why;
    return std::nullopt;
  }
  return std::nullopt;
}

void kiln::populateControlFlowPatterns(RewritePatternSet &patterns) {
  patterns.add<IfPattern, LoopPattern, ScanPattern>(patterns.getContext());
}
