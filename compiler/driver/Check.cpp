//===- Check.cpp - kiln check ---------------------------------------------===//
#include "compiler/driver/Check.h"
#include "compiler/driver/Pipelines.h"
#include "compiler/import/Importer.h"
#include "targets/Target.h"

#include "onnx.pb.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <map>
#include <set>
#include <vector>

using namespace kiln;

namespace {

struct OpUse {
  int64_t count = 0;
  int64_t opset = 0;
  bool supported = false;
  std::vector<std::string> nodes; // the first few, by name
};

struct ValueInfo {
  std::string name, type;
  std::vector<std::string> dims; // numbers or symbolic names ("?" unknown)
};

std::string typeName(int32_t t) {
  if (t == 0)
    return "undefined";
  return llvm::StringRef(
             ::onnx::TensorProto_DataType_Name((::onnx::TensorProto_DataType)t))
      .lower();
}

std::string shapeText(const struct ValueInfo &v);

ValueInfo describeType(const std::string &name, const ::onnx::TypeProto &type) {
  ValueInfo info{name, "", {}};
  if (type.has_sequence_type() || type.has_optional_type()) {
    bool seq = type.has_sequence_type();
    const auto &elem = seq ? type.sequence_type().elem_type()
                           : type.optional_type().elem_type();
    // seq(float32[?, 3]), optional(seq(int64[4])): no dims of its own.
    info.type = std::string(seq ? "seq(" : "optional(") +
                shapeText(describeType(name, elem)) + ")";
    return info;
  }
  if (!type.has_tensor_type()) {
    info.type = type.has_map_type() ? "map" : "unknown";
    return info;
  }
  const auto &t = type.tensor_type();
  info.type = typeName(t.elem_type());
  if (!t.has_shape()) {
    info.dims.push_back("*");
    return info;
  }
  for (const auto &d : t.shape().dim())
    info.dims.push_back(d.has_dim_value()   ? std::to_string(d.dim_value())
                        : d.has_dim_param() ? d.dim_param()
                                            : "?");
  return info;
}

ValueInfo describe(const ::onnx::ValueInfoProto &v) {
  return describeType(v.name(), v.type());
}

std::string shapeText(const ValueInfo &v) {
  std::string s = v.type;
  if (!s.empty() && s.back() == ')') // a sequence or optional
    return s;
  if (v.dims.size() == 1 && v.dims[0] == "*")
    return s + " (rank unknown)";
  s += "[";
  for (size_t i = 0; i < v.dims.size(); ++i)
    s += (i ? ", " : "") + v.dims[i];
  return s + "]";
}

} // namespace

int kiln::check(const CheckOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(options.input, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    llvm::errs() << "error: cannot read '" << options.input
                 << "': " << buffer.getError().message() << "\n";
    return 2;
  }
  ::onnx::ModelProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            (int)(*buffer)->getBufferSize()) ||
      !proto.has_graph()) {
    llvm::errs() << "error: '" << options.input
                 << "' is not an ONNX model (no graph)\n";
    return 2;
  }

  mlir::DialectRegistry registry;
  registerKilnDialects(registry);
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  std::map<std::string, int64_t> opsets;
  for (const auto &o : proto.opset_import())
    opsets[o.domain().empty() ? "ai.onnx" : o.domain()] = o.version();

  // Op types of the main graph and of its subgraphs (If branches, Loop and
  // Scan bodies).
  std::map<std::string, OpUse> ops;
  std::vector<std::string> blocking;
  const auto &graph = proto.graph();
  std::function<void(const ::onnx::GraphProto &)> visit =
      [&](const ::onnx::GraphProto &g) {
        for (int i = 0; i < g.node_size(); ++i) {
          const auto &node = g.node(i);
          bool onnxDomain = node.domain().empty() || node.domain() == "ai.onnx";
          std::string key = onnxDomain ? node.op_type()
                                       : node.domain() + "." + node.op_type();
          OpUse &use = ops[key];
          ++use.count;
          use.opset = opsets[onnxDomain ? "ai.onnx" : node.domain()];
          use.supported =
              onnxDomain && (node.op_type() == "Constant" ||
                             mlir::RegisteredOperationName::lookup(
                                 "onnx." + node.op_type(), &ctx));
          std::string name = node.name().empty() ? "#" + std::to_string(i)
                                                 : node.name();
          if (use.nodes.size() < 5)
            use.nodes.push_back(name);
          if (!use.supported)
            blocking.push_back("node '" + name + "' (" + key +
                               "): not supported");
          for (const auto &a : node.attribute())
            if (a.type() == ::onnx::AttributeProto::GRAPH)
              visit(a.g());
        }
      };
  visit(graph);

  // With every op known, the importer's verdict: attributes, types, shapes.
  std::vector<std::string> importErrors;
  if (blocking.empty()) {
    mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
        importErrors.push_back(d.str());
      return mlir::success();
    });
    auto model = importOnnxFile(ctx, options.input, ImportOptions());
    if (failed(model) && importErrors.empty())
      importErrors.push_back("the model does not import");
  }
  for (const std::string &e : importErrors)
    blocking.push_back(e);

  std::set<std::string> initializers;
  for (const auto &t : graph.initializer())
    initializers.insert(t.name());
  std::vector<ValueInfo> inputs, outputs;
  for (const auto &v : graph.input())
    if (!initializers.count(v.name()))
      inputs.push_back(describe(v));
  for (const auto &v : graph.output())
    outputs.push_back(describe(v));
  std::vector<std::string> targets;
  for (const KnownTarget &t : knownTargets())
    targets.push_back(t.name);
  bool compiles = blocking.empty();

  if (options.json) {
    llvm::json::OStream j(llvm::outs(), 2);
    j.object([&] {
      j.attribute("model", options.input);
      j.attribute("ir_version", (int64_t)proto.ir_version());
      j.attribute("producer", proto.producer_name() +
                                  (proto.producer_version().empty()
                                       ? ""
                                       : " " + proto.producer_version()));
      j.attributeObject("opsets", [&] {
        for (auto &[d, v] : opsets)
          j.attribute(d, v);
      });
      auto values = [&](const char *key, const std::vector<ValueInfo> &vs) {
        j.attributeArray(key, [&] {
          for (const ValueInfo &v : vs)
            j.object([&] {
              j.attribute("name", v.name);
              j.attribute("type", v.type);
              j.attributeArray("shape", [&] {
                for (const std::string &d : v.dims)
                  j.value(d);
              });
            });
        });
      };
      values("inputs", inputs);
      values("outputs", outputs);
      j.attributeArray("ops", [&] {
        for (auto &[name, use] : ops)
          j.object([&] {
            j.attribute("op", name);
            j.attribute("count", use.count);
            j.attribute("opset", use.opset);
            j.attribute("supported", use.supported);
            j.attributeArray("targets", [&] {
              if (use.supported)
                for (const std::string &t : targets)
                  j.value(t);
            });
          });
      });
      j.attributeArray("blocking", [&] {
        for (const std::string &b : blocking)
          j.value(b);
      });
      j.attribute("compiles", compiles);
    });
    llvm::outs() << "\n";
    return compiles ? 0 : 1;
  }

  auto &os = llvm::outs();
  os << "model: " << options.input << "\n";
  os << "ir_version: " << proto.ir_version();
  if (!proto.producer_name().empty())
    os << ", producer: " << proto.producer_name() << " "
       << proto.producer_version();
  os << "\nopsets:";
  for (auto &[d, v] : opsets)
    os << " " << d << " " << v;
  os << "\ninputs:\n";
  for (const ValueInfo &v : inputs)
    os << "  " << v.name << ": " << shapeText(v) << "\n";
  os << "outputs:\n";
  for (const ValueInfo &v : outputs)
    os << "  " << v.name << ": " << shapeText(v) << "\n";
  int64_t nodes = 0;
  for (auto &[name, use] : ops)
    nodes += use.count;
  os << "ops: " << ops.size() << " types, " << nodes << " nodes\n";
  for (auto &[name, use] : ops)
    os << llvm::format("  %-28s %6lld  ", name.c_str(), (long long)use.count)
       << (use.supported ? "supported" : "NOT SUPPORTED") << " at opset "
       << use.opset << "\n";
  os << "targets: every supported op lowers for each of";
  for (const std::string &t : targets)
    os << " " << t;
  os << "\n";
  if (compiles) {
    os << "result: compiles (every op is supported, and the model imports: "
          "attributes, types and shapes check)\n";
    return 0;
  }
  os << "blocking:\n";
  for (const std::string &b : blocking)
    os << "  " << b << "\n";
  os << "result: does not compile\n";
  return 1;
}
