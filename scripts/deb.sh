#!/usr/bin/env bash
# make deb: the Debian package of a Checkpoint unit (and hub), built with
# nfpm (a Go tool of this module: `go tool nfpm`).
#
# Contents: the three binaries, the face models, the systemd units, a
# commented example configuration as /etc/checkpoint/checkpointd.yaml (a
# dpkg conffile: a changed one is never overwritten), man pages (generated
# from checkpointctl's command tree, plus checkpointd(8) and
# checkpoint-hub(8)), shell completions, and maintainer scripts that create
# the checkpoint and checkpoint-hub system users.
#
# Environment: OUT (default bin/), VERSION (git describe), BUILDFLAGS
# (default -trimpath), LDFLAGS, BINDIR (prebuilt binaries; default: build
# them into the staging directory), MODELS_DIR (default models/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
GO=${GO:-go}
OUT=$(mkdir -p "${OUT:-bin}" && cd "${OUT:-bin}" && pwd)
MODELS_DIR=${MODELS_DIR:-models}
VERSION=${VERSION:-$(git describe --tags --match 'v[0-9]*' --always --dirty 2>/dev/null || echo dev)}
BUILDFLAGS=${BUILDFLAGS--trimpath}
BI=github.com/checkpoint-edge/checkpoint/internal/buildinfo
LDFLAGS=${LDFLAGS:-"-X $BI.version=$VERSION -X $BI.commit=$(git rev-parse HEAD 2>/dev/null) -X $BI.date=$(TZ=UTC0 git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"}

# Debian versions start with a digit: v1.4.0 → 1.4.0, a bare commit
# 1a2b3c4 → 0.0~git1a2b3c4 (sorts before any release).
case "$VERSION" in
v[0-9]* | [0-9]*.*) DEBVER=${VERSION#v} ;;
*) DEBVER="0.0~git$VERSION" ;;
esac
DEBVER=${DEBVER//-/.}

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/checkpoint-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

for f in dlib_face_recognition_resnet_model_v1.dat mmod_human_face_detector.dat SHA256SUMS; do
	[[ -s "$MODELS_DIR/$f" ]] || { echo "deb: $MODELS_DIR/$f missing: run make models" >&2; exit 1; }
done

if [[ -n "${BINDIR:-}" ]]; then
	cp "$BINDIR"/checkpointd "$BINDIR"/checkpointctl "$BINDIR"/checkpoint-hub "$STAGE/"
else
	# shellcheck disable=SC2086 # BUILDFLAGS is a list of flags
	"$GO" build $BUILDFLAGS -ldflags "$LDFLAGS" -o "$STAGE/" ./cmd/checkpointd ./cmd/checkpointctl ./cmd/checkpoint-hub
fi

# Man pages and completions, from the binary that ships.
mkdir -p "$STAGE/man1" "$STAGE/man8" "$STAGE/completions"
"$STAGE/checkpointctl" gen-man "$STAGE/man1" >/dev/null
cp packaging/man/*.8 "$STAGE/man8/"
gzip -9n "$STAGE"/man1/*.1 "$STAGE"/man8/*.8
"$STAGE/checkpointctl" completion bash >"$STAGE/completions/checkpointctl.bash"
"$STAGE/checkpointctl" completion zsh >"$STAGE/completions/_checkpointctl"
"$STAGE/checkpointctl" completion fish >"$STAGE/completions/checkpointctl.fish"

# The units and the example configs as installed by make install use
# /usr/local; a package installs into /usr.
mkdir -p "$STAGE/etc"
for f in systemd/checkpointd.service systemd/checkpoint-hub.service configs/desk.yaml configs/egate.yaml; do
	sed -e 's#/usr/local/bin/#/usr/bin/#g' -e 's#/usr/local/share/#/usr/share/#g' "$f" >"$STAGE/etc/$(basename "$f")"
done

# Runtime dependencies: the packages that own the shared libraries the
# binaries link directly (their ELF NEEDED entries, as dpkg-shlibdeps
# finds them), plus data and services.
deps=$(for b in "$STAGE"/checkpointd "$STAGE"/checkpointctl "$STAGE"/checkpoint-hub; do
	needed=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	ldd "$b" | awk -v n=" $(echo $needed) " '$2 == "=>" && $3 ~ /^\// && index(n, " " $1 " ") {print $3}'
done | sort -u | while read -r lib; do
	dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u)
{
	cat <<EOF
name: checkpoint
arch: amd64
platform: linux
version: "$DEBVER"
version_schema: none
section: net
priority: optional
maintainer: "Checkpoint engineering <checkpoint@example.invalid>"
description: |-
  Border-control lane daemon for passport-control desks and e-gates
  checkpointd reads the passport's MRZ from a serial scanner and its chip
  through PC/SC, takes the traveller's face from a USB camera, matches
  document, person and face against a local encrypted watchlist, shows the
  decision to the officer or the gate, and queues every result for
  headquarters. checkpointctl is the technician's tool; checkpoint-hub the
  reference headquarters service.
vendor: Checkpoint
homepage: https://example.invalid/checkpoint
license: Proprietary
depends:
EOF
	for d in $deps libdlib-data; do echo "  - $d"; done
	cat <<EOF
recommends:
  - pcscd
  - systemd
scripts:
  preinstall: $ROOT/packaging/scripts/preinst
  postinstall: $ROOT/packaging/scripts/postinst
  preremove: $ROOT/packaging/scripts/prerm
  postremove: $ROOT/packaging/scripts/postrm
contents:
  - {src: $STAGE/checkpointd, dst: /usr/bin/checkpointd, file_info: {mode: 0755}}
  - {src: $STAGE/checkpointctl, dst: /usr/bin/checkpointctl, file_info: {mode: 0755}}
  - {src: $STAGE/checkpoint-hub, dst: /usr/bin/checkpoint-hub, file_info: {mode: 0755}}
  - {src: $ROOT/$MODELS_DIR/dlib_face_recognition_resnet_model_v1.dat, dst: /usr/share/checkpoint/models/dlib_face_recognition_resnet_model_v1.dat, file_info: {mode: 0644}}
  - {src: $ROOT/$MODELS_DIR/mmod_human_face_detector.dat, dst: /usr/share/checkpoint/models/mmod_human_face_detector.dat, file_info: {mode: 0644}}
  - {src: $ROOT/$MODELS_DIR/SHA256SUMS, dst: /usr/share/checkpoint/models/SHA256SUMS, file_info: {mode: 0644}}
  - {src: $STAGE/etc/checkpointd.service, dst: /lib/systemd/system/checkpointd.service, file_info: {mode: 0644}}
  - {src: $STAGE/etc/checkpoint-hub.service, dst: /lib/systemd/system/checkpoint-hub.service, file_info: {mode: 0644}}
  - {dst: /etc/checkpoint, type: dir, file_info: {mode: 0750, owner: root, group: checkpoint}}
  - {src: $STAGE/etc/desk.yaml, dst: /etc/checkpoint/checkpointd.yaml, type: config|noreplace, file_info: {mode: 0640, owner: root, group: checkpoint}}
  - {src: $STAGE/etc/desk.yaml, dst: /usr/share/doc/checkpoint/examples/desk.yaml, file_info: {mode: 0644}}
  - {src: $STAGE/etc/egate.yaml, dst: /usr/share/doc/checkpoint/examples/egate.yaml, file_info: {mode: 0644}}
  - {src: $ROOT/README.md, dst: /usr/share/doc/checkpoint/README.md, file_info: {mode: 0644}}
  - {src: $STAGE/completions/checkpointctl.bash, dst: /usr/share/bash-completion/completions/checkpointctl, file_info: {mode: 0644}}
  - {src: $STAGE/completions/_checkpointctl, dst: /usr/share/zsh/vendor-completions/_checkpointctl, file_info: {mode: 0644}}
  - {src: $STAGE/completions/checkpointctl.fish, dst: /usr/share/fish/vendor_completions.d/checkpointctl.fish, file_info: {mode: 0644}}
EOF
	for f in "$STAGE"/man1/*.gz; do
		echo "  - {src: $f, dst: /usr/share/man/man1/$(basename "$f"), file_info: {mode: 0644}}"
	done
	for f in "$STAGE"/man8/*.gz; do
		echo "  - {src: $f, dst: /usr/share/man/man8/$(basename "$f"), file_info: {mode: 0644}}"
	done
} >"$STAGE/nfpm.yaml"

deb="$OUT/checkpoint_${DEBVER}_amd64.deb"
rm -f "$deb"
"$GO" tool nfpm package --config "$STAGE/nfpm.yaml" --packager deb --target "$deb" >/dev/null
echo "$deb"
