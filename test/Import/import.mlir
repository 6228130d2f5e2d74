// RUN: rm -rf %t && %python %S/Inputs/make_models.py %t
// RUN: kiln compile %t/flatten_chain.onnx --dim N=2 --compile-to=onnx | FileCheck %s --check-prefix=CHAIN
// RUN: kiln compile %t/conv_weights.onnx --compile-to=onnx | FileCheck %s --check-prefix=CONV
// RUN: kiln compile %t/external_ok.onnx --compile-to=onnx | FileCheck %s --check-prefix=EXT
// RUN: not kiln compile %t/unsupported.onnx -o %t/u 2>&1 | FileCheck %s --check-prefix=UNSUP
// RUN: not kiln compile %t/bad_matmul.onnx -o %t/b 2>&1 | FileCheck %s --check-prefix=NODE
// RUN: not kiln compile %t/external_escape.onnx -o %t/e 2>&1 | FileCheck %s --check-prefix=ESCAPE
// RUN: not kiln compile %t/garbage.onnx -o %t/g 2>&1 | FileCheck %s --check-prefix=GARBAGE
// RUN: not kiln compile %t/truncated.onnx -o %t/t 2>&1 | FileCheck %s --check-prefix=GARBAGE
// RUN: not kiln compile %t/missing.onnx -o %t/m 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: kiln compile %t/flatten_chain.onnx -o %t/dyn && %t/dyn --info | FileCheck %s --check-prefix=DYN
// RUN: kiln compile %t/flatten_chain.onnx --max-dim N=5 -o %t/dyn5 && %t/dyn5 --info | FileCheck %s --check-prefix=MAX
// RUN: kiln compile %t/batch_mix.onnx -o %t/x && %t/x --info | FileCheck %s --check-prefix=MIX
// RUN: kiln compile %t/seq_dim.onnx -o %t/s && %t/s --info | FileCheck %s --check-prefix=SEQ
// RUN: kiln compile %t/seq_dim.onnx --max-dim S=16 -o %t/seq && %t/seq --info | FileCheck %s --check-prefix=SEQMAX
// RUN: not kiln compile %t/flatten_chain.onnx --max-dim M=5 -o %t/f 2>&1 | FileCheck %s --check-prefix=BADMAX
// RUN: kiln compile %t/flatten_chain.onnx --compile-to=onnx | FileCheck %s --check-prefix=PARAMS
// RUN: not kiln compile %t/flatten_chain.onnx --dim n=2 -o %t/f 2>&1 | FileCheck %s --check-prefix=BADDIM
// RUN: kiln compile %t/two_dims.onnx -o %t/two && %t/two %t/three.npy %t/three.npy --output-dir %t/two_ok
// RUN: not %t/two %t/three.npy %t/four.npy --output-dir %t/two_ab 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not %t/two %t/four.npy %t/four.npy --output-dir %t/two_c 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not ls %t/u %t/b %t/e %t/g %t/t %t/m %t/f

// The shape chain folds away; the batch comes from --dim.
// CHAIN: module attributes {onnx.opset = 13 : i64, onnx.opset_imports = {ai.onnx = 13 : i64, com.example = 1 : i64}}
// CHAIN: func.func @main_graph(%[[X:[a-z0-9]+]]: tensor<2x3x4x4xf32> {onnx.name = "x"}{{.*}}) -> (tensor<2x48xf32> {onnx.name = "z"})
// CHAIN-NEXT: %[[S:.*]] = onnx.Constant(dense<[2, -1]> : tensor<2xi64>)
// CHAIN-NEXT: %[[R:.*]] = onnx.Reshape %[[X]], %[[S]] {{.*}} loc(#[[RESHAPE:.*]])
// CHAIN-NEXT: onnx.Relu %[[R]]
// CHAIN: #[[RESHAPE]] = loc("reshape"

// Weights over the threshold are resource blobs; attributes keep their kinds.
// CONV: onnx.Constant(dense_resource<w> : tensor<16x8x3x3xf32>)
// CONV: onnx.Constant(dense<{{.*}}> : tensor<16xf32>)
// CONV: onnx.Conv {{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
// CONV-SAME: -> tensor<1x16x6x6xf32>
// CONV: onnx.LeakyRelu {{.*}} {alpha = 2.000000e-01 : f32}

// EXT: onnx.Constant(dense_resource<w> : tensor<32x64xf32>)
// EXT: onnx.MatMul {{.*}} -> tensor<1x64xf32>

// UNSUP: error: unsupported ops: StringNormalizer (opset 13) at nodes 'sn1', 'sn2'; com.example.MyOp (opset 1) at node 'custom1'
// NODE: error: node 'proj': 'onnx.MatMul' op inner dimensions differ: 3 and 4
// ESCAPE: error: {{.*}}external data location '../escape.bin' leaves the model's folder
// GARBAGE: error: {{.*}}is not an ONNX model
// MISSING: error: '{{.*}}missing.onnx' does not exist
// A batch dim left symbolic (the model computes each sample on its own):
// one executable for every batch size, up to a bound with --max-dim. The
// name is kept on the input (onnx.dim_params).
// DYN: inputs: 1
// DYN-NEXT: 0: x float32[N,3,4,4]
// DYN: 0: z float32[N,48]
// DYN-NEXT: dim N: any size
// MAX: dim N: 0 to 5
// A symbolic dim that is not a batch the model splits (the ReduceSum sums
// across samples), or not dim 0, and has no bound: dynamic shapes, and an
// arena whose size P_shapes computes from the dims.
// MIX: 0: x float32[N,4]
// MIX: 0: y float32[1,4]
// MIX-NEXT: dim N: any size
// MIX-NEXT: arena: sized by the input shapes (align {{[0-9]+}})
// SEQ: 0: x float32[1,S,4]
// SEQ: 0: y float32[1,S,4]
// SEQ-NEXT: dim S: any size
// SEQ-NEXT: arena: sized by the input shapes
// With a bound, any symbolic dim is compiled with dynamic shapes, its
// buffers planned at the bound.
// SEQMAX: 0: x float32[1,S,4]
// SEQMAX: 0: y float32[1,S,4]
// SEQMAX-NEXT: dim S: 0 to 16
// Dims that the ops take to be equal are checked before the run: A and B
// meet in a broadcast, and A meets the constant's 3.
// TWO: error: model 'two_dims' does not accept these input shapes: tensor shape mismatch (status 6)
// BADMAX: error: --max-dim names 'M', which no input dimension left symbolic has
// PARAMS: func.func @main_graph(%{{.*}}: tensor<?x3x4x4xf32> {onnx.dim_params = ["N", "", "", ""], onnx.name = "x"}

// A --dim that names no symbolic dimension of the inputs (a typo: the
// model's is N) is refused rather than ignored.
// BADDIM: error: {{.*}}--dim n: the model's inputs have no symbolic dimension of that name (they have: N)
