//===- Codegen.h - LLVM IR, entry point and object code ---------*- C++ -*-===//
#ifndef KILN_COMPILER_DRIVER_CODEGEN_H
#define KILN_COMPILER_DRIVER_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include "kiln/runtime.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// Bytes per element and the name of an ONNX element type code, from
/// kiln/runtime.h's KILN_FOR_EACH_ELEM_TYPE (0 and "unknown" otherwise).
uint64_t elementBytes(int32_t onnxType);
const char *elementTypeName(int32_t onnxType);

struct TensorSignature {
  std::string name;
  int32_t onnxType = 0;
  /// Fixed dims, -1 - k for the model's symbolic dim k, KILN_DIM_COMPUTED
  /// for an output dim computed from them (by `main_graph_shapes`).
  std::vector<int64_t> shape;
  /// The product of the fixed dims and the element size: the whole tensor
  /// for a static one, one sample for a batched one.
  uint64_t bytes = 0;
  /// A dynamic output's largest size in bytes (kiln-dynamic-results'
  /// bound); 0 where bytesAtMax computes it from the dims' maxima.
  uint64_t boundBytes = 0;
  /// Per dim: the bound of a dim known only after a run (it depends on the
  /// input values; main_graph returns it), kBoundByShapes where
  /// main_graph_shapes computes the bound from the dims, else -1. Empty:
  /// none.
  std::vector<int64_t> valueMax;
  /// KILN_KIND_*: for a sequence or an optional, the fields above describe
  /// its element (shape: -1 for a dim of any size; empty with rank -1 when
  /// not declared).
  int32_t kind = KILN_KIND_TENSOR;
  int32_t rank = 0;
  bool isStatic() const {
    if (kind == KILN_KIND_SEQUENCE || kind == KILN_KIND_OPTIONAL_SEQUENCE)
      return true; // its elements' sizes are the run's business
    return llvm::all_of(shape, [](int64_t d) { return d >= 0; });
  }
};

/// A symbolic dimension left symbolic (see ModelSignature::dims).
struct DimSignature {
  std::string name;
  int64_t max = 0; // 0: no bound
};

/// What the generated entry point and header describe.
struct ModelSignature {
  std::string prefix; // C identifier prefix of every exported symbol
  std::vector<TensorSignature> inputs, outputs;
  /// The symbolic dims of a dynamic model (empty for a static one).
  std::vector<DimSignature> dims;
  /// Whether `main_graph` computes one sample of the batch (dims[0]) and is
  /// called once per sample; else it takes the dims as arguments after the
  /// inputs and computes the whole tensors (buffers planned at the maxima).
  bool perSample = false;
  /// Bytes of a tensor with each symbolic dim at its max; 0 if one has none.
  uint64_t bytesAtMax(const TensorSignature &t) const;
  /// Whether the entry point takes and gives shapes (P_run_dynamic): there
  /// are symbolic dims, or an output's shape depends on the input values.
  bool isDynamic() const {
    return !dims.empty() || numDerived > 0 ||
           llvm::any_of(outputs, [](const TensorSignature &t) {
             return !t.isStatic();
           });
  }
  /// How many output dims main_graph returns after a run.
  size_t numValueDims() const {
    size_t n = 0;
    for (const TensorSignature &t : outputs)
      n += llvm::count_if(t.valueMax, [](int64_t m) { return m != -1; });
    return n;
  }
  /// Dims whose sizes come from input values (kiln-dynamic-entry's derived
  /// dims): main_graph_dims computes them from the inputs, and main_graph
  /// and the shape functions take them after `dims`.
  size_t numDerived = 0;
  uint64_t arenaSize = 0;
  uint64_t arenaAlign = 64;
  /// The arena's size depends on the dims (some have no bound): P_shapes
  /// computes it (main_graph_arena), and there is no static arena.
  bool arenaDynamic = false;
  /// With arenaDynamic: the largest value a dim without a bound may take
  /// (larger ones would overflow a size; kiln.dim_limit).
  int64_t dimLimit = 0;
  /// A static arena in the object that a NULL arena argument selects; bare
  /// metal has none (the caller always passes its memory).
  bool staticArena = true;
  /// A model for an NVIDIA GPU (kiln-gpu-host's module attributes): its
  /// main_graph takes the inputs, outputs, arena, weights and the runtime's
  /// state, all device pointers, and P_run hands it to kiln_gpu_run.
  struct Gpu {
    std::string ptx;
    std::vector<std::string> kernels; // in the launches' index order
    uint64_t weightsSize = 0;         // bytes of @kiln_gpu_weights
    uint64_t graphArenaSize = 0;      // main_graph's part of the arena
    int64_t statusOffset = -1;        // the run's status in it (-1: none)
    int32_t sm = 0;                   // the SM compiled for (80: sm_80)
    /// --gpu-emulate: host kernels, whose image (kiln-gpu-emulate's
    /// @kiln_gpu_emu_image) takes the PTX's place.
    bool emulated = false;
  };
  std::optional<Gpu> gpu;
};

/// The device arena of a GPU model: main_graph's arena, then one slot per
/// input and per output (in that order) for those given as host memory,
/// each at a multiple of `align`. The runtime (kiln_gpu_run) lays it out
/// the same way.
uint64_t gpuArenaSize(const ModelSignature &sig, uint64_t align);

/// Reads inputs and outputs (names from `onnx.name` attributes) off the
/// `@main_graph` function of an onnx-dialect module.
llvm::Expected<ModelSignature> readSignature(mlir::ModuleOp module,
                                             llvm::StringRef prefix);

/// Completes a dynamic model's output signatures from main_graph after
/// kiln-dynamic-results: the dims it resolved (a computed dim may turn out
/// to be a symbolic dim or a constant) and each dynamic output's bound.
void readDynamicResults(mlir::ModuleOp module, ModelSignature &signature);

/// Translates an LLVM-dialect module whose `main_graph` takes bare pointers
/// (inputs, outputs, arena) into LLVM IR and adds the public ABI of
/// runtime/include/kiln/runtime.h: `<prefix>_run`, `<prefix>_info`, a static
/// arena, and with `exportModelSymbol` the generic `kiln_model`. Every other
/// symbol is made internal so several models link into one program.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                  const ModelSignature &signature, bool exportModelSymbol,
                  llvm::TargetMachine &tm);

/// Runs LLVM's standard pipeline at `optLevel` and writes an object file.
llvm::Error emitObjectFile(llvm::Module &module, llvm::TargetMachine &tm,
                           unsigned optLevel, llvm::StringRef path);

/// Optimizes the module in place (also used for --compile-to=llvm-ir).
void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                    unsigned optLevel);

/// The C header declaring the model's ABI.
std::string generateHeader(const ModelSignature &signature);

} // namespace kiln

#endif // KILN_COMPILER_DRIVER_CODEGEN_H
