//===- CheckInlineMath.cpp - no libm calls on targets without libm --------===//
//
// After approximation and expansion, a math op that is still there becomes a
// call into the C math library when lowered. Bare-metal targets have none, so
// each such op is reported with the ONNX node it came from, before any code
// is generated.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_CHECKINLINEMATH
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// Math ops an FPU with single (or also double) precision does itself, and
/// integer ops.
bool isInline(Operation *op, bool doublePrecision) {
  if (isa<math::CountLeadingZerosOp, math::CountTrailingZerosOp,
          math::CtPopOp, math::AbsIOp>(op))
    return true;
  if (!isa<math::SqrtOp, math::AbsFOp, math::FmaOp, math::CopySignOp>(op))
    return false;
  Type t = getElementTypeOrSelf(op->getResult(0).getType());
  return t.isF32() || (doublePrecision && t.isF64());
}

struct CheckInlineMathPass
    : public kiln::impl::CheckInlineMathBase<CheckInlineMathPass> {
  using CheckInlineMathBase::CheckInlineMathBase;

  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk([&](Operation *op) {
      if (!isa<math::MathDialect>(op->getDialect()) ||
          isInline(op, doublePrecision))
        return;
      Type t = getElementTypeOrSelf(op->getResult(0).getType());
      op->emitError() << "'" << op->getName() << "' on " << t
                      << " needs the C math library, which " << targetName
                      << " does not have (Kiln generates inline only f32 "
                         "functions it can approximate)";
      failedAny = true;
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
