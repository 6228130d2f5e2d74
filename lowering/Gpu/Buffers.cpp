//===- Buffers.cpp - which buffers a GPU kernel's memrefs may share -------===//
#include "lowering/Gpu/Buffers.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

namespace {

/// Where a memref lives: its root, and for a static view of the root (the
/// arena), the bytes of that view: [begin, end).
struct Extent {
  Value root;
  std::optional<std::pair<int64_t, int64_t>> bytes;
};

Extent extentOf(Value v) {
  Extent e;
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<memref::ViewOp>(def)) {
      // The view nearest the root bounds every view inside it.
      MemRefType type = view.getType();
      std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
      if (shift && type.hasStaticShape() && type.getElementType().isIntOrFloat()) {
        int64_t bits = type.getElementType().getIntOrFloatBitWidth();
        e.bytes = std::make_pair(*shift,
                                 *shift + type.getNumElements() * ((bits + 7) / 8));
      } else {
        e.bytes.reset();
      }
      v = view.getSource();
      continue;
    }
    if (auto like = dyn_cast<ViewLikeOpInterface>(def)) {
      v = like.getViewSource();
      continue;
    }
    break;
  }
  e.root = v;
  return e;
}

} // namespace

Value kiln::rootBuffer(Value memref) { return extentOf(memref).root; }

bool kiln::mayOverlap(Value a, Value b) {
  Extent x = extentOf(a), y = extentOf(b);
  auto global = [](Value v) { return v.getDefiningOp<memref::GetGlobalOp>(); };
  // Arguments and globals are distinct buffers, and so are allocations
  // (before the arena plan makes them views of one).
  auto known = [&](Value v) {
    return isa<BlockArgument>(v) || global(v) || v.getDefiningOp<memref::AllocOp>();
  };
  if (global(x.root) && global(y.root))
    return global(x.root).getName() == global(y.root).getName();
  if (x.root != y.root)
    return !(known(x.root) && known(y.root));
  if (x.bytes && y.bytes)
    return x.bytes->first < y.bytes->second && y.bytes->first < x.bytes->second;
  return true;
}

bool kiln::mayAccess(Operation *op, Value buffer, bool writesOnly) {
  WalkResult r = op->walk([&](Operation *inner) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(inner);
    if (!effects) {
      // Unknown effects: anything, unless it has none at all.
      if (inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
          isMemoryEffectFree(inner))
        return WalkResult::advance();
      return WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (auto &e : list) {
      bool write = isa<MemoryEffects::Write>(e.getEffect());
      Value v = e.getValue();
      if (v ? (write || !writesOnly) && kiln::mayOverlap(v, buffer) : write)
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return r.wasInterrupted();
}
