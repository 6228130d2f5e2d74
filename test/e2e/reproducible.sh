#!/usr/bin/env bash
# Byte-identical outputs: each model compiled to every output kind twice,
# once from one folder with relative paths, once a second later from another
# folder reached through a symlink with absolute paths (and another TZ), must
# give the same bytes (object, archive, shared library, executable, header).
set -euo pipefail
kiln=${KILN:?}
data=/usr/share/libonnx-testdata/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a" "$work/b/real"
ln -s "$work/b/real" "$work/b/link"

models=("$(pwd)/examples/tinynet/model.onnx"
        "$data/node/test_lstm_defaults/model.onnx"
        "$data/pytorch-operator/test_operator_conv/model.onnx")
status=0
for model in "${models[@]}"; do
  [[ -f "$model" ]] || { echo "FAIL: $model missing"; exit 1; }
  for kind in obj staticlib so exe; do
    case $kind in
      obj) out=model.o;; staticlib) out=libmodel.a;; so) out=libmodel.so;;
      exe) out=model;;
    esac
    cp "$model" "$work/a/model.onnx"
    cp "$model" "$work/b/real/model.onnx"
    (cd "$work/a" && "$kiln" compile model.onnx --emit=$kind -o "$out" -O3)
    sleep 1
    (cd / && TZ=Asia/Tokyo "$kiln" compile "$work/b/link/model.onnx" \
       --emit=$kind -o "$work/b/link/$out" -O3)
    files=("$out")
    [[ $kind == exe ]] || files+=(model.h)
    for f in "${files[@]}"; do
      if ! cmp -s "$work/a/$f" "$work/b/real/$f"; then
        echo "FAIL: $model --emit=$kind: $f differs between the two builds"
        status=1
      fi
    done
    rm -f "$work"/a/* "$work"/b/real/*
  done
done
[[ $status == 0 ]] && echo "reproducible: ${#models[@]} models x 4 kinds identical"
exit $status
