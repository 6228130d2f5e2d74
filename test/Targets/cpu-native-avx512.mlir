// On an AVX-512 machine, only --cpu=native (not the default) uses zmm.
// REQUIRES: host-avx512

// RUN: kiln compile %S/../../examples/tinynet/model.onnx --emit=obj -o %t.default.o
// RUN: llvm-objdump -d %t.default.o | FileCheck %s --check-prefix=BASE --implicit-check-not=zmm
// BASE: ymm
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --cpu=native --emit=obj -o %t.native.o
// RUN: llvm-objdump -d %t.native.o | FileCheck %s --check-prefix=NATIVE
// NATIVE: zmm
