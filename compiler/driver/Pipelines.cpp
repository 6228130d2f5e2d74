//===- Pipelines.cpp - Kiln's pass pipeline -------------------------------===//
//
// One pipeline, built from typed pass constructors, with every target fact
// taken from the TargetInfo: `kiln compile` runs it, and `kiln-opt
// --kiln-pipeline="target=... cpu=... opt-level=..."` builds the very same
// passes (`kiln compile --print-pipeline` prints them as text).
//
//===----------------------------------------------------------------------===//
#include "compiler/driver/Pipelines.h"
#include "dialects/onnx/OnnxDialect.h"
#include "lowering/Passes.h"

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace kiln;

/// Options of an upstream conversion with its `index-bitwidth` set.
template <typename Options> static Options withIndexBits(unsigned bits) {
  Options options;
  options.indexBitwidth = bits;
  return options;
}

void kiln::buildOnnxToLinalgPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  pm.addNestedPass<func::FuncOp>(onnx::createOnnxInferShapes());
  pm.addPass(createDynamicEntry());
  ConvertOnnxToLinalgOptions lowering;
  // The Winograd transforms are slow generics unless kiln-tile-contractions
  // replaces them, which it does where it may pad.
  if (options.optLevel >= 1 && options.target.matmulPadding)
    lowering.winogradMinTiles = options.target.winogradMinTiles;
  // On the GPU a convolution stays one contraction over its windows: the
  // tiled kernel (kiln-gpu-tile-contractions) gathers them into shared
  // memory itself, with no im2col buffer to write, read and keep.
  if (options.optLevel >= 1 && options.target.gpu)
    lowering.convAsMatmul = false;
  pm.addPass(createConvertOnnxToLinalg(lowering));
  pm.addPass(createDynamicChecks());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createDynamicResults());
  if (options.optLevel >= 1 && options.target.gpu) {
    // The CPU kernels (register tiles, vectors, prefetches) do not apply:
    // elementwise chains become one kernel each.
    pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  } else if (options.optLevel >= 1) {
    const MatmulTiles &t = options.target.matmul;
    TileContractionsOptions tiles;
    tiles.mr = t.mr;
    tiles.nr = t.nr;
    tiles.mc = t.mc;
    tiles.nc = t.nc;
    tiles.kc = t.kc;
    tiles.minTiles = options.target.matmulMinTiles;
    tiles.allowPadding = options.target.matmulPadding;
    // Microcontrollers run from flash and SRAM: nothing to prefetch into.
    tiles.prefetchWeights = !options.target.bareMetal;
    tiles.vectorWidth = std::max(1u, options.target.vectorBits / 32);
    // Elementwise chains merged first (SiLU's sigmoid and product become one
    // op reading x once), so that the kernels can take them as epilogues.
    FuseElementwiseOptions chains;
    chains.elementwiseOnly = true;
    pm.addNestedPass<func::FuncOp>(createFuseElementwise(chains));
    // Dynamic dims (a sequence length) in blocks of static matmuls: about
    // 32 rows and 64 columns, whole numbers of register tiles.
    TileDynamicRowsOptions blocks;
    blocks.rows = t.mr * llvm::divideCeil(24, t.mr);
    blocks.cols = t.nr * llvm::divideCeil(64, t.nr);
    blocks.tailRows = t.mr;
    pm.addNestedPass<func::FuncOp>(createTileDynamicRows(blocks));
    pm.addNestedPass<func::FuncOp>(createTileContractions(tiles));
    pm.addNestedPass<func::FuncOp>(createFuseElementwise());
    pm.addNestedPass<func::FuncOp>(createReassociateReductions());
  }
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void kiln::buildBufferizePipeline(OpPassManager &pm,
                                  const PipelineOptions &options) {
  pm.addNestedPass<func::FuncOp>(createDecomposePads());
  pm.addNestedPass<func::FuncOp>(createUnshareInits());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addNestedPass<func::FuncOp>(createDistinctResults());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createSequenceOutputs());
  // In-place inserts bufferize to copies of a subview onto an identical
  // subview of the same buffer: CSE makes them one value, and the
  // canonicalizer erases the copy to itself.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createWriteOutputsInPlace());
  // Matmuls and convolutions on the GPU: tiles staged in shared memory,
  // each kernel computing what its inputs' producers (a pad, a transpose)
  // would have written, before the arena plan, so that those buffers take
  // no room and their sources stay alive for the kernel.
  if (options.optLevel >= 1 && options.target.gpu)
    pm.addNestedPass<func::FuncOp>(createGpuTileContractions());
  PlanArenaOptions arena;
  arena.alignment = options.target.arenaAlign;
  arena.indexBits = options.target.pointerBits;
  arena.statusInArena = options.target.gpu;
  pm.addPass(createPlanArena(arena));
}

/// The start of both back ends: the index width set, and linalg (and
/// forall, and vector transfers) as parallel and sequential loops.
static void addParallelLoops(OpPassManager &pm, const TargetInfo &target) {
  // The data layout's index width, for the passes that read it
  // (kiln-convert-vector-to-llvm).
  SetIndexBitwidthOptions layout;
  layout.bitwidth = target.pointerBits;
  pm.addPass(createSetIndexBitwidth(layout));
  pm.addNestedPass<func::FuncOp>(createLowerCopies());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createForallToParallelLoopPass());
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
}

/// The end of both back ends' host code: views, memrefs, arithmetic and
/// functions to the LLVM dialect.
static void addMemRefsToLLVM(OpPassManager &pm, const TargetInfo &target) {
  pm.addNestedPass<func::FuncOp>(createExpandDynamicReshapes());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Upstream conversions take the index width as an option (they do not
  // read the data layout); every one of them gets the target's.
  unsigned bits = target.pointerBits;
  pm.addPass(createPointerArgs());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(
      withIndexBits<FinalizeMemRefToLLVMConversionPassOptions>(bits)));
  pm.addPass(createArithToLLVMConversionPass(
      withIndexBits<ArithToLLVMConversionPassOptions>(bits)));
  pm.addPass(createConvertIndexToLLVMPass(
      withIndexBits<ConvertIndexToLLVMPassOptions>(bits)));
  pm.addPass(createConvertControlFlowToLLVMPass(
      withIndexBits<ConvertControlFlowToLLVMPassOptions>(bits)));
  pm.addPass(createUBToLLVMConversionPass(
      withIndexBits<UBToLLVMConversionPassOptions>(bits)));
  auto funcs = withIndexBits<ConvertFuncToLLVMPassOptions>(bits);
  funcs.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcs));
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void kiln::buildLowerToLLVMPipeline(OpPassManager &pm,
                                    const PipelineOptions &options) {
  const TargetInfo &target = options.target;
  addParallelLoops(pm, target);
  if (target.threads) {
    OutlineParallelOptions outline;
    outline.minWork = target.parallelMinWork;
    outline.minChunks = target.parallelMinChunks;
    pm.addPass(createOutlineParallel(outline));
  }
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // Polynomial math is an optimization where libm exists (-O1 and up) and
  // the only math there is where it does not.
  if (options.optLevel >= 1 || !target.libm) {
    ApproximateMathOptions approx;
    approx.allFunctions = !target.libm;
    pm.addNestedPass<func::FuncOp>(createApproximateMath(approx));
  }
  pm.addNestedPass<func::FuncOp>(math::createMathExpandOpsPass());
  if (!target.libm) {
    CheckInlineMathOptions check;
    check.targetName = target.name;
    pm.addPass(createCheckInlineMath(check));
  }
  if (target.expandFloatMinMax)
    pm.addPass(arith::createArithExpandOpsPass());
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVM());
  addMemRefsToLLVM(pm, target);
  if (target.threads)
    pm.addPass(createLowerParallelDispatch());
}


void kiln::buildGpuPipeline(OpPassManager &pm, const PipelineOptions &options) {
  const TargetInfo &target = options.target;
  addParallelLoops(pm, target);
  // No libdevice (it comes with the CUDA toolkit): every function inline,
  // as on bare metal, and what cannot be is refused here, by node.
  ApproximateMathOptions approx;
  approx.allFunctions = true;
  pm.addNestedPass<func::FuncOp>(createApproximateMath(approx));
  pm.addNestedPass<func::FuncOp>(math::createMathExpandOpsPass());
  CheckInlineMathOptions check;
  check.targetName = target.name;
  check.doublePrecision = true;
  pm.addPass(createCheckInlineMath(check));
  // Each thread keeps its output element in a register through its
  // reduction loops.
  pm.addNestedPass<func::FuncOp>(createHoistAccumulators());
  MapToGpuOptions map;
  pm.addNestedPass<func::FuncOp>(createMapToGpu(map));
  // One copy of each constant, which outlining then sinks into the kernels
  // rather than pass as arguments.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createGpuMathIntrinsics());
  kernels.addPass(createGpuContract());
  auto nvvm = withIndexBits<ConvertGpuOpsToNVVMOpsOptions>(target.pointerBits);
  nvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuNVVMAttachTargetOptions attach;
  attach.chip = target.cpu;
  attach.optLevel = std::max(1u, options.optLevel);
  pm.addPass(createGpuNVVMAttachTarget(attach));
}

void kiln::addKernelsToPtx(OpPassManager &pm) {
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa"; // PTX text: no toolkit needed
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void kiln::buildGpuHostPipeline(OpPassManager &pm,
                                const PipelineOptions &options) {
  if (options.gpuEmulate)
    pm.addPass(createGpuEmulate());
  else
    addKernelsToPtx(pm);
  GpuHostOptions host;
  host.alignment = options.target.arenaAlign;
  pm.addPass(createGpuHost(host));
  pm.addPass(createCanonicalizerPass());
  addMemRefsToLLVM(pm, options.target);
}

void kiln::buildKilnPipeline(OpPassManager &pm,
                             const PipelineOptions &options) {
  buildOnnxToLinalgPipeline(pm, options);
  buildBufferizePipeline(pm, options);
  if (options.target.gpu) {
    buildGpuPipeline(pm, options);
    buildGpuHostPipeline(pm, options);
  } else
    buildLowerToLLVMPipeline(pm, options);
}

void kiln::registerKilnPipelines() {
  using Builder = void (*)(OpPassManager &, const PipelineOptions &);
  auto reg = [](StringRef name, StringRef summary, Builder build) {
    PassPipelineRegistration<PipelineCLOptions>(
        name, summary, [build](OpPassManager &pm, const PipelineCLOptions &cl) {
          auto target = resolveTarget(cl.target, cl.cpu);
          if (!target)
            llvm::report_fatal_error(
                llvm::Twine(llvm::toString(target.takeError())));
          PipelineOptions options{*target, cl.optLevel, cl.gpuEmulate};
          build(pm, options);
        });
  };
  reg("kiln-onnx-to-linalg", "onnx dialect to linalg on tensors",
      buildOnnxToLinalgPipeline);
  reg("kiln-bufferize", "bufferize and plan the arena", buildBufferizePipeline);
  reg("kiln-lower-to-llvm", "memrefs and loops to the LLVM dialect",
      buildLowerToLLVMPipeline);
  reg("kiln-gpu", "memrefs and loops to GPU kernels in NVVM (nvptx64)",
      buildGpuPipeline);
  reg("kiln-gpu-lower-host",
      "GPU kernels to PTX, and the host code that launches them to the LLVM "
      "dialect",
      buildGpuHostPipeline);
  reg("kiln-pipeline",
      "onnx dialect all the way to the LLVM dialect, as kiln compile runs it",
      buildKilnPipeline);
}

void kiln::registerKilnDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<kiln::onnx::OnnxDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
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
