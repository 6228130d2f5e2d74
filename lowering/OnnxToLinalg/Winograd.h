//===- Winograd.h - the F(4x4, 3x3) Winograd transforms ---------*- C++ -*-===//
//
// A 3x3 stride-1 convolution computed on 4x4 output tiles (Lavin & Gray,
// interpolation points 0, +-1, +-2, infinity):
//
//   Y = AT [ (G g G^T) * (BT d BT^T) ] AT^T       (* elementwise, 6x6)
//
// d is the 6x6 input window of a tile, g the 3x3 filter (cross-correlation,
// as ONNX Conv), Y the 4x4 output tile. Summed over input channels, the
// elementwise product becomes 36 independent matrix products
// U[xi] (M x C) x V[xi] (C x tiles): 36 multiply-adds per tile and channel
// pair instead of 144.
//
// Conv.cpp lowers such a Conv to two linalg.generic transforms around a
// linalg.batch_matmul of 36 (the generics are exact, if slow, alone);
// WinogradKernel.cpp replaces the generics by vectorized transforms that
// use the matrices' zeros and unit entries.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_LOWERING_ONNXTOLINALG_WINOGRAD_H
#define KILN_LOWERING_ONNXTOLINALG_WINOGRAD_H

namespace kiln::winograd {

/// Output tile size, input tile size.
constexpr int kOut = 4, kIn = 6;

/// The attribute marking the transform generics: "input" or "output".
constexpr const char *kAttr = "kiln.winograd";

constexpr double BT[kIn][kIn] = {
    {4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};

constexpr double G[kIn][3] = {{1.0 / 4, 0, 0},
                              {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                              {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                              {1.0 / 24, 1.0 / 12, 1.0 / 6},
                              {1.0 / 24, -1.0 / 12, 1.0 / 6},
                              {0, 0, 1}};

constexpr double AT[kOut][kIn] = {{1, 1, 1, 1, 1, 0},
                                  {0, 1, -1, 2, -2, 0},
                                  {0, 1, 1, 4, 4, 0},
                                  {0, 1, -1, 8, -8, 1}};

} // namespace kiln::winograd

#endif // KILN_LOWERING_ONNXTOLINALG_WINOGRAD_H
