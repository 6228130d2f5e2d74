//===- Driver.h - the kiln compile driver -----------------------*- C++ -*-===//
#ifndef KILN_COMPILER_DRIVER_DRIVER_H
#define KILN_COMPILER_DRIVER_DRIVER_H

#include <cstdint>
#include <map>
#include <string>

namespace kiln {

/// Ptx: the device code of a GPU target alone (PTX text).
enum class EmitKind { Object, StaticLib, SharedLib, Executable, Ptx };
/// Where `kiln compile` stops and prints: the onnx, linalg, memref or LLVM
/// dialect (MLIR), or the translated and optimized LLVM IR.
enum class Phase { Full, Onnx, Linalg, Memref, LLVM, LLVMIR };

struct CompileOptions {
  std::string input;
  std::string output;
  EmitKind emit = EmitKind::Executable;
  /// C identifier prefix of the exported symbols; empty: from the input name.
  std::string name;
  unsigned optLevel = 2;
  /// `--target` (a triple; empty: the host) and `--cpu` (empty: the
  /// target's baseline CPU; "native": the host's).
  std::string target;
  std::string cpu;
  /// The C compiler driver that links; empty: the target's own.
  std::string linker;
  /// Print the pass pipeline as text (for kiln-opt) instead of compiling.
  bool printPipeline = false;
  /// Stop after this phase and print its IR (to `output`, or stdout if empty).
  Phase stopAfter = Phase::Full;
  /// Values of symbolic input dimensions.
  std::map<std::string, int64_t> dims;
  /// Upper bounds of symbolic input dimensions left symbolic.
  std::map<std::string, int64_t> maxDims;
  /// The largest arena a model may plan, in bytes (--max-arena).
  uint64_t maxArena = uint64_t(4) << 30;
  /// Folder holding libkiln_runtime.a and libkiln_main.a for the host, and
  /// a sub-folder per other target (lib/aarch64-linux-gnu/...).
  std::string runtimeDir;
  /// Print the time each phase takes to stderr.
  bool timing = false;
  /// Where to write a Make-style depfile naming what the output depends on
  /// (the model, its external-data files, `compilerPath`); empty: none.
  std::string depFile;
  /// The kiln executable (listed in the depfile: a new compiler rebuilds).
  std::string compilerPath;
  /// GPU targets: the kernels compiled for the host, to run under the
  /// tests' fake CUDA driver (not on a GPU).
  bool gpuEmulate = false;
  /// GPU targets: the triple of the host code (empty: aarch64-linux-gnu
  /// for sm_87, the Jetson Orin, else this machine's).
  std::string gpuHost;
};

/// "kiln <version> (LLVM/MLIR <version>)".
std::string versionString();

/// The emit kind implied by an output file name (.o, .a, .so, .ptx, else
/// exe).
EmitKind emitKindForPath(const std::string &path);

/// A C identifier made from a file name ("my-model.onnx" -> "my_model").
std::string symbolPrefixFor(const std::string &path);

/// Compiles per `options`; reports errors on stderr as one line each
/// ("error: ...") and returns the process exit code. Never leaves a partial
/// output file behind.
int compile(const CompileOptions &options);

} // namespace kiln

#endif // KILN_COMPILER_DRIVER_DRIVER_H
