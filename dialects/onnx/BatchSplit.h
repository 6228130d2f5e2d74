//===- BatchSplit.h - can a graph run one sample at a time? -----*- C++ -*-===//
#ifndef KILN_DIALECTS_ONNX_BATCHSPLIT_H
#define KILN_DIALECTS_ONNX_BATCHSPLIT_H

#include "dialects/onnx/OnnxDialect.h"

#include <optional>
#include <string>

namespace kiln::onnx {

/// The op that looks across samples, and how.
struct BatchSplitFailure {
  mlir::Operation *op;
  std::string reason;
};

/// Checks that `func`, whose arguments marked in `batched` hold one sample
/// per index of their dim 0 (the others are the same for every sample),
/// computes each sample of every result from that sample alone, with the
/// samples along dim 0 of every result: then the function compiled for one
/// sample, called once per sample, computes any batch. Returns the first op
/// that breaks this, or nullopt.
std::optional<BatchSplitFailure> checkBatchSplit(mlir::func::FuncOp func,
                                                 llvm::ArrayRef<bool> batched);

} // namespace kiln::onnx

#endif // KILN_DIALECTS_ONNX_BATCHSPLIT_H
