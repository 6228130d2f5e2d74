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

/// Whether `root` or a view of it is used at or after `copy` (by position
/// of the users' ancestors in `block`) by anything but `copy`.
bool usedAfter(Value root, memref::CopyOp copy, Block &block) {
  SmallVector<Value> work{root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (user == copy.getOperation())
        continue;
      if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(user)) {
        work.push_back(user->getResult(0));
        continue;
      }
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top || !top->isBeforeInBlock(copy))
        return true;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == v)
          for (Value r : user->getResults())
            work.push_back(r);
    }
  }
  return false;
}

struct WriteOutputsInPlacePass
    : public kiln::impl::WriteOutputsInPlaceBase<WriteOutputsInPlacePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    Block &block = func.getBody().front();
    SmallVector<memref::CopyOp> copies;
    for (auto copy : block.getOps<memref::CopyOp>())
      copies.push_back(copy);
    for (memref::CopyOp copy : copies) {
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
          usedAfter(alloc.getResult(), copy, block))
        continue;
      // The output viewed as the allocation: flattened, then shaped.
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      Value view = out;
      if (outType.getRank() != 1) {
        ReassociationIndices all;
        for (int64_t d = 0; d < outType.getRank(); ++d)
          all.push_back(d);
        view = memref::CollapseShapeOp::create(b, loc, view,
                                               ArrayRef<ReassociationIndices>{all});
      }
      MemRefType allocType = alloc.getType();
      if (allocType.getRank() == 0) {
        view = memref::CollapseShapeOp::create(
            b, loc, view, ArrayRef<ReassociationIndices>{});
      } else if (allocType.getRank() != 1) {
        ReassociationIndices all;
        for (int64_t d = 0; d < allocType.getRank(); ++d)
          all.push_back(d);
        view = memref::ExpandShapeOp::create(
            b, loc, allocType.getShape(), view,
            ArrayRef<ReassociationIndices>{all});
      }
      alloc.replaceAllUsesWith(view);
      alloc.erase();
      copy.erase();
    }
  }
};

} // namespace
