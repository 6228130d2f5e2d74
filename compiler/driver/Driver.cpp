//===- Driver.cpp - the kiln compile driver -------------------------------===//
//
// import -> onnx-to-linalg -> bufferize + arena -> LLVM dialect -> LLVM IR
// with the entry point -> object code -> archive / link. Every phase runs in
// process; only linking executables and shared libraries calls the system C
// compiler driver.
//
//===----------------------------------------------------------------------===//
#include "compiler/driver/Driver.h"
#include "compiler/driver/Codegen.h"
#include "compiler/driver/Pipelines.h"
#include "compiler/import/Importer.h"
#include "dialects/onnx/BatchSplit.h"
#include "dialects/onnx/ShapeHelpers.h"
#include "lowering/Passes.h"
#include "targets/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>
#include <chrono>
#include <optional>

using namespace kiln;

EmitKind kiln::emitKindForPath(const std::string &path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  if (ext == ".o" || ext == ".obj")
    return EmitKind::Object;
  if (ext == ".a")
    return EmitKind::StaticLib;
  if (ext == ".so")
    return EmitKind::SharedLib;
  if (ext == ".ptx")
    return EmitKind::Ptx;
  return EmitKind::Executable;
}

std::string kiln::symbolPrefixFor(const std::string &path) {
  std::string stem = llvm::sys::path::stem(path).str();
  std::string out;
  for (char c : stem)
    out += std::isalnum((unsigned char)c) ? c : '_';
  if (out.empty() || std::isdigit((unsigned char)out[0]))
    out = "m_" + out;
  return out;
}

namespace {

/// The ONNX node a location names, if any.
std::string nodeName(mlir::Location loc) {
  std::string name;
  loc->walk([&](mlir::Location l) {
    if (auto n = mlir::dyn_cast<mlir::NameLoc>(l)) {
      name = n.getName().str();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return name;
}

/// Prints diagnostics as one line each: "error: node 'conv1': message".
class DiagnosticPrinter {
public:
  explicit DiagnosticPrinter(mlir::MLIRContext &ctx)
      : handler(&ctx, [this](mlir::Diagnostic &diag) {
          if (diag.getSeverity() != mlir::DiagnosticSeverity::Error &&
              diag.getSeverity() != mlir::DiagnosticSeverity::Warning)
            return mlir::success();
          std::string node = nodeName(diag.getLocation());
          std::string msg = diag.str();
          for (char &c : msg)
            if (c == '\n')
              c = ' ';
          llvm::errs() << (diag.getSeverity() == mlir::DiagnosticSeverity::Error
                               ? "error: "
                               : "warning: ")
                       << (node.empty() ? "" : "node '" + node + "': ") << msg
                       << "\n";
          if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
            ++errors;
          return mlir::success();
        }) {}
  int errors = 0;

private:
  mlir::ScopedDiagnosticHandler handler;
};

/// A path as Make reads it in a rule: spaces, '#' and '$' escaped.
std::string makeEscaped(llvm::StringRef path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '#')
      out += '\\';
    if (c == '$')
      out += '$';
    out += c;
  }
  return out;
}

int fail(const std::string &msg) {
  llvm::errs() << "error: " << msg << "\n";
  return 1;
}

/// A file written under a temporary name and renamed into place on commit,
/// removed otherwise.
class OutputFile {
public:
  explicit OutputFile(std::string path) : path(std::move(path)) {
    tmp = this->path + ".kiln-tmp";
  }
  ~OutputFile() {
    if (!committed)
      llvm::sys::fs::remove(tmp);
  }
  const std::string &tempPath() const { return tmp; }
  bool commit() {
    if (llvm::sys::fs::rename(tmp, path))
      return false;
    committed = true;
    return true;
  }

private:
  std::string path, tmp;
  bool committed = false;
};

class Timer {
public:
  explicit Timer(bool on) : on(on), last(std::chrono::steady_clock::now()) {}
  void lap(const char *what) {
    auto now = std::chrono::steady_clock::now();
    if (on)
      llvm::errs() << fmt::format("time {:<10} {:8.3f} s\n", what,
                                  std::chrono::duration<double>(now - last).count());
    last = now;
  }

private:
  bool on;
  std::chrono::steady_clock::time_point last;
};

int printIR(const std::string &output, const std::function<void(llvm::raw_ostream &)> &print) {
  if (output.empty() || output == "-") { // standard output
    print(llvm::outs());
    return 0;
  }
  OutputFile out(output);
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(out.tempPath(), ec);
    if (ec)
      return fail("cannot write '" + output + "': " + ec.message());
    print(os);
  }
  return out.commit() ? 0 : fail("cannot write '" + output + "'");
}

/// The kernels may call nothing outside themselves (libdevice, the CUDA
/// runtime). Checked before serializing, which links libdevice where a CUDA
/// toolkit happens to be installed: the same model compiles the same
/// everywhere.
int checkKernelsSelfContained(mlir::ModuleOp module) {
  std::vector<std::string> external;
  module.walk([&](mlir::LLVM::LLVMFuncOp f) {
    if (f.isExternal() && f->getParentOfType<mlir::gpu::GPUModuleOp>())
      external.push_back(f.getName().str());
  });
  if (!external.empty())
    return fail("the kernels call " + llvm::join(external, ", ") +
                ", which only the CUDA toolkit's libdevice has");
  return 0;
}

/// --emit=ptx: the one gpu.module of kernels as PTX text. No CUDA toolkit is
/// needed: the driver compiles PTX when the module is loaded. The kernels
/// may call nothing outside themselves (libdevice, the CUDA runtime).
int writePtx(mlir::ModuleOp module, const CompileOptions &options,
             Timer &timer) {
  if (options.output.empty())
    return fail("no output file (-o)");
  if (int rc = checkKernelsSelfContained(module))
    return rc;
  mlir::PassManager pm(module.getContext(), mlir::ModuleOp::getOperationName());
  addKernelsToPtx(pm);
  if (mlir::failed(pm.run(module)))
    return fail("writing the kernels as PTX failed");
  timer.lap("ptx");
  std::string ptx;
  for (auto bin : module.getOps<mlir::gpu::BinaryOp>())
    for (mlir::Attribute object : bin.getObjects())
      ptx += mlir::cast<mlir::gpu::ObjectAttr>(object).getObject().str();
  if (ptx.empty())
    return fail("the model has no GPU kernels (it computes nothing)");
  return printIR(options.output, [&](llvm::raw_ostream &os) { os << ptx; });
}

/// Weights over 1 MiB are elided from printed IR.
mlir::OpPrintingFlags printingFlags() {
  return mlir::OpPrintingFlags().elideLargeResourceString(1 << 20);
}

int runCommand(const std::vector<std::string> &cmd) {
  auto program = llvm::sys::findProgramByName(cmd[0]);
  if (!program)
    return fail("cannot find the linker driver '" + cmd[0] +
                "' (install it, or name a C compiler with --cc)");
  llvm::SmallVector<llvm::StringRef> args(cmd.begin(), cmd.end());
  std::string err;
  int rc = llvm::sys::ExecuteAndWait(*program, args, std::nullopt, {}, 0, 0, &err);
  if (rc != 0) {
    std::string line;
    for (auto &a : cmd)
      line += a + " ";
    return fail("linking failed (" + (err.empty() ? "exit " + std::to_string(rc) : err) +
                "): " + line);
  }
  return 0;
}

/// Bare-metal objects may only need memcpy, memset and memmove.
int checkBareMetalObject(const std::string &path, const TargetInfo &target) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail("cannot read '" + path + "'");
  auto object = llvm::object::ObjectFile::createObjectFile(**buffer);
  if (!object)
    return fail(llvm::toString(object.takeError()));
  std::string bad;
  for (const llvm::object::SymbolRef &sym : (*object)->symbols()) {
    auto flags = sym.getFlags();
    auto name = sym.getName();
    if (!flags || !name || !(*flags & llvm::object::SymbolRef::SF_Undefined) ||
        name->empty() || isAllowedBareMetalSymbol(*name))
      continue;
    bad += (bad.empty() ? "" : ", ") + name->str();
  }
  if (!bad.empty())
    return fail("the code for " + target.name + " calls " + bad +
                ", which a bare-metal target does not provide (only memcpy, "
                "memset and memmove are allowed)");
  return 0;
}

/// Marks `main_graph` for kiln-dynamic-entry: the symbolic dims (names and
/// maxima) and, for each result, which of them its dims are (traced back to
/// the inputs), or kComputedDim for kiln-dynamic-results to compute.
/// Returns an exit code on error.
int markDynamic(mlir::func::FuncOp func,
                const std::vector<DimSignature> &dims) {
  mlir::MLIRContext *ctx = func.getContext();
  mlir::Builder b(ctx);
  llvm::SmallVector<mlir::Attribute> names;
  llvm::SmallVector<int64_t> maxima;
  for (const DimSignature &d : dims) {
    names.push_back(b.getStringAttr(d.name));
    maxima.push_back(d.max);
  }
  auto symbol = [&](mlir::Value v, int64_t d) -> int64_t {
    auto origin = kiln::onnx::traceDim(v, d);
    auto arg = origin ? mlir::dyn_cast<mlir::BlockArgument>(origin->first)
                      : mlir::BlockArgument();
    if (!arg || arg.getOwner() != &func.getBody().front())
      return -1;
    auto params = func.getArgAttrOfType<mlir::ArrayAttr>(arg.getArgNumber(),
                                                         "onnx.dim_params");
    if (!params || origin->second >= (int64_t)params.size())
      return -1;
    auto name = mlir::cast<mlir::StringAttr>(params[origin->second]);
    for (auto [k, dim] : llvm::enumerate(dims))
      if (dim.name == name.getValue())
        return k;
    return -1;
  };
  llvm::SmallVector<mlir::Attribute> results;
  mlir::Operation *ret = func.getBody().front().getTerminator();
  for (auto [i, v] : llvm::enumerate(ret->getOperands())) {
    auto type = mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
    if (!type)
      return fail("output " + std::to_string(i) + " has an unknown rank");
    llvm::SmallVector<int64_t> entries;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        entries.push_back(type.getDimSize(d));
        continue;
      }
      // Not one of the input dims: kiln-dynamic-results computes it.
      int64_t k = symbol(v, d);
      if (k < 0) {
        entries.push_back(kiln::kComputedDim);
        continue;
      }
      entries.push_back(-1 - k);
    }
    results.push_back(b.getDenseI64ArrayAttr(entries));
  }
  func->setAttr("kiln.dims", b.getArrayAttr(names));
  func->setAttr("kiln.dim_max", b.getDenseI64ArrayAttr(maxima));
  func->setAttr("kiln.result_dims", b.getArrayAttr(results));
  return 0;
}

/// How a model with symbolic dims left symbolic (no --dim) is compiled.
enum class DynamicMode {
  None,      // static
  PerSample, // a batch: compiled for one sample, run once per sample
  General,   // dynamic shapes in the code; buffers planned at the
             // --max-dim bounds, or at run time for dims without one
};

/// Finds the symbolic dims the inputs keep and picks the mode: a batch dim
/// (dim 0 of the inputs that have it, every sample computed on its own)
/// runs per sample; otherwise the code has dynamic shapes.
/// Sets `dims` and `batched` (the inputs with the batch). Returns an exit
/// code on error (0: go on).
int planDynamic(mlir::ModuleOp module, const CompileOptions &options,
                DynamicMode &mode, std::vector<DimSignature> &dims,
                llvm::SmallVector<bool> &batched) {
  mode = DynamicMode::None;
  auto func = module.lookupSymbol<mlir::func::FuncOp>("main_graph");
  if (!func)
    return 0;
  // name -> (input, dim) where it appears, names in order of appearance
  std::map<std::string, std::vector<std::pair<unsigned, int64_t>>> uses;
  std::vector<std::string> order;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto type =
        mlir::dyn_cast<mlir::RankedTensorType>(func.getArgumentTypes()[i]);
    auto params = func.getArgAttrOfType<mlir::ArrayAttr>(i, "onnx.dim_params");
    if (!type || !params || params.size() != (size_t)type.getRank())
      continue; // readSignature explains
    for (int64_t d = 0; d < type.getRank(); ++d) {
      auto name = mlir::dyn_cast<mlir::StringAttr>(params[d]);
      if (!type.isDynamicDim(d) || !name || name.getValue().empty())
        continue;
      if (!uses.count(name.str()))
        order.push_back(name.str());
      uses[name.str()].push_back({i, d});
    }
  }
  for (const auto &[name, max] : options.maxDims)
    if (!uses.count(name))
      return fail("--max-dim names '" + name +
                  "', which no input dimension left symbolic has");
  if (uses.empty()) {
    // Static inputs, but an output whose shape depends on their values (a
    // Reshape to a shape that is an input): dynamic code with no symbolic
    // dims; the entry point returns the output shapes a run produced.
    // Static inputs, but a value inside whose shape depends on their values
    // (Expand to a shape that is an input): the same.
    auto results = func.getResultTypes();
    auto dynamic = [](mlir::Type t) {
      auto r = mlir::dyn_cast<mlir::RankedTensorType>(t);
      return r && !r.hasStaticShape();
    };
    bool valueShaped = llvm::any_of(results, dynamic);
    func.walk([&](mlir::Operation *op) {
      valueShaped |= llvm::any_of(op->getResultTypes(), dynamic);
    });
    bool unranked = llvm::any_of(results, [](mlir::Type t) {
      return !mlir::isa<mlir::RankedTensorType>(t);
    });
    if (!valueShaped || unranked)
      return 0;
    mode = DynamicMode::General;
    return markDynamic(func, dims);
  }
  // The batch split, when it applies.
  const std::string &first = order[0];
  bool batchLike = order.size() == 1 &&
                   llvm::all_of(uses[first], [](auto use) {
                     return use.second == 0;
                   });
  if (batchLike) {
    batched.assign(func.getNumArguments(), false);
    for (auto [i, d] : uses[first])
      batched[i] = true;
    auto failure = kiln::onnx::checkBatchSplit(func, batched);
    if (!failure) {
      auto max = options.maxDims.find(first);
      dims.push_back({first, max == options.maxDims.end() ? 0 : max->second});
      mode = DynamicMode::PerSample;
      return 0;
    }
  }
  // Every other case: dynamic shapes in the code. Dims with a --max-dim
  // bound get one arena at their maxima; without one (0), the arena's
  // size and the buffers' offsets are computed from the dims at run time.
  for (const std::string &name : order) {
    auto max = options.maxDims.find(name);
    dims.push_back({name, max == options.maxDims.end() ? 0 : max->second});
  }
  mode = DynamicMode::General;
  return markDynamic(func, dims);
}

} // namespace

std::string kiln::versionString() {
  return std::string("kiln ") + KILN_VERSION +
         " (LLVM/MLIR " LLVM_VERSION_STRING ")";
}

int kiln::compile(const CompileOptions &options) {
  Timer timer(options.timing);
  auto resolved = resolveTarget(options.target, options.cpu);
  if (!resolved)
    return fail(llvm::toString(resolved.takeError()));
  TargetInfo &target = *resolved;
  if (!options.linker.empty())
    target.link.driver = options.linker;
  if (options.gpuEmulate && !target.gpu)
    return fail("--gpu-emulate is for GPU targets "
                "(--target=nvptx64-nvidia-cuda)");
  PipelineOptions pipelineOptions{target, options.optLevel,
                                  options.gpuEmulate};

  mlir::DialectRegistry registry;
  registerKilnDialects(registry);
  registerAllKilnPasses();
  mlir::MLIRContext ctx(registry);
  ctx.disableMultithreading();
  DiagnosticPrinter diagnostics(ctx);

  if (options.printPipeline) {
    mlir::PassManager pm(&ctx, mlir::ModuleOp::getOperationName());
    buildKilnPipeline(pm, pipelineOptions);
    pm.printAsTextualPipeline(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  if (target.bareMetal && options.stopAfter == Phase::Full &&
      (options.emit == EmitKind::Executable ||
       options.emit == EmitKind::SharedLib))
    return fail("target " + target.name +
                " is bare metal: emit an object or a static library "
                "(--emit=obj or --emit=staticlib, or -o NAME.o / NAME.a) and "
                "link it into the firmware");

  if (options.stopAfter == Phase::Full && !target.gpu &&
      options.emit == EmitKind::Ptx)
    return fail("--emit=ptx is for GPU targets (--target=nvptx64-nvidia-cuda)");
  // A GPU model's host code (the launches, the runtime) is for the host.
  std::optional<TargetInfo> gpuHost;
  if (!options.gpuHost.empty() && !target.gpu)
    return fail("--gpu-host is for GPU targets (--target=nvptx64-nvidia-cuda)");
  if (target.gpu) {
    std::string hostTriple = options.gpuHost;
    if (hostTriple.empty()) // the Jetson Orin's CPU cores are Arm
      hostTriple = target.cpu == "sm_87" ? "aarch64-linux-gnu" : hostTargetName();
    auto host = resolveTarget(hostTriple, "");
    if (!host)
      return fail(llvm::toString(host.takeError()));
    if (host->gpu || host->bareMetal || host->pointerBits != 64)
      return fail("--gpu-host " + hostTriple +
                  ": the host code of a GPU model is for a 64-bit Linux "
                  "target (x86_64-linux-gnu, aarch64-linux-gnu)");
    gpuHost = std::move(*host);
    if (!options.linker.empty())
      gpuHost->link.driver = options.linker;
  }
  const TargetInfo &hostCode = gpuHost ? *gpuHost : target;

  if (!llvm::sys::fs::exists(options.input))
    return fail("'" + options.input + "' does not exist");
  if (llvm::sys::fs::is_directory(options.input))
    return fail("'" + options.input + "' is a folder, not an ONNX model");

  ImportOptions importOptions;
  for (auto &[k, v] : options.dims)
    importOptions.dimValues[k] = v;
  auto model = importOnnxFile(ctx, options.input, importOptions);
  if (failed(model))
    return 1;
  mlir::ModuleOp module = model->module.get();
  timer.lap("import");
  if (options.stopAfter == Phase::Onnx)
    return printIR(options.output, [&](llvm::raw_ostream &os) {
      // With locations: each op names the ONNX node it came from.
      module.print(os, printingFlags().enableDebugInfo());
      os << "\n";
    });

  // Symbolic dims left symbolic. A batch: compile one sample (the model
  // imported again with the dim at 1), run it once per sample. Others:
  // dynamic shapes, planned at their --max-dim bounds.
  DynamicMode mode;
  std::vector<DimSignature> dynamicDims;
  llvm::SmallVector<bool> batched;
  if (int rc = planDynamic(module, options, mode, dynamicDims, batched))
    return rc;
  if (target.gpu && mode != DynamicMode::None)
    return fail("target " + target.name +
                " takes static shapes only so far: give every symbolic dim "
                "a value (--dim NAME=VALUE)");
  std::optional<ImportedModel> sample;
  if (mode == DynamicMode::PerSample) {
    importOptions.dimValues[dynamicDims[0].name] = 1;
    auto again = importOnnxFile(ctx, options.input, importOptions);
    if (failed(again))
      return 1;
    sample.emplace(std::move(*again));
    module = sample->module.get();
    timer.lap("import");
  }

  std::string prefix =
      options.name.empty() ? symbolPrefixFor(options.input) : options.name;
  auto signature = readSignature(module, prefix);
  if (signature && mode == DynamicMode::PerSample) {
    signature->dims = dynamicDims;
    signature->perSample = true;
    for (auto [t, b] : llvm::zip(signature->inputs, batched))
      if (b)
        t.shape[0] = -1;
    for (TensorSignature &t : signature->outputs)
      t.shape[0] = -1; // checkBatchSplit: every output has the batch at 0
  }
  if (!signature && options.stopAfter == Phase::Full)
    return fail(llvm::toString(signature.takeError()));

  // The three phases of buildKilnPipeline, run one after the other so that
  // --time reports each and --compile-to stops after one.
  using Builder = void (*)(mlir::OpPassManager &, const PipelineOptions &);
  auto runPhase = [&](Builder build, const char *what) {
    mlir::PassManager pm(&ctx, mlir::ModuleOp::getOperationName());
    build(pm, pipelineOptions);
    if (failed(pm.run(module))) {
      if (diagnostics.errors == 0)
        fail(std::string("the ") + what + " phase failed");
      return false;
    }
    timer.lap(what);
    return true;
  };
  bool lowered = runPhase(buildOnnxToLinalgPipeline, "linalg");
  if (lowered && signature && mode == DynamicMode::General)
    readDynamicResults(module, *signature);
  if (!lowered ||
      (options.stopAfter != Phase::Linalg &&
       !runPhase(buildBufferizePipeline, "bufferize")) ||
      (options.stopAfter != Phase::Linalg &&
       options.stopAfter != Phase::Memref &&
       !runPhase(target.gpu ? buildGpuPipeline : buildLowerToLLVMPipeline,
                 target.gpu ? "gpu" : "llvm-dialect")))
    return 1;
  if (options.stopAfter == Phase::Linalg || options.stopAfter == Phase::Memref ||
      options.stopAfter == Phase::LLVM)
    return printIR(options.output, [&](llvm::raw_ostream &os) {
      module.print(os, printingFlags());
      os << "\n"; // as kiln-opt ends its output
    });
  if (target.gpu) {
    if (options.emit == EmitKind::Ptx && options.stopAfter == Phase::Full) {
      if (options.gpuEmulate)
        return fail("--gpu-emulate writes no PTX");
      return writePtx(module, options, timer);
    }
    if (int rc = checkKernelsSelfContained(module))
      return rc;
    if (!runPhase(buildGpuHostPipeline, "gpu-host"))
      return 1;
  }
  if (!signature)
    return fail(llvm::toString(signature.takeError()));
  auto graph = module.lookupSymbol<mlir::LLVM::LLVMFuncOp>("main_graph");
  if (!graph)
    return fail("the lowered module has no main_graph");
  if (auto size = graph->getAttrOfType<mlir::IntegerAttr>("kiln.arena_size"))
    signature->arenaSize = size.getInt();
  if (auto align = graph->getAttrOfType<mlir::IntegerAttr>("kiln.arena_align"))
    signature->arenaAlign = align.getInt();
  signature->arenaDynamic = graph->hasAttr("kiln.arena_dynamic");
  if (auto limit = graph->getAttrOfType<mlir::IntegerAttr>("kiln.dim_limit"))
    signature->dimLimit = limit.getInt();
  signature->staticArena = !target.bareMetal && !signature->arenaDynamic;
  if (target.gpu) {
    // The device arena: main_graph's, then the copies of host inputs and
    // outputs. No static arena: the runtime allocates the model's own.
    ModelSignature::Gpu gpu;
    if (auto ptx = module->getAttrOfType<mlir::StringAttr>(kGpuPtxAttr))
      gpu.ptx = ptx.str();
    if (auto names = module->getAttrOfType<mlir::ArrayAttr>(kGpuKernelsAttr))
      for (mlir::Attribute name : names)
        gpu.kernels.push_back(mlir::cast<mlir::StringAttr>(name).str());
    if (auto size =
            module->getAttrOfType<mlir::IntegerAttr>(kGpuWeightsSizeAttr))
      gpu.weightsSize = size.getInt();
    gpu.graphArenaSize = signature->arenaSize;
    if (auto status =
            module->getAttrOfType<mlir::IntegerAttr>(kGpuStatusOffsetAttr))
      gpu.statusOffset = status.getInt();
    gpu.emulated = module->hasAttr(kGpuEmulatedAttr);
    llvm::StringRef sm = target.cpu;
    if (!sm.consume_front("sm_") || sm.getAsInteger(10, gpu.sm))
      return fail("GPU target without an SM: '" + target.cpu + "'");
    signature->gpu = std::move(gpu);
    signature->arenaSize = gpuArenaSize(*signature, signature->arenaAlign);
    signature->staticArena = false;
  }
  if (signature->arenaSize > options.maxArena)
    return fail(fmt::format(
        "the model needs an arena of {} bytes ({:.1f} GiB) for its "
        "intermediate values, above --max-arena ({} bytes); raise the limit "
        "if the target has the memory",
        signature->arenaSize, signature->arenaSize / double(1ull << 30),
        options.maxArena));

  auto tm = createTargetMachine(hostCode, options.optLevel);
  if (!tm)
    return fail(llvm::toString(tm.takeError()));
  llvm::LLVMContext llvmContext;
  bool exportModel = options.emit == EmitKind::SharedLib ||
                     options.emit == EmitKind::Executable;
  auto llvmModule =
      translateToLLVMIR(module, llvmContext, *signature, exportModel, **tm);
  if (!llvmModule)
    return fail(llvm::toString(llvmModule.takeError()));
  timer.lap("translate");
  if (options.stopAfter == Phase::LLVMIR) {
    optimizeModule(**llvmModule, **tm, options.optLevel);
    return printIR(options.output,
                   [&](llvm::raw_ostream &os) { (*llvmModule)->print(os, nullptr); });
  }

  if (options.output.empty())
    return fail("no output file (-o)");
  // The object file: the output itself for --emit=obj, else a temporary.
  OutputFile out(options.output);
  std::string objectPath = options.emit == EmitKind::Object
                               ? out.tempPath()
                               : options.output + ".kiln-obj.o";
  struct Cleanup {
    std::string path;
    bool active;
    ~Cleanup() {
      if (active)
        llvm::sys::fs::remove(path);
    }
  } cleanup{objectPath, options.emit != EmitKind::Object};
  if (auto err = emitObjectFile(**llvmModule, **tm, options.optLevel, objectPath))
    return fail(llvm::toString(std::move(err)));
  timer.lap("codegen");
  if (target.bareMetal)
    if (int rc = checkBareMetalObject(objectPath, target))
      return rc;

  switch (options.emit) {
  case EmitKind::Object:
    break;
  case EmitKind::StaticLib: {
    auto member = llvm::NewArchiveMember::getFile(objectPath, true);
    if (!member)
      return fail(llvm::toString(member.takeError()));
    std::string memberName = prefix + ".o";
    member->MemberName = memberName;
    std::vector<llvm::NewArchiveMember> members;
    members.push_back(std::move(*member));
    if (auto err = llvm::writeArchive(out.tempPath(), members,
                                      llvm::SymtabWritingMode::NormalSymtab,
                                      llvm::object::Archive::K_GNU, true, false))
      return fail(llvm::toString(std::move(err)));
    break;
  }
  case EmitKind::SharedLib:
  case EmitKind::Executable: {
    bool shared = options.emit == EmitKind::SharedLib;
    // Executables get main() and the runtime; shared libraries get the
    // runtime's parallel-loop pool (and export kiln_set_num_threads).
    // Each target's runtime is in a folder named after it; the host's is
    // also at the top.
    std::string dir = options.runtimeDir + "/" + hostCode.name;
    if (!llvm::sys::fs::exists(dir + "/libkiln_runtime.a") &&
        hostCode.name == hostTargetName())
      dir = options.runtimeDir;
    std::string mainLib = dir + "/libkiln_main.a";
    std::string rtLib = dir + "/libkiln_runtime.a";
    if (!llvm::sys::fs::exists(rtLib) ||
        (!shared && !llvm::sys::fs::exists(mainLib)))
      return fail("the Kiln runtime for " + hostCode.name + " is not in '" +
                  dir + "' (set KILN_RUNTIME_DIR, or build Kiln with that "
                  "target's cross compiler installed)");
    std::vector<std::string> libs{rtLib};
    if (shared) // the model's weak serial fallback would satisfy the link
      libs.insert(libs.begin(), "-Wl,--undefined=kiln_set_num_threads");
    else
      libs.insert(libs.begin(), mainLib);
    if (int rc = runCommand(
            linkCommand(hostCode, {objectPath}, libs, out.tempPath(), shared)))
      return rc;
    timer.lap("link");
    break;
  }
  }
  // The header goes beside libraries and objects. Both files are written
  // under temporary names first; neither is left behind if either fails.
  std::optional<OutputFile> header;
  std::string headerName;
  if (options.emit != EmitKind::Executable) {
    llvm::SmallString<256> headerPath(options.output);
    llvm::sys::path::replace_extension(headerPath, ".h");
    if (options.emit == EmitKind::StaticLib ||
        options.emit == EmitKind::SharedLib) {
      // lib<name>.a -> <name>.h
      llvm::StringRef stem = llvm::sys::path::stem(options.output);
      if (stem.starts_with("lib"))
        stem = stem.drop_front(3);
      headerPath = llvm::sys::path::parent_path(options.output);
      llvm::sys::path::append(headerPath, stem + ".h");
    }
    headerName = std::string(headerPath);
    header.emplace(headerName);
    std::error_code ec;
    llvm::raw_fd_ostream os(header->tempPath(), ec);
    if (ec)
      return fail("cannot write '" + headerName + "': " + ec.message());
    os << generateHeader(*signature);
  }
  // The depfile, like a C compiler's -MD -MF: the output depends on the
  // model, its external data and the compiler itself.
  std::optional<OutputFile> depFile;
  if (!options.depFile.empty()) {
    depFile.emplace(options.depFile);
    std::error_code ec;
    llvm::raw_fd_ostream os(depFile->tempPath(), ec);
    if (ec)
      return fail("cannot write '" + options.depFile + "': " + ec.message());
    std::vector<std::string> inputs{options.input};
    for (const ImportedModel *m : {&*model, sample ? &*sample : nullptr})
      if (m)
        for (const std::string &f : m->externalFiles)
          if (!llvm::is_contained(inputs, f))
            inputs.push_back(f);
    if (!options.compilerPath.empty())
      inputs.push_back(options.compilerPath);
    os << makeEscaped(options.output) << ":";
    for (const std::string &f : inputs)
      os << " \\\n  " << makeEscaped(f);
    os << "\n";
  }
  if (!out.commit())
    return fail("cannot write '" + options.output +
                "' (is it a folder, or in a folder that does not exist?)");
  if (header && !header->commit()) {
    llvm::sys::fs::remove(options.output);
    return fail("cannot write '" + headerName + "'");
  }
  if (depFile && !depFile->commit())
    return fail("cannot write '" + options.depFile + "'");
  return 0;
}
