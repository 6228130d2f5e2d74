//===- OnnxDialect.cpp - the onnx dialect ---------------------------------===//
#include "dialects/onnx/OnnxDialect.h"

#include "kiln/runtime.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln::onnx;

#include "dialects/onnx/OnnxDialect.cpp.inc"
#include "dialects/onnx/OnnxInterfaces.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/onnx/OnnxTypes.cpp.inc"

void OnnxDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/onnx/OnnxOps.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/onnx/OnnxTypes.cpp.inc"
      >();
}

Operation *OnnxDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  if (isa<NoneType>(type))
    return NoValueOp::create(builder, loc, NoneType::get(builder.getContext()));
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

int64_t kiln::onnx::getOpsetVersion(Operation *op, int64_t fallback) {
  for (Operation *p = op; p; p = p->getParentOp())
    if (auto attr = p->getAttrOfType<IntegerAttr>("onnx.opset"))
      return attr.getInt();
  return fallback;
}

// TensorProto.DataType codes from onnx.proto.
Type kiln::onnx::getElementTypeForOnnx(MLIRContext *ctx, int64_t dataType) {
  Builder b(ctx);
  switch (dataType) {
  case KILN_FLOAT: return b.getF32Type();
  case KILN_UINT8: return b.getIntegerType(8, /*isSigned=*/false);
  case KILN_INT8: return b.getIntegerType(8);
  case KILN_UINT16: return b.getIntegerType(16, /*isSigned=*/false);
  case KILN_INT16: return b.getIntegerType(16);
  case KILN_INT32: return b.getIntegerType(32);
  case KILN_INT64: return b.getIntegerType(64);
  case KILN_BOOL: return b.getI1Type();
  case KILN_FLOAT16: return b.getF16Type();
  case KILN_DOUBLE: return b.getF64Type();
  case KILN_UINT32: return b.getIntegerType(32, /*isSigned=*/false);
  case KILN_UINT64: return b.getIntegerType(64, /*isSigned=*/false);
  case KILN_BFLOAT16: return b.getBF16Type();
  default: return nullptr;
  }
}

int64_t kiln::onnx::getOnnxDataType(Type t) {
  if (t.isF32()) return KILN_FLOAT;
  if (t.isF16()) return KILN_FLOAT16;
  if (t.isF64()) return KILN_DOUBLE;
  if (t.isBF16()) return KILN_BFLOAT16;
  if (t.isInteger(1)) return KILN_BOOL;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8: return u ? KILN_UINT8 : KILN_INT8;
    case 16: return u ? KILN_UINT16 : KILN_INT16;
    case 32: return u ? KILN_UINT32 : KILN_INT32;
    case 64: return u ? KILN_UINT64 : KILN_INT64;
    }
  }
  return 0;
}
