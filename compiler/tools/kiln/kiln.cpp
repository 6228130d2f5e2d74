//===- kiln.cpp - the kiln command line -----------------------------------===//
//
//   kiln compile model.onnx -o model.so [--emit=...] [--name=...] [-O3] ...
//   kiln --version
//
//===----------------------------------------------------------------------===//
#include "compiler/driver/Check.h"
#include "compiler/driver/Driver.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <iostream>

int main(int argc, char **argv) {
  CLI::App app{"Kiln: compiles ONNX models to native code"};
  app.set_version_flag("--version", kiln::versionString());
  app.require_subcommand(1);
  CLI::App *compileCmd = app.add_subcommand("compile", "compile an ONNX model");
  CLI::App *checkCmd = app.add_subcommand(
      "check", "report what a model needs and whether Kiln compiles it");
  kiln::CheckOptions checkOptions;
  checkCmd->add_option("model", checkOptions.input, "the .onnx file")->required();
  checkCmd->add_flag("--json", checkOptions.json, "print JSON");

  kiln::CompileOptions options;
  std::string emit, compileTo;
  std::vector<std::string> dims, maxDims;
  std::string maxArena;
  unsigned optLevel = 2;
  compileCmd->add_option("model", options.input, "the .onnx file")->required();
  compileCmd->add_option("-o,--output", options.output, "output file (- with --compile-to: standard output)");
  compileCmd
      ->add_option("--emit", emit,
                   "obj, staticlib, so, exe, or ptx (the GPU kernels of "
                   "--target=nvptx64-nvidia-cuda) (default: from -o's "
                   "extension)")
      ->check(CLI::IsMember({"obj", "staticlib", "so", "exe", "ptx"}));
  compileCmd->add_option("--name", options.name,
                         "symbol prefix of the generated API (default: the "
                         "model's file name)");
  compileCmd->add_option("-O", optLevel, "optimization level: -O0 to -O3")
      ->check(CLI::Range(0u, 3u));
  compileCmd
      ->add_option("--compile-to", compileTo,
                   "stop after a phase and print its IR: onnx, linalg, memref, "
                   "llvm (the LLVM dialect) or llvm-ir (optimized LLVM IR)")
      ->check(CLI::IsMember({"onnx", "linalg", "memref", "llvm", "llvm-ir"}));
  compileCmd->add_option(
      "--target", options.target,
      "target triple: x86_64-linux-gnu, aarch64-linux-gnu, "
      "armv7-linux-gnueabihf, riscv64-linux-gnu, thumbv7em-none-eabihf, "
      "thumbv8m.main-none-eabihf (default: the host)");
  compileCmd->add_option("--cpu", options.cpu,
                         "target CPU (default: the target's baseline, e.g. "
                         "x86-64-v3; native: this machine's CPU)");
  compileCmd->add_option("--cc", options.linker,
                         "C compiler driver that links executables and shared "
                         "libraries (default: the target's, e.g. cc or "
                         "aarch64-linux-gnu-gcc)");
  compileCmd->add_flag("--print-pipeline", options.printPipeline,
                       "print the pass pipeline (for kiln-opt "
                       "--pass-pipeline=...) and exit");
  compileCmd->add_option("--dim", dims,
                         "value of a symbolic input dimension, NAME=N "
                         "(repeatable)");
  compileCmd->add_option("--max-dim", maxDims,
                         "largest value a symbolic input dimension left "
                         "symbolic accepts, NAME=N (repeatable): one arena of "
                         "fixed size; without it the arena's size is "
                         "computed from the input shapes");
  compileCmd->add_option("--max-arena", maxArena,
                         "largest arena (scratch memory) a model may need, "
                         "e.g. 512M, 8G (default 4G); a larger plan is an "
                         "error");
  compileCmd->add_flag("--time", options.timing,
                       "print the time each phase takes");
  compileCmd->add_option(
      "--gpu-host", options.gpuHost,
      "GPU targets: the triple the host code is for (default: "
      "aarch64-linux-gnu for --cpu=sm_87, the Jetson Orin; else this "
      "machine's)");
  compileCmd
      ->add_flag("--gpu-emulate", options.gpuEmulate,
                 "for testing without a GPU: the GPU target's kernels as "
                 "host code, run one thread at a time by the tests' fake "
                 "CUDA driver (KILN_CUDA_DRIVER=.../libkiln_fake_cuda.so)")
      ->group("");
  bool depDefault = false;
  compileCmd->add_option("--depfile,--MF", options.depFile,
                         "write a Make-style depfile (the output depends on "
                         "the model, its external data and kiln); also -MF "
                         "FILE, as a C compiler takes it");
  compileCmd->add_flag("--MD", depDefault,
                       "write the depfile to OUTPUT.d (also -MD)");

  // -MD and -MF as a C compiler spells them (CLI11 takes one-letter short
  // options only).
  std::vector<std::string> args(argv, argv + argc);
  for (std::string &a : args)
    if (a == "-MD" || a == "-MF")
      a = "-" + a;
  std::vector<char *> argp;
  for (std::string &a : args)
    argp.push_back(a.data());

  try {
    app.parse((int)argp.size(), argp.data());
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0)
      return app.exit(e);
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  if (checkCmd->parsed())
    return kiln::check(checkOptions);

  if (!emit.empty())
    options.emit = emit == "obj"         ? kiln::EmitKind::Object
                   : emit == "staticlib" ? kiln::EmitKind::StaticLib
                   : emit == "so"        ? kiln::EmitKind::SharedLib
                   : emit == "ptx"       ? kiln::EmitKind::Ptx
                                         : kiln::EmitKind::Executable;
  else
    options.emit = kiln::emitKindForPath(options.output);
  options.optLevel = optLevel;
  if (!compileTo.empty())
    options.stopAfter = compileTo == "onnx"     ? kiln::Phase::Onnx
                        : compileTo == "linalg" ? kiln::Phase::Linalg
                        : compileTo == "memref" ? kiln::Phase::Memref
                        : compileTo == "llvm"   ? kiln::Phase::LLVM
                                                : kiln::Phase::LLVMIR;
  else if (options.output.empty() && !options.printPipeline) {
    std::cerr << "error: no output file: pass -o FILE\n";
    return 2;
  }
  if (!options.name.empty()) {
    bool ok = !std::isdigit((unsigned char)options.name[0]);
    for (char c : options.name)
      ok &= std::isalnum((unsigned char)c) || c == '_';
    if (!ok) {
      std::cerr << "error: --name must be a C identifier (letters, digits, "
                   "'_', not starting with a digit), got '"
                << options.name << "'\n";
      return 2;
    }
  }
  auto parseDims = [](const std::vector<std::string> &list, const char *flag,
                      long long min, std::map<std::string, int64_t> &out) {
    for (const std::string &d : list) {
      auto eq = d.find('=');
      char *end = nullptr;
      long long v = eq == std::string::npos
                        ? -1
                        : std::strtoll(d.c_str() + eq + 1, &end, 10);
      if (eq == std::string::npos || eq == 0 || !end || *end || v < min) {
        std::cerr << "error: " << flag << " expects NAME=N with N >= " << min
                  << ", got '" << d << "'\n";
        return false;
      }
      out[d.substr(0, eq)] = v;
    }
    return true;
  };
  if (!parseDims(dims, "--dim", 0, options.dims) ||
      !parseDims(maxDims, "--max-dim", 1, options.maxDims))
    return 2;
  for (const auto &[name, max] : options.maxDims)
    if (options.dims.count(name)) {
      std::cerr << "error: '" << name
                << "' has both --dim and --max-dim: give one\n";
      return 2;
    }

  if (!maxArena.empty()) {
    // N, or N with a K, M or G suffix (powers of 1024).
    char *end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(maxArena.c_str(), &end, 10);
    int shift = 0;
    if (end && *end) {
      shift = *end == 'K' || *end == 'k'   ? 10
              : *end == 'M' || *end == 'm' ? 20
              : *end == 'G' || *end == 'g' ? 30
                                           : -1;
      ++end;
    }
    if (maxArena[0] == '-' || errno || end == maxArena.c_str() || *end ||
        shift < 0 || v == 0 || v > (~0ull >> shift)) {
      std::cerr << "error: --max-arena expects a byte count such as 4096, "
                   "512M or 8G, got '"
                << maxArena << "'\n";
      return 2;
    }
    options.maxArena = v << shift;
  }

  if (depDefault && options.depFile.empty()) {
    if (options.output.empty()) {
      std::cerr << "error: -MD needs an output file (-o FILE)\n";
      return 2;
    }
    options.depFile = options.output + ".d";
  }
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv[0], reinterpret_cast<void *>(&main));
  options.compilerPath = exe;
  if (const char *dir = std::getenv("KILN_RUNTIME_DIR")) {
    options.runtimeDir = dir;
  } else {
    // Installed: <prefix>/lib/kiln; in the build tree: build/lib.
    llvm::SmallString<256> libDir(llvm::sys::path::parent_path(
        llvm::sys::path::parent_path(exe)));
    llvm::sys::path::append(libDir, "lib");
    llvm::SmallString<256> installed(libDir);
    llvm::sys::path::append(installed, "kiln");
    options.runtimeDir = std::string(
        llvm::sys::fs::is_directory(installed) ? installed : libDir);
  }
  return kiln::compile(options);
}
