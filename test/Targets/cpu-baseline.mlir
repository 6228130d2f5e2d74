// The default x86-64 CPU is a fixed baseline (x86-64-v3: AVX2 and FMA), so
// the same command gives the same object on any machine; AVX-512 (zmm
// registers) only when asked for.

// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=x86_64-linux-gnu --emit=obj -o %t.default.o
// RUN: llvm-objdump -d %t.default.o | FileCheck %s --check-prefix=BASE --implicit-check-not=zmm
// BASE: ymm

// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=x86_64-linux-gnu --cpu=x86-64-v4 --emit=obj -o %t.v4.o
// RUN: llvm-objdump -d %t.v4.o | FileCheck %s --check-prefix=AVX512
// AVX512: zmm

// Byte-identical: the same command twice gives the same object.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=x86_64-linux-gnu --emit=obj -o %t.again.o
// RUN: cmp %t.default.o %t.again.o
