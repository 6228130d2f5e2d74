#!/usr/bin/env bash
# Runs a cross-target test command when the target can be tested here: its
# runtime was built (build/lib/<triple>/, which needs the cross C compiler)
# and its qemu-user emulator is installed; exits 77 (ctest's skip) otherwise.
#
# usage: cross.sh TRIPLE WHAT COMMAND...
set -uo pipefail
triple=$1 what=$2
shift 2
BUILD=${KILN_BUILD_DIR:-build}
case $triple in
  aarch64-*) emulator=qemu-aarch64 ;;
  armv7-*) emulator=qemu-arm ;;
  riscv64-*) emulator=qemu-riscv64 ;;
  *) echo "cross.sh: unknown target $triple" >&2; exit 2 ;;
esac
if [[ ! -f $BUILD/lib/$triple/libkiln_runtime.a ]]; then
  echo "SKIP $what for $triple: no runtime in $BUILD/lib/$triple (install its cross compiler, then rebuild)"
  exit 77
fi
if ! command -v "$emulator" >/dev/null; then
  echo "SKIP $what for $triple: $emulator not installed (qemu-user)"
  exit 77
fi
exec "$@"
