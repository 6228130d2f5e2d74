// kiln check: the model's ops, inputs and outputs, and what blocks it.
// RUN: rm -rf %t && %python %S/Inputs/make_models.py %t
// RUN: kiln check %t/flatten_chain.onnx | FileCheck %s --check-prefix=OK
// RUN: not kiln check %t/unsupported.onnx | FileCheck %s --check-prefix=UNSUP
// RUN: not kiln check %t/bad_matmul.onnx | FileCheck %s --check-prefix=SHAPE
// RUN: not kiln check %t/unsupported.onnx --json | FileCheck %s --check-prefix=JSON
// RUN: not kiln check %t/garbage.onnx 2>&1 | FileCheck %s --check-prefix=GARBAGE

// OK: opsets: ai.onnx 13
// OK: inputs:
// OK-NEXT: x: float[N, 3, 4, 4]
// OK: ops: 6 types, 6 nodes
// OK: Concat 1 supported at opset 13
// OK: targets: every supported op lowers for each of x86_64-linux-gnu
// OK: result: compiles

// UNSUP: Relu 1 supported at opset 13
// UNSUP: StringNormalizer 2 NOT SUPPORTED at opset 13
// UNSUP: com.example.MyOp 1 NOT SUPPORTED at opset 1
// UNSUP: blocking:
// UNSUP-NEXT: node 'sn1' (StringNormalizer): not supported
// UNSUP: result: does not compile

// SHAPE: blocking:
// SHAPE-NEXT: 'onnx.MatMul' op inner dimensions differ: 3 and 4
// SHAPE: result: does not compile

// JSON: "op": "StringNormalizer",
// JSON-NEXT: "count": 2,
// JSON-NEXT: "opset": 13,
// JSON-NEXT: "supported": false,
// JSON: "compiles": false

// GARBAGE: error: '{{.*}}garbage.onnx' is not an ONNX model
