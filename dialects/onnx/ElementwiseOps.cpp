//===- ElementwiseOps.cpp - rules of the elementwise families -------------===//
//
// The verifiers and shape rules that the base classes of
// OnnxElementwiseOps.td call, and those of the elementwise ops with rules of
// their own (Where, Cast, Clip).
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;

/// Whether an element type is one that operands of `kind` may hold.
static bool holds(OperandKind kind, Type elem) {
  switch (kind) {
  case OperandKind::Any:
  case OperandKind::Same:
    return true;
  case OperandKind::Numeric:
    return !elem.isInteger(1);
  case OperandKind::Float:
    return isa<FloatType>(elem);
  case OperandKind::Bool:
    return elem.isInteger(1);
  }
  return false;
}

static InFlightDiagnostic kindError(Operation *op, OperandKind kind,
                                    Type elem) {
  switch (kind) {
  case OperandKind::Float:
    return op->emitOpError("expects a floating-point operand, got ") << elem;
  case OperandKind::Bool:
    return op->emitOpError("expects bool operands, got ") << elem;
  default:
    return op->emitOpError("does not take bool operands");
  }
}

LogicalResult kiln::onnx::verifyUnary(Operation *op, OperandKind kind) {
  Type elem = elemOf(op->getOperand(0));
  if (!holds(kind, elem))
    return kindError(op, kind, elem);
  return verifySameShape(op, op->getOperand(0), op->getResult(0));
}

LogicalResult kiln::onnx::inferUnary(Operation *op, bool boolResult) {
  return sameAsOperand(op, op->getOperand(0),
                       boolResult ? boolType(op) : Type());
}

LogicalResult kiln::onnx::verifyBinary(Operation *op, OperandKind kind) {
  Value a = op->getOperand(0), b = op->getOperand(1);
  for (Value v : {a, b})
    if (!holds(kind, elemOf(v)))
      return kindError(op, kind, elemOf(v));
  if (kind != OperandKind::Any && elemOf(a) != elemOf(b))
    return op->emitOpError("operand element types differ: ")
           << elemOf(a) << " and " << elemOf(b);
  auto ta = ranked(a), tb = ranked(b);
  if (ta && tb && !broadcastShapes(ta.getShape(), tb.getShape()))
    return op->emitOpError("operand shapes do not broadcast");
  return success();
}

LogicalResult kiln::onnx::verifyVariadic(Operation *op) {
  if (op->getNumOperands() == 0)
    return op->emitOpError("needs at least one input");
  Type elem = elemOf(op->getOperand(0));
  for (Value v : op->getOperands())
    if (elemOf(v) != elem)
      return op->emitOpError("inputs have different element types");
  return success();
}

LogicalResult kiln::onnx::inferBroadcast(Operation *op, bool boolResult) {
  return broadcastAll(op, op->getOperands(),
                      boolResult ? boolType(op) : elemOf(op->getOperand(0)));
}

//===----------------------------------------------------------------------===//
// Where, Cast, Clip
//===----------------------------------------------------------------------===//

LogicalResult WhereOp::verify() {
  if (!isBool(getCondition()))
    return emitOpError("condition must be a bool tensor");
  if (elemOf(getX()) != elemOf(getY()))
    return emitOpError("X and Y have different element types");
  return success();
}

LogicalResult WhereOp::inferShapes() {
  return broadcastAll(*this, {getCondition(), getX(), getY()}, elemOf(getX()));
}

LogicalResult CastOp::verify() {
  if (!getElementTypeForOnnx(getContext(), getTo()))
    return emitOpError("unsupported target type code ") << getTo();
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult CastOp::inferShapes() {
  Type elem = getElementTypeForOnnx(getContext(), getTo());
  if (!elem)
    return emitOpError("unsupported target type code ") << getTo();
  return sameAsOperand(*this, getInput(), elem);
}

LogicalResult ClipOp::verify() {
  for (Value bound : {getMin(), getMax()})
    if (auto t = ranked(bound))
      if (t.getNumElements() != 1)
        return emitOpError("min and max must be scalars");
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult ClipOp::inferShapes() { return sameAsOperand(*this, getInput()); }
