//===- WriteOutputsInPlace.cpp - results computed in the caller's buffers ===//
//
// After bufferization a returned tensor is computed into a buffer of its own
// and then copied into the caller's output buffer (buffer-results-to-out-
// params moves only results that are an allocation themselves, not a reshape
// of one). When the copy's source is an allocation of the entry block seen
// through reshapes, used by nothing after the copy, and the output argument
// is used by this copy alone, the allocation becomes a reshape of the output
// argument and the copy goes: the kernel that made the tensor writes the
// output directly (a 64 x 3136 product's 0.8 MB copy, 3% of its time).
//
//===----------------------------------------------------------------------===//
#include "lowering/Memory/BufferUses.h"
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_WRITEOUTPUTSINPLACE
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// The allocation `v` is a reshape chain of, or null.
memref::AllocOp reshapedAlloc(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto alloc = dyn_cast<memref::AllocOp>(def))
      return alloc;
    if (auto expand = dyn_cast<memref::ExpandShapeOp>(def))
      v = expand.getSrc();
    else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def))
      v = collapse.getSrc();
    else
      return {};
  }
  return {};
}

/// `v` (a memref of static shape, identity layout) reshaped to `type` (as
/// many elements): through its 1-D form.
Value reshapedTo(OpBuilder &b, Location loc, Value v, MemRefType type) {
  auto vType = cast<MemRefType>(v.getType());
  if (vType == type)
    return v;
  auto allDims = [](int64_t rank) {
    ReassociationIndices all;
    for (int64_t d = 0; d < rank; ++d)
      all.push_back(d);
    return all;
  };
  if (vType.getRank() == 0)
    v = memref::ExpandShapeOp::create(b, loc, ArrayRef<int64_t>{1}, v,
                                      ArrayRef<ReassociationIndices>{});
  else if (vType.getRank() > 1)
    v = memref::CollapseShapeOp::create(
        b, loc, v, ArrayRef<ReassociationIndices>{allDims(vType.getRank())});
  if (type.getRank() == 0)
    return memref::CollapseShapeOp::create(b, loc, v,
                                           ArrayRef<ReassociationIndices>{});
  if (type.getRank() > 1)
    return memref::ExpandShapeOp::create(
        b, loc, type.getShape(), v,
        ArrayRef<ReassociationIndices>{allDims(type.getRank())});
  return v;
}

struct WriteOutputsInPlacePass
    : public kiln::impl::WriteOutputsInPlaceBase<WriteOutputsInPlacePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    Block &block = func.getBody().front();
    DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(block))
      position[&op] = i;
    // First the copies to elide (each output argument has one), then the
    // rewrites.
    SmallVector<std::pair<memref::CopyOp, memref::AllocOp>> elide;
    for (auto copy : block.getOps<memref::CopyOp>()) {
      auto out = dyn_cast<BlockArgument>(copy.getTarget());
      auto outType = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (!out || out.getOwner() != &block || !out.hasOneUse() || !outType ||
          !outType.getLayout().isIdentity() || !outType.hasStaticShape())
        continue;
      memref::AllocOp alloc = reshapedAlloc(copy.getSource());
      if (!alloc || alloc->getBlock() != &block ||
          !alloc.getType().getLayout().isIdentity() ||
          !alloc.getType().hasStaticShape() ||
          alloc.getType().getElementType() != outType.getElementType() ||
          alloc.getType().getNumElements() != outType.getNumElements() ||
          kiln::lastUse(alloc.getResult(), block, position) >
              position.lookup(copy))
        continue;
      elide.push_back({copy, alloc});
    }
    for (auto [copy, alloc] : elide) {
      OpBuilder b(alloc);
      alloc.replaceAllUsesWith(
          reshapedTo(b, alloc.getLoc(), copy.getTarget(), alloc.getType()));
      alloc.erase();
      copy.erase();
    }
  }
};

} // namespace
