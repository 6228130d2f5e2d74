//===- Passes.cpp - onnx-infer-shapes -------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace kiln::onnx {
#define GEN_PASS_DEF_ONNXINFERSHAPES
#include "dialects/onnx/Passes.h.inc"
} // namespace kiln::onnx

using namespace kiln::onnx;

/// Folds `op` if its operands allow; replaces its results by the folded
/// values (materialized as onnx.Constant) and erases it.
static void tryFold(Operation *op, OpBuilder &builder) {
  if (op->hasTrait<OpTrait::ConstantLike>())
    return;
  SmallVector<OpFoldResult> results;
  if (failed(op->fold(results)) || results.empty())
    return;
  builder.setInsertionPoint(op);
  SmallVector<Value> values;
  for (auto [res, folded] : llvm::zip(op->getResults(), results)) {
    if (auto v = dyn_cast<Value>(folded)) {
      values.push_back(v);
      continue;
    }
    Operation *cst = op->getDialect()->materializeConstant(
        builder, cast<Attribute>(folded), res.getType(), op->getLoc());
    if (!cst)
      return;
    values.push_back(cst->getResult(0));
  }
  op->replaceAllUsesWith(values);
  op->erase();
}

LogicalResult kiln::onnx::inferShapesAndFold(func::FuncOp func) {
  OpBuilder builder(func.getContext());
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) { ops.push_back(op); });
  for (Operation *op : ops) {
    auto iface = dyn_cast<ShapeInferenceOpInterface>(op);
    if (!iface)
      continue;
    if (failed(iface.inferShapes()))
      return failure();
    tryFold(op, builder);
  }
  // Drop constants nothing uses any more (folded shape chains).
  SmallVector<Operation *> dead;
  func.walk([&](Operation *op) {
    if (op->hasTrait<OpTrait::ConstantLike>() && op->use_empty())
      dead.push_back(op);
  });
  for (Operation *op : dead)
    op->erase();
  // The function's result types follow its returned values.
  Operation *ret = func.getBody().back().getTerminator();
  func.setType(FunctionType::get(func.getContext(),
                                 func.getArgumentTypes(),
                                 ret->getOperandTypes()));
  return success();
}

namespace {
struct OnnxInferShapesPass
    : public kiln::onnx::impl::OnnxInferShapesBase<OnnxInferShapesPass> {
  void runOnOperation() override {
    if (failed(inferShapesAndFold(getOperation())))
      signalPassFailure();
  }
};
} // namespace
