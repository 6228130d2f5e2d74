//===- Fills.h - ops that write one value everywhere ------------*- C++ -*-===//
//
// A fill is a linalg.fill, or the linalg.generic kiln-fuse-elementwise makes
// of one: no inputs, every loop parallel, a payload yielding a value
// defined outside it. Shared by kiln-unshare-inits (on tensors) and
// kiln-gpu-tile-contractions (on memrefs).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_MEMORY_FILLS_H
#define KILN_LOWERING_MEMORY_FILLS_H

#include "mlir/IR/Operation.h"

namespace kiln {

/// The value `op` writes to every element of its one output, if it is a
/// fill; null otherwise.
mlir::Value filledValue(mlir::Operation *op);

} // namespace kiln

#endif // KILN_LOWERING_MEMORY_FILLS_H
