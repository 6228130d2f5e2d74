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
//       from the ids block: i32 tid, ntid, ctaid, nctaid, each x, y, z,
//       then (at byte 48) the driver's barrier function, which
//       nvvm.barrier0 calls
//   llvm.func internal @kiln_emu_k_entry(%params: !llvm.ptr, %ids: !llvm.ptr)
//       cuLaunchKernel's parameter array unpacked, and @kiln_emu_k called
//
// Workgroup memory (globals in address space 3) becomes host globals
// @kiln_emu_<name>, which every block shares: the fake driver runs one
// block after the other. The image the fake driver loads in place of PTX
// is one constant
//
//   @kiln_gpu_emu_image = { "KILNEMU2", i64 count,
//                           [count x { ptr name, ptr entry, i64 flags }] }
//
// flags bit 0 saying that the kernel waits at barriers: the driver then
// runs the threads of a block as fibers, each up to the barrier in turn.
// The gpu.module becomes an empty gpu.binary (so that the launches still
// verify), and the module gets `kiln.gpu_emulated`: kiln-gpu-host and the
// entry point then take the image for the PTX. A kernel with any other NVVM
// op (shuffles, votes) is refused.
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

/// A kernel of the image: its name, its entry point and its flags.
struct Entry {
  std::string name;
  LLVM::LLVMFuncOp entry;
  int64_t flags;
};
constexpr int64_t kFlagBarriers = 1;

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

/// Byte offset of the barrier function in the ids block.
constexpr int32_t kBarrierSlot = 48;

/// A barrier of all the block's threads.
bool isBarrier(Operation *op) {
  return isa<NVVM::Barrier0Op>(op) ||
         (isa<NVVM::BarrierOp>(op) && op->getNumOperands() == 0);
}

/// `type` with every pointer in address space 3 (workgroup memory) a host
/// pointer.
Type hostType(Type type) {
  MLIRContext *ctx = type.getContext();
  if (auto ptr = dyn_cast<LLVM::LLVMPointerType>(type))
    return ptr.getAddressSpace() == 3 ? LLVM::LLVMPointerType::get(ctx) : type;
  if (auto s = dyn_cast<LLVM::LLVMStructType>(type)) {
    if (s.isIdentified())
      return type;
    SmallVector<Type> body;
    for (Type t : s.getBody())
      body.push_back(hostType(t));
    return LLVM::LLVMStructType::getLiteral(ctx, body, s.isPacked());
  }
  if (auto a = dyn_cast<LLVM::LLVMArrayType>(type))
    return LLVM::LLVMArrayType::get(hostType(a.getElementType()),
                                    a.getNumElements());
  return type;
}

struct GpuEmulatePass : public kiln::impl::GpuEmulateBase<GpuEmulatePass> {
  using GpuEmulateBase::GpuEmulateBase;

  /// Host copies of the gpu.module's workgroup globals, by name.
  llvm::StringMap<LLVM::GlobalOp> shared;

  /// @kiln_emu_<name> for each workgroup global: zeroed host memory.
  void hostGlobals(OpBuilder &b, gpu::GPUModuleOp gpuModule) {
    for (auto global : gpuModule.getOps<LLVM::GlobalOp>()) {
      auto host = LLVM::GlobalOp::create(
          b, global.getLoc(), global.getGlobalType(), /*isConstant=*/false,
          LLVM::Linkage::Internal, ("kiln_emu_" + global.getSymName()).str(),
          Attribute(), global.getAlignment().value_or(0));
      OpBuilder ib = OpBuilder::atBlockBegin(
          b.createBlock(&host.getInitializerRegion()));
      LLVM::ReturnOp::create(
          ib, global.getLoc(),
          LLVM::ZeroOp::create(ib, global.getLoc(), global.getGlobalType())
              .getResult());
      b.setInsertionPointAfter(host);
      shared[global.getSymName()] = host;
    }
  }

  /// In a host kernel: workgroup memory as the host globals, barriers as
  /// calls of the driver's function.
  void hostMemoryAndBarriers(LLVM::LLVMFuncOp fn, Value ids) {
    MLIRContext *ctx = fn.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    SmallVector<Operation *> barriers, casts;
    fn.walk([&](Operation *op) {
      if (auto addr = dyn_cast<LLVM::AddressOfOp>(op))
        if (LLVM::GlobalOp host = shared.lookup(addr.getGlobalName()))
          addr.setGlobalName(host.getSymName());
      for (Value v : op->getResults())
        v.setType(hostType(v.getType()));
      for (Region &r : op->getRegions())
        for (Block &block : r)
          for (BlockArgument arg : block.getArguments())
            arg.setType(hostType(arg.getType()));
      if (isBarrier(op))
        barriers.push_back(op);
      if (isa<LLVM::AddrSpaceCastOp>(op))
        casts.push_back(op);
    });
    for (Operation *op : casts)
      if (op->getOperand(0).getType() == op->getResult(0).getType()) {
        op->getResult(0).replaceAllUsesWith(op->getOperand(0));
        op->erase();
      }
    for (Operation *op : barriers) {
      OpBuilder b(op);
      LLVM::GEPArg at[] = {kBarrierSlot};
      Value slot = LLVM::GEPOp::create(b, op->getLoc(), ptr,
                                       IntegerType::get(ctx, 8), ids, at);
      Value wait = LLVM::LoadOp::create(b, op->getLoc(), ptr, slot);
      LLVM::CallOp::create(
          b, op->getLoc(),
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}),
          ValueRange{wait});
      op->erase();
    }
  }

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
    hostMemoryAndBarriers(fn, ids);
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
    SmallVector<Entry> entries;
    if (gpuModule) {
      hostGlobals(b, gpuModule);
      for (auto f : gpuModule.getOps<LLVM::LLVMFuncOp>()) {
        if (!f->hasAttr("nvvm.kernel") && !f->hasAttr("gpu.kernel")) {
          f.emitError("a device function other than a kernel cannot be "
                      "emulated");
          return signalPassFailure();
        }
        bool waits = f.walk([](Operation *op) {
                        return isBarrier(op) ? WalkResult::interrupt()
                                             : WalkResult::advance();
                      }).wasInterrupted();
        LLVM::LLVMFuncOp host = hostKernel(b, f);
        entries.push_back({f.getName().str(), entryPoint(b, f, host),
                           waits ? kFlagBarriers : 0});
      }
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

  /// Refused: NVVM ops other than the ids and barriers, and kernels that
  /// are not yet in the LLVM dialect.
  LogicalResult checkEmulatable(gpu::GPUModuleOp gpuModule) {
    WalkResult bad = gpuModule.walk([&](Operation *op) {
      if (isa<gpu::GPUFuncOp>(op)) {
        op->emitError("kiln-gpu-emulate runs after convert-gpu-to-nvvm");
        return WalkResult::interrupt();
      }
      if (op->getDialect() && op->getDialect()->getNamespace() == "nvvm" &&
          idSlot(op) < 0 && !isBarrier(op)) {
        op->emitError("a kernel with '")
            << op->getName() << "' cannot be emulated";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return failure(bad.wasInterrupted());
  }

  /// The image: "KILNEMU2", the count, and each kernel's name, entry and
  /// flags.
  void buildImage(OpBuilder &b, Location loc, ArrayRef<Entry> entries) {
    MLIRContext *ctx = b.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    SmallVector<LLVM::GlobalOp> names;
    for (auto [i, e] : llvm::enumerate(entries)) {
      std::string text = e.name + '\0';
      auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8),
                                           text.size());
      names.push_back(LLVM::GlobalOp::create(
          b, loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
          "kiln_emu_name" + std::to_string(i), b.getStringAttr(text)));
    }
    auto entryType = LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, i64});
    auto imageType = LLVM::LLVMStructType::getLiteral(
        ctx, {LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), 8), i64,
              LLVM::LLVMArrayType::get(entryType, entries.size())});
    auto image = LLVM::GlobalOp::create(b, loc, imageType, /*isConstant=*/true,
                                        LLVM::Linkage::Internal,
                                        kiln::kGpuEmuImageGlobal, Attribute());
    Block *init = b.createBlock(&image.getInitializerRegion());
    OpBuilder ib = OpBuilder::atBlockBegin(init);
    Value v = LLVM::UndefOp::create(ib, loc, imageType);
    const char magic[] = "KILNEMU2";
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
          ib, loc, v, LLVM::AddressOfOp::create(ib, loc, e.entry),
          ArrayRef<int64_t>{2, (int64_t)i, 1});
      v = LLVM::InsertValueOp::create(
          ib, loc, v, LLVM::ConstantOp::create(ib, loc, i64, e.flags),
          ArrayRef<int64_t>{2, (int64_t)i, 2});
    }
    LLVM::ReturnOp::create(ib, loc, v);
    b.setInsertionPointAfter(image);
  }
};

} // namespace
