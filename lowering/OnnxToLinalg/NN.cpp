//===- NN.cpp - lowering of more onnx ops -------------------------===//
#include "lowering/OnnxToLinalg/Common.h"

using namespace mlir;
using namespace kiln;
namespace kop = kiln::onnx;

void kiln::populateNNPatterns(RewritePatternSet &patterns) { (void)patterns; }
