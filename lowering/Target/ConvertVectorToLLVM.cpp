//===- ConvertVectorToLLVM.cpp - vector ops to LLVM at the target's width -===//
//
// Upstream's convert-vector-to-llvm always lowers `index` to i64, whatever
// the data layout says, which leaves i32/i64 casts it cannot reconcile on
// 32-bit targets. This pass runs the same upstream patterns with a type
// converter built from the module's data layout (kiln-set-index-bitwidth):
// first the vector-to-vector lowerings (contractions to outer products and
// FMAs, broadcasts, shape casts, transposes, 1-D transfers), then the
// conversion to the LLVM dialect.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Analysis/DataLayoutAnalysis.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_CONVERTVECTORTOLLVM
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

struct ConvertVectorToLLVMPass
    : public kiln::impl::ConvertVectorToLLVMBase<ConvertVectorToLLVMPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    Operation *module = getOperation();

    // Vector to simpler vector ops LLVM has instructions for.
    RewritePatternSet lowerings(ctx);
    vector::populateVectorToVectorCanonicalizationPatterns(lowerings);
    vector::populateVectorBroadcastLoweringPatterns(lowerings);
    vector::populateVectorContractLoweringPatterns(
        lowerings, vector::VectorContractLowering::Dot);
    vector::populateVectorMaskOpLoweringPatterns(lowerings);
    vector::populateVectorShapeCastLoweringPatterns(lowerings);
    vector::populateVectorTransposeLoweringPatterns(
        lowerings, vector::VectorTransposeLowering::EltWise);
    vector::populateVectorTransferLoweringPatterns(lowerings,
                                                   /*maxTransferRank=*/1);
    vector::populateVectorMaskMaterializationPatterns(
        lowerings, /*force32BitVectorIndices=*/true);
    vector::populateVectorInsertExtractStridedSliceTransforms(lowerings);
    vector::populateVectorStepLoweringPatterns(lowerings);
    vector::populateVectorRankReducingFMAPattern(lowerings);
    vector::populateVectorGatherLoweringPatterns(lowerings);
    vector::populateVectorBitCastLoweringPatterns(lowerings);
    vector::populateVectorInterleaveLoweringPatterns(lowerings);
    vector::populateVectorFromElementsUnrollPatterns(lowerings);
    vector::populateVectorToElementsUnrollPatterns(lowerings);
    (void)applyPatternsGreedily(module, std::move(lowerings));

    // Then to the LLVM dialect, `index` as wide as the data layout says.
    LowerToLLVMOptions options(
        ctx, getAnalysis<DataLayoutAnalysis>().getAtOrAbove(module));
    LLVMTypeConverter converter(ctx, options);
    RewritePatternSet patterns(ctx);
    vector::populateVectorTransferLoweringPatterns(patterns);
    populateVectorToLLVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, memref::MemRefDialect>();
    target.addLegalOp<UnrealizedConversionCastOp>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
