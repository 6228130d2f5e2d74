//===- Check.h - kiln check: what a model needs, before compiling -*- C++ -*-===//
#ifndef KILN_COMPILER_DRIVER_CHECK_H
#define KILN_COMPILER_DRIVER_CHECK_H

#include <string>

namespace kiln {

struct CheckOptions {
  std::string input;
  bool json = false;
};

/// Reports a model's IR version, opsets, inputs and outputs, each op type
/// with its count and whether Kiln supports it, and what would stop it from
/// compiling (unsupported ops, then the importer's first error: attributes,
/// shapes). Exit status: 0 when the model imports (it would compile, but
/// for lowering limits the importer cannot see), 1 when it would not, 2 for
/// a file that is not an ONNX model.
int check(const CheckOptions &options);

} // namespace kiln

#endif // KILN_COMPILER_DRIVER_CHECK_H
