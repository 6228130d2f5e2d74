//===- Target.h - what Kiln knows about a target machine --------*- C++ -*-===//
#ifndef KILN_TARGETS_TARGET_H
#define KILN_TARGETS_TARGET_H

#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

struct TargetSpec {
  std::string triple;
  std::string cpu;
  std::string features;
  /// The C compiler driver that links executables and shared libraries.
  std::string linker = "cc";
};

/// The machine Kiln runs on, with the CPU's own features.
TargetSpec hostTarget();

/// An LLVM TargetMachine for `spec` at optimization level 0-3.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSpec &spec, unsigned optLevel);

/// The command that links `objects` (and `libs`) into `output`, a shared
/// library when `shared` is set, else an executable.
std::vector<std::string> linkCommand(const TargetSpec &spec,
                                     const std::vector<std::string> &objects,
                                     const std::vector<std::string> &libs,
                                     const std::string &output, bool shared);

} // namespace kiln

#endif // KILN_TARGETS_TARGET_H
