//===- GpuContract.cpp - products and sums may fuse into FMAs -------------===//
//
// A GPU's fused multiply-add does a product and a sum at the cost of one,
// and rounds once. Without the `contract` fast-math flag the NVPTX backend
// keeps them apart (mul.rn / add.rn, which ptxas may not fuse either); with
// it they become fma.rn, as nvcc does by default (-fmad=true). In the
// kernels only: the flag goes on every arith.mulf, addf and subf of a
// gpu.module.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_GPUCONTRACT
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct GpuContractPass : public kiln::impl::GpuContractBase<GpuContractPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (!isa<arith::MulFOp, arith::AddFOp, arith::SubFOp>(op))
        return;
      auto fm = cast<arith::ArithFastMathInterface>(op);
      arith::FastMathFlags flags =
          fm.getFastMathFlagsAttr() ? fm.getFastMathFlagsAttr().getValue()
                                    : arith::FastMathFlags::none;
      op->setAttr(fm.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(
                      op->getContext(), flags | arith::FastMathFlags::contract));
    });
  }
};

} // namespace
