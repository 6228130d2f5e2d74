//===- QuantOps.cpp - verifiers and shape rules of the quantization ops ---===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;

namespace {
bool isInt8(Type t) { return t.isInteger(8); }

/// A scale or zero point: a scalar (or one element), or with `perAxis` a
/// 1-D tensor of x's size along `axis`.
LogicalResult verifyQuantParam(Operation *op, Value param, StringRef what,
                               Value x, int64_t axis, bool perAxis) {
  if (isNone(param))
    return success();
  auto p = ranked(param), xt = ranked(x);
  if (!p || p.getNumElements() == 1)
    return success();
  if (!perAxis || p.getRank() != 1)
    return op->emitOpError(what) << " must be a scalar"
                                 << (perAxis ? " or 1-D" : "");
  if (!xt)
    return success();
  auto a = normalizeAxis(axis, xt.getRank());
  if (!a)
    return op->emitOpError("axis ") << axis << " is out of range for rank "
                                    << xt.getRank();
  if (!p.isDynamicDim(0) && !xt.isDynamicDim(*a) &&
      p.getDimSize(0) != xt.getDimSize(*a))
    return op->emitOpError(what) << " has " << p.getDimSize(0)
                                 << " values for an axis of size "
                                 << xt.getDimSize(*a);
  return success();
}

/// A zero point of an integer product: a scalar, or one value per entry
/// of dim `dim` (from the end) of the operand.
LogicalResult verifyProductZeroPoint(Operation *op, Value zp, Value x,
                                     StringRef what) {
  if (isNone(zp))
    return success();
  if (elemOf(zp) != elemOf(x))
    return op->emitOpError(what) << " has element type " << elemOf(zp)
                                 << ", its operand " << elemOf(x);
  auto t = ranked(zp);
  if (t && t.getRank() > 1)
    return op->emitOpError(what) << " must be a scalar or 1-D";
  return success();
}
} // namespace

LogicalResult QuantizeLinearOp::verify() {
  if (!isFloat(getYScale()))
    return emitOpError("y_scale must be a float tensor");
  if (!isNone(getYZeroPoint()) && !isInt8(elemOf(getYZeroPoint())))
    return emitOpError("y_zero_point must be int8 or uint8, got ")
           << elemOf(getYZeroPoint());
  if (failed(verifyQuantParam(*this, getYScale(), "y_scale", getX(),
                              getAxis(), true)) ||
      failed(verifyQuantParam(*this, getYZeroPoint(), "y_zero_point", getX(),
                              getAxis(), true)))
    return failure();
  return verifySameShape(*this, getX(), getY());
}

LogicalResult QuantizeLinearOp::inferShapes() {
  Type elem = isNone(getYZeroPoint())
                  ? IntegerType::get(getContext(), 8, IntegerType::Unsigned)
                  : elemOf(getYZeroPoint());
  return sameAsOperand(*this, getX(), elem);
}

LogicalResult DequantizeLinearOp::verify() {
  if (!isFloat(getXScale()))
    return emitOpError("x_scale must be a float tensor");
  if (!isNone(getXZeroPoint()) && elemOf(getXZeroPoint()) != elemOf(getX()))
    return emitOpError("x_zero_point has element type ")
           << elemOf(getXZeroPoint()) << ", x " << elemOf(getX());
  if (failed(verifyQuantParam(*this, getXScale(), "x_scale", getX(),
                              getAxis(), true)) ||
      failed(verifyQuantParam(*this, getXZeroPoint(), "x_zero_point", getX(),
                              getAxis(), true)))
    return failure();
  return verifySameShape(*this, getX(), getY());
}

LogicalResult DequantizeLinearOp::inferShapes() {
  return sameAsOperand(*this, getX(), elemOf(getXScale()));
}

LogicalResult DynamicQuantizeLinearOp::verify() {
  if (!isFloat(getX()))
    return emitOpError("expects a float input");
  return success();
}

LogicalResult DynamicQuantizeLinearOp::inferShapes() {
  Type u8 = IntegerType::get(getContext(), 8, IntegerType::Unsigned);
  if (failed(sameAsOperand(*this, getX(), u8)))
    return failure();
  setResult(*this, 1, {}, elemOf(getX()));
  setResult(*this, 2, {}, u8);
  return success();
}

LogicalResult MatMulIntegerOp::verify() {
  if (!isInt8(elemOf(getA())) || !isInt8(elemOf(getB())))
    return emitOpError("expects 8-bit integer operands");
  return failure(
      failed(verifyProductZeroPoint(*this, getAZeroPoint(), getA(),
                                    "a_zero_point")) ||
      failed(verifyProductZeroPoint(*this, getBZeroPoint(), getB(),
                                    "b_zero_point")));
}

LogicalResult MatMulIntegerOp::inferShapes() {
  return inferMatMulShape(*this, getA(), getB(),
                          IntegerType::get(getContext(), 32));
}

LogicalResult ConvIntegerOp::verify() {
  if (!isInt8(elemOf(getX())) || !isInt8(elemOf(getW())))
    return emitOpError("expects 8-bit integer operands");
  return failure(
      failed(verifyProductZeroPoint(*this, getXZeroPoint(), getX(),
                                    "x_zero_point")) ||
      failed(verifyProductZeroPoint(*this, getWZeroPoint(), getW(),
                                    "w_zero_point")));
}

LogicalResult ConvIntegerOp::inferShapes() {
  return inferConvShape(*this, getX(), getW(), getGroup(), getKernelShape(),
                        IntegerType::get(getContext(), 32));
}

LogicalResult QLinearMatMulOp::verify() {
  if (!isInt8(elemOf(getA())) || !isInt8(elemOf(getB())) ||
      !isInt8(elemOf(getYZeroPoint())))
    return emitOpError("expects 8-bit integer operands");
  for (Value s : {getAScale(), getBScale(), getYScale()})
    if (!isFloat(s))
      return emitOpError("scales must be float tensors");
  return failure(
      failed(verifyProductZeroPoint(*this, getAZeroPoint(), getA(),
                                    "a_zero_point")) ||
      failed(verifyProductZeroPoint(*this, getBZeroPoint(), getB(),
                                    "b_zero_point")));
}

LogicalResult QLinearMatMulOp::inferShapes() {
  return inferMatMulShape(*this, getA(), getB(), elemOf(getYZeroPoint()));
}

LogicalResult QLinearConvOp::verify() {
  if (!isInt8(elemOf(getX())) || !isInt8(elemOf(getW())) ||
      !isInt8(elemOf(getYZeroPoint())))
    return emitOpError("expects 8-bit integer operands");
  for (Value s : {getXScale(), getWScale(), getYScale()})
    if (!isFloat(s))
      return emitOpError("scales must be float tensors");
  if (!isNone(getB()) && !elemOf(getB()).isInteger(32))
    return emitOpError("B must be int32");
  return failure(
      failed(verifyProductZeroPoint(*this, getXZeroPoint(), getX(),
                                    "x_zero_point")) ||
      failed(verifyProductZeroPoint(*this, getWZeroPoint(), getW(),
                                    "w_zero_point")));
}

LogicalResult QLinearConvOp::inferShapes() {
  return inferConvShape(*this, getX(), getW(), getGroup(), getKernelShape(),
                        elemOf(getYZeroPoint()));
}
