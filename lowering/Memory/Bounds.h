//===- Bounds.h - upper bounds of dynamic sizes -----------------*- C++ -*-===//
//
// A function with symbolic dims (index arguments marked `kiln.dim`, bounded
// by the function's `kiln.dim_max`, see kiln-dynamic-entry) computes its
// dynamic sizes from them and constants by products, sums, quotients,
// minima and maxima, directly or through the sizes of tensors, buffers and
// views. Sizes are never negative and all of these grow with their
// operands, so a size's bound is its value at the maxima; min(x, c) is at
// most c whatever x is (lowerings clamp run-time sizes that way).
// Used by kiln-plan-arena to give each dynamic buffer its largest room.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_MEMORY_BOUNDS_H
#define KILN_LOWERING_MEMORY_BOUNDS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include <optional>

namespace kiln {

/// An upper bound of the index value `v`, or nullopt. A symbolic dim
/// without a bound (`kiln.dim_max` 0) has none, or, with `unboundedAs` > 0,
/// counts as that size: the result is then the value at a reference point,
/// no bound (kiln-plan-arena orders the buffers of a run-time plan by it).
std::optional<int64_t> upperBound(mlir::Value v, mlir::func::FuncOp func,
                                  int depth = 0, int64_t unboundedAs = 0);

/// An upper bound of dim `d` of the tensor, buffer or view `src`.
std::optional<int64_t> dimBound(mlir::Value src, int64_t d,
                                mlir::func::FuncOp func, int depth = 0,
                                int64_t unboundedAs = 0);

/// An upper bound of the index value `v` as index arithmetic on the
/// symbolic dims, built with `b` (each kiln.dim argument of `func` through
/// `dims`: itself in `func`, an argument of another function), or null: a
/// bound at run time for a size that depends on the values of the inputs
/// where a dim has no --max-dim. May leave unused ops behind when it fails.
mlir::Value buildUpperBound(mlir::Value v, mlir::func::FuncOp func,
                            mlir::OpBuilder &b, mlir::IRMapping &dims);

/// The same for dim `d` of the tensor, buffer or view `src`.
mlir::Value buildDimBound(mlir::Value src, int64_t d, mlir::func::FuncOp func,
                          mlir::OpBuilder &b, mlir::IRMapping &dims);

/// An upper bound of the element count of the tensor, buffer or view `src`
/// (the product of its dims' bounds); nullopt, with the first dim that has
/// none in `unbounded` when given, if one has none.
std::optional<int64_t> elementsBound(mlir::Value src, mlir::func::FuncOp func,
                                     int64_t *unbounded = nullptr,
                                     int64_t unboundedAs = 0);

} // namespace kiln

#endif // KILN_LOWERING_MEMORY_BOUNDS_H
