//===- fuzz_import.cpp - libFuzzer target: the importer -------------------===//
//
// The bytes as a .onnx file: protobuf parsing, the importer's checks (IR
// version, opsets, names, types, attributes, external data), the onnx
// dialect's verifiers and shape inference, then the module's verifier. Any
// result is fine but a crash, a sanitizer report, a hang or a module that
// does not verify after a successful import. Built by utils/fuzz.sh in a
// separate build with -DKILN_FUZZ=ON (clang, ASan, UBSan).
//
//===----------------------------------------------------------------------===//
#include "compiler/import/Importer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    // Errors are the expected outcome for most inputs: keep them quiet.
    c->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
    return c;
  }();
  static const std::string path =
      "/tmp/kiln_fuzz_import." + std::to_string(getpid()) + ".onnx";
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    std::abort();
  if (size && std::fwrite(data, 1, size, f) != size)
    std::abort();
  std::fclose(f);
  kiln::ImportOptions options;
  auto model = kiln::importOnnxFile(*ctx, path, options);
  if (mlir::succeeded(model) && model->module &&
      mlir::failed(mlir::verify(*model->module)))
    std::abort(); // imported, yet not valid IR: a bug
  return 0;
}
