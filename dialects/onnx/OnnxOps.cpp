//===- OnnxOps.cpp - onnx op verifiers ------------------------------------===//
//
// Verifiers check what holds for any well-formed op whatever its operand
// shapes (attribute ranges, operand kinds, element types); shape agreement is
// checked by inferShapes, which runs on every op the importer builds.
//
//===----------------------------------------------------------------------===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kiln::onnx;

#define GET_OP_CLASSES
#include "dialects/onnx/OnnxOps.cpp.inc"

namespace {
/// Window attributes must have one value (pads: two) per spatial dimension.
LogicalResult verifyWindowAttrs(Operation *op, Value x) {
  auto t = dyn_cast<RankedTensorType>(x.getType());
  if (!t)
    return success();
  if (t.getRank() < 3)
    return op->emitOpError("expects an input of rank 3 or more, got ")
           << t.getRank();
  int64_t n = t.getRank() - 2;
  for (StringRef name : {"kernel_shape", "strides", "dilations"})
    if (auto a = op->getAttrOfType<DenseI64ArrayAttr>(name))
      if (a.size() != n)
        return op->emitOpError(name) << " must have " << n << " values";
  if (auto p = op->getAttrOfType<DenseI64ArrayAttr>("pads"))
    if (p.size() != 2 * n)
      return op->emitOpError("pads must have ") << 2 * n << " values";
  if (auto s = op->getAttrOfType<StringAttr>("auto_pad"))
    if (!llvm::is_contained({"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"},
                            s.getValue()))
      return op->emitOpError("unknown auto_pad '") << s.getValue() << "'";
  return success();
}

LogicalResult verifyKeepdims(Operation *op) {
  auto k = op->getAttrOfType<IntegerAttr>("keepdims");
  if (k && k.getInt() != 0 && k.getInt() != 1)
    return op->emitOpError("keepdims must be 0 or 1");
  return success();
}
} // namespace

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("result type differs from the value's type");
  return success();
}

#define KILN_VERIFY(OP, EXPR)                                                  \
  LogicalResult OP::verify() { return EXPR; }
KILN_VERIFY(ReduceSumOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceMeanOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceMaxOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceMinOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceProdOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceL1Op, verifyKeepdims(*this))
KILN_VERIFY(ReduceL2Op, verifyKeepdims(*this))
KILN_VERIFY(ReduceSumSquareOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceLogSumOp, verifyKeepdims(*this))
KILN_VERIFY(ReduceLogSumExpOp, verifyKeepdims(*this))
KILN_VERIFY(ArgMaxOp, verifyKeepdims(*this))
KILN_VERIFY(ArgMinOp, verifyKeepdims(*this))
KILN_VERIFY(MaxPoolOp, verifyWindowAttrs(*this, getX()))
KILN_VERIFY(AveragePoolOp, verifyWindowAttrs(*this, getX()))
KILN_VERIFY(GlobalAveragePoolOp, verifyWindowAttrs(*this, getX()))
KILN_VERIFY(GlobalMaxPoolOp, verifyWindowAttrs(*this, getX()))
#undef KILN_VERIFY


LogicalResult MatMulOp::verify() {
  if (elemOf(getA()) != elemOf(getB()))
    return emitOpError("operand element types differ");
  for (Value v : {getA(), getB()})
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      if (t.getRank() == 0)
        return emitOpError("operands must have rank 1 or more");
  return success();
}

LogicalResult GemmOp::verify() {
  for (Value v : {getA(), getB()})
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      if (t.getRank() != 2)
        return emitOpError("A and B must be 2-D");
  if ((getTransA() != 0 && getTransA() != 1) ||
      (getTransB() != 0 && getTransB() != 1))
    return emitOpError("transA and transB must be 0 or 1");
  return success();
}

LogicalResult ConvOp::verify() {
  if (getGroup() < 1)
    return emitOpError("group must be positive");
  if (auto b = dyn_cast<RankedTensorType>(getB().getType()))
    if (b.getRank() != 1)
      return emitOpError("bias must be 1-D");
  return verifyWindowAttrs(*this, getX());
}

LogicalResult BatchNormalizationOp::verify() {
  for (Value v : {getScale(), getB(), getInputMean(), getInputVar()})
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      if (t.getRank() != 1)
        return emitOpError("scale, B, mean and var must be 1-D");
  return verifySameShape(*this, getX(), getY());
}

LogicalResult SoftmaxOp::verify() {
  return verifySameShape(*this, getInput(), getOutput());
}
LogicalResult LogSoftmaxOp::verify() {
  return verifySameShape(*this, getInput(), getOutput());
}

LogicalResult ShapeOfOp::verify() { return success(); }
LogicalResult SizeOp::verify() { return success(); }

static LogicalResult verifyIntShapeOperand(Operation *op, Value v,
                                           StringRef what) {
  auto t = dyn_cast<ShapedType>(v.getType());
  if (!t || !t.getElementType().isInteger(64))
    return op->emitOpError(what) << " must be an int64 tensor";
  if (t.hasRank() && t.getRank() != 1)
    return op->emitOpError(what) << " must be 1-D";
  return success();
}

LogicalResult ReshapeOp::verify() {
  return verifyIntShapeOperand(*this, getShape(), "shape");
}
LogicalResult ExpandOp::verify() {
  return verifyIntShapeOperand(*this, getShape(), "shape");
}
LogicalResult TileOp::verify() {
  return verifyIntShapeOperand(*this, getRepeats(), "repeats");
}
LogicalResult ConstantOfShapeOp::verify() {
  if (auto v = getValue())
    if (v->getNumElements() != 1)
      return emitOpError("value must hold one element");
  return verifyIntShapeOperand(*this, getInput(), "input");
}
LogicalResult RangeOp::verify() {
  for (Value v : {getStart(), getLimit(), getDelta()})
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      if (t.getRank() != 0)
        return emitOpError("start, limit and delta must be scalars");
  return success();
}

LogicalResult FlattenOp::verify() { return success(); }
LogicalResult SqueezeOp::verify() { return success(); }
LogicalResult UnsqueezeOp::verify() {
  if (isa<NoneType>(getAxesInput().getType()) && !getAxes())
    return emitOpError("needs axes");
  return success();
}

LogicalResult TransposeOp::verify() {
  if (auto p = getPerm()) {
    SmallVector<bool> seen(p->size(), false);
    for (int64_t i : *p) {
      if (i < 0 || i >= (int64_t)p->size() || seen[i])
        return emitOpError("perm is not a permutation");
      seen[i] = true;
    }
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  Type elem = elemOf(getInputs().front());
  for (Value v : getInputs())
    if (elemOf(v) != elem)
      return emitOpError("inputs have different element types");
  return success();
}

LogicalResult SplitOp::verify() {
  if (getNumResults() == 0)
    return emitOpError("needs at least one output");
  return success();
}

LogicalResult SliceOp::verify() {
  bool hasInputs = !isa<NoneType>(getStarts().getType());
  if (hasInputs == (bool)getStartsAttr())
    return emitOpError("takes starts either as an input or as an attribute");
  return success();
}

LogicalResult GatherOp::verify() {
  Type idx = elemOf(getIndices());
  if (!idx.isInteger(32) && !idx.isInteger(64))
    return emitOpError("indices must be int32 or int64");
  if (auto d = ranked(getData()))
    if (auto axis = normalizeAxis(getAxis(), d.getRank()))
      return verifyIndicesWithin(*this, getIndices(), {d.getDimSize(*axis)});
  return success();
}

LogicalResult DropoutOp::verify() {
  return verifySameShape(*this, getData(), getOutput());
}
