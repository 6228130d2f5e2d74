//===- Fills.cpp - ops that write one value everywhere --------------------===//
#include "lowering/Memory/Fills.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;

Value kiln::filledValue(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.getInputs()[0];
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 0 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumLoops() != generic.getNumParallelLoops())
    return nullptr;
  Value yielded = generic.getBody()->getTerminator()->getOperand(0);
  return yielded.getParentBlock() == generic.getBody() ? nullptr : yielded;
}
