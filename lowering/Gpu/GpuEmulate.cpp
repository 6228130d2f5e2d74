//===- GpuEmulate.cpp - a GPU model's kernels as host functions, for tests ===//
//
// Machines without an NVIDIA GPU (CI's, most development machines) can still
// run a GPU model end to end: `kiln compile --gpu-emulate` compiles the
// kernels for the host instead of as PTX, and the fake CUDA driver of the
// tests (test/unit/fake_cuda.c, picked with KILN_CUDA_DRIVER) runs each
// launch thread by thread. Everything but the NVPTX code generation is what
// a GPU runs: the same kernels (after convert-gpu-to-nvvm), the same host
// code, runtime, arena plan and weights blob.
//
// In place of gpu-module-to-binary, each kernel `llvm.func @k` of the
// gpu.module (in the LLVM dialect, NVVM ops included) becomes
//
//   llvm.func internal @kiln_emu_k(<its arguments>, %ids: !llvm.ptr)
//       the thread and block ids and sizes (nvvm.read.ptx.sreg.*) read
//       from ids[0..11]: tid, ntid, ctaid, nctaid, each x, y, z (i32)
//   llvm.func internal @kiln_emu_k_entry(%params: !llvm.ptr, %ids: !llvm.ptr)
//       cuLaunchKernel's parameter array unpacked, and @kiln_emu_k called
//
// and the image the fake driver loads in place of PTX is one constant
//
//   @kiln_gpu_emu_image = { "KILNEMU1", i64 count,
//                           [count x { ptr name, ptr entry }] }
//
// The gpu.module becomes an empty gpu.binary (so that the launches still
// verify), and the module gets `kiln.gpu_emulated`: kiln-gpu-host and the
// entry point then take the image for the PTX. A kernel with any other NVVM
// op (barriers, shuffles: threads that wait for one another) is refused:
// the fake driver runs one thread after the other.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_GPUEMULATE
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// The position in the ids array of an NVVM special register, or -1.
int idSlot(Operation *op) {
  StringRef name = op->getName().getStringRef();
  if (!name.consume_front("nvvm.read.ptx.sreg."))
    return -1;
  static const char *regs[] = {"tid", "ntid", "ctaid", "nctaid"};
  for (int r = 0; r < 4; ++r) {
    StringRef rest = name;
    if (rest.consume_front(regs[r]) && rest.consume_front(".")) {
      if (rest == "x" || rest == "y" || rest == "z")
        return 3 * r + (rest[0] - 'x');
    }
  }
  return -1;
}

struct GpuEmulatePass : public kiln::impl::GpuEmulateBase<GpuEmulatePass> {
  using GpuEmulateBase::GpuEmulateBase;

  /// @kiln_emu_<name>: the kernel with its ids from a last argument.
  LLVM::LLVMFuncOp hostKernel(OpBuilder &b, LLVM::LLVMFuncOp kernel) {
    MLIRContext *ctx = kernel.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i32 = IntegerType::get(ctx, 32);
    LLVM::LLVMFunctionType type = kernel.getFunctionType();
    SmallVector<Type> params(type.getParams());
    params.push_back(ptr);
    auto fn = LLVM::LLVMFuncOp::create(
        b, kernel.getLoc(), ("kiln_emu_" + kernel.getName()).str(),
        LLVM::LLVMFunctionType::get(type.getReturnType(), params),
        LLVM::Linkage::Internal);
    IRMapping map;
    kernel.getBody().cloneInto(&fn.getBody(), map);
    Block &entry = fn.getBody().front();
    Value ids = entry.addArgument(ptr, kernel.getLoc());
    SmallVector<Operation *> regs;
    fn.walk([&](Operation *op) {
      if (idSlot(op) >= 0)
        regs.push_back(op);
    });
    for (Operation *op : regs) {
      OpBuilder rb(op);
      LLVM::GEPArg at[] = {idSlot(op)};
      Value addr = LLVM::GEPOp::create(rb, op->getLoc(), ptr, i32, ids, at);
      Value v = LLVM::LoadOp::create(rb, op->getLoc(), i32, addr);
      if (v.getType() != op->getResult(0).getType())
        v = LLVM::ZExtOp::create(rb, op->getLoc(), op->getResult(0).getType(),
                                 v);
      op->getResult(0).replaceAllUsesWith(v);
      op->erase();
    }
    return fn;
  }

  /// @kiln_emu_<name>_entry(params, ids): the parameters unpacked.
  LLVM::LLVMFuncOp entryPoint(OpBuilder &b, LLVM::LLVMFuncOp kernel,
                              LLVM::LLVMFuncOp host) {
    MLIRContext *ctx = kernel.getContext();
    Location loc = kernel.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto fn = LLVM::LLVMFuncOp::create(
        b, loc, (host.getName() + "_entry").str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr, ptr}),
        LLVM::Linkage::Internal);
    Block *entry = fn.addEntryBlock(b);
    OpBuilder eb = OpBuilder::atBlockBegin(entry);
    SmallVector<Value> args;
    for (auto [i, t] : llvm::enumerate(kernel.getFunctionType().getParams())) {
      LLVM::GEPArg at[] = {(int32_t)i};
      Value slot = LLVM::GEPOp::create(eb, loc, ptr, ptr,
                                       entry->getArgument(0), at);
      Value word = LLVM::LoadOp::create(eb, loc, ptr, slot);
      args.push_back(LLVM::LoadOp::create(eb, loc, t, word));
    }
    args.push_back(entry->getArgument(1));
    LLVM::CallOp::create(eb, loc, host, args);
    LLVM::ReturnOp::create(eb, loc, ValueRange{});
    return fn;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    // No gpu.module: a model that computes nothing (empty outputs), whose
    // image has no kernels.
    auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>("kiln_kernels");
    if (gpuModule && failed(checkEmulatable(gpuModule)))
      return signalPassFailure();

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = gpuModule ? gpuModule.getLoc() : module.getLoc();
    SmallVector<std::pair<std::string, LLVM::LLVMFuncOp>> entries;
    if (gpuModule)
      for (auto f : gpuModule.getOps<LLVM::LLVMFuncOp>()) {
        if (!f->hasAttr("nvvm.kernel") && !f->hasAttr("gpu.kernel")) {
          f.emitError("a device function other than a kernel cannot be "
                      "emulated");
          return signalPassFailure();
        }
        LLVM::LLVMFuncOp host = hostKernel(b, f);
        entries.emplace_back(f.getName().str(), entryPoint(b, f, host));
      }
    buildImage(b, loc, entries);
    if (gpuModule) {
      // An empty binary keeps the launches valid until kiln-gpu-host.
      b.setInsertionPoint(gpuModule);
      gpu::BinaryOp::create(
          b, loc, "kiln_kernels", Attribute(),
          b.getArrayAttr({gpu::ObjectAttr::get(
              ctx, NVVM::NVVMTargetAttr::get(ctx),
              gpu::CompilationTarget::Assembly, b.getStringAttr(""), nullptr,
              nullptr)}));
      gpuModule.erase();
    }
    module->setAttr(kiln::kGpuEmulatedAttr, UnitAttr::get(ctx));
  }

  /// Refused: NVVM ops other than the ids (threads that wait for others),
  /// and kernels that are not yet in the LLVM dialect.
  LogicalResult checkEmulatable(gpu::GPUModuleOp gpuModule) {
    WalkResult bad = gpuModule.walk([&](Operation *op) {
      if (isa<gpu::GPUFuncOp>(op)) {
        op->emitError("kiln-gpu-emulate runs after convert-gpu-to-nvvm");
        return WalkResult::interrupt();
      }
      if (op->getDialect() && op->getDialect()->getNamespace() == "nvvm" &&
          idSlot(op) < 0) {
        op->emitError("a kernel with '")
            << op->getName() << "' cannot be emulated one thread at a time";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return failure(bad.wasInterrupted());
  }

  /// The image: "KILNEMU1", the count, and each kernel's name and entry.
  void buildImage(OpBuilder &b, Location loc,
                  ArrayRef<std::pair<std::string, LLVM::LLVMFuncOp>> entries) {
    MLIRContext *ctx = b.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    SmallVector<LLVM::GlobalOp> names;
    for (auto [i, e] : llvm::enumerate(entries)) {
      std::string text = e.first + '\0';
      auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8),
                                           text.size());
      names.push_back(LLVM::GlobalOp::create(
          b, loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
          "kiln_emu_name" + std::to_string(i), b.getStringAttr(text)));
    }
    auto entryType = LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr});
    auto imageType = LLVM::LLVMStructType::getLiteral(
        ctx, {LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), 8), i64,
              LLVM::LLVMArrayType::get(entryType, entries.size())});
    auto image = LLVM::GlobalOp::create(b, loc, imageType, /*isConstant=*/true,
                                        LLVM::Linkage::Internal,
                                        kiln::kGpuEmuImageGlobal, Attribute());
    Block *init = b.createBlock(&image.getInitializerRegion());
    OpBuilder ib = OpBuilder::atBlockBegin(init);
    Value v = LLVM::UndefOp::create(ib, loc, imageType);
    const char magic[] = "KILNEMU1";
    for (int i = 0; i < 8; ++i)
      v = LLVM::InsertValueOp::create(
          ib, loc, v,
          LLVM::ConstantOp::create(ib, loc, IntegerType::get(ctx, 8), magic[i]),
          ArrayRef<int64_t>{0, i});
    v = LLVM::InsertValueOp::create(
        ib, loc, v,
        LLVM::ConstantOp::create(ib, loc, i64, (int64_t)entries.size()),
        ArrayRef<int64_t>{1});
    for (auto [i, e] : llvm::enumerate(entries)) {
      v = LLVM::InsertValueOp::create(
          ib, loc, v, LLVM::AddressOfOp::create(ib, loc, names[i]),
          ArrayRef<int64_t>{2, (int64_t)i, 0});
      v = LLVM::InsertValueOp::create(
          ib, loc, v, LLVM::AddressOfOp::create(ib, loc, e.second),
          ArrayRef<int64_t>{2, (int64_t)i, 1});
    }
    LLVM::ReturnOp::create(ib, loc, v);
    b.setInsertionPointAfter(image);
  }
};

} // namespace
