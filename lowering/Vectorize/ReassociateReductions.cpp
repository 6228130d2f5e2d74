//===- ReassociateReductions.cpp - reorderable float reductions ----------===//
//
// LLVM vectorizes a float reduction loop only when the accumulating
// instruction allows reassociation. The accumulations of linalg reductions
// (the add or mul that combines the output block argument with a new term)
// get `fastmath<reassoc>`: Softmax's and LayerNorm's sums, ReduceSum/Mean,
// pools and the generic convolution windows then run on vectors.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_REASSOCIATEREDUCTIONS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct ReassociateReductionsPass
    : public kiln::impl::ReassociateReductionsBase<ReassociateReductionsPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::GenericOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      for (BlockArgument acc : op.getRegionOutputArgs()) {
        if (!isa<FloatType>(acc.getType()))
          continue;
        for (Operation *user : acc.getUsers()) {
          auto fm = dyn_cast<arith::ArithFastMathInterface>(user);
          if (!fm || !isa<arith::AddFOp, arith::MulFOp>(user))
            continue;
          auto flags = fm.getFastMathFlagsAttr().getValue() |
                       arith::FastMathFlags::reassoc;
          user->setAttr(fm.getFastMathAttrName(),
                        arith::FastMathFlagsAttr::get(op.getContext(), flags));
        }
      }
    });
  }
};

} // namespace
