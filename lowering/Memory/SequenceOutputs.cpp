//===- SequenceOutputs.cpp - sequence outputs and the run's status --------===//
//
// A function that uses the runtime's sequences (kiln_run_begin at its entry,
// or results marked `kiln.sequence` by convert-onnx-to-linalg) still returns
// its sequence outputs as handles after buffer-results-to-out-params. Each
// becomes an argument in its output's place (the caller's kiln_sequence),
// filled by kiln_seq_export before the return; the function then returns
// kiln_run_end's status, which the entry point passes on. A function with a
// status slot (`kiln.status`: checks made while it runs, e.g. indices out of
// range) returns the first error of the two.
//
//===----------------------------------------------------------------------===//
#include "lowering/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_SEQUENCEOUTPUTS
#include "lowering/Passes.h.inc"
} // namespace kiln

namespace {


func::FuncOp declare(ModuleOp module, StringRef name, FunctionType type) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name, type);
  f.setPrivate();
  return f;
}

/// `status`, or where it is OK and there is a status slot, the slot's.
Value firstError(OpBuilder &b, Location loc, Value status, Value slot) {
  if (!slot)
    return status;
  Value recorded = memref::LoadOp::create(b, loc, slot, ValueRange{});
  if (!status)
    return recorded;
  Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, status,
                                   arith::ConstantIntOp::create(b, loc, 0, 32));
  return arith::SelectOp::create(b, loc, ok, recorded, status);
}

/// Makes `func` (no results) return the status its slot holds.
void returnStatus(func::FuncOp func, Value slot) {
  OpBuilder b(func.getContext());
  func.walk([&](func::ReturnOp ret) {
    b.setInsertionPoint(ret);
    func::ReturnOp::create(b, ret.getLoc(),
                           firstError(b, ret.getLoc(), Value(), slot));
    ret.erase();
  });
  func.setFunctionType(
      b.getFunctionType(func.getArgumentTypes(), TypeRange{b.getI32Type()}));
}

struct SequenceOutputsPass
    : public kiln::impl::SequenceOutputsBase<SequenceOutputsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    Type i32 = IntegerType::get(ctx, 32);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      Block &entry = func.getBody().front();
      Value run;
      for (Operation &o : entry)
        if (auto c = dyn_cast<func::CallOp>(o); c && c.getCallee() == kiln::kRunBegin)
          run = c.getResult(0);
      struct Out {
        unsigned result;
        int64_t index;
        bool optional;
      };
      SmallVector<Out> outs;
      for (unsigned i = 0; i < func.getNumResults(); ++i)
        if (auto kind = func.getResultAttrOfType<StringAttr>(i, "kiln.sequence")) {
          auto index =
              func.getResultAttrOfType<IntegerAttr>(i, "kiln.output_index");
          if (!index) {
            func.emitError("sequence result ") << i << " has no output index";
            return signalPassFailure();
          }
          outs.push_back({i, index.getInt(), kind.getValue() == "optional"});
        }
      // The run's status slot (kiln.status: index checks at run time).
      Value slot;
      for (Operation &o : entry)
        if (o.hasAttr(kiln::kStatusAttr))
          slot = o.getResult(0);
      if (!run && outs.empty()) {
        if (slot && func.getNumResults() == 0)
          returnStatus(func, slot);
        continue;
      }
      auto numInputs = func->getAttrOfType<IntegerAttr>("kiln.num_inputs");
      if (!numInputs || func.getNumResults() != outs.size()) {
        func.emitError("results other than sequences are left after "
                       "buffer-results-to-out-params");
        return signalPassFailure();
      }
      OpBuilder b(ctx);
      if (!run) {
        b.setInsertionPointToStart(&entry);
        run = func::CallOp::create(
                  b, func.getLoc(),
                  declare(module, kiln::kRunBegin, b.getFunctionType({}, {ptr})),
                  ValueRange{})
                  .getResult(0);
      }
      // The caller's kiln_sequence per output, at its place among them.
      llvm::sort(outs, [](const Out &a, const Out &b) { return a.index < b.index; });
      SmallVector<BlockArgument> outArgs(func.getNumResults());
      for (const Out &o : outs) {
        unsigned at = numInputs.getInt() + o.index;
        if (at > func.getNumArguments()) {
          func.emitError("output ") << o.index << " has no place among the "
                                    << func.getNumArguments() << " arguments";
          return signalPassFailure();
        }
        if (failed(func.insertArgument(at, ptr, {}, func.getLoc())))
          return signalPassFailure();
        outArgs[o.result] = func.getArgument(at);
      }
      func::FuncOp exportFn =
          declare(module, "kiln_seq_export",
                  b.getFunctionType({ptr, ptr, ptr, i32}, {}));
      func::FuncOp endFn =
          declare(module, "kiln_run_end", b.getFunctionType({ptr}, {i32}));
      func.walk([&](func::ReturnOp ret) {
        b.setInsertionPoint(ret);
        Location loc = ret.getLoc();
        for (const Out &o : outs) {
          Value flag = arith::ConstantIntOp::create(b, loc, o.optional, 32);
          func::CallOp::create(
              b, loc, exportFn,
              ValueRange{run, outArgs[o.result], ret.getOperand(o.result), flag});
        }
        Value status =
            func::CallOp::create(b, loc, endFn, ValueRange{run}).getResult(0);
        func::ReturnOp::create(b, loc, firstError(b, loc, status, slot));
        ret.erase();
      });
      // The results' attributes go with them.
      func.setAllResultAttrs(ArrayRef<DictionaryAttr>{});
      func.setFunctionType(
          b.getFunctionType(func.getArgumentTypes(), TypeRange{i32}));
      func->removeAttr("kiln.num_inputs");
    }
  }
};

} // namespace
