//===- Target.h - what Kiln knows about a target machine --------*- C++ -*-===//
//
// One description per target: the LLVM triple, CPU and features, what the
// vector unit looks like, the matmul kernel's register and cache tiles, the
// thread thresholds, whether math may call libm, and how to link. Passes get
// these facts as typed options (compiler/driver/Pipelines.cpp); nothing in
// lowering/ assumes a machine.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TARGETS_TARGET_H
#define KILN_TARGETS_TARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// The f32 matmul kernel: an mr x nr register tile (accumulators held in
/// vector registers) inside cache tiles of at most mc x nc x kc.
struct MatmulTiles {
  int64_t mr = 6, nr = 16, mc = 64, nc = 256, kc = 256;
};

/// How outputs for this target are linked.
struct LinkRecipe {
  /// The C compiler driver that links executables and shared libraries;
  /// empty where the target has no link step (bare metal: obj/staticlib).
  std::string driver;
  /// Libraries after the objects (e.g. -lm -pthread).
  std::vector<std::string> libs;
};

struct TargetInfo {
  /// The triple as Kiln names it (`--target`), e.g. "aarch64-linux-gnu";
  /// also the runtime's folder under lib/.
  std::string name;
  /// The LLVM target triple.
  std::string triple;
  std::string cpu;
  /// LLVM feature string, e.g. "+neon"; empty: the CPU's own.
  std::string features;
  /// Widest f32 vector register in bits (32: scalar FPU only) and how many.
  unsigned vectorBits = 128;
  unsigned vectorRegisters = 16;
  /// Pointer width; index arithmetic uses it.
  unsigned pointerBits = 64;
  MatmulTiles matmul;
  /// Threads exist (a pthread pool in the runtime); below minWork estimated
  /// operations a loop stays serial.
  bool threads = true;
  int64_t parallelMinWork = 50000;
  int64_t parallelMinChunks = 64;
  /// Cache tiles wanted per matmul so threads can share them.
  int64_t matmulMinTiles = 4;
  /// Pad matmuls to the register tile (extra arena memory) rather than
  /// shrink the tile to divisors of the problem.
  bool matmulPadding = true;
  /// 3x3 stride-1 convolutions with at least this many 4x4 output tiles use
  /// Winograd F(4x4, 3x3) (4x the weights, 2.25x fewer multiply-adds); 0:
  /// never. 16 (a 14x14 map, ResNet's conv4_x): with fewer, the transformed
  /// weights (read once per tile row of the products) stream from memory
  /// faster than they are used; at 16 the products run swapped, tiles as
  /// rows (MatmulKernel.cpp), and measured 4-13% faster models than 32.
  int64_t winogradMinTiles = 16;
  /// No operating system: no heap, no files, no threads, the caller passes
  /// the arena, only memcpy/memset/memmove from libc.
  bool bareMetal = false;
  /// An NVIDIA GPU (nvptx64-nvidia-cuda; `cpu` is the SM architecture,
  /// e.g. sm_80): the model runs as kernels, written as PTX.
  bool gpu = false;
  /// Math may end in libm calls; when false every function is generated
  /// inline or the op is refused.
  bool libm = true;
  /// Expand float min/max into compares and selects before LLVM: the 32-bit
  /// Arm backend cannot select f64 llvm.maximum/minimum (LLVM 22).
  bool expandFloatMinMax = false;
  /// Alignment of the arena and of every buffer in it.
  int64_t arenaAlign = 64;
  LinkRecipe link;

  /// The `--kiln-pipeline` option text that reproduces this target.
  std::string describe() const;
};

/// The triple Kiln names the machine it runs on (e.g. "x86_64-linux-gnu").
std::string hostTargetName();

/// Resolves `--target` and `--cpu` (either empty: the host triple, the
/// target's documented default CPU; "native": the host CPU and features, for
/// the host triple only) into a full description.
llvm::Expected<TargetInfo> resolveTarget(llvm::StringRef target,
                                         llvm::StringRef cpu);

/// The targets Kiln knows, with their default and accepted CPUs, for help
/// text and docs.
struct KnownTarget {
  const char *name;
  const char *defaultCpu;
  const char *cpus;
};
const std::vector<KnownTarget> &knownTargets();

/// An LLVM TargetMachine for `target` at optimization level 0-3.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetInfo &target, unsigned optLevel);

/// The command that links `objects` (and `libs`) into `output`, a shared
/// library when `shared` is set, else an executable.
std::vector<std::string> linkCommand(const TargetInfo &target,
                                     const std::vector<std::string> &objects,
                                     const std::vector<std::string> &libs,
                                     const std::string &output, bool shared);

/// Undefined symbols a bare-metal object may have: memcpy, memset, memmove
/// and their ARM EABI spellings (__aeabi_memcpy4, __aeabi_memclr, ...).
bool isAllowedBareMetalSymbol(llvm::StringRef symbol);

} // namespace kiln

#endif // KILN_TARGETS_TARGET_H
