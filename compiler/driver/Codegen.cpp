//===- Codegen.cpp - LLVM IR, entry point and object code -----------------===//
#include "compiler/driver/Codegen.h"
#include "dialects/onnx/OnnxDialect.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/SwapByteOrder.h"
#include "llvm/Support/raw_ostream.h"

using namespace kiln;

uint64_t kiln::elementBytes(int32_t onnxType) {
  switch (onnxType) {
#define KILN_ELEM_SIZE_CASE(code, bytes, name)                                 \
  case code:                                                                   \
    return bytes;
    KILN_FOR_EACH_ELEM_TYPE(KILN_ELEM_SIZE_CASE)
#undef KILN_ELEM_SIZE_CASE
  default:
    return 0;
  }
}

const char *kiln::elementTypeName(int32_t onnxType) {
  switch (onnxType) {
#define KILN_ELEM_NAME_CASE(code, bytes, name)                                 \
  case code:                                                                   \
    return name;
    KILN_FOR_EACH_ELEM_TYPE(KILN_ELEM_NAME_CASE)
#undef KILN_ELEM_NAME_CASE
  default:
    return "unknown";
  }
}

llvm::Expected<ModelSignature> kiln::readSignature(mlir::ModuleOp module,
                                                   llvm::StringRef prefix) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>("main_graph");
  if (!func)
    return llvm::createStringError("the module has no @main_graph");
  ModelSignature sig;
  sig.prefix = prefix.str();
  // A model with dynamic shapes (kiln.dims, set by the driver): symbolic
  // dims by name on the inputs, by number on the results.
  auto dimNames = func->getAttrOfType<mlir::ArrayAttr>("kiln.dims");
  auto dimMax = func->getAttrOfType<mlir::DenseI64ArrayAttr>("kiln.dim_max");
  auto resultDims = func->getAttrOfType<mlir::ArrayAttr>("kiln.result_dims");
  if (dimNames && dimMax && dimMax.size() == dimNames.size())
    for (auto [name, max] : llvm::zip(dimNames, dimMax.asArrayRef()))
      sig.dims.push_back(
          {mlir::cast<mlir::StringAttr>(name).str(), max});
  auto symbolic = [&](mlir::RankedTensorType ranked, mlir::ArrayAttr params,
                      mlir::Attribute entries,
                      TensorSignature &t) -> bool {
    if (!dimNames) // kiln.dims: dynamic (maybe with no symbolic dim at all)
      return false;
    auto fixed = mlir::dyn_cast_or_null<mlir::DenseI64ArrayAttr>(entries);
    for (int64_t d = 0; d < ranked.getRank(); ++d) {
      int64_t e = ranked.isDynamicDim(d) ? -1 : ranked.getDimSize(d);
      if (e < 0 && params && d < (int64_t)params.size()) {
        auto name = mlir::cast<mlir::StringAttr>(params[d]).getValue();
        for (auto [k, dim] : llvm::enumerate(sig.dims))
          if (dim.name == name)
            e = -1 - (int64_t)k;
      } else if (e < 0 && fixed && d < (int64_t)fixed.size()) {
        e = fixed[d] == kComputedDim ? KILN_DIM_COMPUTED : fixed[d];
      }
      if (e == -1 && ranked.isDynamicDim(d) && !(params || fixed))
        return false;
      t.shape.push_back(e);
    }
    t.onnxType = onnx::getOnnxDataType(ranked.getElementType());
    t.bytes = elementBytes(t.onnxType);
    for (int64_t d : t.shape)
      t.bytes *= d >= 0 ? d : 1;
    return true;
  };
  auto describe = [&](mlir::Type type, mlir::StringAttr name,
                      std::string fallback, mlir::ArrayAttr dimParams,
                      mlir::Attribute entries = {})
      -> llvm::Expected<TensorSignature> {
    TensorSignature t;
    t.name = name ? name.str() : fallback;
    auto ranked = mlir::dyn_cast<mlir::RankedTensorType>(type);
    if (ranked && !ranked.hasStaticShape() &&
        symbolic(ranked, dimParams, entries, t))
      return t;
    if (!ranked || !ranked.hasStaticShape()) {
      // An input's symbolic dimensions by name, when the model names them.
      std::vector<std::string> named, names;
      if (ranked && dimParams &&
          dimParams.size() == (size_t)ranked.getRank())
        for (auto [d, attr] : llvm::enumerate(dimParams)) {
          auto param = mlir::dyn_cast<mlir::StringAttr>(attr);
          if (!param || param.getValue().empty() || !ranked.isDynamicDim(d))
            continue;
          names.push_back(param.str());
          named.push_back(param.str() + " (dim " + std::to_string(d) + ")");
        }
      if (!named.empty())
        return llvm::createStringError(
            "input '" + t.name + "' has symbolic dimension" +
            (named.size() > 1 ? "s " : " ") + llvm::join(named, ", ") +
            "; Kiln compiles static shapes: give " +
            (named.size() > 1 ? "each" : "it") + " a value, e.g. --dim " +
            names[0] + "=1");
      return llvm::createStringError(
          "'" + t.name + "' has a dynamic or unknown shape; give symbolic "
          "dimensions a value with --dim NAME=N");
    }
    t.onnxType = onnx::getOnnxDataType(ranked.getElementType());
    t.shape.assign(ranked.getShape().begin(), ranked.getShape().end());
    t.bytes = ranked.getNumElements() * elementBytes(t.onnxType);
    return t;
  };
  // A sequence or an optional: its element, with -1 for any size.
  auto describeHandle = [&](mlir::Type type, mlir::StringAttr name,
                            std::string fallback)
      -> std::optional<TensorSignature> {
    if (!onnx::isSeqOrOpt(type))
      return std::nullopt;
    TensorSignature t;
    t.name = name ? name.str() : fallback;
    mlir::Type elem = type;
    bool optional = false;
    if (auto opt = mlir::dyn_cast<onnx::OptType>(elem)) {
      optional = true;
      elem = opt.getElementType();
    }
    bool seq = false;
    if (auto s = mlir::dyn_cast<onnx::SeqType>(elem)) {
      seq = true;
      elem = s.getElementType();
    }
    t.kind = seq ? (optional ? KILN_KIND_OPTIONAL_SEQUENCE : KILN_KIND_SEQUENCE)
                 : KILN_KIND_OPTIONAL_TENSOR;
    auto tensor = mlir::cast<mlir::TensorType>(elem);
    t.onnxType = onnx::getOnnxDataType(tensor.getElementType());
    t.rank = -1;
    if (auto ranked = mlir::dyn_cast<mlir::RankedTensorType>(tensor)) {
      t.rank = ranked.getRank();
      for (int64_t d : ranked.getShape())
        t.shape.push_back(mlir::ShapedType::isDynamic(d) ? -1 : d);
    }
    if (!seq) { // an optional tensor is a buffer of its fixed shape
      if (!tensor.hasStaticShape())
        return std::nullopt;
      t.bytes = tensor.getNumElements() * elementBytes(t.onnxType);
    }
    return t;
  };
  auto handleError = [&](llvm::StringRef what) {
    return llvm::createStringError(
        what.str() + " is an optional tensor of a shape not fixed when "
                     "compiling; Kiln passes optional tensors as buffers of "
                     "a static shape");
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "onnx.name");
    if (onnx::isSeqOrOpt(func.getArgumentTypes()[i])) {
      auto t = describeHandle(func.getArgumentTypes()[i], name,
                              "input_" + std::to_string(i));
      if (!t)
        return handleError("input '" + (name ? name.str() : "?") + "'");
      sig.inputs.push_back(*t);
      continue;
    }
    auto t = describe(func.getArgumentTypes()[i],
                      func.getArgAttrOfType<mlir::StringAttr>(i, "onnx.name"),
                      "input_" + std::to_string(i),
                      func.getArgAttrOfType<mlir::ArrayAttr>(i, "onnx.dim_params"));
    if (!t)
      return t.takeError();
    sig.inputs.push_back(*t);
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto name = func.getResultAttrOfType<mlir::StringAttr>(i, "onnx.name");
    if (onnx::isSeqOrOpt(func.getResultTypes()[i])) {
      auto t = describeHandle(func.getResultTypes()[i], name,
                              "output_" + std::to_string(i));
      if (!t || t->kind == KILN_KIND_OPTIONAL_TENSOR)
        return llvm::createStringError(
            "output '" + (name ? name.str() : "?") +
            "' is an optional tensor; Kiln's outputs may be tensors, "
            "sequences and optional sequences");
      sig.outputs.push_back(*t);
      continue;
    }
    auto t = describe(func.getResultTypes()[i],
                      func.getResultAttrOfType<mlir::StringAttr>(i, "onnx.name"),
                      "output_" + std::to_string(i), nullptr,
                      resultDims && i < resultDims.size() ? resultDims[i]
                                                          : mlir::Attribute());
    if (!t)
      return t.takeError();
    sig.outputs.push_back(*t);
  }
  bool handles = llvm::any_of(
      llvm::concat<const TensorSignature>(sig.inputs, sig.outputs),
      [](const TensorSignature &t) { return t.kind != KILN_KIND_TENSOR; });
  if (handles && sig.isDynamic())
    return llvm::createStringError(
        "a model with sequence or optional inputs or outputs compiles with "
        "static tensor shapes only (give symbolic dimensions a value with "
        "--dim NAME=N)");
  return sig;
}

uint64_t ModelSignature::bytesAtMax(const TensorSignature &t) const {
  if (t.boundBytes)
    return t.boundBytes;
  uint64_t bytes = t.bytes;
  for (int64_t d : t.shape) {
    if (d >= 0)
      continue;
    if (d == KILN_DIM_COMPUTED)
      return 0; // only kiln-dynamic-results knows (boundBytes)
    int64_t max = dims[-1 - d].max;
    if (max <= 0)
      return 0;
    bytes *= (uint64_t)max;
  }
  return bytes;
}

static_assert(kComputedDim == KILN_DIM_COMPUTED,
              "kiln.result_dims and the ABI mark computed dims alike");

void kiln::readDynamicResults(mlir::ModuleOp module, ModelSignature &sig) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>("main_graph");
  if (!func)
    return;
  auto elems = func->getAttrOfType<mlir::DenseI64ArrayAttr>("kiln.result_elems");
  auto dims = func->getAttrOfType<mlir::ArrayAttr>("kiln.result_dims");
  auto valueMax =
      func->getAttrOfType<mlir::DenseI64ArrayAttr>("kiln.value_dims_max");
  size_t nextValue = 0;
  if (auto derived = func->getAttrOfType<mlir::IntegerAttr>("kiln.derived_dims"))
    sig.numDerived = derived.getInt();
  if (!elems || elems.size() != (int64_t)sig.outputs.size() || !dims ||
      dims.size() != sig.outputs.size())
    return;
  for (auto [t, n, entries] : llvm::zip(sig.outputs, elems.asArrayRef(), dims)) {
    if (t.isStatic())
      continue;
    auto resolved = mlir::dyn_cast<mlir::DenseI64ArrayAttr>(entries);
    if (resolved && resolved.size() == (int64_t)t.shape.size()) {
      t.bytes = elementBytes(t.onnxType);
      t.valueMax.assign(t.shape.size(), -1);
      for (auto [j, e] : llvm::enumerate(resolved.asArrayRef())) {
        int64_t &d = t.shape[j];
        d = e == kComputedDim || e == kValueDim ? KILN_DIM_COMPUTED : e;
        if (e == kValueDim && valueMax && nextValue < (size_t)valueMax.size())
          t.valueMax[j] = valueMax[nextValue++];
        t.bytes *= d >= 0 ? d : 1;
      }
    }
    if (n >= 0)
      t.boundBytes = (uint64_t)n * elementBytes(t.onnxType);
  }
}

namespace {

/// Builds the exported globals and the `<prefix>_run` wrapper.
class EntryPointBuilder {
public:
  EntryPointBuilder(llvm::Module &m, const ModelSignature &sig)
      : m(m), sig(sig), ctx(m.getContext()), b(ctx) {}

  llvm::Error build(bool exportModelSymbol);

private:
  llvm::Constant *cstring(const std::string &s, const std::string &name) {
    auto *init = llvm::ConstantDataArray::getString(ctx, s);
    auto *gv = new llvm::GlobalVariable(m, init->getType(), true,
                                        llvm::GlobalValue::PrivateLinkage, init,
                                        sig.prefix + "_" + name);
    gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return gv;
  }
  llvm::Constant *tensorInfos(const std::vector<TensorSignature> &ts,
                              const std::string &kind);
  llvm::Function *buildRun(llvm::Function *graph, llvm::GlobalVariable *arena);
  llvm::Function *buildRunDynamic(llvm::Function *graph,
                                  llvm::GlobalVariable *arena);
  llvm::Function *buildShapes(bool withInputs);
  llvm::Constant *dimInfos();
  /// A GPU model's P_run (a call of kiln_gpu_run with `model`) and the
  /// graph function kiln_gpu_run calls (main_graph with its pointers from
  /// arrays).
  llvm::Function *buildGpuRun(llvm::Function *graph, llvm::GlobalVariable *model,
                              llvm::Function *&thunk);
  /// The kiln_gpu_model that kiln_gpu_run takes (kiln_internal.h), and its
  /// type: struct { ptr ptx; i32; ptr names; ptr weights; u64; u64;
  /// ptr info; ptr graph; ptr state; i32 sm }.
  llvm::Constant *gpuModel(llvm::Constant *info, llvm::Function *thunk);
  llvm::StructType *gpuModelType() {
    auto *ptrTy = llvm::PointerType::getUnqual(ctx);
    auto *i32 = b.getInt32Ty();
    auto *i64 = b.getInt64Ty();
    return llvm::StructType::get(
        ctx, {ptrTy, i32, ptrTy, ptrTy, i64, i64, ptrTy, ptrTy, ptrTy, i32,
              i64});
  }

  /// Blocks of the function being built that return an error code.
  struct ErrorBlocks {
    llvm::BasicBlock *invalid, *misaligned, *mismatch;
  };
  ErrorBlocks errorBlocks(llvm::Function *fn);
  /// Continues in a new block when `bad` is false, else branches to `onBad`.
  void check(llvm::Value *bad, llvm::BasicBlock *onBad, const char *name);
  /// Loads `n` non-NULL pointers from the array `array` (itself non-NULL).
  void loadPointers(llvm::Value *array, size_t n, llvm::BasicBlock *invalid,
                    llvm::SmallVectorImpl<llvm::Value *> &out,
                    const std::vector<TensorSignature> *nullable);
  void loadPointers(llvm::Value *array, size_t n, llvm::BasicBlock *invalid,
                    llvm::SmallVectorImpl<llvm::Value *> &out);
  /// The arena to pass on: the caller's (aligned), or the static one for
  /// NULL where there is one.
  llvm::Value *checkArena(llvm::Value *userArena, llvm::GlobalVariable *arena,
                          const ErrorBlocks &errors);
  /// A call of the shape function `<prefix>_main_graph_<what>` (shapes,
  /// arena, check: index arithmetic on the dims), or null if the model has
  /// none.
  llvm::Value *callOnDims(llvm::StringRef what,
                          llvm::ArrayRef<llvm::Value *> dims);
  /// Checks the input shapes (fixed dims as declared, each symbolic dim the
  /// same everywhere, from 0 to its max, and main_graph_check) and returns
  /// the symbolic dims, then the derived ones (main_graph_dims, from the
  /// inputs `ins`).
  llvm::SmallVector<llvm::Value *>
  checkShapes(llvm::Value *shapes, const ErrorBlocks &errors,
              llvm::ArrayRef<llvm::Value *> ins);
  /// Writes each output's shape where `shapes` and its entry are non-NULL;
  /// the dims known only after a run from `values` (main_graph's i64
  /// buffer), or their bounds when it is null.
  void writeShapes(llvm::Value *shapes, llvm::ArrayRef<llvm::Value *> dims,
                   llvm::Value *values = nullptr);

  llvm::Module &m;
  const ModelSignature &sig;
  llvm::LLVMContext &ctx;
  llvm::IRBuilder<> b;
};

llvm::Constant *
EntryPointBuilder::tensorInfos(const std::vector<TensorSignature> &ts,
                               const std::string &kind) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  auto *i64 = b.getInt64Ty();
  // struct kiln_tensor_info { const char*; i32; i32; const i64*; u64; i32 }
  auto *infoTy =
      llvm::StructType::get(ctx, {ptrTy, i32, i32, ptrTy, i64, i32});
  std::vector<llvm::Constant *> infos;
  for (size_t i = 0; i < ts.size(); ++i) {
    const auto &t = ts[i];
    std::vector<llvm::Constant *> dims;
    for (int64_t d : t.shape)
      dims.push_back(llvm::ConstantInt::get(i64, d));
    auto *dimsTy = llvm::ArrayType::get(i64, dims.size());
    auto *shape = new llvm::GlobalVariable(
        m, dimsTy, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(dimsTy, dims),
        sig.prefix + "_" + kind + "_shape_" + std::to_string(i));
    infos.push_back(llvm::ConstantStruct::get(
        infoTy, {cstring(t.name, kind + "_name_" + std::to_string(i)),
                 llvm::ConstantInt::get(i32, t.onnxType),
                 llvm::ConstantInt::get(
                     i32, t.kind == KILN_KIND_TENSOR ? (int64_t)t.shape.size()
                                                     : t.rank),
                 shape,
                 llvm::ConstantInt::get(
                     i64, t.kind == KILN_KIND_SEQUENCE ||
                                  t.kind == KILN_KIND_OPTIONAL_SEQUENCE
                              ? 0
                              : sig.bytesAtMax(t)),
                 llvm::ConstantInt::get(i32, t.kind)}));
  }
  if (infos.empty())
    return llvm::ConstantPointerNull::get(ptrTy);
  auto *arrTy = llvm::ArrayType::get(infoTy, infos.size());
  return new llvm::GlobalVariable(m, arrTy, true,
                                  llvm::GlobalValue::PrivateLinkage,
                                  llvm::ConstantArray::get(arrTy, infos),
                                  sig.prefix + "_" + kind + "_info");
}

EntryPointBuilder::ErrorBlocks
EntryPointBuilder::errorBlocks(llvm::Function *fn) {
  auto *i32 = b.getInt32Ty();
  auto block = [&](const char *name, int32_t code) {
    auto *bb = llvm::BasicBlock::Create(ctx, name, fn);
    llvm::IRBuilder<> rb(bb);
    rb.CreateRet(llvm::ConstantInt::get(i32, code));
    return bb;
  };
  return {block("invalid_argument", KILN_ERROR_INVALID_ARGUMENT),
          block("misaligned_arena", KILN_ERROR_ARENA_ALIGNMENT),
          block("shape_mismatch", KILN_ERROR_SHAPE_MISMATCH)};
}

void EntryPointBuilder::check(llvm::Value *bad, llvm::BasicBlock *onBad,
                              const char *name) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  auto *ok = llvm::BasicBlock::Create(ctx, name, fn);
  b.CreateCondBr(bad, onBad, ok);
  b.SetInsertPoint(ok);
}

void EntryPointBuilder::loadPointers(llvm::Value *array, size_t n,
                                     llvm::BasicBlock *invalid,
                                     llvm::SmallVectorImpl<llvm::Value *> &out) {
  loadPointers(array, n, invalid, out, nullptr);
}

void EntryPointBuilder::loadPointers(
    llvm::Value *array, size_t n, llvm::BasicBlock *invalid,
    llvm::SmallVectorImpl<llvm::Value *> &out,
    const std::vector<TensorSignature> *nullable) {
  if (n == 0)
    return;
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  check(b.CreateIsNull(array), invalid, "array_ok");
  for (size_t i = 0; i < n; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, array, i);
    llvm::Value *p = b.CreateLoad(ptrTy, slot);
    // An optional input may be NULL: it holds no value.
    bool mayBeNull = nullable && i < nullable->size() &&
                     ((*nullable)[i].kind == KILN_KIND_OPTIONAL_TENSOR ||
                      (*nullable)[i].kind == KILN_KIND_OPTIONAL_SEQUENCE);
    if (!mayBeNull)
      check(b.CreateIsNull(p), invalid, "pointer_ok");
    out.push_back(p);
  }
}

llvm::Value *EntryPointBuilder::checkArena(llvm::Value *userArena,
                                           llvm::GlobalVariable *arena,
                                           const ErrorBlocks &errors) {
  // NULL selects the static arena; a caller's arena must be aligned.
  llvm::Value *isNull = b.CreateIsNull(userArena);
  // No static arena: NULL is an error (a run-time arena is never empty).
  if (!arena && (sig.arenaSize > 0 || sig.arenaDynamic))
    check(isNull, errors.invalid, "arena_given");
  llvm::Value *addr = b.CreatePtrToInt(
      userArena, b.getIntNTy(m.getDataLayout().getPointerSizeInBits()));
  llvm::Value *low = b.CreateAnd(addr, sig.arenaAlign - 1);
  llvm::Value *bad = b.CreateAnd(b.CreateNot(isNull), b.CreateIsNotNull(low));
  check(bad, errors.misaligned, "arena_ok");
  return arena ? b.CreateSelect(isNull, arena, userArena) : userArena;
}

llvm::Value *EntryPointBuilder::callOnDims(llvm::StringRef what,
                                           llvm::ArrayRef<llvm::Value *> dims) {
  llvm::Function *fn = m.getFunction(sig.prefix + "_main_graph_" + what.str());
  if (!fn)
    return nullptr;
  llvm::SmallVector<llvm::Value *> args;
  for (llvm::Value *d : dims)
    args.push_back(b.CreateSExtOrTrunc(d ? d : b.getInt64(0),
                                       fn->getArg(args.size())->getType()));
  return b.CreateCall(fn, args);
}

llvm::SmallVector<llvm::Value *>
EntryPointBuilder::checkShapes(llvm::Value *shapes, const ErrorBlocks &errors,
                               llvm::ArrayRef<llvm::Value *> ins) {
  auto *i64 = b.getInt64Ty();
  llvm::SmallVector<llvm::Value *> dims(sig.dims.size(), nullptr);
  llvm::SmallVector<llvm::Value *> shapePtrs;
  loadPointers(shapes, sig.inputs.size(), errors.invalid, shapePtrs);
  for (auto [t, shape] : llvm::zip(sig.inputs, shapePtrs)) {
    for (auto [j, want] : llvm::enumerate(t.shape)) {
      llvm::Value *got =
          b.CreateLoad(i64, b.CreateConstGEP1_64(i64, shape, j));
      llvm::Value *bad;
      if (want >= 0) {
        bad = b.CreateICmpNE(got, llvm::ConstantInt::get(i64, want));
      } else if (llvm::Value *&dim = dims[-1 - want]; !dim) {
        dim = got; // the first place it appears defines it
        const DimSignature &d = sig.dims[-1 - want];
        bad = b.CreateICmpSLT(got, llvm::ConstantInt::get(i64, 0));
        // Up to the --max-dim bound, or, without one, to where a size of
        // the run-time arena plan would overflow.
        int64_t max = d.max > 0 ? d.max : sig.dimLimit;
        if (max > 0)
          bad = b.CreateOr(bad, b.CreateICmpSGT(
                                    got, llvm::ConstantInt::get(i64, max)));
      } else {
        bad = b.CreateICmpNE(got, dim);
      }
      check(bad, errors.mismatch, "dim_ok");
    }
  }
  // The derived dims, from the input values: main_graph_dims says whether
  // they are valid (no negative size, shapes that broadcast), and each
  // must stay where no size of the run-time arena plan overflows.
  if (llvm::Function *derive =
          m.getFunction(sig.prefix + "_main_graph_dims")) {
    llvm::SmallVector<llvm::Value *> args(ins.begin(), ins.end());
    for (llvm::Value *d : dims)
      args.push_back(b.CreateSExtOrTrunc(d ? d : b.getInt64(0),
                                         derive->getArg(args.size())->getType()));
    llvm::Value *r = b.CreateCall(derive, args);
    check(b.CreateNot(b.CreateExtractValue(r, 0)), errors.mismatch,
          "values_valid");
    for (size_t k = 0; k < sig.numDerived; ++k) {
      llvm::Value *d = b.CreateSExt(b.CreateExtractValue(r, k + 1), i64);
      llvm::Value *bad = b.CreateICmpSLT(d, b.getInt64(0));
      // Where no arena buffer grows with it (no kiln.dim_limit), the
      // bound the plan would give: 2^40 on 64-bit targets, 2^30 on 32-bit.
      int64_t limit = sig.dimLimit > 0 ? sig.dimLimit
                      : m.getDataLayout().getPointerSizeInBits() >= 64
                          ? int64_t(1) << 40
                          : int64_t(1) << 30;
      bad = b.CreateOr(bad, b.CreateICmpSGT(d, b.getInt64(limit)));
      check(bad, errors.mismatch, "derived_dim_ok");
      dims.push_back(d);
    }
  }
  // What the model's ops take to be equal (two dims meeting in a
  // broadcast, a matmul's inner dims): main_graph_check, from the dims.
  if (llvm::Value *ok = callOnDims("check", dims)) {
    check(b.CreateNot(ok), errors.mismatch,
          "shapes_agree");
  }
  return dims;
}

void EntryPointBuilder::writeShapes(llvm::Value *shapes,
                                    llvm::ArrayRef<llvm::Value *> dims,
                                    llvm::Value *values) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i64 = b.getInt64Ty();
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  auto *done = llvm::BasicBlock::Create(ctx, "shapes_written", fn);
  auto *write = llvm::BasicBlock::Create(ctx, "write_shapes", fn);
  b.CreateCondBr(b.CreateIsNull(shapes), done, write);
  b.SetInsertPoint(write);
  // The computed dims, in order of output and dim: main_graph_shapes's
  // results (kiln-dynamic-results), from the symbolic dims.
  llvm::SmallVector<llvm::Value *> computed;
  if (llvm::Value *r = callOnDims("shapes", dims)) {
    if (r->getType()->isStructTy()) {
      for (unsigned k = 0; k < r->getType()->getStructNumElements(); ++k)
        computed.push_back(b.CreateSExt(b.CreateExtractValue(r, k), i64));
    } else {
      computed.push_back(b.CreateSExt(r, i64));
    }
  }
  size_t nextComputed = 0, nextValue = 0;
  for (auto [i, t] : llvm::enumerate(sig.outputs)) {
    llvm::Value *p = b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, shapes, i));
    auto *store = llvm::BasicBlock::Create(ctx, "write_shape", fn);
    auto *next = llvm::BasicBlock::Create(ctx, "shape_written", fn);
    b.CreateCondBr(b.CreateIsNull(p), next, store);
    b.SetInsertPoint(store);
    for (auto [j, d] : llvm::enumerate(t.shape)) {
      llvm::Value *v;
      if (d >= 0)
        v = llvm::ConstantInt::get(i64, d);
      else if (d != KILN_DIM_COMPUTED)
        v = dims[-1 - d];
      else if (j < t.valueMax.size() && t.valueMax[j] != -1) {
        // A value-dependent dim: after a run, its value; before, its bound
        // (a constant, or main_graph_shapes's formula of the dims).
        llvm::Value *bound =
            t.valueMax[j] >= 0 ? llvm::ConstantInt::get(i64, t.valueMax[j])
            : nextComputed < computed.size()
                ? computed[nextComputed++]
                : llvm::ConstantInt::get(i64, 0); // build() rejects this
        v = values ? (llvm::Value *)b.CreateLoad(
                         i64, b.CreateConstGEP1_64(i64, values, nextValue++))
                   : bound;
      }
      else if (nextComputed < computed.size())
        v = computed[nextComputed++];
      else
        v = llvm::ConstantInt::get(i64, 0); // build() rejects this case
      b.CreateStore(v, b.CreateConstGEP1_64(i64, p, j));
    }
    b.CreateBr(next);
    b.SetInsertPoint(next);
  }
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

llvm::Function *EntryPointBuilder::buildRun(llvm::Function *graph,
                                            llvm::GlobalVariable *arena) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  auto *fnTy = llvm::FunctionType::get(i32, {ptrTy, ptrTy, ptrTy}, false);
  auto *run = llvm::Function::Create(fnTy, llvm::GlobalValue::ExternalLinkage,
                                     sig.prefix + "_run", m);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", run);
  ErrorBlocks errors = errorBlocks(run);
  b.SetInsertPoint(entry);
  llvm::SmallVector<llvm::Value *> args;
  loadPointers(run->getArg(0), sig.inputs.size(), errors.invalid, args,
               &sig.inputs);
  loadPointers(run->getArg(1), sig.outputs.size(), errors.invalid, args);
  args.push_back(checkArena(run->getArg(2), arena, errors));
  // main_graph's parameters: inputs, outputs, then the arena (if planned).
  if (graph->arg_size() != args.size())
    args.pop_back();
  llvm::Value *status = b.CreateCall(graph, args);
  // A model with sequences returns the status of its run (kiln_run_end).
  b.CreateRet(graph->getReturnType()->isIntegerTy(32)
                  ? status
                  : llvm::ConstantInt::get(i32, KILN_OK));
  return run;
}

llvm::Function *EntryPointBuilder::buildGpuRun(llvm::Function *graph,
                                               llvm::GlobalVariable *model,
                                               llvm::Function *&thunk) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  size_t numIn = sig.inputs.size(), numOut = sig.outputs.size();
  // void P_gpu_graph(ins, outs, arena, weights, state)
  auto *thunkTy = llvm::FunctionType::get(
      b.getVoidTy(), {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy}, false);
  thunk = llvm::Function::Create(thunkTy, llvm::GlobalValue::InternalLinkage,
                                 sig.prefix + "_gpu_graph", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", thunk));
  llvm::SmallVector<llvm::Value *> args;
  for (auto [array, n] : {std::pair{thunk->getArg(0), numIn},
                          std::pair{thunk->getArg(1), numOut}})
    for (size_t i = 0; i < n; ++i)
      args.push_back(
          b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, array, i)));
  for (unsigned i = 2; i < 5; ++i)
    args.push_back(thunk->getArg(i));
  b.CreateCall(graph, args);
  b.CreateRetVoid();

  // int32_t P_run(inputs, outputs, arena): kiln_gpu_run checks and runs.
  auto *fnTy = llvm::FunctionType::get(i32, {ptrTy, ptrTy, ptrTy}, false);
  auto *run = llvm::Function::Create(fnTy, llvm::GlobalValue::ExternalLinkage,
                                     sig.prefix + "_run", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", run));
  llvm::FunctionCallee gpuRun = m.getOrInsertFunction(
      "kiln_gpu_run",
      llvm::FunctionType::get(i32, {ptrTy, ptrTy, ptrTy, ptrTy}, false));
  b.CreateRet(b.CreateCall(
      gpuRun, {model, run->getArg(0), run->getArg(1), run->getArg(2)}));
  return run;
}

llvm::Constant *EntryPointBuilder::gpuModel(llvm::Constant *info,
                                            llvm::Function *thunk) {
  const ModelSignature::Gpu &gpu = *sig.gpu;
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  auto *i64 = b.getInt64Ty();
  llvm::SmallVector<llvm::Constant *> names;
  for (auto [i, name] : llvm::enumerate(gpu.kernels))
    names.push_back(cstring(name, "kernel_name" + std::to_string(i)));
  auto *namesTy = llvm::ArrayType::get(ptrTy, names.size());
  auto *namesArray = new llvm::GlobalVariable(
      m, namesTy, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantArray::get(namesTy, names), sig.prefix + "_kernel_names");
  llvm::Constant *weights = llvm::ConstantPointerNull::get(ptrTy);
  if (gpu.weightsSize > 0)
    if (llvm::GlobalVariable *w = m.getNamedGlobal(kGpuWeightsGlobal))
      weights = w;
  auto *state = new llvm::GlobalVariable(
      m, ptrTy, false, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantPointerNull::get(ptrTy), sig.prefix + "_gpu_state");
  llvm::Constant *code = cstring(gpu.ptx, "ptx");
  if (gpu.emulated)
    if (llvm::GlobalVariable *image = m.getNamedGlobal(kGpuEmuImageGlobal))
      code = image;
  return llvm::ConstantStruct::get(
      gpuModelType(), {code,
                llvm::ConstantInt::get(i32, gpu.kernels.size()), namesArray,
                weights, llvm::ConstantInt::get(i64, gpu.weightsSize),
                llvm::ConstantInt::get(i64, gpu.graphArenaSize), info, thunk,
                state, llvm::ConstantInt::get(i32, gpu.sm),
                llvm::ConstantInt::get(i64, gpu.statusOffset)});
}

llvm::Function *EntryPointBuilder::buildShapes(bool withInputs) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  llvm::SmallVector<llvm::Type *> params(withInputs ? 4 : 3, ptrTy);
  auto *fnTy = llvm::FunctionType::get(i32, params, false);
  auto *fn = llvm::Function::Create(
      fnTy, llvm::GlobalValue::ExternalLinkage,
      sig.prefix + (withInputs ? "_shapes_of" : "_shapes"), m);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  ErrorBlocks errors = errorBlocks(fn);
  b.SetInsertPoint(entry);
  if (!withInputs && sig.numDerived > 0) {
    // Sizes that depend on the input values: P_shapes_of.
    b.CreateRet(llvm::ConstantInt::get(i32, KILN_ERROR_NEEDS_INPUTS));
    return fn;
  }
  unsigned first = withInputs ? 1 : 0;
  llvm::SmallVector<llvm::Value *> ins;
  if (withInputs)
    loadPointers(fn->getArg(0), sig.inputs.size(), errors.invalid, ins);
  auto dims = checkShapes(fn->getArg(first), errors, ins);
  writeShapes(fn->getArg(first + 1), dims);
  // The arena is one sample's (per-sample models) or planned at the maxima:
  // the same for every shape accepted; or, with dims that have no bound,
  // main_graph_arena computes it from them.
  llvm::Value *sizeOut = fn->getArg(first + 2);
  auto *store = llvm::BasicBlock::Create(ctx, "write_arena_size", fn);
  auto *done = llvm::BasicBlock::Create(ctx, "done", fn);
  b.CreateCondBr(b.CreateIsNull(sizeOut), done, store);
  b.SetInsertPoint(store);
  llvm::Value *size = b.getInt64(sig.arenaSize);
  if (llvm::Value *computed = callOnDims("arena", dims)) {
    size = b.CreateZExt(computed, b.getInt64Ty());
  }
  b.CreateStore(size, sizeOut);
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRet(llvm::ConstantInt::get(i32, KILN_OK));
  return fn;
}

llvm::Function *EntryPointBuilder::buildRunDynamic(
    llvm::Function *graph, llvm::GlobalVariable *arena) {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  auto *i64 = b.getInt64Ty();
  auto *i8 = b.getInt8Ty();
  auto *fnTy = llvm::FunctionType::get(
      i32, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy}, false);
  auto *fn = llvm::Function::Create(fnTy, llvm::GlobalValue::ExternalLinkage,
                                    sig.prefix + "_run_dynamic", m);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  ErrorBlocks errors = errorBlocks(fn);
  b.SetInsertPoint(entry);
  llvm::SmallVector<llvm::Value *> ins, outs;
  loadPointers(fn->getArg(0), sig.inputs.size(), errors.invalid, ins);
  loadPointers(fn->getArg(2), sig.outputs.size(), errors.invalid, outs);
  auto dims = checkShapes(fn->getArg(1), errors, ins);
  llvm::Value *arenaArg = checkArena(fn->getArg(4), arena, errors);
  if (!sig.perSample) {
    // Dynamic shapes in the code: main_graph takes the dims after the
    // inputs, and computes everything in one call; the output dims that
    // depend on the input values come back in a buffer after the outputs.
    llvm::SmallVector<llvm::Value *> args(ins.begin(), ins.end());
    for (llvm::Value *d : dims)
      args.push_back(b.CreateSExtOrTrunc(
          d, graph->getArg(args.size())->getType()));
    args.append(outs.begin(), outs.end());
    llvm::Value *values = nullptr;
    if (size_t n = sig.numValueDims()) {
      llvm::IRBuilder<> eb(&fn->getEntryBlock(), fn->getEntryBlock().begin());
      values = eb.CreateAlloca(i64, b.getInt32(n), "value_dims");
      args.push_back(values);
    }
    if (graph->arg_size() > args.size())
      args.push_back(arenaArg);
    llvm::Value *status = b.CreateCall(graph, args);
    writeShapes(fn->getArg(3), dims, values);
    // main_graph returns the run's status where it checks something while
    // it runs (indices read at run time, sequences).
    b.CreateRet(graph->getReturnType()->isIntegerTy(32)
                    ? status
                    : llvm::ConstantInt::get(i32, KILN_OK));
    return fn;
  }
  writeShapes(fn->getArg(3), dims);
  // One call of main_graph per sample: batched tensors advance by one
  // sample's bytes, the others are passed whole.
  llvm::Value *count = dims[0];
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *loop = llvm::BasicBlock::Create(ctx, "sample", fn);
  auto *done = llvm::BasicBlock::Create(ctx, "done", fn);
  b.CreateCondBr(b.CreateICmpSGT(count, b.getInt64(0)), loop, done);
  b.SetInsertPoint(loop);
  llvm::PHINode *n = b.CreatePHI(i64, 2, "n");
  n->addIncoming(b.getInt64(0), pre);
  llvm::SmallVector<llvm::Value *> args;
  auto advance = [&](const TensorSignature &t, llvm::Value *p) {
    if (t.isStatic())
      return p;
    return b.CreateInBoundsGEP(i8, p, b.CreateMul(n, b.getInt64(t.bytes)));
  };
  for (auto [t, p] : llvm::zip(sig.inputs, ins))
    args.push_back(advance(t, p));
  for (auto [t, p] : llvm::zip(sig.outputs, outs))
    args.push_back(advance(t, p));
  if (graph->arg_size() > args.size())
    args.push_back(arenaArg);
  llvm::Value *status = b.CreateCall(graph, args);
  if (!graph->getReturnType()->isIntegerTy(32))
    status = llvm::ConstantInt::get(i32, KILN_OK);
  // The first sample that fails ends the run with its status.
  auto *failed = llvm::BasicBlock::Create(ctx, "sample_failed", fn);
  auto *ok = llvm::BasicBlock::Create(ctx, "sample_ok", fn);
  b.CreateCondBr(b.CreateICmpNE(status, llvm::ConstantInt::get(i32, KILN_OK)),
                 failed, ok);
  {
    llvm::IRBuilder<> fb(failed);
    fb.CreateRet(status);
  }
  b.SetInsertPoint(ok);
  llvm::Value *next = b.CreateAdd(n, b.getInt64(1));
  n->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, count), loop, done);
  b.SetInsertPoint(done);
  b.CreateRet(llvm::ConstantInt::get(i32, KILN_OK));
  return fn;
}

llvm::Constant *EntryPointBuilder::dimInfos() {
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  if (sig.dims.empty())
    return llvm::ConstantPointerNull::get(ptrTy);
  // struct kiln_dim_info { const char *; i64 }
  auto *dimTy = llvm::StructType::get(ctx, {ptrTy, b.getInt64Ty()});
  std::vector<llvm::Constant *> dims;
  for (auto [k, d] : llvm::enumerate(sig.dims))
    dims.push_back(llvm::ConstantStruct::get(
        dimTy, {cstring(d.name, "dim_name_" + std::to_string(k)),
                b.getInt64(d.max)}));
  auto *arrTy = llvm::ArrayType::get(dimTy, dims.size());
  return new llvm::GlobalVariable(m, arrTy, true,
                                  llvm::GlobalValue::PrivateLinkage,
                                  llvm::ConstantArray::get(arrTy, dims),
                                  sig.prefix + "_dim_info");
}

llvm::Error EntryPointBuilder::build(bool exportModelSymbol) {
  llvm::Function *graph = m.getFunction("main_graph");
  if (!graph)
    return llvm::createStringError("lowered module has no main_graph");
  size_t numDims = sig.dims.size() + sig.numDerived;
  size_t expected = sig.inputs.size() + sig.outputs.size() +
                    (sig.perSample ? 0 : numDims) +
                    (sig.numValueDims() ? 1 : 0);
  // A GPU model's main_graph: the arena, weights and state always follow.
  if (sig.gpu && graph->arg_size() != expected + 3)
    return llvm::createStringError("main_graph of a GPU model takes " +
                                   std::to_string(graph->arg_size()) +
                                   " pointers, expected " +
                                   std::to_string(expected + 3));
  if (!sig.gpu && graph->arg_size() != expected &&
      graph->arg_size() != expected + 1)
    return llvm::createStringError("main_graph takes " +
                                   std::to_string(graph->arg_size()) +
                                   " pointers, expected " +
                                   std::to_string(expected + 1));
  size_t numComputed = 0;
  for (const TensorSignature &t : sig.outputs)
    numComputed += llvm::count(t.shape, KILN_DIM_COMPUTED);
  numComputed -= sig.numValueDims();
  for (const TensorSignature &t : sig.outputs) // bounds main_graph_shapes gives
    numComputed += llvm::count(t.valueMax, kBoundByShapes);
  llvm::Function *shapesFn = m.getFunction("main_graph_shapes");
  size_t numShapes = 0;
  if (shapesFn)
    numShapes = shapesFn->getReturnType()->isStructTy()
                    ? shapesFn->getReturnType()->getStructNumElements()
                    : 1;
  if (numShapes != numComputed || (shapesFn && shapesFn->arg_size() != numDims))
    return llvm::createStringError(
        "main_graph_shapes does not compute the " +
        std::to_string(numComputed) + " computed output dims");
  // Everything the MLIR module defined becomes private to this object, but
  // weak definitions (the serial kiln_parallel_for) stay overridable.
  for (llvm::Function &f : m.functions())
    if (!f.isDeclaration() && !f.hasWeakLinkage())
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &g : m.globals())
    if (!g.isDeclaration())
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  graph->setName(sig.prefix + "_main_graph");
  if (shapesFn)
    shapesFn->setName(sig.prefix + "_main_graph_shapes");
  llvm::Function *arenaFn = m.getFunction("main_graph_arena");
  if (sig.arenaDynamic != (arenaFn != nullptr) ||
      (arenaFn && arenaFn->arg_size() != numDims))
    return llvm::createStringError(
        "main_graph_arena and the arena's kind disagree");
  if (arenaFn)
    arenaFn->setName(sig.prefix + "_main_graph_arena");
  llvm::Function *checkFn = m.getFunction("main_graph_check");
  if (checkFn && (checkFn->arg_size() != numDims ||
                  !checkFn->getReturnType()->isIntegerTy(1)))
    return llvm::createStringError("main_graph_check takes the dims and "
                                   "returns i1");
  if (checkFn)
    checkFn->setName(sig.prefix + "_main_graph_check");
  llvm::Function *dimsFn = m.getFunction("main_graph_dims");
  if ((dimsFn != nullptr) != (sig.numDerived > 0) ||
      (dimsFn && (dimsFn->arg_size() != sig.inputs.size() + sig.dims.size() ||
                  !dimsFn->getReturnType()->isStructTy() ||
                  dimsFn->getReturnType()->getStructNumElements() !=
                      sig.numDerived + 1)))
    return llvm::createStringError("main_graph_dims takes the inputs and the "
                                   "dims and returns a flag and the derived "
                                   "dims");
  if (dimsFn)
    dimsFn->setName(sig.prefix + "_main_graph_dims");

  llvm::GlobalVariable *arena = nullptr;
  if (sig.staticArena) {
    auto *arenaTy = llvm::ArrayType::get(b.getInt8Ty(),
                                         std::max<uint64_t>(sig.arenaSize, 1));
    arena = new llvm::GlobalVariable(
        m, arenaTy, false, llvm::GlobalValue::InternalLinkage,
        llvm::ConstantAggregateZero::get(arenaTy), sig.prefix + "_static_arena");
    arena->setAlignment(llvm::Align(sig.arenaAlign));
  }

  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = b.getInt32Ty();
  auto *i64 = b.getInt64Ty();
  bool dynamic = sig.isDynamic();
  llvm::Constant *null = llvm::ConstantPointerNull::get(ptrTy);
  llvm::GlobalVariable *gpuModelVar = nullptr;
  llvm::Function *gpuThunk = nullptr;
  if (sig.gpu) {
    if (dynamic)
      return llvm::createStringError("a GPU model takes static shapes only");
    gpuModelVar = new llvm::GlobalVariable(
        m, gpuModelType(), true,
        llvm::GlobalValue::InternalLinkage, nullptr, sig.prefix + "_gpu_model");
  }
  llvm::Constant *run = dynamic  ? null
                        : sig.gpu ? buildGpuRun(graph, gpuModelVar, gpuThunk)
                                  : buildRun(graph, arena);
  llvm::Constant *runDynamic =
      dynamic ? buildRunDynamic(graph, arena) : null;
  llvm::Constant *shapes = dynamic ? buildShapes(false) : null;
  llvm::Constant *shapesOf = dynamic ? buildShapes(true) : null;

  // struct kiln_model_info { u32 abi; const char*; i32; i32; const info*;
  //                          const info*; u64; u64; run fn*; i32;
  //                          const dim*; run_dynamic fn*; shapes fn*;
  //                          shapes_of fn*; i32; i32 device }
  auto *modelTy = llvm::StructType::get(
      ctx, {i32, ptrTy, i32, i32, ptrTy, ptrTy, i64, i64, ptrTy, i32, ptrTy,
            ptrTy, ptrTy, ptrTy, i32, i32});
  auto *info = new llvm::GlobalVariable(
      m, modelTy, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantStruct::get(
          modelTy,
          {llvm::ConstantInt::get(i32, KILN_ABI_VERSION),
           cstring(sig.prefix, "model_name"),
           llvm::ConstantInt::get(i32, sig.inputs.size()),
           llvm::ConstantInt::get(i32, sig.outputs.size()),
           tensorInfos(sig.inputs, "input"), tensorInfos(sig.outputs, "output"),
           llvm::ConstantInt::get(i64, sig.arenaSize),
           llvm::ConstantInt::get(i64, sig.arenaAlign), run,
           llvm::ConstantInt::get(i32, sig.dims.size()), dimInfos(),
           runDynamic, shapes, shapesOf,
           llvm::ConstantInt::get(i32, sig.numDerived > 0 ? 1 : 0),
           llvm::ConstantInt::get(i32, sig.gpu ? KILN_DEVICE_CUDA
                                               : KILN_DEVICE_CPU)}),
      sig.prefix + "_info");
  if (gpuModelVar)
    gpuModelVar->setInitializer(gpuModel(info, gpuThunk));
  if (exportModelSymbol)
    llvm::GlobalAlias::create(llvm::GlobalValue::ExternalLinkage, "kiln_model",
                              info);
  if (llvm::verifyModule(m, &llvm::errs()))
    return llvm::createStringError("generated LLVM IR does not verify");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::unique_ptr<llvm::Module>>
kiln::translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                        const ModelSignature &signature, bool exportModelSymbol,
                        llvm::TargetMachine &tm) {
  // Graph input and output names (onnx.name) have been read into the
  // signature; LLVM has no use for them.
  if (auto graph = module.lookupSymbol<mlir::LLVM::LLVMFuncOp>("main_graph")) {
    graph.setArgAttrsAttr(nullptr);
    graph.setResAttrsAttr(nullptr);
  }
  std::unique_ptr<llvm::Module> m =
      mlir::translateModuleToLLVMIR(module, context, "kiln_model");
  if (!m)
    return llvm::createStringError("translation to LLVM IR failed");
  m->setDataLayout(tm.createDataLayout());
  m->setTargetTriple(tm.getTargetTriple());
  EntryPointBuilder builder(*m, signature);
  if (auto err = builder.build(exportModelSymbol))
    return std::move(err);
  return std::move(m);
}

uint64_t kiln::gpuArenaSize(const ModelSignature &sig, uint64_t align) {
  uint64_t size = llvm::alignTo(sig.gpu ? sig.gpu->graphArenaSize : 0, align);
  for (const auto *ts : {&sig.inputs, &sig.outputs})
    for (const TensorSignature &t : *ts)
      size += llvm::alignTo(sig.bytesAtMax(t), align);
  return size;
}

void kiln::optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                          unsigned optLevel) {
  module.setDataLayout(tm.createDataLayout());
  module.setTargetTriple(tm.getTargetTriple());
  bool wide512 = tm.getTargetTriple().isX86() &&
                 tm.getMCSubtargetInfo()->checkFeatures("+avx512f");
  for (llvm::Function &f : module.functions()) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", tm.getTargetCPU());
    f.addFnAttr("target-features", tm.getTargetFeatureString());
    // LLVM vectorizes loops for 256-bit registers on AVX-512 CPUs by default
    // (older Intel cores clock down on 512-bit code); Kiln's kernels use the
    // full width, and so do the loops it leaves to LLVM (exp, Sigmoid, GELU,
    // LayerNorm): measured 1.6x faster on Exp and Sigmoid.
    if (wide512)
      f.addFnAttr("prefer-vector-width", "512");
  }
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel == 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = optLevel == 0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
}

/// Constant arrays of numbers (the weights) as arrays of their bytes. The
/// assembler writes an i8 array as one block of bytes but a float array
/// element by element (an APFloat, a size and an alignment query each):
/// ResNet-50 (36 M floats): codegen 5.1 -> 3.9 s. Done after the
/// optimizations (which fold loads from typed constants), on little-endian
/// targets from a little-endian host (the raw bytes are the host's).
static void storeConstantsAsBytes(llvm::Module &module) {
  if (!module.getDataLayout().isLittleEndian() ||
      !llvm::sys::IsLittleEndianHost)
    return;
  llvm::SmallVector<llvm::GlobalVariable *> arrays;
  for (llvm::GlobalVariable &g : module.globals()) {
    auto *data =
        g.hasInitializer() && g.isConstant()
            ? llvm::dyn_cast<llvm::ConstantDataArray>(g.getInitializer())
            : nullptr;
    if (data && !data->getElementType()->isIntegerTy(8) &&
        data->getRawDataValues().size() >= 4096)
      arrays.push_back(&g);
  }
  llvm::Type *i8 = llvm::Type::getInt8Ty(module.getContext());
  for (llvm::GlobalVariable *g : arrays) {
    llvm::StringRef raw =
        llvm::cast<llvm::ConstantDataArray>(g->getInitializer())
            ->getRawDataValues();
    llvm::Constant *bytes =
        llvm::ConstantDataArray::getRaw(raw, raw.size(), i8);
    auto *copy = new llvm::GlobalVariable(
        module, bytes->getType(), /*isConstant=*/true, g->getLinkage(), bytes,
        "", g, g->getThreadLocalMode(), g->getAddressSpace());
    copy->copyAttributesFrom(g);
    copy->takeName(g);
    g->replaceAllUsesWith(copy);
    g->eraseFromParent();
  }
}

llvm::Error kiln::emitObjectFile(llvm::Module &module, llvm::TargetMachine &tm,
                                 unsigned optLevel, llvm::StringRef path) {
  optimizeModule(module, tm, optLevel);
  storeConstantsAsBytes(module);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError("cannot write '" + path.str() +
                                   "': " + ec.message());
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out, nullptr, llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  pm.run(module);
  out.flush();
  if (out.has_error())
    return llvm::createStringError("error writing '" + path.str() + "'");
  return llvm::Error::success();
}
