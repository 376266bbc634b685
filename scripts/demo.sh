#!/usr/bin/env bash
# The Checkpoint demo (make run): a hub serving a signed, encrypted
# watchlist, the daemon with a simulated scanner on a PTY pair and a camera
# fed from a recorded video, and a feeder that scans each traveller's
# passport while the video shows them. Ctrl-C stops everything.
#
# Environment: DEMO_DIR (default ./demo), DEMO_BIN (./bin), DEMO_WEB_PORT (8080),
# DEMO_HUB_PORT (8443), DEMO_FORCE=1 to prepare from scratch,
# CHECKPOINT_FACES, CHECKPOINT_MODELS.
set -euo pipefail

# At a terminal, run the demo as a job of its own in the terminal's
# foreground: Ctrl-C then reaches the demo alone, which stops cleanly and
# exits 0, instead of also killing make (which would print "Interrupt"
# and fail) and the demo's children behind its back.
if [[ -t 0 && -z "${DEMO_FOREGROUND:-}" ]]; then
	set -m
	DEMO_FOREGROUND=1 "${BASH_SOURCE[0]}" "$@" &
	fg %1 >/dev/null
	exit $?
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${DEMO_BIN:-$ROOT/bin}"
DEMO="$(mkdir -p "${DEMO_DIR:-$ROOT/demo}" && cd "${DEMO_DIR:-$ROOT/demo}" && pwd)"
LOGS="$DEMO/logs"
FACES="${CHECKPOINT_FACES:-$ROOT/../shared/testdata/faces}"
MODELS="${CHECKPOINT_MODELS:-$ROOT/models}"
# One BLAS thread per forward pass: vision runs one network per core.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

if [[ -t 1 ]]; then B=$'\e[1m' R=$'\e[31m' G=$'\e[32m' Y=$'\e[33m' N=$'\e[0m'; else B='' R='' G='' Y='' N=''; fi
say() { printf '%s\n' "$*"; }
die() { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

for b in checkpointctl checkpointd checkpoint-hub; do
	[[ -x "$BIN/$b" ]] || die "$BIN/$b missing: run make build (or make run)"
done
command -v socat >/dev/null || die "socat missing: run make deps"

# One demo per directory: a second one would take the first one's PTY
# links, logs and state.
PIDFILE="$DEMO/demo.pid"
if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	die "a demo is already running from $DEMO (pid $(cat "$PIDFILE")): stop it first"
fi

# port_busy PORT: something answers on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port PREFERRED: PREFERRED if free, else the next free one above it.
free_port() {
	local p=$1
	while port_busy "$p"; do p=$((p + 1)); ((p < $1 + 200)) || die "no free port near $1"; done
	echo "$p"
}
WEB_PORT="$(free_port "${DEMO_WEB_PORT:-8080}")"
HUB_PORT="$(free_port "${DEMO_HUB_PORT:-8443}")"
[[ "$HUB_PORT" != "$WEB_PORT" ]] || HUB_PORT="$(free_port $((WEB_PORT + 1)))"

# --- cleanup: every child, then the PTY links -------------------------------
# Children run in sessions of their own (setsid), so Ctrl-C reaches only
# this script, which stops them in order: a child killed by the terminal's
# SIGINT first would look like a crash.
declare -A PIDS=()
ORDER=(view feed checkpointd pcscd hub socat)
STOPPING=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	STOPPING=1
	if ((${#PIDS[@]})); then say "${B}demo: stopping${N}"; fi
	local name pid i
	for name in "${ORDER[@]}"; do
		pid="${PIDS[$name]:-}"
		[[ -n "$pid" ]] || continue
		kill -TERM "$pid" 2>/dev/null || continue
		# The daemon flushes its outbox and closes its stores: give it time.
		for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			say "demo: $name did not stop in 15s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	rm -f "$DEMO/scanner" "$DEMO/reader"
	[[ "$(cat "$PIDFILE" 2>/dev/null)" != "$$" ]] || rm -f "$PIDFILE"
	if ((${#PIDS[@]})); then
		if ((rc == 0)); then say "${G}demo stopped${N}; logs in $LOGS"; else say "demo: stopped; logs in $LOGS"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
# Ctrl-C and SIGTERM are how a demo ends: a clean stop, exit status 0.
trap 'STOPPING=1; exit 0' INT TERM
echo "$$" >"$PIDFILE"

# fail NAME: a component died or never came up: show why, then clean up.
fail() {
	local name=$1 log="$LOGS/$1.log"
	printf '%sdemo: %s %s%s\n' "$R" "$name" "${2:-exited}" "$N" >&2
	if [[ -s "$log" ]]; then
		say "---- last lines of $log ----" >&2
		tail -n 25 "$log" >&2
		say "----" >&2
	fi
	exit 1
}

# wait_for NAME SECONDS CHECK...: until CHECK succeeds, while NAME runs.
wait_for() {
	local name=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" && return 0
		kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name" "exited at start"
		sleep 0.2
	done
	fail "$name" "did not come up in ${secs}s"
}

http_ok() ( # http_ok PORT PATH: GET answers 200
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
	IFS= read -r -t 2 line <&3 || true
	[[ "$line" == *" 200 "* ]]
) 2>/dev/null

admin_status() { printf 'GET /v1/status HTTP/1.0\r\n\r\n' | socat -t 2 - "UNIX-CONNECT:$DEMO/state/admin.sock" 2>/dev/null; }
watchlist_installed() { admin_status | grep -q '"watchlist":{"meta":{[^}]*"sequence":[1-9]'; }

# --- prepare ----------------------------------------------------------------
mkdir -p "$LOGS"
prep=(--dir "$DEMO" --listen "127.0.0.1:$WEB_PORT" --hub-listen "127.0.0.1:$HUB_PORT" --verbose)
[[ -d "$FACES" ]] && prep+=(--faces "$FACES")
[[ -s "$MODELS/dlib_face_recognition_resnet_model_v1.dat" ]] && prep+=(--models "$MODELS")
[[ "${DEMO_FORCE:-0}" == 1 ]] && prep+=(--force)
say "${B}demo: preparing $DEMO${N} (keys, travellers, signed watchlist, camera video)"
"$BIN/checkpointctl" demo prepare "${prep[@]}" || die "prepare failed (DEMO_FORCE=1 make run starts from scratch)"

# --- start ------------------------------------------------------------------
for f in socat hub checkpointd feed; do : >"$LOGS/$f.log"; done
rm -f "$DEMO/scanner" "$DEMO/reader"

# The daemon opens demo/scanner; the feeder writes, as a document reader
# would, into demo/reader.
setsid socat -d -d "pty,raw,echo=0,link=$DEMO/scanner" "pty,raw,echo=0,link=$DEMO/reader" >>"$LOGS/socat.log" 2>&1 &
PIDS[socat]=$!
wait_for socat 10 test -e "$DEMO/scanner" -a -e "$DEMO/reader"

setsid "$BIN/checkpoint-hub" serve --listen "127.0.0.1:$HUB_PORT" --bundles "$DEMO/hub/bundles" --data "$DEMO/hub/data" \
	--cert "$DEMO/keys/hub.crt" --key "$DEMO/keys/hub.key" --ca "$DEMO/keys/fleet-ca.crt" \
	--data-key "file:$DEMO/keys/hub.kek" >>"$LOGS/hub.log" 2>&1 &
PIDS[hub]=$!
wait_for hub 20 port_busy "$HUB_PORT"

# The passport chip reader: a private pcscd with the vpcd virtual reader;
# the feeder lays each chip traveller's emulated chip on it.
: >"$LOGS/pcscd.log"
rm -f "$DEMO/pcscd.comm" "$DEMO/vpcd.addr"
setsid "$BIN/checkpointctl" demo pcscd --link "$DEMO/pcscd.comm" --vpcd-file "$DEMO/vpcd.addr" >>"$LOGS/pcscd.log" 2>&1 &
PIDS[pcscd]=$!
wait_for pcscd 30 test -s "$DEMO/vpcd.addr"

setsid "$BIN/checkpointd" --config "$DEMO/checkpointd.yaml" >>"$LOGS/checkpointd.log" 2>&1 &
PIDS[checkpointd]=$!
say "demo: starting the daemon (loading the face models)"
wait_for checkpointd 120 http_ok "$WEB_PORT" /healthz
say "demo: waiting for the watchlist from the hub"
wait_for checkpointd 60 watchlist_installed

setsid "$BIN/checkpointctl" demo feed --port "$DEMO/reader" --admin-socket "$DEMO/state/admin.sock" \
	--file "$DEMO/travellers.mrz" --chips "$DEMO/chips" --vpcd "$(cat "$DEMO/vpcd.addr")" \
	--pcscd-socket "$DEMO/pcscd.comm" >>"$LOGS/feed.log" 2>&1 &
PIDS[feed]=$!

cat <<EOF

${B}${G}Checkpoint demo is running${N}

  Officer page   ${B}http://127.0.0.1:$WEB_PORT/${N}
  Sign in as     officer ${B}demo${N}, PIN ${B}246810${N}
                 or, as ${USER:-you}, without the PIN: open the link that
                 ${B}$BIN/checkpointctl officer signin --config $DEMO/checkpointd.yaml${N} prints
  Hub            https://127.0.0.1:$HUB_PORT (mutual TLS)
  Logs           $LOGS/{checkpointd,hub,feed,socat,pcscd}.log

  A traveller reaches the desk every few seconds; about four in ten are on
  the watchlist (wanted persons, a stolen passport, a listed name). Three
  passports carry a chip (emulated, on a virtual PC/SC reader): one genuine,
  one whose DG1 was altered after signing ("document integrity"), one whose
  photo is someone else (the face does not match the chip).
  ${Y}Ctrl-C to stop.${N}

EOF

# Live view: each scan and the daemon's decision (no personal data in
# either). tail is the job, so killing it also ends the filter.
setsid tail -n 0 -F "$LOGS/feed.log" "$LOGS/checkpointd.log" 2>/dev/null > >(
	grep --line-buffered -E 'traveller|msg=decision' |
		sed -u -E -e 's/.*msg=decision.*decision=([A-Z]+) hits=([0-9]+) reasons=("[^"]*"|[^ ]*) latency_ms=([0-9.]+).*/           -> \1  hits=\2  reasons=\3  (\4 ms)/' \
			-e 's/  reasons=""//'
) &
PIDS[view]=$!

# Run until Ctrl-C, or until a component dies.
while :; do
	wait -n "${PIDS[socat]}" "${PIDS[hub]}" "${PIDS[pcscd]}" "${PIDS[checkpointd]}" "${PIDS[feed]}" || true
	# A signal interrupts wait; its trap then ends the script.
	((STOPPING)) && break
	for name in socat hub pcscd checkpointd feed; do
		kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name"
	done
done
