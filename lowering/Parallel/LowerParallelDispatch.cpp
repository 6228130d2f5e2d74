//===- LowerParallelDispatch.cpp - pack task captures for the pool --------===//
//
// For each declaration `@d(i64 %n, T0, T1, ...)` tagged
// `kiln.parallel_task = @task`, where `@task(i64 begin, i64 end, T0, T1, ...)`:
//
//   llvm.func internal @d(%n, %a0, %a1, ...) {
//     %ctx = llvm.alloca 1 x !llvm.struct<(T0, T1, ...)>
//     llvm.store %a0, field 0 of %ctx ...
//     llvm.call @kiln_parallel_for(@d_entry, %ctx, %n)
//   }
//   llvm.func internal @d_entry(%ctx: !llvm.ptr, %begin: i64, %end: i64) {
//     %a0 = llvm.load field 0 of %ctx ...
//     llvm.call @task(%begin, %end, %a0, %a1, ...)
//   }
//
// plus a weak, serial `kiln_parallel_for` that the runtime's pool overrides.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_LOWERPARALLELDISPATCH
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {

constexpr StringLiteral kTaskAttr = "kiln.parallel_task";
constexpr StringLiteral kParallelFor = "kiln_parallel_for";

struct LowerParallelDispatchPass
    : public kiln::impl::LowerParallelDispatchBase<LowerParallelDispatchPass> {
  using LowerParallelDispatchBase::LowerParallelDispatchBase;

  /// `void kiln_parallel_for(void (*task)(void *, i64, i64), void *, i64)`:
  /// weak, running the whole range on the calling thread.
  LLVM::LLVMFuncOp getOrCreateParallelFor(ModuleOp module) {
    if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(kParallelFor))
      return f;
    MLIRContext *ctx = module.getContext();
    Location loc = module.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto fn = LLVM::LLVMFuncOp::create(
        b, loc, kParallelFor, LLVM::LLVMFunctionType::get(voidTy, {ptr, ptr, i64}),
        LLVM::Linkage::Weak);
    Block *entry = fn.addEntryBlock(b);
    b.setInsertionPointToStart(entry);
    Value zero = LLVM::ConstantOp::create(b, loc, i64, 0);
    auto taskTy = LLVM::LLVMFunctionType::get(voidTy, {ptr, i64, i64});
    LLVM::CallOp::create(b, loc, taskTy,
                         ValueRange{entry->getArgument(0), entry->getArgument(1),
                                    zero, entry->getArgument(2)});
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    return fn;
  }

  LogicalResult lower(ModuleOp module, LLVM::LLVMFuncOp dispatch) {
    auto taskRef = dispatch->getAttrOfType<FlatSymbolRefAttr>(kTaskAttr);
    auto task = module.lookupSymbol<LLVM::LLVMFuncOp>(taskRef.getAttr());
    if (!task || task.isExternal() || !dispatch.isExternal())
      return dispatch.emitError("malformed parallel task ") << taskRef;
    MLIRContext *ctx = &getContext();
    Location loc = dispatch.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);
    ArrayRef<Type> params = dispatch.getFunctionType().getParams();
    ArrayRef<Type> taskParams = task.getFunctionType().getParams();
    // The iteration count and bounds are `index`: i64, or i32 on 32-bit
    // targets, where they are widened for (and narrowed from) the pool.
    Type indexTy = params.empty() ? Type() : params.front();
    if (!indexTy || !indexTy.isSignlessInteger() || taskParams.size() < 2 ||
        taskParams[0] != indexTy || taskParams[1] != indexTy ||
        taskParams.drop_front(2) != params.drop_front())
      return dispatch.emitError("dispatch and task signatures disagree");
    ArrayRef<Type> captureTypes = params.drop_front();
    auto narrow = [&](OpBuilder &b, Value v) -> Value {
      return indexTy == i64 ? v : LLVM::TruncOp::create(b, loc, indexTy, v);
    };
    auto frame = LLVM::LLVMStructType::getLiteral(ctx, captureTypes);
    auto field = [&](OpBuilder &b, Value base, unsigned i) {
      return LLVM::GEPOp::create(
          b, loc, ptr, frame, base,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
    };

    // The entry the pool calls: unpack, call the task.
    OpBuilder b(ctx);
    b.setInsertionPointAfter(dispatch);
    auto entryFn = LLVM::LLVMFuncOp::create(
        b, loc, (dispatch.getName() + "_entry").str(),
        LLVM::LLVMFunctionType::get(voidTy, {ptr, i64, i64}),
        LLVM::Linkage::Internal);
    Block *eb = entryFn.addEntryBlock(b);
    b.setInsertionPointToStart(eb);
    SmallVector<Value> args{narrow(b, eb->getArgument(1)),
                            narrow(b, eb->getArgument(2))};
    for (auto [i, t] : llvm::enumerate(captureTypes))
      args.push_back(
          LLVM::LoadOp::create(b, loc, t, field(b, eb->getArgument(0), i)));
    LLVM::CallOp::create(b, loc, task, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});

    // The dispatch: pack, hand to the pool.
    Block *db = dispatch.addEntryBlock(b);
    b.setInsertionPointToStart(db);
    Value one = LLVM::ConstantOp::create(b, loc, i64, 1);
    Value frameAddr = LLVM::AllocaOp::create(b, loc, ptr, frame, one);
    for (auto [i, arg] : llvm::enumerate(db->getArguments().drop_front()))
      LLVM::StoreOp::create(b, loc, arg, field(b, frameAddr, i));
    Value entryAddr = LLVM::AddressOfOp::create(b, loc, entryFn);
    Value count = db->getArgument(0);
    if (indexTy != i64)
      count = LLVM::ZExtOp::create(b, loc, i64, count);
    LLVM::CallOp::create(b, loc, getOrCreateParallelFor(module),
                         ValueRange{entryAddr, frameAddr, count});
    LLVM::ReturnOp::create(b, loc, ValueRange{});

    dispatch->removeAttr(kTaskAttr);
    dispatch.setLinkage(LLVM::Linkage::Internal);
    task.setLinkage(LLVM::Linkage::Internal);
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> dispatches;
    for (auto f : module.getOps<LLVM::LLVMFuncOp>())
      if (f->hasAttr(kTaskAttr))
        dispatches.push_back(f);
    for (LLVM::LLVMFuncOp d : dispatches)
      if (failed(lower(module, d)))
        return signalPassFailure();
  }
};

} // namespace
