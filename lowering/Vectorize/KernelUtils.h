//===- KernelUtils.h - small builders shared by the CPU kernels -*- C++ -*-===//
//
// What the kernel generators (MatmulKernel.cpp, DepthwiseKernel.cpp,
// WinogradKernel.cpp) share: index constants, affine applies, reading a
// padded NCHW input from the tensor it pads, per-channel start values.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_VECTORIZE_KERNELUTILS_H
#define KILN_LOWERING_VECTORIZE_KERNELUTILS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace kiln {

/// An index constant.
mlir::Value cidx(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// `e` (a one-result expression in dims only) applied to `dims`.
mlir::Value affineOf(mlir::OpBuilder &b, mlir::Location loc, mlir::AffineExpr e,
                     mlir::ValueRange dims);

/// An scf.for over [lo, hi) by `step` carrying one value (the tile a kernel
/// fills): `body(b, loc, iv, carried)` gives the next value. `init` itself
/// when the range is empty.
mlir::Value forRange(
    mlir::OpBuilder &b, mlir::Location loc, int64_t lo, int64_t hi,
    int64_t step, mlir::Value init,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::Value, mlir::Value)>
        body);

/// forRange carrying several values.
llvm::SmallVector<mlir::Value> forRanges(
    mlir::OpBuilder &b, mlir::Location loc, int64_t lo, int64_t hi,
    int64_t step, mlir::ValueRange inits,
    llvm::function_ref<llvm::SmallVector<mlir::Value>(
        mlir::OpBuilder &, mlir::Location, mlir::Value, mlir::ValueRange)>
        body);

/// The indices into a broadcast operand whose map's results are dims or the
/// constant 0: `dims[d]` for dim d, 0 for a constant.
llvm::SmallVector<mlir::Value> broadcastIndices(mlir::OpBuilder &b,
                                                mlir::Location loc,
                                                mlir::AffineMap map,
                                                llvm::ArrayRef<mlir::Value> dims);

/// An NCHW input that is a tensor.pad of another tensor with a constant
/// value on the spatial dims only (static pads, static source shape).
struct PaddedSource {
  mlir::Value source;
  int64_t padTop, padLeft;
  int64_t rows, cols; // the source's spatial size
};

/// The padded source of `x` when `x` is such a pad and its padding value
/// satisfies `isPadValue`; nullopt otherwise (read `x` itself).
std::optional<PaddedSource>
paddedSource(mlir::Value x, llvm::function_ref<bool(mlir::Value)> isPadValue);

/// Row `row` of a source of `rows` rows, which may lie in the padding: the
/// row clamped into the source (safe to read) and whether it was inside
/// (select the padding value where not).
std::pair<mlir::Value, mlir::Value> clampRow(mlir::OpBuilder &b,
                                             mlir::Location loc,
                                             mlir::Value row, int64_t rows);

/// How the accumulators of image n, channel c of an NCHW kernel start: a
/// constant fill, one value per (image, channel) (a bias broadcast), or the
/// init tensor itself.
struct ChannelInit {
  enum Kind { Constant, PerChannel, Tensor } kind = Tensor;
  mlir::Value value; // the constant, the bias tensor, or the init tensor
  mlir::AffineMap map; // PerChannel: (n, c, ...) -> index into `value`
};
ChannelInit classifyChannelInit(mlir::Value init);

/// The start vector of (n, c) for a Constant or PerChannel init (null for
/// Tensor: read the init instead).
mlir::Value channelStart(mlir::OpBuilder &b, mlir::Location loc,
                         const ChannelInit &src, mlir::Value n, mlir::Value c,
                         mlir::VectorType vecType);

} // namespace kiln

#endif // KILN_LOWERING_VECTORIZE_KERNELUTILS_H
