//===- Importer.cpp - ONNX protobuf to the onnx dialect -------------------===//
//
// Builds `func.func @main_graph` from a ModelProto. Nodes become onnx ops by
// name ("Conv" -> onnx.Conv) with their attributes converted generically; the
// op definitions, not this file, say what each operator accepts. Each op's
// result types are inferred and constant shape arithmetic folded as it is
// created, so later nodes see static shapes.
//
//===----------------------------------------------------------------------===//
#include "compiler/import/Importer.h"

#include <functional>
#include "dialects/onnx/OnnxDialect.h"

#include "onnx.pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>
#include <functional>
#include <map>
#include <set>

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

ImportedModel::ImportedModel() = default;
ImportedModel::~ImportedModel() = default;
ImportedModel::ImportedModel(ImportedModel &&) = default;

std::string kiln::resolveExternalDataPath(StringRef modelDir,
                                          StringRef location, bool &ok) {
  ok = false;
  if (location.empty())
    return "external data has an empty location";
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/") ||
      location.starts_with("\\"))
    return fmt::format("external data location '{}' is absolute",
                       location.str());
  for (auto it = llvm::sys::path::begin(location),
            e = llvm::sys::path::end(location);
       it != e; ++it)
    if (*it == "..")
      return fmt::format("external data location '{}' leaves the model's folder",
                         location.str());
  SmallString<256> full(modelDir);
  llvm::sys::path::append(full, location);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(modelDir.empty() ? "." : modelDir, realDir) ||
      llvm::sys::fs::real_path(full, realFile))
    return fmt::format("external data file '{}' cannot be opened",
                       full.str().str());
  StringRef dir(realDir);
  if (!StringRef(realFile).starts_with(dir) ||
      realFile.size() <= dir.size() ||
      !llvm::sys::path::is_separator(realFile[dir.size()]))
    return fmt::format("external data location '{}' resolves outside the "
                       "model's folder",
                       location.str());
  ok = true;
  return std::string(realFile);
}

namespace {

class Importer {
public:
  Importer(MLIRContext &ctx, ImportedModel &model, StringRef path,
           const ImportOptions &options)
      : ctx(ctx), model(model), path(path), options(options), builder(&ctx) {}

  LogicalResult run();

private:
  InFlightDiagnostic error(Location loc) { return emitError(loc); }
  Location fileLoc() { return FileLineColLoc::get(&ctx, path, 0, 0); }
  Location nodeLoc(const ::onnx::NodeProto &node, int index);

  FailureOr<Type> convertType(const ::onnx::TypeProto &type, StringRef what);
  FailureOr<ElementsAttr> convertTensor(const ::onnx::TensorProto &tensor,
                                        Location loc);
  FailureOr<Attribute> convertAttribute(const ::onnx::AttributeProto &attr,
                                        Location loc);
  FailureOr<StringRef> tensorBytes(const ::onnx::TensorProto &tensor,
                                   Location loc);
  Value noValue();
  LogicalResult importNode(const ::onnx::NodeProto &node, int index);
  LogicalResult importConstantNode(const ::onnx::NodeProto &node,
                                   Location loc);
  /// If, Loop and Scan: their graph attributes become regions.
  /// Fails naming the attribute when one of the node's did not make it
  /// onto `op`: building an op drops an attribute of the wrong kind (a
  /// FLOAT where the op takes INTS) without a word.
  LogicalResult checkAttributes(Operation *op, const ::onnx::NodeProto &node,
                                Location loc);
  LogicalResult importControlFlow(const ::onnx::NodeProto &node,
                                  Location loc, ArrayRef<Value> operands);
  /// Imports `graph`'s initializers and nodes at the insertion point (its
  /// inputs already in `values`) and returns its outputs; `what` names it
  /// in errors ("graph", "subgraph").
  FailureOr<SmallVector<Value>>
  importGraphBody(const ::onnx::GraphProto &graph, Location loc,
                  StringRef what);
  /// Imports `graph` into `block`, whose arguments stand for its inputs,
  /// ending it with onnx.Yield of its outputs. Names of the graphs around
  /// it stay visible; its own names do not leak out.
  LogicalResult importSubgraph(const ::onnx::GraphProto &graph, Block *block,
                               Location loc);

  MLIRContext &ctx;
  ImportedModel &model;
  std::string path;
  const ImportOptions &options;
  OpBuilder builder;
  int64_t opset = 0;
  std::map<std::string, Value> values;
  Value none;
  Block *entryBlock = nullptr; // main_graph's, where onnx.NoValue goes
  unsigned blobCounter = 0;
};

} // namespace

Location Importer::nodeLoc(const ::onnx::NodeProto &node, int index) {
  std::string name = node.name().empty()
                         ? fmt::format("{}_{}", node.op_type(), index)
                         : node.name();
  return NameLoc::get(StringAttr::get(&ctx, name),
                      FileLineColLoc::get(&ctx, path, index + 1, 0));
}

FailureOr<Type> Importer::convertType(const ::onnx::TypeProto &type,
                                      StringRef what) {
  if (type.has_sequence_type() || type.has_optional_type()) {
    bool seq = type.has_sequence_type();
    const ::onnx::TypeProto &inner = seq ? type.sequence_type().elem_type()
                                         : type.optional_type().elem_type();
    bool innerOk = inner.has_tensor_type() ||
                   (!seq && inner.has_sequence_type());
    if (!innerOk)
      return error(fileLoc()) << what << " is " << (seq ? "a sequence" : "an optional")
                              << " of something other than "
                              << (seq ? "tensors" : "a tensor or a sequence")
                              << " (maps and nested sequences are not supported)",
             failure();
    auto elem = convertType(inner, what);
    if (failed(elem))
      return failure();
    if (seq)
      return Type(kop::SeqType::get(&ctx, cast<TensorType>(*elem)));
    return Type(kop::OptType::get(&ctx, *elem));
  }
  if (!type.has_tensor_type())
    return error(fileLoc()) << what << " is not a tensor, a sequence or an "
                               "optional (maps are not supported)",
           failure();
  const auto &tt = type.tensor_type();
  Type elem = kop::getElementTypeForOnnx(&ctx, tt.elem_type());
  if (!elem)
    return error(fileLoc()) << what << " has element type "
                            << ::onnx::TensorProto_DataType_Name(
                                   (::onnx::TensorProto_DataType)tt.elem_type())
                            << ", which is not supported",
           failure();
  if (!tt.has_shape())
    return Type(UnrankedTensorType::get(elem));
  SmallVector<int64_t> dims;
  for (const auto &[i, d] : llvm::enumerate(tt.shape().dim()))
    if (d.has_dim_value() && d.dim_value() < 0)
      return error(fileLoc()) << what << " has a negative dimension ("
                              << d.dim_value() << " at dim " << i << ")",
             failure();
  for (const auto &d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) {
      dims.push_back(d.dim_value());
    } else if (d.has_dim_param() &&
               options.dimValues.count(d.dim_param())) {
      dims.push_back(options.dimValues.lookup(d.dim_param()));
    } else {
      dims.push_back(ShapedType::kDynamic);
    }
  }
  // A size no machine can hold, or whose byte count overflows: refused
  // before any arithmetic on it can wrap.
  uint64_t bytes = std::max<uint64_t>(elem.getIntOrFloatBitWidth() / 8, 1);
  bool overflow = false;
  for (int64_t d : dims)
    if (!ShapedType::isDynamic(d)) {
      overflow |= d != 0 && bytes > UINT64_MAX / (uint64_t)d;
      bytes *= (uint64_t)d;
    }
  if (!llvm::is_contained(dims, 0) &&
      (overflow || bytes > (uint64_t(1) << 62))) {
    std::string shape;
    for (auto [i, d] : llvm::enumerate(dims))
      shape += (i ? "x" : "") +
               (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
    return error(fileLoc()) << what << " (" << shape
                            << ") is too large: its size in bytes "
                               "overflows 2^62",
           failure();
  }
  return Type(RankedTensorType::get(dims, elem));
}

FailureOr<StringRef> Importer::tensorBytes(const ::onnx::TensorProto &tensor,
                                           Location loc) {
  if (tensor.data_location() != ::onnx::TensorProto::EXTERNAL)
    return StringRef(tensor.raw_data());
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : tensor.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::atoll(kv.value().c_str());
    else if (kv.key() == "length")
      length = std::atoll(kv.value().c_str());
  }
  bool ok;
  std::string file = resolveExternalDataPath(
      llvm::sys::path::parent_path(path), location, ok);
  if (!ok)
    return error(loc) << "tensor '" << tensor.name() << "': " << file,
           failure();
  auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return error(loc) << "cannot read external data file '" << file << "'",
           failure();
  StringRef all = (*buf)->getBuffer();
  if (offset < 0 || (uint64_t)offset > all.size() ||
      (length >= 0 && (uint64_t)(offset + length) > all.size()))
    return error(loc) << "tensor '" << tensor.name()
                      << "': offset/length lie outside '" << file << "'",
           failure();
  StringRef bytes = all.substr(offset, length < 0 ? StringRef::npos : length);
  model.externalData.push_back(std::move(*buf));
  SmallString<256> listed(llvm::sys::path::parent_path(path));
  llvm::sys::path::append(listed, location);
  if (!llvm::is_contained(model.externalFiles, listed.str()))
    model.externalFiles.push_back(std::string(listed));
  return bytes;
}

FailureOr<ElementsAttr>
Importer::convertTensor(const ::onnx::TensorProto &tensor, Location loc) {
  Type elem = kop::getElementTypeForOnnx(&ctx, tensor.data_type());
  if (!elem)
    return error(loc) << "tensor '" << tensor.name() << "' has element type "
                      << ::onnx::TensorProto_DataType_Name(
                             (::onnx::TensorProto_DataType)tensor.data_type())
                      << ", which is not supported",
           failure();
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  for (int64_t d : dims)
    if (d < 0)
      return error(loc) << "tensor '" << tensor.name()
                        << "' has a negative dimension",
             failure();
  auto type = RankedTensorType::get(dims, elem);
  int64_t n = type.getNumElements();
  unsigned width = elem.isInteger(1) ? 8 : elem.getIntOrFloatBitWidth();
  size_t bytes = (size_t)n * width / 8;

  auto rawBytes = tensorBytes(tensor, loc);
  if (failed(rawBytes))
    return failure();
  bool hasRaw = tensor.has_raw_data() ||
                tensor.data_location() == ::onnx::TensorProto::EXTERNAL;

  // Values stored in typed fields are copied into one buffer first.
  std::string typed;
  if (!hasRaw) {
    auto put = [&](auto v) {
      typed.append(reinterpret_cast<const char *>(&v), sizeof(v));
    };
    if (elem.isF32())
      for (float v : tensor.float_data()) put(v);
    else if (elem.isF64())
      for (double v : tensor.double_data()) put(v);
    else if (elem.isUnsignedInteger(64))
      for (uint64_t v : tensor.uint64_data()) put(v);
    else if (elem.isUnsignedInteger(32))
      for (uint64_t v : tensor.uint64_data()) put((uint32_t)v);
    else if (elem.isF16() || elem.isBF16())
      for (int32_t v : tensor.int32_data()) put((uint16_t)v);
    else if (elem.isInteger(64))
      for (int64_t v : tensor.int64_data()) put(v);
    else if (elem.isInteger(32))
      for (int32_t v : tensor.int32_data()) put(v);
    else if (elem.isInteger(16))
      for (int32_t v : tensor.int32_data()) put((int16_t)v);
    else if (elem.isInteger(8) || elem.isInteger(1))
      for (int32_t v : tensor.int32_data()) put((int8_t)v);
  }
  StringRef data = hasRaw ? *rawBytes : StringRef(typed);
  if (data.size() != bytes)
    return error(loc) << "tensor '" << tensor.name() << "' holds "
                      << data.size() << " bytes but its shape needs " << bytes,
           failure();

  if (elem.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : data)
      bits.push_back(c != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, bits));
  }
  if (n <= options.resourceThreshold) {
    ArrayRef<char> raw(data.data(), data.size());
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, raw));
  }
  // Large weights: a resource blob. Raw bytes are referenced in place (the
  // protobuf or the mapped external file outlives the module); typed-field
  // values are moved into a heap blob.
  std::string blobName = fmt::format(
      "{}", tensor.name().empty() ? fmt::format("tensor_{}", blobCounter++)
                                  : tensor.name());
  AsmResourceBlob blob =
      hasRaw && (reinterpret_cast<uintptr_t>(data.data()) % 16 == 0)
          ? UnmanagedAsmResourceBlob::allocateWithAlign(
                ArrayRef<char>(data.data(), data.size()), 16)
          : HeapAsmResourceBlob::allocateAndCopyWithAlign(
                ArrayRef<char>(data.data(), data.size()), 16);
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
}

FailureOr<Attribute>
Importer::convertAttribute(const ::onnx::AttributeProto &attr, Location loc) {
  using A = ::onnx::AttributeProto;
  switch (attr.type()) {
  case A::FLOAT:
    return Attribute(builder.getF32FloatAttr(attr.f()));
  case A::INT:
    return Attribute(builder.getI64IntegerAttr(attr.i()));
  case A::STRING:
    return Attribute(builder.getStringAttr(attr.s()));
  case A::INTS:
    return Attribute(builder.getDenseI64ArrayAttr(
        SmallVector<int64_t>(attr.ints().begin(), attr.ints().end())));
  case A::FLOATS:
    return Attribute(builder.getDenseF32ArrayAttr(
        SmallVector<float>(attr.floats().begin(), attr.floats().end())));
  case A::STRINGS: {
    SmallVector<Attribute> strs;
    for (const auto &s : attr.strings())
      strs.push_back(builder.getStringAttr(s));
    return Attribute(builder.getArrayAttr(strs));
  }
  case A::TENSOR: {
    auto t = convertTensor(attr.t(), loc);
    if (failed(t))
      return failure();
    return Attribute(*t);
  }
  case A::TYPE_PROTO: {
    auto t = convertType(attr.tp(), "attribute '" + attr.name() + "'");
    if (failed(t))
      return failure();
    return Attribute(TypeAttr::get(*t));
  }
  default:
    return error(loc) << "attribute '" << attr.name() << "' has kind "
                      << A::AttributeType_Name(attr.type())
                      << ", which is not supported",
           failure();
  }
}

static StringRef renameAttribute(StringRef opType, StringRef attr);

LogicalResult Importer::checkAttributes(Operation *op,
                                        const ::onnx::NodeProto &node,
                                        Location loc) {
  for (const auto &a : node.attribute()) {
    if (a.type() == ::onnx::AttributeProto::GRAPH)
      continue;
    if (!op->getAttr(renameAttribute(node.op_type(), a.name())))
      return error(loc) << node.op_type() << " attribute '" << a.name()
                        << "' is " << ::onnx::AttributeProto::AttributeType_Name(
                                          a.type())
                        << ", not the kind " << node.op_type()
                        << " takes for it",
             failure();
  }
  return success();
}

Value Importer::noValue() {
  if (!none) {
    OpBuilder::InsertionGuard g(builder);
    builder.setInsertionPointToStart(entryBlock ? entryBlock
                                                : builder.getInsertionBlock());
    none = kop::NoValueOp::create(builder, builder.getUnknownLoc(),
                                  builder.getNoneType());
  }
  return none;
}

LogicalResult Importer::importConstantNode(const ::onnx::NodeProto &node,
                                           Location loc) {
  if (node.attribute_size() != 1 || node.output_size() != 1)
    return error(loc) << "Constant must have one value attribute and one output",
           failure();
  const auto &a = node.attribute(0);
  ElementsAttr value;
  if (a.name() == "value") {
    auto t = convertTensor(a.t(), loc);
    if (failed(t))
      return failure();
    value = *t;
  } else if (a.name() == "value_float") {
    value = DenseElementsAttr::get(
        RankedTensorType::get({}, builder.getF32Type()), a.f());
  } else if (a.name() == "value_int") {
    value = DenseElementsAttr::get(
        RankedTensorType::get({}, builder.getI64Type()), (int64_t)a.i());
  } else if (a.name() == "value_floats") {
    SmallVector<float> v(a.floats().begin(), a.floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, builder.getF32Type()),
        ArrayRef<float>(v));
  } else if (a.name() == "value_ints") {
    SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, builder.getI64Type()),
        ArrayRef<int64_t>(v));
  } else {
    return error(loc) << "Constant attribute '" << a.name()
                      << "' is not supported",
           failure();
  }
  auto op = kop::ConstantOp::create(builder, loc, value.getType(), value);
  values[node.output(0)] = op.getResult();
  return success();
}

/// The fixed operand / result count an op declares, or -1 when variadic.
static int fixedOperandCount(RegisteredOperationName name) {
  if (name.hasTrait<OpTrait::ZeroOperands>()) return 0;
  if (name.hasTrait<OpTrait::OneOperand>()) return 1;
#define KILN_N(K) if (name.hasTrait<OpTrait::NOperands<K>::Impl>()) return K;
  KILN_N(2) KILN_N(3) KILN_N(4) KILN_N(5) KILN_N(6) KILN_N(7) KILN_N(8)
  KILN_N(9)
#undef KILN_N
  return -1;
}
static int fixedResultCount(RegisteredOperationName name) {
  if (name.hasTrait<OpTrait::OneResult>()) return 1;
#define KILN_N(K) if (name.hasTrait<OpTrait::NResults<K>::Impl>()) return K;
  KILN_N(2) KILN_N(3) KILN_N(4)
#undef KILN_N
  return -1;
}

/// ONNX attribute names that clash with an operand name in the dialect.
static StringRef renameAttribute(StringRef opType, StringRef attr) {
  if (opType == "Clip" && attr == "min") return "min_attr";
  if (opType == "Clip" && attr == "max") return "max_attr";
  if (opType == "Slice" && attr == "starts") return "starts_attr";
  if (opType == "Slice" && attr == "ends") return "ends_attr";
  if (opType == "TopK" && attr == "k") return "k_attr";
  return attr;
}

LogicalResult Importer::importNode(const ::onnx::NodeProto &node, int index) {
  Location loc = nodeLoc(node, index);
  if (node.op_type() == "Constant")
    return importConstantNode(node, loc);

  auto name = RegisteredOperationName::lookup("onnx." + node.op_type(), &ctx);
  assert(name && "unsupported ops are rejected before import");
  OperationState state(loc, *name);

  SmallVector<Value> operands;
  for (const std::string &in : node.input()) {
    if (in.empty()) {
      operands.push_back(noValue());
      continue;
    }
    auto it = values.find(in);
    if (it == values.end())
      return error(loc) << "input '" << in << "' is not defined before use",
             failure();
    operands.push_back(it->second);
  }
  // PRelu before opset 7 applies a 1-D slope of C values along the channel
  // axis (dim 1), not numpy-style along the last: make it [C, 1, ..., 1].
  // Identity of a sequence or an optional is its input.
  if (node.op_type() == "Identity" && operands.size() == 1 &&
      node.output_size() == 1 && kop::isSeqOrOpt(operands[0].getType())) {
    values[node.output(0)] = operands[0];
    return success();
  }
  if (node.op_type() == "PRelu" && opset < 7 && operands.size() == 2) {
    auto x = dyn_cast<RankedTensorType>(operands[0].getType());
    auto slope = dyn_cast<RankedTensorType>(operands[1].getType());
    if (x && slope && x.getRank() > 2 && slope.getRank() == 1 &&
        slope.getDimSize(0) != 1) {
      SmallVector<int64_t> axes, shape{slope.getDimSize(0)};
      for (int64_t i = 1; i + 1 < x.getRank(); ++i) {
        axes.push_back(i);
        shape.push_back(1);
      }
      auto unsqueeze = kop::UnsqueezeOp::create(
          builder, loc, RankedTensorType::get(shape, slope.getElementType()),
          operands[1], noValue(), builder.getDenseI64ArrayAttr(axes));
      operands[1] = unsqueeze.getResult();
    }
  }
  if (node.op_type() == "If" || node.op_type() == "Loop" ||
      node.op_type() == "Scan" || node.op_type() == "SequenceMap")
    return importControlFlow(node, loc, operands);
  int want = fixedOperandCount(*name);
  if (want >= 0) {
    if ((int)operands.size() > want)
      return error(loc) << node.op_type() << " takes at most " << want
                        << " inputs, got " << operands.size(),
             failure();
    while ((int)operands.size() < want)
      operands.push_back(noValue());
  }
  state.addOperands(operands);

  for (const auto &a : node.attribute()) {
    auto attr = convertAttribute(a, loc);
    if (failed(attr))
      return failure();
    state.addAttribute(renameAttribute(node.op_type(), a.name()), *attr);
  }

  int results = fixedResultCount(*name);
  int outputs = node.output_size();
  if (results < 0)
    results = outputs;
  for (int i = results; i < outputs; ++i)
    if (!node.output(i).empty())
      return error(loc) << node.op_type() << " output " << i << " ('"
                        << node.output(i) << "') is not supported",
             failure();
  // Until shape inference sets them: a tensor, or a sequence for the ops
  // that make one (their result type is checked before inference).
  Type placeholder = UnrankedTensorType::get(builder.getF32Type());
  if (llvm::is_contained({"SequenceEmpty", "SequenceConstruct",
                          "SequenceInsert", "SequenceErase",
                          "SplitToSequence"},
                         node.op_type()))
    placeholder = kop::SeqType::get(&ctx, cast<TensorType>(placeholder));
  if (node.op_type() == "Optional")
    placeholder = kop::OptType::get(&ctx, placeholder);
  state.addTypes(SmallVector<Type>(results, placeholder));

  Operation *op = builder.create(state);
  if (failed(checkAttributes(op, node, loc)) || failed(verify(op)))
    return failure();
  if (auto iface = dyn_cast<kop::ShapeInferenceOpInterface>(op))
    if (failed(iface.inferShapes()))
      return failure();
  if (failed(verify(op)))
    return failure();

  // Fold constant shape arithmetic right away so later nodes see constants.
  SmallVector<Value> resultValues(op->getResults());
  SmallVector<OpFoldResult> folded;
  if (!op->hasTrait<OpTrait::ConstantLike>() &&
      succeeded(op->fold(folded)) && !folded.empty()) {
    SmallVector<Value> replaced;
    for (auto [res, f] : llvm::zip(op->getResults(), folded)) {
      if (auto v = dyn_cast<Value>(f)) {
        replaced.push_back(v);
        continue;
      }
      Operation *cst = op->getDialect()->materializeConstant(
          builder, cast<Attribute>(f), res.getType(), loc);
      if (!cst)
        break;
      replaced.push_back(cst->getResult(0));
    }
    if (replaced.size() == op->getNumResults()) {
      resultValues = replaced;
      op->erase();
    }
  }
  for (int i = 0; i < outputs && i < (int)resultValues.size(); ++i)
    if (!node.output(i).empty())
      values[node.output(i)] = resultValues[i];
  return success();
}

FailureOr<SmallVector<Value>>
Importer::importGraphBody(const ::onnx::GraphProto &graph, Location loc,
                          StringRef what) {
  // Every name is defined once: a graph input, an initializer (which may
  // also be listed as an input, giving its default) or one node's output.
  {
    std::map<std::string, std::string> defined; // name -> what defines it
    for (const auto &in : graph.input())
      if (!defined.emplace(in.name(), "a " + what.str() + " input").second)
        return error(loc) << what << " input '" << in.name()
                          << "' is listed more than once",
               failure();
    for (const auto &init : graph.initializer())
      if (!defined.emplace(init.name(), "an initializer").second &&
          defined[init.name()] != "a " + what.str() + " input")
        return error(loc) << "initializer '" << init.name()
                          << "' is defined more than once",
               failure();
    for (int i = 0; i < graph.node_size(); ++i) {
      const auto &node = graph.node(i);
      std::string self = node.name().empty() ? fmt::format("#{}", i)
                                             : "'" + node.name() + "'";
      for (const auto &out : node.output()) {
        if (out.empty())
          continue;
        auto [it, fresh] = defined.emplace(out, "node " + self);
        if (!fresh)
          return error(nodeLoc(node, i))
                     << "output '" << out << "' is already defined, by "
                     << it->second << " (each name is defined once)",
                 failure();
      }
    }
    std::set<std::string> outputs;
    for (const auto &out : graph.output())
      if (!outputs.insert(out.name()).second)
        return error(loc) << what << " output '" << out.name()
                          << "' is listed more than once",
               failure();
  }
  for (const auto &init : graph.initializer()) {
    Location l = NameLoc::get(builder.getStringAttr(init.name()), loc);
    auto value = convertTensor(init, l);
    if (failed(value))
      return failure();
    values[init.name()] =
        kop::ConstantOp::create(builder, l, value->getType(), *value);
  }
  for (int i = 0; i < graph.node_size(); ++i)
    if (failed(importNode(graph.node(i), i)))
      return failure();
  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      return error(loc) << what << " output '" << out.name()
                        << "' is not produced by any node",
             failure();
    results.push_back(it->second);
  }
  return results;
}

LogicalResult Importer::importSubgraph(const ::onnx::GraphProto &graph,
                                       Block *block, Location loc) {
  if (graph.input_size() != (int)block->getNumArguments())
    return error(loc) << "subgraph '" << graph.name() << "' has "
                      << graph.input_size() << " inputs; expected "
                      << block->getNumArguments(),
           failure();
  std::map<std::string, Value> outer = values;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(block);
  for (auto [i, in] : llvm::enumerate(graph.input()))
    values[in.name()] = block->getArgument(i);
  auto results = importGraphBody(graph, loc, "subgraph");
  if (failed(results))
    return failure();
  kop::YieldOp::create(builder, loc, *results);
  values = std::move(outer);
  return success();
}

LogicalResult Importer::importControlFlow(const ::onnx::NodeProto &node,
                                          Location loc,
                                          ArrayRef<Value> operandsIn) {
  StringRef type = node.op_type();
  OperationState state(loc, "onnx." + type.str());
  SmallVector<Value> operands(operandsIn);
  std::map<std::string, const ::onnx::GraphProto *> graphs;
  for (const auto &a : node.attribute()) {
    if (a.type() == ::onnx::AttributeProto::GRAPH) {
      graphs[a.name()] = &a.g();
      continue;
    }
    auto attr = convertAttribute(a, loc);
    if (failed(attr))
      return failure();
    state.addAttribute(a.name(), *attr);
  }
  if (type == "Loop")
    while (operands.size() < 2)
      operands.push_back(noValue());
  // Opset 8's Scan: a batch dim first and sequence_lens as input 0.
  if (type == "Scan" && opset < 9) {
    if (operands.empty() || !isa<NoneType>(operands[0].getType()))
      return error(loc) << "Scan (opset 8) with sequence_lens is not "
                           "supported",
             failure();
    operands.erase(operands.begin());
    state.addAttribute("batched", builder.getUnitAttr());
  }
  state.addOperands(operands);
  SmallVector<StringRef> regionNames =
      type == "If" ? SmallVector<StringRef>{"then_branch", "else_branch"}
                   : SmallVector<StringRef>{"body"};
  if (type == "SequenceMap" &&
      (operands.empty() || !isa<kop::SeqType>(operands[0].getType())))
    return error(loc) << "SequenceMap's first input must be a sequence",
           failure();
  for (StringRef r : regionNames) {
    if (!graphs.count(r.str()))
      return error(loc) << type << " has no '" << r << "' subgraph",
             failure();
    state.addRegion();
  }
  Type placeholder = UnrankedTensorType::get(builder.getF32Type());
  if (type == "SequenceMap")
    placeholder = kop::SeqType::get(&ctx, cast<TensorType>(placeholder));
  state.addTypes(SmallVector<Type>(node.output_size(), placeholder));
  Operation *op = builder.create(state);
  if (failed(checkAttributes(op, node, loc)))
    return failure();
  for (auto [i, r] : llvm::enumerate(regionNames)) {
    SmallVector<Type> argTypes;
    if (auto loop = dyn_cast<kop::LoopOp>(op))
      argTypes = kop::loopBodyTypes(loop);
    else if (auto scan = dyn_cast<kop::ScanOp>(op))
      argTypes = kop::scanBodyTypes(scan);
    else if (auto map = dyn_cast<kop::SequenceMapOp>(op))
      argTypes = kop::sequenceMapBodyTypes(map);
    Block *block = new Block();
    op->getRegion(i).push_back(block);
    for (Type t : argTypes)
      block->addArgument(t, loc);
    if (failed(importSubgraph(*graphs[r.str()], block, loc)))
      return failure();
  }
  if (failed(verify(op)))
    return failure();
  if (failed(cast<kop::ShapeInferenceOpInterface>(op).inferShapes()) ||
      failed(verify(op)))
    return failure();
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      values[node.output(i)] = op->getResult(i);
  return success();
}

/// The first opset of the default domain that defines `op`; 0 when ONNX's
/// schemas (as of the table's onnx release) do not know it.
static int64_t firstOpset(StringRef op) {
  static const llvm::StringMap<int64_t> table = {
#define KILN_OPSET_SINCE(name, since) {#name, since},
#include "compiler/import/OpsetSince.inc"
#undef KILN_OPSET_SINCE
  };
  auto it = table.find(op);
  return it == table.end() ? 0 : it->second;
}

LogicalResult Importer::run() {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return error(fileLoc()) << "cannot read '" << path
                            << "': " << buf.getError().message(),
           failure();
  StringRef bytes = (*buf)->getBuffer();
  model.proto = std::make_unique<::onnx::ModelProto>();
  if (bytes.empty() || bytes.size() > (size_t)INT32_MAX ||
      !model.proto->ParseFromArray(bytes.data(), (int)bytes.size()))
    return error(fileLoc()) << "'" << path
                            << "' is not an ONNX model (the protobuf does not "
                               "parse; the file may be truncated)",
           failure();
  const auto &proto = *model.proto;
  if (!proto.has_graph() || proto.opset_import_size() == 0)
    return error(fileLoc()) << "'" << path
                            << "' is not an ONNX model (no graph or opset)",
           failure();
  // IR versions and opsets ONNX has defined (ONNX 1.17: IR 10, opset 22;
  // ai.onnx.ml 5): anything newer is a file this Kiln cannot understand.
  constexpr int64_t kMaxIrVersion = 11, kMaxOpset = 22, kMaxMlOpset = 5;
  if (!proto.has_ir_version() || proto.ir_version() < 1 ||
      proto.ir_version() > kMaxIrVersion)
    return error(fileLoc())
               << "'" << path << "' has "
               << (proto.has_ir_version()
                       ? "ir_version " + std::to_string(proto.ir_version())
                       : std::string("no ir_version"))
               << "; ONNX defines ir_version 1 to " << kMaxIrVersion,
           failure();
  for (const auto &o : proto.opset_import()) {
    bool onnxDomain = o.domain().empty() || o.domain() == "ai.onnx";
    int64_t max = onnxDomain ? kMaxOpset
                  : o.domain() == "ai.onnx.ml" ? kMaxMlOpset
                                               : INT64_MAX;
    if (o.version() < 1 || o.version() > max)
      return error(fileLoc())
                 << "the model imports opset " << o.version() << " of "
                 << (onnxDomain ? std::string("the default domain")
                                : "domain '" + o.domain() + "'")
                 << "; Kiln knows opsets 1 to " << max,
             failure();
    if (onnxDomain)
      opset = o.version();
  }
  if (opset == 0)
    return error(fileLoc()) << "the model imports no opset of the default "
                               "ONNX domain",
           failure();
  const auto &graph = proto.graph();

  // Every unsupported op is reported at once, with its nodes.
  std::map<std::string, std::vector<std::string>> unsupported;
  std::map<std::string, int64_t> domainOpset;
  for (const auto &o : proto.opset_import())
    domainOpset[o.domain()] = o.version();
  // Subgraphs (If branches, Loop and Scan bodies) count too; so do nodes
  // without an op type, and ops used at an opset before ONNX defined them.
  std::vector<std::string> nameless, tooEarly;
  std::function<void(const ::onnx::GraphProto &)> scan =
      [&](const ::onnx::GraphProto &g) {
        for (int i = 0; i < g.node_size(); ++i) {
          const auto &node = g.node(i);
          for (const auto &a : node.attribute())
            if (a.type() == ::onnx::AttributeProto::GRAPH)
              scan(a.g());
          std::string self =
              node.name().empty() ? fmt::format("#{}", i) : node.name();
          if (node.op_type().empty()) {
            nameless.push_back(self);
            continue;
          }
          if (node.domain().empty() || node.domain() == "ai.onnx")
            if (int64_t since = firstOpset(node.op_type()); since > opset)
              tooEarly.push_back(fmt::format(
                  "node '{}': {} does not exist at opset {} (ONNX defines it "
                  "from opset {})",
                  self, node.op_type(), opset, since));
          bool known =
              (node.domain().empty() || node.domain() == "ai.onnx") &&
              (node.op_type() == "Constant" ||
               RegisteredOperationName::lookup("onnx." + node.op_type(),
                                               &ctx));
          if (!known) {
            std::string key = node.domain().empty()
                                  ? node.op_type()
                                  : node.domain() + "." + node.op_type();
            unsupported[key].push_back(node.name().empty()
                                           ? fmt::format("#{}", i)
                                           : node.name());
          }
        }
      };
  scan(graph);
  if (!nameless.empty())
    return error(fileLoc()) << "node '" << nameless.front()
                            << "' has no op_type",
           failure();
  if (!tooEarly.empty())
    return error(fileLoc()) << tooEarly.front()
                            << (tooEarly.size() > 1
                                    ? fmt::format(" (and {} more such nodes)",
                                                  tooEarly.size() - 1)
                                    : std::string()),
           failure();
  if (!unsupported.empty()) {
    std::string list;
    for (auto &[op, nodes] : unsupported) {
      if (!list.empty())
        list += "; ";
      size_t dot = op.rfind('.');
      int64_t version = opset;
      if (dot != std::string::npos && domainOpset.count(op.substr(0, dot)))
        version = domainOpset[op.substr(0, dot)];
      list += fmt::format("{} (opset {}) at node{} ", op, version,
                          nodes.size() > 1 ? "s" : "");
      for (size_t i = 0; i < nodes.size() && i < 5; ++i)
        list += (i ? ", '" : "'") + nodes[i] + "'";
      if (nodes.size() > 5)
        list += fmt::format(" and {} more", nodes.size() - 5);
    }
    return error(fileLoc()) << "unsupported op" << (unsupported.size() > 1 ? "s" : "")
                            << ": " << list,
           failure();
  }

  auto module = ModuleOp::create(fileLoc());
  model.module = module;
  module->setAttr("onnx.opset", builder.getI64IntegerAttr(opset));
  // Every domain's opset, for ops of other domains as they are added.
  SmallVector<NamedAttribute> imports;
  for (const auto &o : proto.opset_import())
    imports.push_back(builder.getNamedAttr(
        o.domain().empty() ? "ai.onnx" : o.domain(),
        builder.getI64IntegerAttr(o.version())));
  module->setAttr("onnx.opset_imports", builder.getDictionaryAttr(imports));
  builder.setInsertionPointToEnd(module.getBody());

  std::set<std::string> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  // Per input, the name of each dimension left symbolic ("" for the others),
  // and every symbolic name the inputs use.
  SmallVector<SmallVector<std::string>> argDimParams;
  std::set<std::string> inputDimParams;
  for (const auto &in : graph.input()) {
    if (initializerNames.count(in.name()))
      continue;
    auto t = convertType(in.type(), "input '" + in.name() + "'");
    if (failed(t))
      return failure();
    argTypes.push_back(*t);
    argNames.push_back(in.name());
    SmallVector<std::string> params;
    if (in.type().has_tensor_type() && in.type().tensor_type().has_shape())
      for (const auto &d : in.type().tensor_type().shape().dim()) {
        bool symbolic = !(d.has_dim_value() && d.dim_value() >= 0) &&
                        d.has_dim_param() && !d.dim_param().empty();
        if (symbolic)
          inputDimParams.insert(d.dim_param());
        params.push_back(symbolic && !options.dimValues.count(d.dim_param())
                             ? d.dim_param()
                             : "");
      }
    argDimParams.push_back(params);
  }
  // A --dim that names no symbolic dimension of the inputs is a mistake
  // (a typo would otherwise leave the dimension it meant unbound).
  for (const auto &entry : options.dimValues)
    if (!inputDimParams.count(entry.getKey().str())) {
      std::string known = llvm::join(inputDimParams, ", ");
      return error(fileLoc())
                 << "--dim " << entry.getKey()
                 << ": the model's inputs have no symbolic dimension of that "
                    "name ("
                 << (known.empty() ? std::string("they have none")
                                   : "they have: " + known)
                 << ")",
             failure();
    }
  auto func = func::FuncOp::create(
      builder, fileLoc(), "main_graph",
      builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  entryBlock = entry;
  builder.setInsertionPointToStart(entry);
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "onnx.name", builder.getStringAttr(name));
    if (llvm::any_of(argDimParams[i],
                     [](const std::string &p) { return !p.empty(); })) {
      SmallVector<Attribute> params;
      for (const std::string &p : argDimParams[i])
        params.push_back(builder.getStringAttr(p));
      func.setArgAttr(i, "onnx.dim_params", builder.getArrayAttr(params));
    }
    values[name] = entry->getArgument(i);
  }

  auto results = importGraphBody(graph, fileLoc(), "graph");
  if (failed(results))
    return failure();
  // An output the graph declares a sequence may be an optional here (a
  // Loop carrying an optional sequence that its body replaces): its value.
  for (auto [i, out] : llvm::enumerate(graph.output())) {
    auto opt = dyn_cast<kop::OptType>((*results)[i].getType());
    if (opt && out.type().has_sequence_type())
      (*results)[i] = kop::OptionalGetElementOp::create(
          builder, fileLoc(), opt.getElementType(), (*results)[i]);
  }
  func::ReturnOp::create(builder, fileLoc(), *results);
  if (failed(kop::inferShapesAndFold(func)))
    return failure();
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", builder.getStringAttr(out.name()));
  return success();
}

FailureOr<ImportedModel> kiln::importOnnxFile(MLIRContext &ctx, StringRef path,
                                              const ImportOptions &options) {
  ctx.loadDialect<kop::OnnxDialect, func::FuncDialect>();
  ImportedModel model;
  Importer importer(ctx, model, path, options);
  if (failed(importer.run()))
    return failure();
  return model;
}
