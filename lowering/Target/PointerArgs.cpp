//===- PointerArgs.cpp - dynamic flat buffers passed as bare pointers -----===//
//
// The entry points call main_graph with one pointer per buffer (the
// bare-pointer convention), which takes memrefs of static shape only. The
// flat inputs, outputs and arena of a model whose dims have no bound are
// memref<?xT>: this pass makes each such argument of a public function an
// !llvm.ptr and rebuilds the memref from it inside (offset 0, stride 1):
//
//   func @main_graph(%x: memref<?xf32>)
//     ->  func @main_graph(%p: !llvm.ptr)
//         %x = unrealized_conversion_cast (descriptor of %p) to memref<?xf32>
//
// Nothing may read the argument's size: the code works on views of it
// sized from the dims. The descriptor's size is 0, and a use of it is an
// error.
//
// A static memref with no elements whose zero is not its first dim
// (memref<3x0x5xi64>: a zero-size input or output) is passed the same way,
// its descriptor rebuilt with its static sizes and row-major strides:
// convert-func-to-llvm's bare-pointer convention refuses it (its strides do
// not read as contiguous) and leaves the function unconverted.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_POINTERARGS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

/// Whether some use of `buffer` (or of a view that keeps its sizes) reads
/// its size.
bool readsSize(Value buffer) {
  for (Operation *user : buffer.getUsers()) {
    if (isa<memref::DimOp>(user))
      return true;
    if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(user))
      if (llvm::any_of(meta.getSizes(), [](Value s) { return !s.use_empty(); }))
        return true;
    if (isa<memref::CastOp>(user) && readsSize(user->getResult(0)))
      return true;
  }
  return false;
}

struct PointerArgsPass : public kiln::impl::PointerArgsBase<PointerArgsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    unsigned bits = DataLayout(module).getTypeSizeInBits(IndexType::get(ctx));
    Type index = IntegerType::get(ctx, bits);
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      Block &entry = func.getBody().front();
      OpBuilder b = OpBuilder::atBlockBegin(&entry);
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<MemRefType>(arg.getType());
        if (!type || (type.hasStaticShape() && type.getNumElements() != 0))
          continue;
        Location loc = arg.getLoc();
        bool empty = type.hasStaticShape();
        if (empty && !type.getLayout().isIdentity())
          continue;
        if (!empty && (type.getRank() != 1 || !type.getLayout().isIdentity())) {
          func.emitError("argument ")
              << arg.getArgNumber() << " of dynamic shape " << type
              << " cannot be passed as a bare pointer (flat buffers only)";
          return signalPassFailure();
        }
        if (!empty && readsSize(arg)) {
          func.emitError("argument ")
              << arg.getArgNumber()
              << " is passed as a bare pointer, but the code reads its size";
          return signalPassFailure();
        }
        // Sizes and strides: 0 and 1 for a flat buffer of dynamic size, the
        // static ones (row-major) for an empty memref.
        SmallVector<int64_t> shape(type.getShape()), strides(shape.size(), 1);
        if (!empty)
          shape[0] = 0;
        for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
          strides[i] = strides[i + 1] * shape[i + 1];
        auto array = LLVM::LLVMArrayType::get(index, shape.size());
        auto descriptor = LLVM::LLVMStructType::getLiteral(
            ctx, {ptr, ptr, index, array, array});
        llvm::SmallDenseMap<int64_t, Value> constants;
        auto constant = [&](int64_t v) -> Value {
          Value &c = constants[v];
          if (!c)
            c = LLVM::ConstantOp::create(b, loc, index, v);
          return c;
        };
        Value d = LLVM::PoisonOp::create(b, loc, descriptor);
        arg.setType(ptr);
        auto allocated =
            LLVM::InsertValueOp::create(b, loc, d, arg, ArrayRef<int64_t>{0});
        auto aligned = LLVM::InsertValueOp::create(b, loc, allocated, arg,
                                                   ArrayRef<int64_t>{1});
        d = LLVM::InsertValueOp::create(b, loc, aligned, constant(0),
                                        ArrayRef<int64_t>{2});
        for (auto [i, size] : llvm::enumerate(shape)) {
          d = LLVM::InsertValueOp::create(b, loc, d, constant(size),
                                          ArrayRef<int64_t>{3, (int64_t)i});
          d = LLVM::InsertValueOp::create(b, loc, d, constant(strides[i]),
                                          ArrayRef<int64_t>{4, (int64_t)i});
        }
        auto rebuilt = UnrealizedConversionCastOp::create(b, loc, type, d);
        arg.replaceAllUsesExcept(rebuilt.getResult(0),
                                 SmallPtrSet<Operation *, 2>{allocated, aligned});
      }
      func.setType(FunctionType::get(ctx, entry.getArgumentTypes(),
                                     func.getResultTypes()));
    }
  }
};

} // namespace
