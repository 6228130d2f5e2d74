//===- Importer.h - ONNX protobuf to the onnx dialect -----------*- C++ -*-===//
#ifndef KILN_COMPILER_IMPORT_IMPORTER_H
#define KILN_COMPILER_IMPORT_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace kiln {

struct ImportOptions {
  /// Values for symbolic dimensions (dim_param), by name.
  llvm::StringMap<int64_t> dimValues;
  /// Tensors with more elements than this become dense_resource blobs that
  /// reference the model's bytes instead of copies in the IR.
  int64_t resourceThreshold = 1024;
};

/// An imported model: the module and the memory its weights live in. The
/// module's dense_resource blobs point into `proto` and `externalData`, so
/// keep this alive as long as the module.
struct ImportedModel {
  ImportedModel();
  ~ImportedModel();
  ImportedModel(ImportedModel &&);
  std::unique_ptr<onnx::ModelProto> proto;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> externalData;
  /// The external-data files read, each once, as the model's folder joined
  /// with the location the model gives (what a build system's depfile
  /// lists).
  std::vector<std::string> externalFiles;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// Reads `path` and builds a module holding one function `@main_graph` in
/// the onnx dialect, with shapes inferred and shape arithmetic folded.
/// Errors (unreadable file, not ONNX, unsupported ops: all listed at once)
/// are emitted as diagnostics on `ctx` and yield failure.
mlir::FailureOr<ImportedModel> importOnnxFile(mlir::MLIRContext &ctx,
                                              llvm::StringRef path,
                                              const ImportOptions &options);

/// Resolves an external-data location against the model's folder; rejects
/// absolute paths, `..` components and links that leave the folder.
/// Returns the path or an error message (prefixed "error:").
std::string resolveExternalDataPath(llvm::StringRef modelDir,
                                    llvm::StringRef location, bool &ok);

} // namespace kiln

#endif // KILN_COMPILER_IMPORT_IMPORTER_H
