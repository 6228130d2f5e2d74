//===- Passes.h - Kiln lowering passes --------------------------*- C++ -*-===//
#ifndef KILN_LOWERING_PASSES_H
#define KILN_LOWERING_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "lowering/Passes.h.inc"

/// In `kiln.result_dims`: a result dim computed from the symbolic dims
/// (neither fixed nor one of them); kiln-dynamic-results resolves it.
constexpr int64_t kComputedDim = INT64_MIN;
/// In `kiln.result_dims` after kiln-dynamic-results: a result dim that
/// depends on the input values, returned by main_graph in one more result
/// (i64, in order of output and dim) and bounded by `kiln.value_dims_max`.
constexpr int64_t kValueDim = INT64_MIN + 1;
/// In `kiln.value_dims_max`: a value-dependent dim whose bound is not a
/// constant but a formula of the symbolic dims (one has no --max-dim),
/// which main_graph_shapes computes in its place among the computed dims.
constexpr int64_t kBoundByShapes = -2;

/// A symbol-safe form of the first ONNX node name in `loc` ("" if none;
/// at most 64 characters), so that outlined functions (parallel tasks, GPU
/// kernels) name the node they come from.
std::string symbolNodeName(mlir::Location loc);

/// Patterns lowering each onnx op family to linalg on tensors.
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
void populateMatMulPatterns(mlir::RewritePatternSet &patterns);
void populateConvPatterns(mlir::RewritePatternSet &patterns,
                          bool convAsMatmul = true,
                          int64_t winogradMinTiles = 0);
/// Conv and the pools of dynamic shape (a general loop nest).
void populateDynamicWindowPatterns(mlir::RewritePatternSet &patterns);
void populateReducePatterns(mlir::RewritePatternSet &patterns);
void populateDataMovementPatterns(mlir::RewritePatternSet &patterns);
void populateTensorOpsPatterns(mlir::RewritePatternSet &patterns);
void populateNNPatterns(mlir::RewritePatternSet &patterns);
void populateRNNPatterns(mlir::RewritePatternSet &patterns);
void populateLossPatterns(mlir::RewritePatternSet &patterns);
void populateQuantPatterns(mlir::RewritePatternSet &patterns);
void populateRandomPatterns(mlir::RewritePatternSet &patterns);
void populateSignalPatterns(mlir::RewritePatternSet &patterns);
void populateTextPatterns(mlir::RewritePatternSet &patterns);
void populateControlFlowPatterns(mlir::RewritePatternSet &patterns);
/// Why an onnx.If, Loop or Scan cannot be lowered (ControlFlow.cpp); nullopt
/// when it can, or for other ops.
std::optional<std::string> controlFlowLimit(mlir::Operation *op);
void populateSequencePatterns(mlir::RewritePatternSet &patterns);
/// The runtime function that starts a run of a model with run-time
/// sequences; its call at a function's entry is the run's handle.
constexpr llvm::StringLiteral kRunBegin = "kiln_run_begin";
/// What kiln-gpu-host and kiln-gpu-emulate hand the entry point: module
/// attributes (the PTX, the kernel names in launch-index order, the weights
/// blob's size, whether the kernels are emulated) and the globals holding
/// the weights blob and the emulated kernels' image.
constexpr llvm::StringLiteral kGpuPtxAttr = "kiln.gpu_ptx";
constexpr llvm::StringLiteral kGpuKernelsAttr = "kiln.gpu_kernels";
constexpr llvm::StringLiteral kGpuWeightsSizeAttr = "kiln.gpu_weights_size";
constexpr llvm::StringLiteral kGpuEmulatedAttr = "kiln.gpu_emulated";
/// The run's status slot: an i32 that checks made while the model runs
/// set to their error (lowering/OnnxToLinalg/Common.h, statusSlot).
constexpr llvm::StringLiteral kStatusAttr = "kiln.status";
/// The byte offset of the run's status slot in a GPU model's arena
/// (main_graph's attribute from kiln-map-to-gpu, the module's from
/// kiln-gpu-host); the runtime reads it back after each run.
constexpr llvm::StringLiteral kGpuStatusOffsetAttr = "kiln.gpu_status_offset";
constexpr llvm::StringLiteral kGpuWeightsGlobal = "kiln_gpu_weights";
constexpr llvm::StringLiteral kGpuEmuImageGlobal = "kiln_gpu_emu_image";
/// The end of convert-onnx-to-linalg for sequences and optionals: their
/// types become the runtime's handles (!llvm.ptr; an optional tensor its
/// tensor), and main_graph's sequence results are marked `kiln.sequence`
/// ("sequence" or "optional") for kiln-sequence-outputs.
void lowerSequenceTypes(mlir::ModuleOp module);
/// NonMaxSuppression (Detection.cpp): scf loops on tensors.
void populateDetectionPatterns(mlir::RewritePatternSet &patterns);

} // namespace kiln

#endif // KILN_LOWERING_PASSES_H
