//===- Epilogue.cpp - elementwise ops fused into a kernel's store ---------===//
#include "lowering/Vectorize/Epilogue.h"
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using kiln::Epilogue;

namespace {

/// Whether `map` reads each point of the iteration space at the same index,
/// where a dim of extent 1 may be read at the constant 0 instead.
bool isPointwise(AffineMap map, ArrayRef<int64_t> shape) {
  if (map.getNumResults() != map.getNumDims() ||
      map.getNumResults() != shape.size())
    return false;
  for (auto [i, e] : llvm::enumerate(map.getResults())) {
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == i)
      continue;
    auto c = dyn_cast<AffineConstantExpr>(e);
    if (!c || c.getValue() != 0 || shape[i] != 1)
      return false;
  }
  return true;
}

bool isVectorizableBody(Block &body) {
  for (Operation &o : body.without_terminator()) {
    if (o.getNumRegions() != 0 || o.getNumResults() != 1)
      return false;
    if (isa<arith::ConstantOp>(o))
      continue;
    if (!o.hasTrait<OpTrait::Elementwise>() ||
        !isa<arith::ArithDialect, math::MathDialect>(o.getDialect()))
      return false;
    for (Type t : o.getOperandTypes())
      if (!t.isF32() && !t.isInteger(1))
        return false;
    Type t = o.getResult(0).getType();
    if (!t.isF32() && !t.isInteger(1))
      return false;
  }
  return true;
}

/// The body of an elementwise generic applied to vectors of nr elements:
/// `args` holds a vector for each input's block argument.
Value applyBody(OpBuilder &b, Location loc, Block &body, ArrayRef<Value> args,
                int64_t nr) {
  IRMapping map;
  for (auto [arg, v] : llvm::zip(body.getArguments(), args))
    if (v)
      map.map(arg, v);
  auto vectorOf = [&](Value v) -> Value {
    Value mapped = map.lookupOrDefault(v);
    if (isa<VectorType>(mapped.getType()))
      return mapped;
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({nr}, mapped.getType()), mapped);
  };
  for (Operation &o : body.without_terminator()) {
    Type resultType = VectorType::get({nr}, o.getResult(0).getType());
    if (auto c = dyn_cast<arith::ConstantOp>(o)) {
      auto splat =
          DenseElementsAttr::get(cast<ShapedType>(resultType), c.getValue());
      map.map(o.getResult(0),
              arith::ConstantOp::create(b, loc, splat).getResult());
      continue;
    }
    OperationState state(loc, o.getName());
    for (Value operand : o.getOperands())
      state.addOperands(vectorOf(operand));
    state.addAttributes(o.getAttrs());
    state.addTypes(resultType);
    map.map(o.getResult(0), b.create(state)->getResult(0));
  }
  return vectorOf(body.getTerminator()->getOperand(0));
}

} // namespace

Epilogue kiln::findEpilogue(Value c) {
  Epilogue epi;
  SmallVector<Operation *> pending; // reshapes not yet followed by a stage
  Value cur = c;
  while (cur.hasOneUse()) {
    Operation *user = *cur.getUsers().begin();
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(user)) {
      pending.push_back(user);
      cur = user->getResult(0);
      continue;
    }
    auto g = dyn_cast<linalg::GenericOp>(user);
    if (!g || g.getNumDpsInits() != 1 || g.getNumReductionLoops() != 0 ||
        !g.getIndexingMapsArray().back().isIdentity() ||
        !g.getRegionOutputArgs()[0].use_empty() ||
        !cast<RankedTensorType>(g.getResult(0).getType())
             .getElementType()
             .isF32() ||
        !isVectorizableBody(*g.getBody()))
      break;
    auto outType = cast<RankedTensorType>(g.getResult(0).getType());
    std::optional<unsigned> chained;
    bool ok = true;
    for (OpOperand *in : g.getDpsInputOperands()) {
      AffineMap map = g.getMatchingIndexingMap(in);
      auto t = dyn_cast<RankedTensorType>(in->get().getType());
      if (!t || !t.getElementType().isF32()) {
        ok = false;
        break;
      }
      if (in->get() == cur) {
        if (chained || !isPointwise(map, outType.getShape()))
          ok = false;
        chained = in->getOperandNumber();
        continue;
      }
      bool scalar = llvm::all_of(map.getResults(), [](AffineExpr e) {
        return isa<AffineConstantExpr>(e);
      });
      bool full = isPointwise(map, outType.getShape()) && t == outType;
      if (!scalar && !full)
        ok = false;
    }
    if (!ok || !chained)
      break;
    llvm::append_range(epi.absorbed, pending);
    pending.clear();
    epi.absorbed.push_back(g);
    epi.stages.push_back({g, *chained});
    cur = g.getResult(0);
  }
  return epi;
}

void kiln::prepareEpilogue(RewriterBase &rewriter, Location loc, Epilogue &epi,
                           int64_t rows, int64_t cols) {
  Type f32 = rewriter.getF32Type();
  epi.inputs.clear();
  for (Epilogue::Stage &stage : epi.stages) {
    SmallVector<Value> &ins = epi.inputs.emplace_back();
    for (OpOperand *in : stage.op.getDpsInputOperands()) {
      if (in->getOperandNumber() == stage.chained) {
        ins.push_back(Value());
        continue;
      }
      AffineMap map = stage.op.getMatchingIndexingMap(in);
      if (!llvm::all_of(map.getResults(), [](AffineExpr e) {
            return isa<AffineConstantExpr>(e);
          })) {
        ins.push_back(reshapeTensor(rewriter, loc, in->get(),
                                    RankedTensorType::get({rows, cols}, f32)));
        continue;
      }
      SmallVector<Value> index;
      for (AffineExpr e : map.getResults())
        index.push_back(arith::ConstantIndexOp::create(
            rewriter, loc, cast<AffineConstantExpr>(e).getValue()));
      ins.push_back(tensor::ExtractOp::create(rewriter, loc, in->get(), index));
    }
  }
}

Value kiln::applyEpilogue(OpBuilder &b, Location loc, const Epilogue &epi,
                          Value acc, Value row, Value col, bool inBounds) {
  auto vecType = cast<VectorType>(acc.getType());
  Value zero = scalarConstant(b, loc, vecType.getElementType(), 0);
  for (auto [stage, ins] : llvm::zip(epi.stages, epi.inputs)) {
    linalg::GenericOp op = stage.op;
    SmallVector<Value> args;
    for (auto [pos, in] : llvm::enumerate(ins)) {
      if (pos == stage.chained)
        args.push_back(acc);
      else if (isa<RankedTensorType>(in.getType()))
        args.push_back(vector::TransferReadOp::create(
            b, loc, vecType, in, ValueRange{row, col}, zero,
            ArrayRef<bool>{inBounds}));
      else
        args.push_back(in);
    }
    acc = applyBody(b, loc, *op.getBody(), args, vecType.getDimSize(0));
  }
  return acc;
}

void kiln::finishEpilogue(RewriterBase &rewriter, Epilogue &epi, Value result) {
  Operation *last = epi.absorbed.back();
  rewriter.setInsertionPoint(last);
  rewriter.replaceOp(last, reshapeTensor(rewriter, last->getLoc(), result,
                                         cast<RankedTensorType>(
                                             last->getResult(0).getType())));
  for (Operation *dead : llvm::reverse(ArrayRef(epi.absorbed).drop_back()))
    rewriter.eraseOp(dead);
}

Value kiln::splatInitValue(Value init) {
  Value value;
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    if (fill.hasPureTensorSemantics() &&
        fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
      value = fill.getDpsInputs()[0];
  } else if (auto g = init.getDefiningOp<linalg::GenericOp>()) {
    if (g.getNumDpsInputs() == 0 && g.getNumDpsInits() == 1 &&
        g.getRegionOutputArgs()[0].use_empty() &&
        g.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
      value = g.getBody()->getTerminator()->getOperand(0);
  }
  if (!value || !matchPattern(value, m_Constant()))
    return Value();
  return value;
}

linalg::GenericOp kiln::broadcastCopy(Value init) {
  auto generic = init.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      !generic.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>() ||
      !generic.getIndexingMapsArray()[1].isIdentity())
    return {};
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  if (yield.getValues()[0] != generic.getBody()->getArgument(0))
    return {};
  return generic;
}
