//===- Passes.td - Kiln lowering passes -------------------------*- tablegen -*-===//
#ifndef KILN_LOWERING_PASSES_TD
#define KILN_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertOnnxToLinalg : Pass<"convert-onnx-to-linalg", "::mlir::ModuleOp"> {
  let summary = "lower onnx ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Rewrites every onnx op into upstream dialects on tensors: elementwise ops
    and broadcasting become `linalg.generic`, MatMul/Gemm/Conv become
    `linalg.generic` contractions with the contiguous dimension innermost,
    reshapes become `tensor.collapse_shape`/`expand_shape`, slices become
    `tensor.extract_slice`. Requires static shapes; an op that cannot be
    lowered is reported with its ONNX node name.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
    "::mlir::scf::SCFDialect", "::mlir::bufferization::BufferizationDialect"
  ];
}

def PlanArena : Pass<"kiln-plan-arena", "::mlir::func::FuncOp"> {
  let summary = "place every static allocation in one arena argument";
  let description = [{
    Runs after bufferization. Each `memref.alloc` of static shape in the
    function's entry block gets a byte offset, chosen by liveness (first-fit,
    largest first) so that buffers alive at the same time never overlap, and
    becomes a `memref.view` into a new trailing function argument
    `memref<SIZExi8>` (the arena). Deallocations of planned buffers are
    removed. The arena size is recorded in the `kiln.arena_size` attribute.

    ```mlir
    %0 = memref.alloc() : memref<4xf32>
    // becomes
    %0 = memref.view %arena[%c64][] : memref<128xi8> to memref<4xf32>
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64",
           "byte alignment of every buffer and of the arena">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerCopies : Pass<"kiln-lower-copies", "::mlir::func::FuncOp"> {
  let summary = "turn memref.copy into linalg.copy";
  let description = [{
    `memref.copy` between buffers with non-identity layouts (slices of the
    arena written by tensor.pad or insert_slice) would lower to a call into
    MLIR's C runner library, which compiled models do not link. As
    `linalg.copy` it becomes plain loops like every other linalg op.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // KILN_LOWERING_PASSES_TD
