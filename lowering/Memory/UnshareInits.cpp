//===- UnshareInits.cpp - one init tensor per destination-style op --------===//
//
// CSE merges identical `tensor.empty` and `linalg.fill(0, tensor.empty)` ops,
// so one zero tensor becomes the init of every matmul of that shape. One-shot
// bufferization then keeps that zero buffer alive for the whole function and
// copies it before each matmul: an arena buffer and a memcpy per use, for
// nothing. Giving each use its own clone (the ops are free on tensors) lets
// each product accumulate in place in a buffer that lives only as long as it.
//
//===----------------------------------------------------------------------===//
#include "lowering/Memory/Fills.h"
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_UNSHAREINITS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// An op whose result only stands for a shape or a constant fill: cloning it
/// costs nothing before bufferization.
bool isCheapInit(Operation *op) {
  if (isa<tensor::EmptyOp>(op))
    return true;
  // A fill (a linalg.fill, or the generic kiln-fuse-elementwise makes of
  // one) of a constant into an empty tensor.
  Value value = kiln::filledValue(op);
  auto fill = dyn_cast<linalg::LinalgOp>(op);
  return value && fill.hasPureTensorSemantics() &&
         fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>() &&
         matchPattern(value, m_Constant());
}

struct UnshareInitsPass
    : public kiln::impl::UnshareInitsBase<UnshareInitsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> shared;
    getOperation().walk([&](Operation *op) {
      if (op->getNumResults() == 1 && isCheapInit(op) &&
          !op->getResult(0).hasOneUse() && !op->getResult(0).use_empty())
        shared.push_back(op);
    });
    for (Operation *op : shared) {
      // Each use gets a clone right before its user (the use list is not in
      // program order, so the original serves none of them).
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : op->getResult(0).getUses())
        uses.push_back(&use);
      for (OpOperand *use : uses) {
        // Inits of linalg ops and of loops (a tiled matmul's scf.forall) are
        // unshared; a slice taken of the tensor or inserted into it (the
        // borders and interior of a padded buffer) must stay part of the
        // same tensor.
        if (isa<tensor::ExtractSliceOp, tensor::InsertSliceOp,
                tensor::ParallelInsertSliceOp>(use->getOwner()))
          continue;
        // Before the user, or before the op that holds it in this block: a
        // clone inside a loop would be a new buffer at every iteration.
        Operation *at = op->getBlock()->findAncestorOpInBlock(*use->getOwner());
        if (!at)
          continue;
        OpBuilder b(at);
        Operation *clone = b.clone(*op);
        if (auto fill = dyn_cast<linalg::FillOp>(clone)) {
          Operation *empty = fill.getDpsInits()[0].getDefiningOp();
          b.setInsertionPoint(clone);
          fill.getDpsInitsMutable()[0].set(b.clone(*empty)->getResult(0));
        }
        use->set(clone->getResult(0));
      }
      if (!op->use_empty())
        continue;
      Operation *empty = nullptr;
      if (auto fill = dyn_cast<linalg::FillOp>(op))
        empty = fill.getDpsInits()[0].getDefiningOp();
      op->erase();
      if (empty && empty->use_empty())
        empty->erase();
    }
  }
};

} // namespace
