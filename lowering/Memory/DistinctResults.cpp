//===- DistinctResults.cpp - one value per returned tensor ----------------===//
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_DISTINCTRESULTS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {
struct DistinctResultsPass
    : public kiln::impl::DistinctResultsBase<DistinctResultsPass> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 8> seen;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || seen.insert(v).second)
          continue;
        Value empty = tensor::EmptyOp::create(b, ret.getLoc(), type.getShape(),
                                              type.getElementType());
        operand.set(linalg::CopyOp::create(b, ret.getLoc(), v, empty)
                        .getResult(0));
      }
    });
  }
};
} // namespace
