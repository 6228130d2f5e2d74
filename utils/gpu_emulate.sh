#!/bin/sh
# Runs the ONNX backend tests through Kiln's NVIDIA GPU path on a machine
# without a GPU: each model compiled with --target=nvptx64-nvidia-cuda
# --gpu-emulate (the kernels as host code), run with the tests' fake CUDA
# driver, its outputs compared with the expected ones as for the CPU.
# Everything a GPU run goes through is exercised except the NVPTX code
# generation and the real driver: the mapping of loops to threads, the
# kernels after convert-gpu-to-nvvm, the launches, the weights blob, the
# device arena and the runtime's copies.
#
#   utils/gpu_emulate.sh [backend_tests.py options...]
#
# ctest's gpu_emulate runs it with --expected test/e2e/gpu_emulate_expected.txt.
# KILN_BUILD_DIR (default build) holds bin/kiln and lib/libkiln_fake_cuda.so.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KILN_BUILD_DIR:-$root/build}
driver=$build/lib/libkiln_fake_cuda.so
if [ ! -f "$driver" ]; then
  echo "error: $driver is missing (ninja -C $build kiln_fake_cuda)" >&2
  exit 1
fi
exec /usr/bin/python3 "$root/utils/backend_tests.py" --kiln "$build/bin/kiln" \
  --target nvptx64-nvidia-cuda --kiln-arg=--gpu-emulate \
  --runner "env KILN_CUDA_DRIVER=$driver" "$@"
