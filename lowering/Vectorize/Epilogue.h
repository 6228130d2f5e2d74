//===- Epilogue.h - elementwise ops fused into a kernel's store -*- C++ -*-===//
//
// A kernel that computes a tensor in registers (the matmul, the depthwise
// convolution) can apply the elementwise ops that consume it (bias,
// activations, residual adds: a chain of all-parallel linalg.generic ops,
// through reshapes) to its accumulator vectors before it stores them, so
// that the tensor is written once, finished.
//
// The kernel sees its result as a 2-D `rows x cols` row-major view (the
// chain's tensors have the same elements in the same order); an epilogue
// operand is either a scalar (a tensor read at a constant index) or a tensor
// of the chain's shape, read as a vector at (row, col) of that view.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_VECTORIZE_EPILOGUE_H
#define KILN_LOWERING_VECTORIZE_EPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace kiln {

struct Epilogue {
  struct Stage {
    mlir::linalg::GenericOp op;
    unsigned chained; // the input that carries the kernel's result
  };
  llvm::SmallVector<Stage> stages;
  llvm::SmallVector<mlir::Operation *> absorbed; // reshapes and generics
  /// Per stage, per input: the scalar or the rows x cols view (null for the
  /// chained input). Set by prepareEpilogue.
  llvm::SmallVector<llvm::SmallVector<mlir::Value>> inputs;

  bool empty() const { return stages.empty(); }
  /// Where the kernel must be built: every operand of the chain is defined
  /// there.
  mlir::Operation *insertionPoint(mlir::Operation *kernelOp) const {
    return absorbed.empty() ? kernelOp : absorbed.back();
  }
};

/// The single-use chain of elementwise ops that can run on the accumulators
/// of the kernel producing `result` (empty if none).
Epilogue findEpilogue(mlir::Value result);

/// Reads the scalars and makes the rows x cols views, at the rewriter's
/// insertion point (before the kernel).
void prepareEpilogue(mlir::RewriterBase &rewriter, mlir::Location loc,
                     Epilogue &epi, int64_t rows, int64_t cols);

/// The chain applied to `acc` (a vector of the result at row `row`, columns
/// from `col`); `inBounds`: the vector never reaches past `cols`.
mlir::Value applyEpilogue(mlir::OpBuilder &b, mlir::Location loc,
                          const Epilogue &epi, mlir::Value acc, mlir::Value row,
                          mlir::Value col, bool inBounds);

/// Replaces the chain's last op with `result` (the kernel's output, with the
/// epilogue applied, in any shape with the same elements) and erases the
/// rest of the chain.
void finishEpilogue(mlir::RewriterBase &rewriter, Epilogue &epi,
                    mlir::Value result);

/// The generic an init tensor is copied by, when it is a copy of one smaller
/// tensor (broadcast by the input's indexing map) into an empty tensor: a
/// bias spread over an output. Null otherwise.
mlir::linalg::GenericOp broadcastCopy(mlir::Value init);

/// The constant an init tensor is filled with (a linalg.fill of an empty
/// tensor, or a generic with no inputs yielding a constant), or null.
mlir::Value splatInitValue(mlir::Value init);

} // namespace kiln

#endif // KILN_LOWERING_VECTORIZE_EPILOGUE_H
