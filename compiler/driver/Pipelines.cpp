//===- Pipelines.cpp - Kiln's phase pipelines -----------------------------===//
//
// Each phase is a list of upstream and Kiln passes; the same function feeds
// `kiln compile` and the named pipelines of `kiln-opt`.
//
//===----------------------------------------------------------------------===//
#include "compiler/driver/Pipelines.h"
#include "dialects/onnx/OnnxDialect.h"
#include "lowering/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

using namespace mlir;

static LogicalResult addPasses(OpPassManager &pm, StringRef pipeline) {
  return parsePassPipeline(pipeline, pm, llvm::errs());
}

LogicalResult kiln::buildOnnxToLinalgPipeline(OpPassManager &pm) {
  return addPasses(pm, "func.func(onnx-infer-shapes),"
                       "convert-onnx-to-linalg,"
                       "canonicalize,"
                       "func.func(kiln-tile-contractions),"
                       "func.func(linalg-fuse-elementwise-ops),"
                       "canonicalize,cse");
}

LogicalResult kiln::buildBufferizePipeline(OpPassManager &pm) {
  return addPasses(
      pm, "eliminate-empty-tensors,"
          "func.func(kiln-distinct-results),"
          "one-shot-bufferize{bufferize-function-boundaries "
          "function-boundary-type-conversion=identity-layout-map},"
          "buffer-results-to-out-params{hoist-static-allocs "
          "modify-public-functions},"
          "canonicalize,"
          "func.func(kiln-plan-arena)");
}

LogicalResult kiln::buildLowerToLLVMPipeline(OpPassManager &pm) {
  return addPasses(pm, "func.func(kiln-lower-copies,"
                       "convert-linalg-to-parallel-loops),"
                       "scf-forall-to-parallel,"
                       "func.func(convert-vector-to-scf{full-unroll}),"
                       "kiln-outline-parallel,"
                       "lower-affine,"
                       "convert-scf-to-cf,"
                       "func.func(kiln-approximate-math,math-expand-ops),"
                       "convert-math-to-funcs,"
                       "convert-math-to-llvm,"
                       "convert-math-to-libm,"
                       "convert-vector-to-llvm,"
                       "expand-strided-metadata,"
                       "lower-affine,"
                       "finalize-memref-to-llvm,"
                       "convert-arith-to-llvm,"
                       "convert-index-to-llvm,"
                       "convert-cf-to-llvm,"
                       "convert-ub-to-llvm,"
                       "convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
                       "reconcile-unrealized-casts,"
                       "kiln-lower-parallel-dispatch");
}

void kiln::registerKilnPipelines() {
  auto reg = [](StringRef name, StringRef summary,
                LogicalResult (*fn)(OpPassManager &)) {
    PassPipelineRegistration<>(name, summary, [fn](OpPassManager &pm) {
      if (failed(fn(pm)))
        llvm::report_fatal_error("cannot build a Kiln pipeline");
    });
  };
  reg("kiln-onnx-to-linalg", "onnx dialect to linalg on tensors",
      buildOnnxToLinalgPipeline);
  reg("kiln-bufferize", "bufferize and plan the arena", buildBufferizePipeline);
  reg("kiln-lower-to-llvm", "memrefs and loops to the LLVM dialect",
      buildLowerToLLVMPipeline);
  PassPipelineRegistration<>(
      "kiln-pipeline", "onnx dialect all the way to the LLVM dialect",
      [](OpPassManager &pm) {
        if (failed(buildOnnxToLinalgPipeline(pm)) ||
            failed(buildBufferizePipeline(pm)) ||
            failed(buildLowerToLLVMPipeline(pm)))
          llvm::report_fatal_error("cannot build a Kiln pipeline");
      });
}

void kiln::registerKilnDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<kiln::onnx::OnnxDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void kiln::registerAllKilnPasses() {
  static bool done = [] {
    registerAllPasses();
    kiln::onnx::registerOnnxPasses();
    kiln::registerKilnPasses();
    registerKilnPipelines();
    return true;
  }();
  (void)done;
}
