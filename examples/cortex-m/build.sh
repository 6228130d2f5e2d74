#!/usr/bin/env bash
# Runs two Kiln-compiled models on a bare-metal Cortex-M under QEMU and checks
# their outputs against the same models compiled for the host.
#
#   bash examples/cortex-m/build.sh [m4|m33] [OUTDIR]
#
#   m4   Cortex-M4  (thumbv7em-none-eabihf),      QEMU board mps2-an386 (default)
#   m33  Cortex-M33 (thumbv8m.main-none-eabihf),  QEMU board mps2-an505
#
# Steps: make the models (make_models.py); compile and run them on the host
# for the expected outputs; turn inputs and expected outputs into C arrays
# (gen_data.py); compile the models for the microcontroller with kiln; link
# the firmware with arm-none-eabi-gcc (no C library); run it under
# qemu-system-arm, print a size table and exit with the firmware's status
# (0: all outputs match the host). Exits 77 (skipped) when the Arm toolchain
# or QEMU is missing.
#
# Environment: KILN (default build/bin/kiln), KILN_BUILD_DIR (default build),
# KILN_PYTHON (default /usr/bin/python3). OUTDIR defaults to
# $KILN_BUILD_DIR/examples/cortex-m/<m4|m33>.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
KILN=${KILN:-$BUILD/bin/kiln}
PY=${KILN_PYTHON:-/usr/bin/python3}
CORE=${1:-m4}
OUT=${2:-$BUILD/examples/cortex-m/$CORE}
MODELS=(mlp kws)

case "$CORE" in
  m4)  TARGET=thumbv7em-none-eabihf     CPU=cortex-m4  FPU=fpv4-sp-d16 BOARD=mps2-an386 ;;
  m33) TARGET=thumbv8m.main-none-eabihf CPU=cortex-m33 FPU=fpv5-sp-d16 BOARD=mps2-an505 ;;
  *) echo "usage: $0 [m4|m33] [OUTDIR]" >&2; exit 2 ;;
esac

for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool not found (Debian: apt-get install gcc-arm-none-eabi qemu-system-arm)"
    exit 77
  fi
done
if [[ ! -x "$KILN" ]]; then
  echo "error: kiln not found at $KILN (build it first: ninja -C build)" >&2
  exit 1
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/models" "$OUT/host" "$OUT/fw"
mkdir -p "$OUT/models" "$OUT/host" "$OUT/fw"

step() { echo "+ $*"; "$@"; }

# 1. The models and a sample input for each.
step "$PY" "$HERE/make_models.py" "$OUT/models"

# 2. The reference: each model compiled for and run on the host.
for m in "${MODELS[@]}"; do
  step "$KILN" compile "$OUT/models/$m.onnx" -o "$OUT/host/$m"
  step "$OUT/host/$m" "$OUT/models/${m}_input_0.pb" --output-dir "$OUT/host/${m}_out"
done

# 3. Inputs and expected outputs as C arrays.
specs=()
for m in "${MODELS[@]}"; do
  specs+=("$m:$OUT/models/${m}_input_0.pb:$OUT/host/${m}_out/output_0.pb")
done
step "$PY" "$HERE/gen_data.py" "$OUT/fw/model_data.c" "${specs[@]}"

# 4. The models compiled for the microcontroller: m.o (code in .text, weights
#    in .rodata) and the header m.h (entry point, arena size and alignment).
for m in "${MODELS[@]}"; do
  step "$KILN" compile "$OUT/models/$m.onnx" --target="$TARGET" --cpu="$CPU" \
    --name "$m" -o "$OUT/fw/$m.o"
done

#    kiln refuses to write an object that needs more than memcpy, memset and
#    memmove (or their ARM EABI names); check it here as well.
for m in "${MODELS[@]}"; do
  extra=$(arm-none-eabi-nm -u "$OUT/fw/$m.o" | awk '{ print $NF }' |
    grep -Ev '^(memcpy|memset|memmove|__aeabi_(memcpy|memmove|memset|memclr)[48]?)$' || true)
  if [[ -n $extra ]]; then
    echo "error: $m.o needs symbols beyond memcpy/memset/memmove: $extra" >&2
    exit 1
  fi
  echo "$m.o needs only: $(arm-none-eabi-nm -u "$OUT/fw/$m.o" | awk '{ print $NF }' | tr '\n' ' ')"
done

# 5. The firmware. Hard-float ABI, as the models were compiled; no C library
#    (-nostdlib): libc_min.c supplies memcpy and friends, libgcc the compiler
#    helpers. -fno-tree-loop-distribute-patterns keeps GCC from turning the
#    loops in libc_min.c back into calls to memcpy and memset.
ARCH=(-mcpu="$CPU" -mthumb -mfloat-abi=hard -mfpu="$FPU")
step arm-none-eabi-gcc "${ARCH[@]}" -std=c11 -Os -g -Wall -Wextra \
  -ffreestanding -fno-tree-loop-distribute-patterns \
  -ffunction-sections -fdata-sections \
  -I "$OUT/fw" -I "$BUILD/include" -I "$ROOT/runtime/include" \
  "$HERE/startup.c" "$HERE/semihosting.c" "$HERE/libc_min.c" "$HERE/main.c" \
  "$OUT/fw/model_data.c" "$OUT/fw/mlp.o" "$OUT/fw/kws.o" \
  -nostdlib -L "$HERE" -T "$HERE/$BOARD.ld" \
  -Wl,--gc-sections -Wl,-z,noexecstack -Wl,-Map="$OUT/fw/fw.map" -lgcc -o "$OUT/fw/fw.elf"

# 6. Run it. Semihosting carries the firmware's output and its exit status.
echo "+ timeout 120 qemu-system-arm -M $BOARD ... -kernel $OUT/fw/fw.elf"
set +e
timeout 120 qemu-system-arm -M "$BOARD" -nographic \
  -semihosting-config enable=on,target=native -kernel "$OUT/fw/fw.elf" \
  </dev/null 2>&1 | tee "$OUT/fw/run.log"
status=${PIPESTATUS[0]}
set -e
if [[ $status == 124 ]]; then
  echo "error: the firmware did not finish within 120 s" >&2
fi

# 7. Where the bytes go. `size -A` lists each section and its size.
section_bytes() { # FILE REGEX: total size of the sections whose name matches
  arm-none-eabi-size -A "$1" | awk -v re="$2" '$1 ~ re { s += $2 } END { print s + 0 }'
}
echo
echo "sizes for $CPU (bytes):"
printf '  %-6s %10s %10s %10s\n' model code weights arena
for m in "${MODELS[@]}"; do
  arena=$(awk -v n="${m^^}_ARENA_SIZE" '$1 == "#define" && $2 == n { print $3 }' "$OUT/fw/$m.h")
  printf '  %-6s %10d %10d %10s\n' "$m" "$(section_bytes "$OUT/fw/$m.o" '^\.text')" \
    "$(section_bytes "$OUT/fw/$m.o" '^\.rodata')" "${arena//[!0-9]/}"
done
elf=$OUT/fw/fw.elf
text=$(section_bytes "$elf" '^\.text$')
rodata=$(section_bytes "$elf" '^(\.rodata|\.ARM\.exidx)$')
data=$(section_bytes "$elf" '^\.data$')
bss=$(section_bytes "$elf" '^\.bss$')
stack=$(section_bytes "$elf" '^\.stack$')
echo "  firmware: flash $((text + rodata + data)) (text $text + rodata $rodata + data $data)"
echo "            RAM   $((data + bss + stack)) (data $data + bss $bss + stack $stack)"
hwm=$(sed -n 's/^stack high-water mark: \([0-9]*\) bytes.*/\1/p' "$OUT/fw/run.log")
echo "  stack high-water mark: ${hwm:-unknown} bytes"
echo

if [[ $status == 0 ]]; then
  echo "cortex-m example ($CORE, $BOARD): all outputs match the host"
else
  echo "cortex-m example ($CORE, $BOARD): FAILED (firmware status $status)" >&2
fi
exit "$status"
