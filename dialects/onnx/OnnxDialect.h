//===- OnnxDialect.h - the onnx dialect -------------------------*- C++ -*-===//
#ifndef KILN_DIALECTS_ONNX_ONNXDIALECT_H
#define KILN_DIALECTS_ONNX_ONNXDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"

#include "dialects/onnx/OnnxDialect.h.inc"
#include "dialects/onnx/OnnxInterfaces.h.inc"

namespace kiln::onnx::OnnxTrait {
/// Marks ops whose result elements each depend only on the elements at the
/// same (numpy-broadcast) position of their operands.
template <typename ConcreteType>
class Elementwise
    : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};
} // namespace kiln::onnx::OnnxTrait

namespace kiln::onnx {
/// What the operands of an elementwise family may hold.
enum class OperandKind { Any, Same, Numeric, Float, Bool };
/// The family rules the ODS base classes of OnnxElementwiseOps.td call
/// (ElementwiseOps.cpp).
mlir::LogicalResult verifyUnary(mlir::Operation *op, OperandKind kind);
mlir::LogicalResult inferUnary(mlir::Operation *op, bool boolResult);
mlir::LogicalResult verifyBinary(mlir::Operation *op, OperandKind kind);
mlir::LogicalResult verifyVariadic(mlir::Operation *op);
/// The numpy broadcast of all operands, of the first operand's element
/// type (bool with `boolResult`).
mlir::LogicalResult inferBroadcast(mlir::Operation *op, bool boolResult);
/// The window family (SignalOps.cpp): a scalar integer size, a float
/// output_datatype; a 1-D result of `size` elements.
mlir::LogicalResult verifyCosineWindow(mlir::Operation *op, mlir::Value size,
                                 int64_t dataType);
mlir::LogicalResult inferCosineWindow(mlir::Operation *op, mlir::Value size,
                                int64_t dataType);
} // namespace kiln::onnx

#define GET_TYPEDEF_CLASSES
#include "dialects/onnx/OnnxTypes.h.inc"

#define GET_OP_CLASSES
#include "dialects/onnx/OnnxOps.h.inc"

namespace kiln::onnx {

/// The opset version of the default ONNX domain that `op`'s module imports
/// (module attribute `onnx.opset`); `fallback` when none is recorded.
int64_t getOpsetVersion(mlir::Operation *op, int64_t fallback = 17);

/// The argument types of a Loop body (iteration number, condition, the
/// carried values) and of a Scan body (the state, then one slice of each
/// scan input), from the op's operands.
llvm::SmallVector<mlir::Type> loopBodyTypes(LoopOp op);
llvm::SmallVector<mlir::Type> scanBodyTypes(ScanOp op);
/// The argument types of a SequenceMap body: each sequence's element type,
/// each tensor's own type.
llvm::SmallVector<mlir::Type> sequenceMapBodyTypes(SequenceMapOp op);
/// Whether `t` is a value Kiln keeps as a run-time handle when it is not
/// resolved at compile time: a sequence or an optional.
inline bool isSeqOrOpt(mlir::Type t) { return llvm::isa<SeqType, OptType>(t); }

/// One element of a sequence whose structure is known at compile time: a
/// tensor value, or piece `index` of a SplitToSequence.
struct SeqElement {
  mlir::Value value;
  SplitToSequenceOp split;
  int64_t index = 0;
};
/// The elements of `seq`, built from SequenceEmpty / SequenceConstruct /
/// SplitToSequence by SequenceInsert / SequenceErase at constant positions;
/// nullopt otherwise (or when a position is out of range).
std::optional<llvm::SmallVector<SeqElement>> resolveSequence(mlir::Value seq);
/// The pieces of a SplitToSequence along its axis: their offsets and
/// lengths, when the input's dim and the split are known; nullopt else.
std::optional<std::pair<llvm::SmallVector<int64_t>, llvm::SmallVector<int64_t>>>
splitPieces(SplitToSequenceOp op);
/// The type of a SequenceAt of `e`.
mlir::Type seqElementType(const SeqElement &e);

/// Element type for an ONNX TensorProto.DataType code, or null.
mlir::Type getElementTypeForOnnx(mlir::MLIRContext *ctx, int64_t dataType);
/// ONNX TensorProto.DataType code for an element type, or 0.
int64_t getOnnxDataType(mlir::Type elementType);

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "dialects/onnx/Passes.h.inc"

/// Runs shape inference and folding over one function; used by the importer
/// as it builds and by the onnx-infer-shapes pass.
mlir::LogicalResult inferShapesAndFold(mlir::func::FuncOp func);

} // namespace kiln::onnx

#endif // KILN_DIALECTS_ONNX_ONNXDIALECT_H
