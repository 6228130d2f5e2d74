// kiln-opt replays exactly what `kiln compile` runs: the LLVM dialect of
// --compile-to=llvm equals, byte for byte, kiln-opt's --kiln-pipeline (with
// the same target, CPU and -O) and the --print-pipeline text run on the
// --compile-to=onnx output.

// RUN: kiln compile %S/../../examples/tinynet/model.onnx --compile-to=onnx -o %t.onnx.mlir

// The host's default.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --compile-to=llvm -o %t.host.mlir
// RUN: kiln-opt %t.onnx.mlir --kiln-pipeline -o %t.host.replay.mlir
// RUN: diff %t.host.mlir %t.host.replay.mlir

// A Linux board at -O3.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=aarch64-linux-gnu --cpu=cortex-a72 -O3 --compile-to=llvm -o %t.a64.mlir
// RUN: kiln-opt %t.onnx.mlir --kiln-pipeline="target=aarch64-linux-gnu cpu=cortex-a72 opt-level=3" -o %t.a64.replay.mlir
// RUN: diff %t.a64.mlir %t.a64.replay.mlir

// A microcontroller, through the printed pipeline text.
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=thumbv7em-none-eabihf --compile-to=llvm -o %t.m4.mlir
// RUN: kiln compile %S/../../examples/tinynet/model.onnx --target=thumbv7em-none-eabihf --print-pipeline > %t.m4.pipeline
// RUN: FileCheck %s --check-prefix=M4 < %t.m4.pipeline
// RUN: bash -c 'kiln-opt %t.onnx.mlir --pass-pipeline="$(cat %t.m4.pipeline)" -o %t.m4.replay.mlir'
// RUN: diff %t.m4.mlir %t.m4.replay.mlir

// The target's facts reach the passes: a 4x4 scalar register tile, a
// 16-byte arena, 32-bit indices, inline math checked, no threads, no
// prefetches.
// M4: builtin.module(
// M4-SAME: kiln-tile-contractions{allow-padding=false kc=256 mc=64 min-tiles=1 mr=4 nc=64 nr=4 prefetch-weights=false vector-width=1}
// M4-SAME: kiln-plan-arena{alignment=16 index-bits=32 status-in-arena=false}
// M4-SAME: kiln-set-index-bitwidth{bitwidth=32}
// M4-SAME: kiln-approximate-math{all-functions=true}
// M4-SAME: kiln-check-inline-math{double-precision=false target=thumbv7em-none-eabihf}
// M4-NOT: kiln-outline-parallel
// M4-NOT: kiln-lower-parallel-dispatch
