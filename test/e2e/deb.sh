#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` gives kiln_<version>_<arch>.deb whose
# Depends name LLVM/MLIR 22 and the rest (each installed here, so
# satisfiable), and whose tree, unpacked anywhere, compiles and runs a model.
# (CI also installs it with apt-get: .ci/run.)
set -euo pipefail
build=${KILN_BUILD_DIR:?}
src=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log"; fail "cpack"; }
version=$(grep -m1 -o 'CPACK_PACKAGE_VERSION "[^"]*"' "$build/CPackConfig.cmake" | cut -d'"' -f2)
deb="$work/kiln_${version}_$(dpkg --print-architecture).deb"
[[ -f "$deb" ]] || fail "no $deb: $(ls "$work")"
depends=$(dpkg-deb -f "$deb" Depends)
for need in libmlir-22 libllvm22 libprotobuf gcc; do
  grep -q "$need" <<<"$depends" || fail "Depends lacks $need: $depends"
done
for pkg in $(tr ',' '\n' <<<"$depends" | sed 's/(.*)//; s/ //g'); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || fail "dependency $pkg is not installed on this machine"
done
dpkg-deb -c "$deb" >"$work/contents"
grep -q "./usr/bin/kiln$" "$work/contents" || fail "no /usr/bin/kiln"
dpkg-deb -x "$deb" "$work/root"
kiln="$work/root/usr/bin/kiln"
"$kiln" --version | grep -q "^kiln $version " || fail "--version"
env -u KILN_RUNTIME_DIR "$kiln" compile "$src/examples/tinynet/model.onnx" -o "$work/tinynet"
"$work/tinynet" --output-dir "$work/out" "$src/examples/tinynet/input_0.pb" >/dev/null \
  || fail "the packaged kiln's executable"
echo "deb: $(basename "$deb") ok"
