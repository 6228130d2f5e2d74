//===- GpuMathIntrinsics.cpp - GPU math as LLVM intrinsics ----------------===//
//
// The NVPTX backend selects llvm.sqrt, llvm.fabs, llvm.fma and llvm.copysign
// as instructions, but convert-gpu-to-nvvm lowers the math ops (and those
// intrinsics) to libdevice calls (__nv_sqrtf, ...). As llvm.call_intrinsic
// they pass through it untouched.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_GPUMATHINTRINSICS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// The LLVM intrinsic of an op the GPU does itself ("" if none).
StringRef intrinsicFor(Operation *op) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case([](math::SqrtOp) { return "llvm.sqrt"; })
      .Case([](math::AbsFOp) { return "llvm.fabs"; })
      .Case([](math::FmaOp) { return "llvm.fma"; })
      .Case([](math::CopySignOp) { return "llvm.copysign"; })
      .Default([](Operation *) { return ""; });
}

struct GpuMathIntrinsicsPass
    : public kiln::impl::GpuMathIntrinsicsBase<GpuMathIntrinsicsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (op->getNumResults() == 1 && !intrinsicFor(op).empty() &&
          (op->getResult(0).getType().isF32() ||
           op->getResult(0).getType().isF64()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      Type t = op->getResult(0).getType();
      std::string name =
          (intrinsicFor(op) + (t.isF32() ? ".f32" : ".f64")).str();
      auto call = LLVM::CallIntrinsicOp::create(
          b, op->getLoc(), t, b.getStringAttr(name), op->getOperands());
      op->replaceAllUsesWith(call->getResults());
      op->erase();
    }
  }
};

} // namespace
