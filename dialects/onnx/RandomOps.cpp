//===- RandomOps.cpp - verifiers and shape rules of the random ops --------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;

/// The element type `dtype` names (`fallback` without it), which must be a
/// float type (`allowInt`: or an integer type).
static FailureOr<Type> randomType(Operation *op, std::optional<int64_t> dtype,
                                  Type fallback, bool allowInt) {
  Type t = dtype ? getElementTypeForOnnx(op->getContext(), *dtype) : fallback;
  if (!t || (!isa<FloatType>(t) && !(allowInt && isa<IntegerType>(t))))
    return op->emitOpError("dtype must name a float")
           << (allowInt ? " or integer" : "") << " type";
  return t;
}

static LogicalResult inferLike(Operation *op, Value input,
                               std::optional<int64_t> dtype, bool allowInt) {
  auto t = randomType(op, dtype, elemOf(input), allowInt);
  if (failed(t))
    return failure();
  return sameAsOperand(op, input, *t);
}

LogicalResult RandomUniformLikeOp::verify() {
  return failure(failed(randomType(*this, getDtype(), elemOf(getInput()), false)));
}
LogicalResult RandomUniformLikeOp::inferShapes() {
  return inferLike(*this, getInput(), getDtype(), false);
}
LogicalResult RandomNormalLikeOp::verify() {
  return failure(failed(randomType(*this, getDtype(), elemOf(getInput()), false)));
}
LogicalResult RandomNormalLikeOp::inferShapes() {
  return inferLike(*this, getInput(), getDtype(), false);
}
LogicalResult BernoulliOp::verify() {
  if (!isFloat(getInput()))
    return emitOpError("expects a float input of probabilities");
  return failure(failed(randomType(*this, getDtype(), elemOf(getInput()), true)));
}
LogicalResult BernoulliOp::inferShapes() {
  return inferLike(*this, getInput(), getDtype(), true);
}

static LogicalResult verifyShaped(Operation *op, ArrayRef<int64_t> shape,
                                  int64_t dtype) {
  for (int64_t d : shape)
    if (d < 0)
      return op->emitOpError("shape has a negative dim ") << d;
  return failure(failed(randomType(op, dtype, nullptr, false)));
}
LogicalResult RandomUniformOp::verify() {
  return verifyShaped(*this, getShape(), getDtype());
}
LogicalResult RandomUniformOp::inferShapes() {
  setResult(*this, getShape(), getElementTypeForOnnx(getContext(), getDtype()));
  return success();
}
LogicalResult RandomNormalOp::verify() {
  return verifyShaped(*this, getShape(), getDtype());
}
LogicalResult RandomNormalOp::inferShapes() {
  setResult(*this, getShape(), getElementTypeForOnnx(getContext(), getDtype()));
  return success();
}
