//===- Pipelines.h - Kiln's phase pipelines ---------------------*- C++ -*-===//
#ifndef KILN_COMPILER_DRIVER_PIPELINES_H
#define KILN_COMPILER_DRIVER_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace kiln {

/// onnx dialect -> linalg on tensors, elementwise ops fused.
/// Registered as `kiln-onnx-to-linalg`.
mlir::LogicalResult buildOnnxToLinalgPipeline(mlir::OpPassManager &pm);

/// tensors -> memrefs with outputs as arguments and every intermediate in
/// one arena (kiln-plan-arena). Registered as `kiln-bufferize`.
mlir::LogicalResult buildBufferizePipeline(mlir::OpPassManager &pm);

/// memrefs and loops -> the LLVM dialect, memrefs passed as bare pointers.
/// Registered as `kiln-lower-to-llvm`.
mlir::LogicalResult buildLowerToLLVMPipeline(mlir::OpPassManager &pm);

/// Registers the three pipelines and `kiln-pipeline` (all of them).
void registerKilnPipelines();

/// Registers every dialect, extension and pass Kiln's pipelines use.
void registerKilnDialects(mlir::DialectRegistry &registry);
void registerAllKilnPasses();

} // namespace kiln

#endif // KILN_COMPILER_DRIVER_PIPELINES_H
