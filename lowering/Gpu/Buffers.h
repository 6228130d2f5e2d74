//===- Buffers.h - which buffers a GPU kernel's memrefs may share -*- C++ -*-===//
//
// After the arena plan every memref of main_graph is a view of one of a few
// buffers: an input, an output, the arena (distinct by the ABI), or a
// global; before it, of an input, an output, a global or an allocation.
// Two memrefs of different buffers never overlap; two views of the arena at
// static byte ranges overlap only if those ranges do.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_GPU_BUFFERS_H
#define KILN_LOWERING_GPU_BUFFERS_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

namespace kiln {

/// The buffer a memref is a view of: a function argument, a
/// memref.get_global, or (not knowing better) the memref itself.
mlir::Value rootBuffer(mlir::Value memref);

/// Whether two memrefs may share bytes (false only when they provably do
/// not).
bool mayOverlap(mlir::Value a, mlir::Value b);

/// Whether `op` (or an op inside it) may write memory `buffer` shares, or,
/// unless `writesOnly`, read it (an op with effects it does not declare
/// may do anything).
bool mayAccess(mlir::Operation *op, mlir::Value buffer, bool writesOnly);

} // namespace kiln

#endif // KILN_LOWERING_GPU_BUFFERS_H
