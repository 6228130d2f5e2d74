//===- NNOps.cpp - verifiers and shape inference of more onnx ops -===//
#include "dialects/onnx/OnnxDialect.h"
#include "dialects/onnx/ShapeHelpers.h"

using namespace mlir;
using namespace kiln::onnx;
