#!/usr/bin/env bash
# make build: compile the three binaries into bin/, and say what is going
# on while it takes long. The first build on a machine compiles the C++
# side of gocv (OpenCV bindings) and of our dlib binding through cgo: about
# 10–15 minutes on 2 cores, with no output from the Go tool meanwhile.
# Later builds reuse Go's build cache and take seconds.
#
# Usage: scripts/build.sh OUTDIR LDFLAGS [go build flags...]
set -euo pipefail
out=$1 ldflags=$2
shift 2
GO=${GO:-go}
mkdir -p "$out"

# Stale: gocv or the dlib binding is not in the build cache yet.
cold=$("$GO" list -f '{{if .Stale}}{{.ImportPath}}{{end}}' "$@" gocv.io/x/gocv ./vision/facedlib 2>/dev/null | tr '\n' ' ' || true)
if [[ -n "${cold// /}" ]]; then
	cat <<MSG
build: compiling the C++ bindings (${cold% }) for the first time.
build: this takes about 10-15 minutes on a 2-core machine: OpenCV's and dlib's
build: headers are large C++ templates compiled through cgo. Later builds
build: reuse Go's build cache ($("$GO" env GOCACHE)) and take seconds.
MSG
fi

start=$SECONDS
"$GO" build "$@" -ldflags "$ldflags" -o "$out/" ./cmd/... &
pid=$!
trap 'kill "$pid" 2>/dev/null' INT TERM
# Heartbeat every 30 s while the build runs.
while kill -0 "$pid" 2>/dev/null; do
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || break 2
		sleep 1
	done
	el=$((SECONDS - start))
	printf 'build: still compiling (%dm%02ds elapsed)\n' $((el / 60)) $((el % 60))
done
rc=0
wait "$pid" || rc=$?
if ((rc == 0)); then
	el=$((SECONDS - start))
	printf 'build: bin/checkpointd, bin/checkpointctl, bin/checkpoint-hub ready (%dm%02ds)\n' $((el / 60)) $((el % 60))
fi
exit "$rc"
