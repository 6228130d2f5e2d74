//===- Pipelines.h - Kiln's pass pipeline -----------------------*- C++ -*-===//
#ifndef KILN_COMPILER_DRIVER_PIPELINES_H
#define KILN_COMPILER_DRIVER_PIPELINES_H

#include "targets/Target.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace kiln {

/// What the pipeline is built for: every target fact a pass needs comes from
/// `target`; `optLevel` (0-3) chooses how much of it runs.
struct PipelineOptions {
  TargetInfo target;
  unsigned optLevel = 2;
  /// GPU targets: kernels compiled for the host, for the fake CUDA driver
  /// of the tests (kiln-gpu-emulate), in place of PTX.
  bool gpuEmulate = false;
};

/// onnx dialect -> linalg on tensors (shape inference, the ONNX lowering,
/// contraction tiling for the target, elementwise fusion).
void buildOnnxToLinalgPipeline(mlir::OpPassManager &pm,
                               const PipelineOptions &options);

/// tensors -> memrefs, outputs as arguments, every intermediate in one arena.
void buildBufferizePipeline(mlir::OpPassManager &pm,
                            const PipelineOptions &options);

/// memrefs and loops -> the LLVM dialect (threads, inline math and index
/// width per target), memrefs passed as bare pointers.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const PipelineOptions &options);

/// For a GPU target, in place of buildLowerToLLVMPipeline: every loop nest
/// a kernel (kiln-map-to-gpu), outlined into one gpu.module in NVVM with the
/// target's SM attached; gpu-module-to-binary then writes its PTX.
void buildGpuPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// The gpu.module of kernels serialized to PTX text in a gpu.binary
/// (gpu-module-to-binary{format=isa}): for --emit=ptx and the host phase.
void addKernelsToPtx(mlir::OpPassManager &pm);

/// After buildGpuPipeline, for everything but --emit=ptx: the kernels
/// serialized to PTX (gpu-module-to-binary), the launches made calls of the
/// runtime and the weights one blob (kiln-gpu-host), and the host code
/// lowered to the LLVM dialect like a CPU model's.
void buildGpuHostPipeline(mlir::OpPassManager &pm,
                          const PipelineOptions &options);

/// The whole pipeline `kiln compile` runs: the three phases above.
void buildKilnPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// The options of the registered pipelines:
///   kiln-opt --kiln-pipeline="target=aarch64-linux-gnu cpu=cortex-a72 opt-level=3"
struct PipelineCLOptions : public mlir::PassPipelineOptions<PipelineCLOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("target triple (default: the host)")};
  Option<std::string> cpu{*this, "cpu",
                          llvm::cl::desc("target CPU (default: the target's "
                                         "baseline; native: the host's)")};
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("optimization level 0-3"),
                            llvm::cl::init(2)};
  Option<bool> gpuEmulate{*this, "gpu-emulate",
                          llvm::cl::desc("GPU targets: the kernels as host "
                                         "functions, for the tests' fake "
                                         "CUDA driver"),
                          llvm::cl::init(false)};
};

/// Registers `kiln-pipeline` and its phases `kiln-onnx-to-linalg`,
/// `kiln-bufferize` and `kiln-lower-to-llvm`, each with PipelineCLOptions.
void registerKilnPipelines();

/// Registers every dialect, extension and pass Kiln's pipelines use.
void registerKilnDialects(mlir::DialectRegistry &registry);
void registerAllKilnPasses();

} // namespace kiln

#endif // KILN_COMPILER_DRIVER_PIPELINES_H
