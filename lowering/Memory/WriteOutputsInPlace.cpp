//===- WriteOutputsInPlace.cpp - results computed in the caller's buffers ===//
//
// After bufferization a returned tensor is computed into a buffer of its own
// and then copied into the caller's output buffer (buffer-results-to-out-
// params moves only results that are an allocation themselves, not a reshape
// of one). When the copy's source is an allocation of the entry block seen
// through reshapes, used by nothing after the copy, and the output argument
// is used by this copy alone, the allocation becomes a reshape of the output
// argument and the copy goes: the kernel that made the tensor writes the
// output directly (a 64 x 3136 product's 0.8 MB copy, 3% of its time). A
// flat output of dynamic size (a dim with no bound) is seen through a slice
// of the allocation's element count, never by its own size.
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

/// The flat output `out` (memref<?xT>, its size unknown inside: see
/// kiln-pointer-args) seen as `alloc`'s buffer: its first elements, shaped
/// by the allocation's sizes, identity layout.
Value flatOutputAs(OpBuilder &b, memref::AllocOp alloc, Value out) {
  Location loc = alloc.getLoc();
  MemRefType type = alloc.getType();
  SmallVector<OpFoldResult> sizes = alloc.getMixedSizes();
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (OpFoldResult size : sizes)
    count = b.createOrFold<arith::MulIOp>(
        loc, count, getValueOrCreateConstantIndexOp(b, loc, size));
  Value part = memref::SubViewOp::create(
      b, loc, out, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{count}, ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  auto flat = cast<MemRefType>(out.getType());
  part = memref::CastOp::create(b, loc, flat, part);
  if (type.getRank() == 1)
    return part;
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  if (type.getRank() == 0)
    return memref::CollapseShapeOp::create(b, loc, part,
                                           ArrayRef<ReassociationIndices>{});
  return memref::ExpandShapeOp::create(b, loc, type, part,
                                       ArrayRef<ReassociationIndices>{all},
                                       sizes);
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
          !outType.getLayout().isIdentity())
        continue;
      // A static output, or a flat one of dynamic size (its elements
      // counted by the copy's source).
      bool flatDynamic = outType.getRank() == 1 && !outType.hasStaticShape();
      if (!outType.hasStaticShape() && !flatDynamic)
        continue;
      memref::AllocOp alloc = reshapedAlloc(copy.getSource());
      if (!alloc || alloc->getBlock() != &block ||
          !alloc.getType().getLayout().isIdentity() ||
          (!flatDynamic && !alloc.getType().hasStaticShape()) ||
          alloc.getType().getElementType() != outType.getElementType() ||
          (!flatDynamic &&
           alloc.getType().getNumElements() != outType.getNumElements()) ||
          kiln::lastUse(alloc.getResult(), block, position) >
              position.lookup(copy))
        continue;
      elide.push_back({copy, alloc});
    }
    for (auto [copy, alloc] : elide) {
      OpBuilder b(alloc);
      Value out = copy.getTarget();
      alloc.replaceAllUsesWith(
          cast<MemRefType>(out.getType()).hasStaticShape()
              ? reshapedTo(b, alloc.getLoc(), out, alloc.getType())
              : flatOutputAs(b, alloc, out));
      alloc.erase();
      copy.erase();
    }
    // The copies left into a flat output of dynamic size write the slice
    // their source fills (the copy's lowering would read the output's
    // size, which is not known inside).
    for (auto copy : llvm::make_early_inc_range(block.getOps<memref::CopyOp>())) {
      auto out = dyn_cast<BlockArgument>(copy.getTarget());
      auto outType = cast<MemRefType>(copy.getTarget().getType());
      auto srcType = cast<MemRefType>(copy.getSource().getType());
      if (!out || out.getOwner() != &block || outType.getRank() != 1 ||
          outType.hasStaticShape() || srcType.getRank() != 1)
        continue;
      OpBuilder b(copy);
      Location loc = copy.getLoc();
      OpFoldResult count =
          memref::getMixedSize(b, loc, copy.getSource(), 0);
      Value part = memref::SubViewOp::create(
          b, loc, out, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{count},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      copy.getTargetMutable().assign(part);
    }
  }
};

} // namespace
