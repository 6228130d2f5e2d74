//===- OnnxToLinalg.cpp - the convert-onnx-to-linalg pass -----------------===//
#include "lowering/OnnxToLinalg/Common.h"

#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_CONVERTONNXTOLINALG
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {
struct ConvertOnnxToLinalgPass
    : public kiln::impl::ConvertOnnxToLinalgBase<ConvertOnnxToLinalgPass> {
  using ConvertOnnxToLinalgBase::ConvertOnnxToLinalgBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    kiln::populateElementwisePatterns(patterns);
    kiln::populateMatMulPatterns(patterns);
    kiln::populateConvPatterns(patterns, convAsMatmul, winogradMinTiles);
    kiln::populateDynamicWindowPatterns(patterns);
    kiln::populateReducePatterns(patterns);
    kiln::populateDataMovementPatterns(patterns);
    kiln::populateTensorOpsPatterns(patterns);
    kiln::populateNNPatterns(patterns);
    kiln::populateRNNPatterns(patterns);
    kiln::populateLossPatterns(patterns);
    kiln::populateQuantPatterns(patterns);
    kiln::populateRandomPatterns(patterns);
    kiln::populateSignalPatterns(patterns);
    kiln::populateTextPatterns(patterns);
    kiln::populateControlFlowPatterns(patterns);
    kiln::populateSequencePatterns(patterns);
    kiln::populateDetectionPatterns(patterns);
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(module, std::move(patterns), config))) {
      // Not converged is fine as long as nothing onnx is left.
    }
    // Constants stay until their users are lowered: name a user that is
    // left, if any, rather than its constant operand.
    bool onlyConstantsLeft = true;
    module.walk([&](Operation *op) {
      if (op->getDialect() == getContext().getLoadedDialect("onnx") &&
          !op->hasTrait<OpTrait::ConstantLike>())
        onlyConstantsLeft = false;
    });
    // Outer ops first: a loop or branch left unlowered explains itself
    // rather than the ops of its body.
    WalkResult left = module.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op->getDialect() != getContext().getLoadedDialect("onnx") ||
          (!onlyConstantsLeft && op->hasTrait<OpTrait::ConstantLike>()))
        return WalkResult::advance();
      if (auto why = kiln::controlFlowLimit(op)) {
        op->emitError() << "'" << op->getName() << "': " << *why;
        return WalkResult::interrupt();
      }
      // Most patterns lower static shapes only: say which value.
      for (Type t : llvm::concat<Type>(SmallVector<Type>(op->getOperandTypes()),
                                       SmallVector<Type>(op->getResultTypes()))) {
        auto r = dyn_cast<RankedTensorType>(t);
        if (isa<NoneType>(t) || (r && r.hasStaticShape()) ||
            kiln::onnx::isSeqOrOpt(t))
          continue;
        op->emitError() << "'" << op->getName()
                        << "' has a value of dynamic or unknown shape (" << t
                        << "), which Kiln lowers only to static shapes: give "
                           "symbolic dimensions a value with --dim NAME=N";
        return WalkResult::interrupt();
      }
      op->emitError() << "'" << op->getName()
                      << "' with these operands and attributes cannot be "
                         "lowered yet";
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      return signalPassFailure();
    kiln::lowerSequenceTypes(module);
    // ONNX's unsigned integer types reach here as ui8..ui64 (the patterns
    // chose unsigned arith ops by them); from here on the bits are signless.
    AttrTypeReplacer signless;
    signless.addReplacement([](IntegerType t) -> std::optional<Type> {
      if (t.isSignless())
        return std::nullopt;
      return IntegerType::get(t.getContext(), t.getWidth());
    });
    signless.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                          /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);
    // Dense elements keep their element type through the replacer (a
    // uint8 zero point): the same bits, retyped.
    module.walk([](arith::ConstantOp op) {
      auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
      if (dense && dense.getType() != op.getType())
        op.setValueAttr(dense.bitcast(
            cast<ShapedType>(op.getType()).getElementType()));
    });
  }
};
} // namespace
