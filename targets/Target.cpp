//===- Target.cpp - target descriptions and link recipes ------------------===//
#include "targets/Target.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace kiln;

namespace {

#ifdef KILN_HOST_LINK_DRIVER
// A sanitizer build (KILN_SANITIZE): its host runtime is instrumented, so
// the compiler that built it links, with the same sanitizers.
constexpr const char *kHostLinkDriver = KILN_HOST_LINK_DRIVER;
#else
constexpr const char *kHostLinkDriver = "cc";
#endif

struct TargetRow {
  KnownTarget known;
  const char *llvmTriple;
  bool bareMetal;
  /// Features every CPU of the target gets (the distribution's baseline).
  const char *baseFeatures = "";
};

// The default CPU of each target is a fixed baseline, never the build
// machine's: the same command gives the same output on any machine.
const TargetRow kTargets[] = {
    {{"x86_64-linux-gnu", "x86-64-v3",
      "x86-64, x86-64-v2, x86-64-v3 (AVX2, FMA), x86-64-v4 (AVX-512), "
      "skylake-avx512, icelake-server, sapphirerapids, znver3, znver4, "
      "znver5, native"},
     "x86_64-unknown-linux-gnu", false},
    {{"aarch64-linux-gnu", "generic",
      "generic (Armv8-A with NEON), cortex-a53, cortex-a55, cortex-a72, "
      "cortex-a76, neoverse-n1, native"},
     "aarch64-unknown-linux-gnu", false},
    {{"armv7-linux-gnueabihf", "cortex-a7",
      "cortex-a7, cortex-a9, cortex-a15, cortex-a53 (32-bit mode); NEON and "
      "VFP with the hard-float ABI"},
     "armv7-unknown-linux-gnueabihf", false},
    {{"riscv64-linux-gnu", "generic-rv64",
      "generic-rv64 (RV64GC), sifive-u74"},
     "riscv64-unknown-linux-gnu", false, "+m,+a,+f,+d,+c"},
    {{"thumbv7em-none-eabihf", "cortex-m4",
      "cortex-m4, cortex-m7 (single-precision FPU)"},
     "thumbv7em-none-unknown-eabihf", true},
    {{"thumbv8m.main-none-eabihf", "cortex-m33",
      "cortex-m33, cortex-m55 (single-precision FPU)"},
     "thumbv8m.main-none-unknown-eabihf", true},
    {{"nvptx64-nvidia-cuda", "sm_80",
      "sm_80 (A100), sm_86 (RTX 30), sm_87 (Jetson Orin), sm_89 (RTX 40, "
      "L4), sm_90 (H100, H200)"},
     "nvptx64-nvidia-cuda", false},
};

void initializeTargets() {
  static bool done = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)done;
}

const TargetRow *findTarget(llvm::StringRef name) {
  std::string wanted = llvm::Triple::normalize(name);
  for (const TargetRow &row : kTargets)
    if (name == row.known.name || wanted == row.llvmTriple ||
        wanted == llvm::Triple::normalize(row.known.name))
      return &row;
  return nullptr;
}

std::string hostFeatures() {
  std::string features;
  for (auto &f : llvm::sys::getHostCPUFeatures()) {
    if (!features.empty())
      features += ",";
    features += (f.getValue() ? "+" : "-") + f.getKey().str();
  }
  return features;
}

/// Fills the vector unit and the kernel tiles from the subtarget's features.
void describeVectorUnit(TargetInfo &info, const llvm::MCSubtargetInfo &sti) {
  llvm::Triple triple(info.triple);
  auto has = [&](const char *f) { return sti.checkFeatures(std::string("+") + f); };
  if (triple.isX86()) {
    info.vectorBits = has("avx512f") ? 512 : has("avx") ? 256 : 128;
    info.vectorRegisters = has("avx512f") ? 32 : 16;
  } else if (triple.isAArch64()) {
    info.vectorBits = 128; // NEON is part of the Linux AArch64 baseline
    info.vectorRegisters = 32;
  } else if (triple.isARM() || triple.isThumb()) {
    bool neon = has("neon");
    info.vectorBits = neon ? 128 : 32;
    info.vectorRegisters = neon ? 16 : 32;
  } else {
    info.vectorBits = 32;
    info.vectorRegisters = 32;
  }
  // Register tile: accumulators, B vectors and a broadcast A value must fit
  // the register file (mr * nr / lanes + nr / lanes + 1 <= registers).
  MatmulTiles &t = info.matmul;
  if (info.vectorBits == 512) { // 16 accumulators of 16 floats
    t.mr = 8;
    t.nr = 32;
  } else if (info.vectorBits == 256 ||
             (info.vectorBits == 128 && info.vectorRegisters >= 32)) {
    t.mr = 6; // 12 (AVX2) or 24 (NEON) accumulators
    t.nr = 16;
  } else if (info.vectorBits == 128) { // 16 q registers: 8 accumulators
    t.mr = 4;
    t.nr = 8;
  } else { // scalar FPU: 16 accumulators in single registers
    t.mr = 4;
    t.nr = 4;
  }
  if (info.bareMetal) { // no data cache worth blocking for
    t.mc = 64;
    t.nc = 64;
    t.kc = 256;
  }
}

} // namespace

std::string TargetInfo::describe() const {
  return "target=" + name + " cpu=" + cpu;
}

const std::vector<KnownTarget> &kiln::knownTargets() {
  static std::vector<KnownTarget> all = [] {
    std::vector<KnownTarget> v;
    for (const TargetRow &row : kTargets)
      v.push_back(row.known);
    return v;
  }();
  return all;
}

std::string kiln::hostTargetName() {
  std::string host = llvm::sys::getDefaultTargetTriple();
  llvm::Triple h(host);
  for (const TargetRow &row : kTargets) {
    llvm::Triple t(row.llvmTriple);
    if (t.getArch() == h.getArch() && t.getOS() == h.getOS() &&
        t.getEnvironment() == h.getEnvironment())
      return row.known.name;
  }
  return host;
}

llvm::Expected<TargetInfo> kiln::resolveTarget(llvm::StringRef target,
                                               llvm::StringRef cpu) {
  initializeTargets();
  std::string hostName = hostTargetName();
  if (target.empty())
    target = hostName;
  const TargetRow *row = findTarget(target);
  if (!row) {
    std::string known;
    for (const TargetRow &r : kTargets)
      known += std::string(known.empty() ? "" : ", ") + r.known.name;
    return llvm::createStringError("unknown target '" + target.str() +
                                   "' (known: " + known + ")");
  }
  TargetInfo info;
  info.name = row->known.name;
  info.triple = row->llvmTriple;
  info.bareMetal = row->bareMetal;
  bool isHost = info.name == hostName;
  if (cpu.empty())
    cpu = row->known.defaultCpu;
  if (cpu == "native") {
    if (!isHost)
      return llvm::createStringError("--cpu=native names the machine Kiln "
                                     "runs on (" + hostName +
                                     "), not target '" + info.name + "'");
    info.cpu = llvm::sys::getHostCPUName().str();
    info.features = hostFeatures();
  } else {
    info.cpu = cpu.str();
    info.features = row->baseFeatures;
  }

  std::string error;
  llvm::Triple triple(info.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return llvm::createStringError("LLVM cannot generate code for '" +
                                   info.triple + "': " + error);
  // Asked of a generic subtarget first: LLVM warns on stderr when a
  // subtarget is made for a CPU it does not know.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  std::unique_ptr<llvm::MCSubtargetInfo> sti;
  if (generic && generic->isCPUStringValid(info.cpu))
    sti.reset(llvmTarget->createMCSubtargetInfo(triple, info.cpu, info.features));
  if (!sti)
    return llvm::createStringError(
        "unknown CPU '" + info.cpu + "' for target '" + info.name +
        "' (for example: " + row->known.cpus + ")");
  info.pointerBits = triple.isArch64Bit() ? 64 : 32;
  info.expandFloatMinMax = triple.isARM() || triple.isThumb();
  describeVectorUnit(info, *sti);

  if (triple.isNVPTX()) {
    // Kernels: one thread per output element, no CPU thread pool, no libm
    // (libdevice is part of the CUDA toolkit, which a build need not have),
    // no link step yet (--emit=ptx).
    info.gpu = true;
    info.threads = false;
    info.libm = false;
    info.matmulPadding = false;
    info.winogradMinTiles = 0;
    info.arenaAlign = 256; // cudaMalloc's alignment
    return info;
  }
  if (info.bareMetal) {
    info.threads = false;
    info.matmulMinTiles = 1;
    info.matmulPadding = false; // RAM is the scarce resource
    info.winogradMinTiles = 0;  // and so is flash
    info.libm = false;
    info.arenaAlign = 16;
  } else {
    // The host's own compiler driver links for the host; other Linux
    // targets use Debian's cross toolchain of the same triple name.
    std::string gnu = info.name;
    if (triple.isARM()) // armv7-linux-gnueabihf -> arm-linux-gnueabihf
      gnu = "arm" + gnu.substr(gnu.find('-'));
    info.link.driver = isHost ? kHostLinkDriver : gnu + "-gcc";
    info.link.libs = {"-lm", "-pthread"};
#ifdef KILN_HOST_LINK_FLAGS
    if (isHost) // e.g. "-fsanitize=address,undefined -fno-sanitize=vptr"
      for (llvm::StringRef flag :
           llvm::split(llvm::StringRef(KILN_HOST_LINK_FLAGS), ' '))
        info.link.libs.push_back(flag.str());
#endif
  }
  return info;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
kiln::createTargetMachine(const TargetInfo &info, unsigned optLevel) {
  initializeTargets();
  std::string error;
  llvm::Triple triple(info.triple);
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for '" + info.triple +
                                   "': " + error);
  llvm::TargetOptions options;
  // a * b + c may become one FMA (as with GCC's default, -ffp-contract=fast):
  // the polynomial approximations of exp, tanh and erf and every
  // multiply-add LLVM vectorizes run on FMAs instead of two ops each.
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  if (triple.isARM() || triple.isThumb())
    options.FloatABIType = llvm::FloatABI::Hard; // *-eabihf
  if (triple.isRISCV64())
    options.MCOptions.ABIName = "lp64d"; // Debian's riscv64: hard double
  auto level = optLevel == 0   ? llvm::CodeGenOptLevel::None
               : optLevel == 1 ? llvm::CodeGenOptLevel::Less
               : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                               : llvm::CodeGenOptLevel::Aggressive;
  // Bare-metal firmware is linked at fixed addresses: no PIC (and no GOT).
  auto reloc = info.bareMetal ? llvm::Reloc::Static : llvm::Reloc::PIC_;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, info.cpu, info.features, options, reloc, std::nullopt, level));
  if (!tm)
    return llvm::createStringError("cannot create a target machine for '" +
                                   info.triple + "'");
  return tm;
}

std::vector<std::string>
kiln::linkCommand(const TargetInfo &info, const std::vector<std::string> &objects,
                  const std::vector<std::string> &libs,
                  const std::string &output, bool shared) {
  std::vector<std::string> cmd{info.link.driver};
  if (shared)
    cmd.push_back("-shared");
  cmd.push_back("-o");
  cmd.push_back(output);
  cmd.insert(cmd.end(), objects.begin(), objects.end());
  cmd.insert(cmd.end(), libs.begin(), libs.end());
  cmd.insert(cmd.end(), info.link.libs.begin(), info.link.libs.end());
  return cmd;
}

bool kiln::isAllowedBareMetalSymbol(llvm::StringRef symbol) {
  if (symbol == "memcpy" || symbol == "memset" || symbol == "memmove")
    return true;
  // The ARM run-time ABI's names for the same three functions.
  return llvm::StringSwitch<bool>(symbol)
      .Cases({"__aeabi_memcpy", "__aeabi_memcpy4", "__aeabi_memcpy8"}, true)
      .Cases({"__aeabi_memmove", "__aeabi_memmove4", "__aeabi_memmove8"}, true)
      .Cases({"__aeabi_memset", "__aeabi_memset4", "__aeabi_memset8"}, true)
      .Cases({"__aeabi_memclr", "__aeabi_memclr4", "__aeabi_memclr8"}, true)
      .Default(false);
}
