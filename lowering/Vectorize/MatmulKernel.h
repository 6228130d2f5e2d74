//===- MatmulKernel.h - packed-panel matmul kernels ------------*- C++ -*-===//
//
// The register-blocked f32 matmul kiln-tile-contractions emits for targets
// that can afford packed copies of their operands (see MatmulKernel.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_VECTORIZE_MATMULKERNEL_H
#define KILN_LOWERING_VECTORIZE_MATMULKERNEL_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

#include <map>
#include <tuple>

namespace kiln {

/// Register tile (mr x nr), cache tile bounds (mc x nc x kc), the number
/// of cache tiles wanted for the threads, and whether constant B panels
/// (weights) are prefetched (targets whose weights stream from DRAM).
struct KernelTiles {
  int64_t mr, nr, mc, nc, kc, minTiles;
  bool prefetchWeights = false;
  /// Constant B panels made for the row blocks of dynamic-shape matmuls
  /// (kiln.row_block, inside loops), by source data and layout: the blocks
  /// of one product share them (made once, at the function's entry).
  std::map<std::tuple<const char *, int64_t, int64_t, int64_t>, mlir::Value>
      *sharedPanels = nullptr;
};

/// The attribute kiln-tile-dynamic-rows puts on its block matmuls: inside
/// their loops they still get the packed kernel when B is a constant.
inline constexpr llvm::StringLiteral kRowBlockAttr = "kiln.row_block";

/// The largest multiple of `quantum` that divides `n` and is at most
/// `limit` (at least `quantum`; `n` is a multiple of `quantum`): cache tiles
/// that leave no partial tile.
int64_t tileSize(int64_t n, int64_t quantum, int64_t limit);

/// Replaces a static f32 `linalg.matmul` on tensors by an scf.forall of cache
/// tiles whose register tiles run a k loop of vector FMAs on loop-carried
/// accumulators, reading B as nr-wide panels (packed at compile time when B
/// is a constant) and A as mr-row panels when A is a constant. Fails, leaving
/// the op untouched, when the op is not of that kind.
mlir::LogicalResult emitPackedMatmul(mlir::RewriterBase &rewriter,
                                     mlir::linalg::MatmulOp op,
                                     const KernelTiles &tiles);

/// The same kernel for a `linalg.batch_matmul` (one scf.forall over the
/// batch and the cache tiles): A packed at compile time when it is a
/// constant, B copied into panels when that pays; no epilogue.
mlir::LogicalResult emitPackedBatchMatmul(mlir::RewriterBase &rewriter,
                                          mlir::linalg::BatchMatmulOp op,
                                          const KernelTiles &tiles);

/// Replaces a static f32 depthwise convolution (NCHW, one filter per
/// channel, input already padded) by an scf.forall over channels whose rows
/// are computed `vectorWidth` pixels at a time, with its elementwise
/// consumers fused (DepthwiseKernel.cpp).
mlir::LogicalResult emitDepthwiseConv(mlir::RewriterBase &rewriter,
                                      mlir::linalg::DepthwiseConv2DNchwChwOp op,
                                      int64_t vectorWidth);

/// The same kernel for a 2-D f32 max pool (NCHW, input padded with the
/// lowest value, init filled with it): the window's maximum instead of the
/// taps' sum.
mlir::LogicalResult emitMaxPool(mlir::RewriterBase &rewriter,
                                mlir::linalg::PoolingNchwMaxOp op,
                                int64_t vectorWidth);

/// Replace the input and output transform generics of a Winograd
/// convolution (OnnxToLinalg/Winograd.h) by vector code along the tiles of
/// a tile row, the output with its elementwise consumers fused
/// (WinogradKernel.cpp). Fail, leaving the op untouched, on any other op.
mlir::LogicalResult emitWinogradInput(mlir::RewriterBase &rewriter,
                                      mlir::linalg::GenericOp op,
                                      int64_t vectorWidth);
mlir::LogicalResult emitWinogradOutput(mlir::RewriterBase &rewriter,
                                       mlir::linalg::GenericOp op,
                                       int64_t vectorWidth);

/// The attribute marking the transpose generics of swapped products
/// (Y[.., p, q] = X[.., q, p], 2-D or batched).
constexpr const char *kTransposeAttr = "kiln.transpose";

/// Replaces such a transpose generic by gathers of V rows of X that write V
/// columns of Y at a time, with Y's elementwise consumers fused
/// (TransposeKernel.cpp). Fails, leaving the op untouched, on any other op.
mlir::LogicalResult emitTranspose(mlir::RewriterBase &rewriter,
                                  mlir::linalg::GenericOp op,
                                  int64_t vectorWidth);

} // namespace kiln

#endif // KILN_LOWERING_VECTORIZE_MATMULKERNEL_H
