//===- Common.h - helpers shared by the onnx-to-linalg patterns -*- C++ -*-===//
#ifndef KILN_LOWERING_ONNXTOLINALG_COMMON_H
#define KILN_LOWERING_ONNXTOLINALG_COMMON_H

#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

namespace kiln {

using onnx::elemOf;
using onnx::isNone;

/// A one-result onnx op of result type `type`: patterns that rewrite an op
/// into simpler onnx ops (lowered by their own patterns) build them so.
template <typename OpTy>
mlir::Value makeOnnx(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                     mlir::ValueRange operands,
                     llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
  return OpTy::create(b, loc, mlir::TypeRange{type}, operands, attrs)
      ->getResult(0);
}
/// An absent optional operand.
inline mlir::Value noValue(mlir::OpBuilder &b, mlir::Location loc) {
  return onnx::NoValueOp::create(b, loc, b.getNoneType());
}

/// Index attributes of `values`, as sizes or offsets of slices.
inline llvm::SmallVector<mlir::OpFoldResult>
indexAttrs(mlir::OpBuilder &b, llvm::ArrayRef<int64_t> values) {
  return llvm::map_to_vector(values, [&](int64_t v) -> mlir::OpFoldResult {
    return b.getIndexAttr(v);
  });
}

/// The op's result as a static ranked tensor type, or null.
mlir::RankedTensorType staticResultType(mlir::Operation *op, unsigned i = 0);

/// Fails (with a reason) unless every operand and result of `op` that is a
/// tensor has a static shape.
mlir::LogicalResult requireStaticShapes(mlir::Operation *op,
                                        mlir::PatternRewriter &rewriter);

/// A tensor.empty of `type` (`dynSizes`: one per dynamic dim).
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        mlir::ValueRange dynSizes = {});

/// A tensor of `type` (into `init`) read element by element from `source`:
/// out[i...] = source[coord(0, i_0), coord(1, i_1), ...], `coord` built in
/// the body from dim d's index i_d (Slice, Tile and Pad of run-time shape).
mlir::Value gatherByCoords(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
    mlir::Value init, mlir::Value source,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, int64_t,
                                   mlir::Value)>
        coord);

/// A tensor of `type` (`dynSizes`: one per dynamic dim) computed element by
/// element: `element` gets the element's coordinates (linalg.index) and
/// returns its value. One linalg.generic with no inputs (gathers that read
/// their sources with tensor.extract).
mlir::Value generateTensor(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   llvm::ArrayRef<mlir::Value>)>
        element,
    mlir::ValueRange dynSizes = {});

/// `v` (a loop's result, whose dims do not resolve through the loop) copied
/// into a tensor of `sizes` (one per dynamic dim of its type, derived
/// dims), so that later passes find its dims; `v` itself when static.
mlir::Value pinSizes(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                     mlir::ValueRange sizes);

/// Element `i` (in row-major order) of a static tensor, read at run time.
mlir::Value extractElement(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value t, int64_t i = 0);

/// `old` combined with `update` by a scatter's `reduction` (none: update;
/// add, mul, max, min).
mlir::Value scatterCombine(mlir::OpBuilder &b, mlir::Location l,
                           llvm::StringRef reduction, mlir::Value old,
                           mlir::Value update);

/// The sizes of the dynamic dims of `type`, an elementwise result of
/// `inputs` (broadcast, right-aligned): each from an input dynamic there.
llvm::SmallVector<mlir::Value> broadcastSizes(mlir::OpBuilder &b,
                                              mlir::Location loc,
                                              mlir::ValueRange inputs,
                                              mlir::RankedTensorType type);

/// A tensor of `type` filled with `value` (linalg.fill).
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type, mlir::Value value,
                         mlir::ValueRange dynSizes = {});

/// The sizes of the dynamic dims of `type`, whose dim i is dim srcDims[i] of
/// `src` (all of src's dims in order when srcDims is empty).
llvm::SmallVector<mlir::Value> dimsOf(mlir::OpBuilder &b, mlir::Location loc,
                                      mlir::RankedTensorType type,
                                      mlir::Value src,
                                      llvm::ArrayRef<int64_t> srcDims = {});

/// The indexing map reading `inType` broadcast (numpy rules) into an
/// iteration space of `outRank` dimensions.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             mlir::RankedTensorType inType, int64_t outRank);

using BodyFn = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>;

/// A linalg.generic computing `resultType` elementwise from `inputs`, which
/// broadcast to it; `body` gets the scalar inputs and returns the result.
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::ValueRange inputs,
                             mlir::RankedTensorType resultType, BodyFn body);

/// The number of elements of `x` over `axes`, as a scalar of `elem`: a
/// constant, or computed from the dims where some are dynamic; null for a
/// count of one.
mlir::Value elementCount(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                         llvm::ArrayRef<int64_t> axes, mlir::Type elem);

/// The integers of a constant operand (floats truncated), whether its
/// onnx.Constant has been lowered to arith.constant yet or not.
std::optional<llvm::SmallVector<int64_t>> constantInts(mlir::Value v);

/// Scalar constant of `type` (float or integer).
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type type, double value);

/// Converts a scalar between element types with ONNX Cast semantics.
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value v, mlir::Type to);

/// Reshapes a static tensor to another static shape with the same number of
/// elements (collapse to 1-D, then expand).
mlir::Value reshapeTensor(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value v, mlir::RankedTensorType to);

/// softmax(x) (or, with `log`, its log) over `axes`: m = max(x), s =
/// sum(exp(x - m)), then exp(x - m) / s or x - m - log(s) (Reduce.cpp;
/// Softmax, LogSoftmax, SoftmaxCrossEntropyLoss).
mlir::Value softmaxOver(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        llvm::ArrayRef<int64_t> axes, bool log);

/// Lowest / highest finite value of a scalar type (for max/min identities).
mlir::Value lowestValue(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t);
mlir::Value highestValue(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t);

/// Pads `v` with `padValue`: `low`/`high` per dimension.
mlir::Value padTensor(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> low, llvm::ArrayRef<int64_t> high,
                      mlir::Value padValue);

/// Scalar arithmetic on float or (signless) integer values, picking the
/// arith op by type; used inside linalg.generic bodies.
bool isF(mlir::Value v);
/// `p` for values of type `t`: the unsigned form of an ordering predicate
/// where `t` is an unsigned integer type. (ONNX's unsigned types stay
/// unsigned through the lowering, which picks unsigned arith ops for them;
/// convert-onnx-to-linalg makes every type signless at its end.)
mlir::arith::CmpIPredicate forType(mlir::arith::CmpIPredicate p, mlir::Type t);
mlir::Value cst(mlir::OpBuilder &b, mlir::Location loc, mlir::Value like,
                double v);
mlir::Value addV(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                 mlir::Value y);
mlir::Value subV(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                 mlir::Value y);
mlir::Value mulV(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                 mlir::Value y);
mlir::Value divV(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                 mlir::Value y);
/// The run's status (an i32 alloca at the function's entry, marked
/// kStatusAttr, starting at 0): checks made while the model runs write
/// the first error there, and kiln-sequence-outputs makes the function
/// return it (P_run passes it on).
mlir::Value statusSlot(mlir::OpBuilder &b, mlir::Operation *op);
/// Records KILN_ERROR_OUT_OF_RANGE in the run's status when an entry of
/// `indices` (read at run time) lies outside [-n, n): n is bounds[0], or,
/// with several bounds, bounds[k] for entries at position k of the last dim
/// (GatherND's index tuples). The lowerings still clamp every index, so
/// memory is never read or written out of bounds either way.
void reportOutOfRange(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Operation *op, mlir::Value indices,
                      llvm::ArrayRef<mlir::Value> bounds);
/// reportOutOfRange for indices into `data`'s dims `dims` (one dim: every
/// index addresses it; several: a tuple's entries address them in order),
/// unless the indices are a constant (checked when compiling).
void checkIndices(mlir::OpBuilder &b, mlir::Location loc, mlir::Operation *op,
                  mlir::Value indices, mlir::Value data,
                  llvm::ArrayRef<int64_t> dims);
/// `y`, or 1 where an integer division x / y would trap (y == 0, and
/// INT_MIN / -1): for remainders and quotients that must not raise SIGFPE.
mlir::Value safeDivisor(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                        mlir::Value y);
mlir::Value maxV(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                 mlir::Value y);
mlir::Value minV(mlir::OpBuilder &b, mlir::Location l, mlir::Value x,
                 mlir::Value y);

/// The row-major bytes of a constant tensor `v` (onnx.Constant or
/// arith.constant, dense or dense_resource, also seen through
/// expand/collapse_shape), or nullopt. A splat comes back as its one element.
std::optional<llvm::ArrayRef<char>> constantBytes(mlir::Value v, bool &splat);

/// A new constant holding the rows x cols matrix of `elem` at `data`
/// (row-major bytes) transposed, as a flat blob viewed at cols x rows; with
/// `batches` > 0, that many matrices one after the other, viewed at
/// batches x cols x rows.
mlir::Value transposedConstant(mlir::OpBuilder &b, mlir::Location loc,
                               const char *data, mlir::Type elem, int64_t rows,
                               int64_t cols, int64_t batches = 0);

/// The 2-D tensor `m` transposed, or each matrix of a 3-D one (its last two
/// dims swapped): a new constant, made now, when `m` is a constant
/// (weights), else a linalg.transpose.
mlir::Value transposeMatrix(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value m);

/// Fails (with a reason) unless every tensor operand and result of `op` is
/// ranked.
mlir::LogicalResult requireRankedShapes(mlir::Operation *op,
                                        mlir::PatternRewriter &rewriter);

/// Base class for onnx lowering patterns: checks static shapes first, or
/// ranked ones for patterns that lower dynamic dims (dynamicDims()).
template <typename OpTy>
struct OnnxPattern : public mlir::OpRewritePattern<OpTy> {
  using mlir::OpRewritePattern<OpTy>::OpRewritePattern;
  mlir::LogicalResult
  matchAndRewrite(OpTy op, mlir::PatternRewriter &rewriter) const final {
    if (mlir::failed(dynamicDims() ? requireRankedShapes(op, rewriter)
                                   : requireStaticShapes(op, rewriter)))
      return mlir::failure();
    return lower(op, rewriter);
  }
  virtual mlir::LogicalResult lower(OpTy op,
                                    mlir::PatternRewriter &rewriter) const = 0;
  /// Whether lower() handles dynamic dims (sizes from tensor.dim of the
  /// operands; a dynamic dim meeting a static one in a broadcast is taken
  /// to be that size, not 1).
  virtual bool dynamicDims() const { return false; }
};

/// The map of `numDims` loop dims reading loop dims `dims`, in order.
mlir::AffineMap dimsMap(mlir::MLIRContext *ctx, unsigned numDims,
                        llvm::ArrayRef<int64_t> dims);
/// The first `rank` of `rank` + 1 loop dims.
mlir::AffineMap leadingDims(mlir::MLIRContext *ctx, int64_t rank);
/// The map of `rank` + 1 loop dims reading a tensor of `rank` dims with
/// its dim `axis` taken from the extra last loop dim.
mlir::AffineMap axisFromLast(mlir::MLIRContext *ctx, int64_t rank,
                             int64_t axis);

/// Each element's rank along `axis` of `x` (int64, x's shape): how many
/// elements of its line come before it, larger (or smaller, without
/// `largest`) or equal at a lower index. Quadratic in the axis' length
/// (TopK, the score order of NonMaxSuppression).
mlir::Value rankAlong(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      int64_t axis, bool largest);

/// kiln-dynamic-entry's derived dims (DerivedDims.cpp): gives `func`
/// (main_graph, its first `numInputs` arguments the inputs, `dims` its
/// symbolic dims' arguments) one more index argument per dim whose size
/// comes from input values (Expand's shape, Tile's repeats, ...), appended
/// to `dims`, and builds `main_graph_dims` computing them. Returns that
/// function, null when there are none.
mlir::FailureOr<mlir::func::FuncOp>
deriveDims(mlir::func::FuncOp func, unsigned numInputs,
           llvm::SmallVectorImpl<mlir::Value> &dims);

/// The sizes of the dynamic dims of `type`, the result of `op`, where
/// kiln-dynamic-entry made them derived dims (`kiln.dim_args`); nullopt
/// otherwise.
std::optional<llvm::SmallVector<mlir::Value>>
derivedSizes(mlir::Operation *op, mlir::RankedTensorType type);

} // namespace kiln

#endif // KILN_LOWERING_ONNXTOLINALG_COMMON_H
