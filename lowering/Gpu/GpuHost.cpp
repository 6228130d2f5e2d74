//===- GpuHost.cpp - the host side of a GPU model: launches as runtime calls ===//
//
// After the kernels are serialized (gpu-module-to-binary), main_graph is a
// list of views and gpu.launch_func ops. This pass makes it plain host code
// that the CPU lowering takes as it is:
//
// - The weights. Every constant memref.global the host passes to a kernel
//   goes into one byte blob, @kiln_gpu_weights (each at a multiple of the
//   arena alignment), which the runtime uploads to the device once. Each
//   memref.get_global becomes a memref.view of a new main_graph argument,
//   the device copy of that blob:
//
//     %w = memref.get_global @__constant_8xf32 : memref<8xf32>
//       ->  %w = memref.view %weights[%c256][] : memref<N xi8> to memref<8xf32>
//
// - The launches. Each gpu.launch_func becomes a call of the runtime
//
//     kiln_gpu_launch(ctx, kernel, gridX, gridY, gridZ, blockX, blockY,
//                     blockZ, sharedBytes, params)
//
//   where `ctx` is a second new argument (the runtime's state of the model),
//   `kernel` the kernel's position in the list below, and `params` the
//   cuLaunchKernel argument array: one pointer per kernel argument to an
//   8-byte word holding it (a memref as its aligned pointer: the kernels
//   take bare pointers; an index as i64). The words and the array are two
//   allocas at the top of the function, shared by all launches.
//
// - The binary. The PTX of the one gpu.binary becomes the module attribute
//   `kiln.gpu_ptx`, the kernel names in launch order `kiln.gpu_kernels`,
//   and the blob's size `kiln.gpu_weights_size`: the entry point the driver
//   writes hands them to the runtime. The gpu.binary is erased.
//
// main_graph's arguments end as: inputs, outputs, arena, weights, ctx (an
// arena of one byte is added if the plan needed none, so that the order is
// always the same).
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_GPUHOST
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// The bytes of a constant global's value, as the host lays them out (one
/// byte per i1), or failure with an error on `g`.
FailureOr<SmallVector<char>> globalBytes(memref::GlobalOp g) {
  MemRefType type = g.getType();
  Type elt = type.getElementType();
  int64_t n = type.getNumElements();
  if (!elt.isIntOrFloat())
    return g.emitError("a weight of element type ")
           << elt << " cannot be copied to the GPU";
  int64_t bytes = elt.isInteger(1) ? 1 : elt.getIntOrFloatBitWidth() / 8;
  if (!elt.isInteger(1) && elt.getIntOrFloatBitWidth() % 8 != 0)
    return g.emitError("a weight of element type ")
           << elt << " cannot be copied to the GPU";
  SmallVector<char> out;
  out.reserve(n * bytes);
  Attribute init = g.getInitialValueAttr();
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || (int64_t)blob->getData().size() != n * bytes)
      return g.emitError("a weight's data is missing or of the wrong size");
    out.append(blob->getData().begin(), blob->getData().end());
    return out;
  }
  auto dense = dyn_cast_or_null<DenseElementsAttr>(init);
  if (!dense)
    return g.emitError("a weight without a constant value cannot be copied "
                       "to the GPU");
  if (elt.isInteger(1)) {
    for (bool v : dense.getValues<bool>())
      out.push_back(v ? 1 : 0);
    return out;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (int64_t i = 0; i < n; ++i)
      out.append(raw.begin(), raw.begin() + bytes);
    return out;
  }
  out.append(raw.begin(), raw.end());
  return out;
}

struct GpuHostPass : public kiln::impl::GpuHostBase<GpuHostPass> {
  using GpuHostBase::GpuHostBase;

  /// The weights blob: each used constant global's offset in it.
  LogicalResult packWeights(ModuleOp module, func::FuncOp graph,
                            SmallVector<char> &blob,
                            llvm::DenseMap<StringAttr, int64_t> &offsets) {
    WalkResult r = graph.walk([&](memref::GetGlobalOp get) {
      auto g = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
          get, get.getNameAttr());
      if (!g || !g.getConstant()) {
        get.emitError("a global the host does not treat as constant cannot "
                      "be used on the GPU");
        return WalkResult::interrupt();
      }
      if (offsets.count(g.getSymNameAttr()))
        return WalkResult::advance();
      FailureOr<SmallVector<char>> bytes = globalBytes(g);
      if (failed(bytes))
        return WalkResult::interrupt();
      int64_t at = llvm::alignTo(blob.size(), alignment);
      blob.resize(at, 0);
      blob.append(bytes->begin(), bytes->end());
      offsets[g.getSymNameAttr()] = at;
      return WalkResult::advance();
    });
    return failure(r.wasInterrupted());
  }

  LogicalResult lowerLaunches(func::FuncOp graph, Value words, Value params,
                              Value ctx, func::FuncOp launchFn,
                              llvm::StringMap<int32_t> &kernelIndex,
                              SmallVector<Attribute> &kernelNames) {
    SmallVector<gpu::LaunchFuncOp> launches;
    graph.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
    MLIRContext *mctx = graph.getContext();
    auto i64 = IntegerType::get(mctx, 64);
    auto ptr = LLVM::LLVMPointerType::get(mctx);
    for (gpu::LaunchFuncOp l : launches) {
      if (!l.getAsyncDependencies().empty() || l.getAsyncToken() ||
          l.hasClusterSize())
        return l.emitError("asynchronous and clustered launches are not "
                           "supported");
      OpBuilder b(l);
      Location loc = l.getLoc();
      StringRef name = l.getKernelName().getValue();
      auto [it, inserted] =
          kernelIndex.try_emplace(name, (int32_t)kernelNames.size());
      if (inserted)
        kernelNames.push_back(StringAttr::get(mctx, name));
      auto toI64 = [&](Value v) -> Value {
        return arith::IndexCastOp::create(b, loc, i64, v);
      };
      for (auto [i, arg] : llvm::enumerate(l.getKernelOperands())) {
        Value v = arg;
        Type t = v.getType();
        if (isa<MemRefType>(t))
          v = toI64(memref::ExtractAlignedPointerAsIndexOp::create(b, loc, v));
        else if (t.isIndex())
          v = toI64(v);
        else if (!t.isIntOrFloat() || t.getIntOrFloatBitWidth() > 64)
          return l.emitError("a kernel argument of type ")
                 << t << " cannot be passed to the GPU";
        LLVM::GEPArg at[] = {(int32_t)i};
        Value word = LLVM::GEPOp::create(b, loc, ptr, i64, words, at);
        LLVM::StoreOp::create(b, loc, v, word);
      }
      SmallVector<Value> args{
          ctx, arith::ConstantIntOp::create(b, loc, it->second, 32)};
      gpu::KernelDim3 grid = l.getGridSizeOperandValues();
      gpu::KernelDim3 block = l.getBlockSizeOperandValues();
      for (Value d : {grid.x, grid.y, grid.z, block.x, block.y, block.z})
        args.push_back(toI64(d));
      Value shared = l.getDynamicSharedMemorySize();
      args.push_back(shared ? shared
                            : arith::ConstantIntOp::create(b, loc, 0, 32));
      args.push_back(params);
      func::CallOp::create(b, loc, launchFn, args);
      l.erase();
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *mctx = module.getContext();
    auto graph = module.lookupSymbol<func::FuncOp>("main_graph");
    if (!graph || graph.isExternal()) {
      module.emitError("kiln-gpu-host: no main_graph");
      return signalPassFailure();
    }
    for (auto f : module.getOps<func::FuncOp>())
      if (f != graph && !f.isExternal() &&
          f.walk([](gpu::LaunchFuncOp) { return WalkResult::interrupt(); })
              .wasInterrupted()) {
        f.emitError("GPU launches outside main_graph are not supported");
        return signalPassFailure();
      }
    SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
    if (binaries.size() > 1) {
      module.emitError("kiln-gpu-host expects one gpu.binary, found ")
          << binaries.size();
      return signalPassFailure();
    }
    if (!module.getOps<gpu::GPUModuleOp>().empty()) {
      module.emitError("kiln-gpu-host runs after gpu-module-to-binary");
      return signalPassFailure();
    }

    // The weights blob and its offsets.
    SmallVector<char> blob;
    llvm::DenseMap<StringAttr, int64_t> offsets;
    if (failed(packWeights(module, graph, blob, offsets)))
      return signalPassFailure();
    int64_t blobSize = std::max<int64_t>(blob.size(), 1);
    blob.resize(blobSize, 0);

    // The arguments: the arena (if the plan left none), weights, ctx.
    Location loc = graph.getLoc();
    auto i8 = IntegerType::get(mctx, 8);
    auto i64 = IntegerType::get(mctx, 64);
    auto ptr = LLVM::LLVMPointerType::get(mctx);
    unsigned n = graph.getNumArguments();
    bool hasArena = n > 0 && graph.getArgAttr(n - 1, "kiln.arena");
    auto named = [&](StringRef attr) {
      return DictionaryAttr::get(
          mctx, {NamedAttribute(StringAttr::get(mctx, attr),
                                UnitAttr::get(mctx))});
    };
    if (!hasArena) {
      if (failed(graph.insertArgument(n, MemRefType::get({1}, i8),
                                      named("kiln.arena"), loc)))
        return signalPassFailure();
      ++n;
    }
    auto weightsType = MemRefType::get({blobSize}, i8);
    if (failed(graph.insertArgument(n, weightsType, named("kiln.gpu_weights"),
                                    loc)) ||
        failed(graph.insertArgument(n + 1, ptr, named("kiln.gpu_context"),
                                    loc)))
      return signalPassFailure();
    Value weights = graph.getArgument(n);
    Value ctx = graph.getArgument(n + 1);

    Block &entry = graph.getBody().front();
    OpBuilder b = OpBuilder::atBlockBegin(&entry);
    SmallVector<memref::GetGlobalOp> gets;
    graph.walk([&](memref::GetGlobalOp g) { gets.push_back(g); });
    for (memref::GetGlobalOp get : gets) {
      b.setInsertionPoint(get);
      Value at = arith::ConstantIndexOp::create(
          b, get.getLoc(), offsets.lookup(get.getNameAttr().getAttr()));
      Value view = memref::ViewOp::create(b, get.getLoc(), get.getType(),
                                          weights, at, ValueRange{});
      get.replaceAllUsesWith(view);
      get.erase();
    }
    // Constants no longer referenced are dropped; the blob holds them.
    for (auto g : llvm::make_early_inc_range(module.getOps<memref::GlobalOp>()))
      if (offsets.count(g.getSymNameAttr()) &&
          SymbolTable::symbolKnownUseEmpty(g, module))
        g.erase();

    // The launches' argument words and pointer array, shared by all.
    size_t maxArgs = 1;
    graph.walk([&](gpu::LaunchFuncOp l) {
      maxArgs = std::max<size_t>(maxArgs, l.getKernelOperands().size());
    });
    b.setInsertionPointToStart(&entry);
    Value count = LLVM::ConstantOp::create(b, loc, i64, (int64_t)maxArgs);
    Value words = LLVM::AllocaOp::create(b, loc, ptr, i64, count, 8);
    Value params = LLVM::AllocaOp::create(b, loc, ptr, ptr, count, 8);
    for (size_t i = 0; i < maxArgs; ++i) {
      LLVM::GEPArg at[] = {(int32_t)i};
      Value word = LLVM::GEPOp::create(b, loc, ptr, i64, words, at);
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, params, at);
      LLVM::StoreOp::create(b, loc, word, slot);
    }

    OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
    auto i32 = IntegerType::get(mctx, 32);
    auto launchType = FunctionType::get(
        mctx, {ptr, i32, i64, i64, i64, i64, i64, i64, i32, ptr}, {});
    auto launchFn = module.lookupSymbol<func::FuncOp>("kiln_gpu_launch");
    if (!launchFn) {
      launchFn = func::FuncOp::create(top, loc, "kiln_gpu_launch", launchType);
      launchFn.setPrivate();
    }
    llvm::StringMap<int32_t> kernelIndex;
    SmallVector<Attribute> kernelNames;
    if (failed(lowerLaunches(graph, words, params, ctx, launchFn, kernelIndex,
                             kernelNames)))
      return signalPassFailure();

    // The blob as one constant global (whose bytes the entry point hands
    // to the runtime).
    auto blobType = RankedTensorType::get({blobSize}, i8);
    auto &manager = DenseResourceElementsHandle::getManagerInterface(mctx);
    auto blobAttr = DenseResourceElementsAttr::get(
        blobType,
        manager.insert(kiln::kGpuWeightsGlobal, HeapAsmResourceBlob::allocateAndCopyInferAlign(
                                     ArrayRef<char>(blob))));
    memref::GlobalOp::create(top, loc, kiln::kGpuWeightsGlobal,
                             top.getStringAttr("private"), weightsType,
                             blobAttr, /*constant=*/true,
                             top.getI64IntegerAttr(alignment));

    // The PTX and the kernels' names.
    std::string ptx;
    for (gpu::BinaryOp bin : binaries) {
      for (Attribute object : bin.getObjects())
        ptx += cast<gpu::ObjectAttr>(object).getObject().str();
      bin.erase();
    }
    if (!kernelNames.empty() && ptx.empty() &&
        !module->hasAttr(kiln::kGpuEmulatedAttr)) {
      module.emitError("the model launches kernels but has no GPU binary");
      return signalPassFailure();
    }
    module->setAttr(kiln::kGpuPtxAttr, StringAttr::get(mctx, ptx));
    module->setAttr(kiln::kGpuKernelsAttr, ArrayAttr::get(mctx, kernelNames));
    module->setAttr(kiln::kGpuWeightsSizeAttr,
                    IntegerAttr::get(i64, offsets.empty() ? 0 : blobSize));
    if (Attribute status = graph->getAttr(kiln::kGpuStatusOffsetAttr))
      module->setAttr(kiln::kGpuStatusOffsetAttr, status);
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
