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

#include "mlir/IR/Value.h"

namespace kiln {

/// The buffer a memref is a view of: a function argument, a
/// memref.get_global, or (not knowing better) the memref itself.
mlir::Value rootBuffer(mlir::Value memref);

/// Whether two memrefs may share bytes (false only when they provably do
/// not).
bool mayOverlap(mlir::Value a, mlir::Value b);

} // namespace kiln

#endif // KILN_LOWERING_GPU_BUFFERS_H
