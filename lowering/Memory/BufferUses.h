//===- BufferUses.h - where a buffer and its views are used -----*- C++ -*-===//
//
// Shared by the passes that reason about a buffer's lifetime in a function's
// entry block (kiln-plan-arena, kiln-write-outputs-in-place).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_MEMORY_BUFFERUSES_H
#define KILN_LOWERING_MEMORY_BUFFERUSES_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/DenseMap.h"

namespace kiln {

/// The last position in `block` (by `position`, each op of the block to its
/// index) at which `root` or a view of it is used; uses nested in an op of
/// the block count at that op, deallocations not at all.
int64_t lastUse(mlir::Value root, mlir::Block &block,
                const llvm::DenseMap<mlir::Operation *, int64_t> &position);

} // namespace kiln

#endif // KILN_LOWERING_MEMORY_BUFFERUSES_H
