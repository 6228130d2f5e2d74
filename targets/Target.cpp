//===- Target.cpp - host target description and link recipe ---------------===//
#include "targets/Target.h"

#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/ADT/StringMap.h"

#include <cstdlib>

using namespace kiln;

TargetSpec kiln::hostTarget() {
  TargetSpec spec;
  spec.triple = llvm::sys::getDefaultTargetTriple();
  spec.cpu = llvm::sys::getHostCPUName().str();
  std::string features;
  for (auto &f : llvm::sys::getHostCPUFeatures()) {
    if (!features.empty())
      features += ",";
    features += (f.getValue() ? "+" : "-") + f.getKey().str();
  }
  spec.features = features;
  if (const char *cc = std::getenv("KILN_CC"))
    spec.linker = cc;
  return spec;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
kiln::createTargetMachine(const TargetSpec &spec, unsigned optLevel) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  std::string error;
  llvm::Triple triple(spec.triple);
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for '" + spec.triple +
                                   "': " + error);
  llvm::TargetOptions options;
  auto level = optLevel == 0   ? llvm::CodeGenOptLevel::None
               : optLevel == 1 ? llvm::CodeGenOptLevel::Less
               : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                               : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, spec.cpu, spec.features, options, llvm::Reloc::PIC_,
      std::nullopt, level));
  if (!tm)
    return llvm::createStringError("cannot create a target machine for '" +
                                   spec.triple + "'");
  return tm;
}

std::vector<std::string>
kiln::linkCommand(const TargetSpec &spec, const std::vector<std::string> &objects,
                  const std::vector<std::string> &libs,
                  const std::string &output, bool shared) {
  std::vector<std::string> cmd{spec.linker};
  if (shared)
    cmd.push_back("-shared");
  cmd.push_back("-o");
  cmd.push_back(output);
  cmd.insert(cmd.end(), objects.begin(), objects.end());
  cmd.insert(cmd.end(), libs.begin(), libs.end());
  cmd.push_back("-lm");
  cmd.push_back("-pthread");
  return cmd;
}
