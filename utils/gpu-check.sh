#!/bin/sh
# The check of Kiln's NVIDIA GPU target on a machine with a GPU.
#
# That machine has nothing installed (no LLVM, no Python packages, no
# network) and is lent for minutes, so the work is split:
#
#   utils/gpu-check.sh prepare [gpu_check.py prepare options]   (here)
#       compiles the backend tests Kiln runs under --gpu-emulate, two zoo
#       models (GPU and CPU builds) and a 4096^3 MatMul into one program
#       with their inputs: build/gpu-check, under 64 MiB.
#   utils/gpu-check.sh run OUT                                    (there)
#       runs every model on the GPU, writes their outputs (OUT/outputs.tgz),
#       run.log, the timings (bench.log) and the GPU's name (gpu.txt).
#       Needs only the NVIDIA driver; stops itself within 7 minutes.
#   utils/gpu-check.sh compare OUT                                (here)
#       checks the outputs against the expected ones and prints the counts
#       and a table of timings (GPU vs Kiln's CPU build).
#   utils/gpu-check.sh self-test
#       all three here, with --gpu-emulate kernels under the fake CUDA
#       driver and a small MatMul: the check of this script.
#
# With the device tool: prepare, then run `utils/gpu-check.sh run $OUT`
# there with carry=["build/gpu-check"], then compare the files it returns.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
prepare)
  exec /usr/bin/python3 "$root/utils/gpu_check.py" prepare "$@" ;;
compare)
  exec /usr/bin/python3 "$root/utils/gpu_check.py" compare "$@" ;;
run)
  out=$(mkdir -p "${1:?usage: gpu-check.sh run OUT}" && cd "$1" && pwd)
  bundle=${KILN_GPU_CHECK_BUNDLE:-$root/build/gpu-check}
  work=$(mktemp -d)
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader ||
      echo "nvidia-smi failed"; } > "$out/gpu.txt" 2>&1
  cd "$bundle"
  t0=$(date +%s)
  timeout 360 ./suite run list.txt "$work" > "$out/run.log" 2>&1 ||
    echo "suite run: exit $? (a timeout is 124)" >> "$out/run.log"
  t1=$(date +%s)
  echo "threads $(nproc)" > "$out/bench.log"
  while read -r name runs; do
    [ -n "$name" ] || continue
    timeout 60 ./suite bench "$name" "$runs" "$(nproc)" ||
      echo "bench $name: exit $?"
  done < bench.txt >> "$out/bench.log" 2>&1
  t2=$(date +%s)
  echo "run $((t1 - t0)) s, bench $((t2 - t1)) s" >> "$out/run.log"
  tar czf "$out/outputs.tgz" -C "$work" .
  rm -rf "$work"
  tail -n 2 "$out/run.log"
  cat "$out/bench.log" ;;
self-test)
  build=${KILN_BUILD_DIR:-$root/build}
  bundle=$build/gpu-check-selftest
  out=$build/gpu-check-selftest-out
  rm -rf "$out"
  /usr/bin/python3 "$root/utils/gpu_check.py" prepare --emulate --bundle "$bundle" \
    --kiln "$build/bin/kiln" --build "$build" --gemm 64 --runs 2 "$@"
  KILN_CUDA_DRIVER=$build/lib/libkiln_fake_cuda.so KILN_GPU_CHECK_BUNDLE=$bundle \
    sh "$0" run "$out" > /dev/null
  exec /usr/bin/python3 "$root/utils/gpu_check.py" compare --bundle "$bundle" "$out" ;;
*)
  echo "usage: gpu-check.sh prepare|run OUT|compare OUT|self-test" >&2
  exit 2 ;;
esac
