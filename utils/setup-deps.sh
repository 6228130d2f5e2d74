#!/usr/bin/env bash
# Installs everything Kiln needs to build and test on Debian 12 (bookworm with
# bookworm-security, which carries LLVM/MLIR 22). Safe to run again: when every
# package is already installed it does nothing (set KILN_FORCE_APT=1 to run apt
# anyway). Runs apt as root, through sudo when not root.
set -euo pipefail

PACKAGES=(
  # build tools
  cmake ninja-build g++ gcc make ccache git
  # the package and its consumers (ctest install, deb): pkg-config, Meson,
  # dpkg-shlibdeps and file (cpack's DEB dependencies)
  pkgconf meson dpkg-dev file
  # LLVM / MLIR 22
  llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 lld-22 llvm-22-tools
  libclang-rt-22-dev
  # libraries
  libprotobuf-dev protobuf-compiler libfmt-dev libcli11-dev libgtest-dev
  # ONNX schema and the backend conformance data
  libonnx-dev libonnx-testdata
  # other targets: cross C compilers (the runtime per target, linking) and
  # the emulators the cross tests run under
  gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-riscv64-linux-gnu
  libc6-dev-arm64-cross libc6-dev-armhf-cross libc6-dev-riscv64-cross
  gcc-arm-none-eabi
  qemu-user qemu-system-arm
  # Python helpers (for /usr/bin/python3)
  python3-onnx python3-numpy python3-torch python3-torchvision
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 && "${KILN_FORCE_APT:-0}" != 1 ]]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "error: setup-deps.sh must run as root (or with sudo available)" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "setup-deps: installing ${missing[*]:-${PACKAGES[*]}}"
# Wait for another apt/dpkg process rather than failing on its lock.
APT_OPTS=(-o DPkg::Lock::Timeout=900)
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${PACKAGES[@]}"
echo "setup-deps: done"
