#!/usr/bin/env bash
# Rolling restart under load: a `nwdp broker`, three `nwdp run` nodes in one cluster on one shared journal (a SQLite
# file in WAL mode: nodes on one machine), `nwdp bench` spreading a steady load over the three nodes' URLs (a batch a
# stopping node refuses goes to another), and each node in turn stopped with SIGTERM (a graceful leave) and started
# again; the next restart waits until the node answers /healthz and `nwdp cluster show` lists three members Up. Then
# the verdict: every acknowledged event in the three nodes' files sink directories exactly once (bench --e2e over all
# three), `nwdp audit` nothing lost or duplicated, and the pause each restart caused (the longest gap between two
# acknowledgements, from any node, between the restart's SIGTERM and the next one). docs/cluster.md#rolling-restart.
#
#   scripts/rolling-restart.sh [DURATION]    (seconds of load, default 150; landing and the audit take ~1-2 min more)
#
# Environment: RR_RATE (events/s, default 2000), RR_FILES (shared: the three nodes' files sink in one directory, the
# default and what a cluster on one machine should do, since the sink recognises records already published by the file
# names in its directory; per-node: each node's files sink under its own data directory, where a partition that moves
# between nodes may be published again in the new owner's directory: docs/cluster.md#rolling-restart), RR_DIR (work directory, default a new /tmp/nwdp-rolling.*, kept on
# failure or with RR_KEEP=1), NWDP_DLL (the nwdp.dll to run; default the Release build, built when missing).
#
# Exit 0 when nothing acknowledged is missing or duplicated in the files and the audit finds nothing lost or
# duplicated; 1 otherwise; 2 when it could not run.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

LOAD_S=${1:-150}
FILES_MODE=${RR_FILES:-shared}
[[ $FILES_MODE == shared || $FILES_MODE == per-node ]] || { echo "rolling: RR_FILES must be shared or per-node, got '$FILES_MODE'" >&2; exit 2; }
[[ $LOAD_S =~ ^[0-9]+$ && $LOAD_S -ge 40 ]] || { echo "usage: scripts/rolling-restart.sh [DURATION] (seconds of load, a whole number >= 40)" >&2; exit 2; }
RATE=${RR_RATE:-2000}

# --- the nwdp binary ------------------------------------------------------------------------------------------
DLL=${NWDP_DLL:-$ROOT/NeverwinterDP.Host/bin/Release/net10.0/nwdp.dll}
if [ ! -f "$DLL" ]; then
  echo "rolling: building NeverwinterDP.Host (Release)" >&2
  dotnet build NeverwinterDP.Host -c Release -nologo -v q >/dev/null || { echo "rolling: build failed" >&2; exit 2; }
fi
NWDP=(dotnet "$DLL") # an array, not a function: "${NWDP[@]}" ... & gives the process id of dotnet itself

# --- work directory and cleanup -------------------------------------------------------------------------------
W=${RR_DIR:-$(mktemp -d /tmp/nwdp-rolling.XXXXXX)}
mkdir -p "$W"; chmod 755 "$W"
BROKER_PID="" BENCH_PID="" STATUS=2
NODE_PID=("" "" "")
START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }
log() { printf 'rolling [%5ss] %s\n' "$(elapsed)" "$*"; }

stop_pid() { # stop_pid PID [SIGNAL]: signal it, wait up to 45 s, then SIGKILL
  local pid=$1 sig=${2:-TERM}
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -s "$sig" "$pid" 2>/dev/null
  for _ in $(seq 450); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  stop_pid "$BENCH_PID"
  for i in 0 1 2; do stop_pid "${NODE_PID[$i]}"; done
  [ -n "$BROKER_PID" ] && { echo quit >&3 2>/dev/null; stop_pid "$BROKER_PID"; }
  exec 3>&- 2>/dev/null
  if [ "$STATUS" = 0 ] && [ -z "${RR_KEEP:-}" ] && [ -z "${RR_DIR:-}" ]; then rm -rf "$W"; else echo "rolling: logs and data kept in $W" >&2; fi
  exit "$STATUS"
}
trap cleanup EXIT
trap 'echo "rolling: interrupted" >&2; STATUS=130; exit 130' INT TERM

wait_line() { # wait_line FILE REGEX SECONDS: prints the first matching line
  local file=$1 re=$2 secs=$3 line
  for _ in $(seq $((secs * 10))); do
    line=$(grep -m1 -E "$re" "$file" 2>/dev/null) && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }

# --- the broker -----------------------------------------------------------------------------------------------
mkfifo "$W/broker.in"
"${NWDP[@]}" broker --partitions 8 --topic nwdp.logs.rolling <"$W/broker.in" >"$W/broker.out" 2>"$W/broker.err" &
BROKER_PID=$!
exec 3<>"$W/broker.in"
line=$(wait_line "$W/broker.out" '^ready kafka=' 90) || { echo "rolling: the broker did not get ready" >&2; cat "$W/broker.err" >&2; exit 2; }
KAFKA=${line#ready kafka=}

# --- three nodes, fixed ports (a restarted node comes back where the bench and the seeds expect it) -----------------
HTTP=() ADMIN=() REMOTE=() DATA=() STARTS=(0 0 0)
for i in 0 1 2; do
  HTTP[$i]=127.0.0.1:$(free_port) ADMIN[$i]=127.0.0.1:$(free_port) REMOTE[$i]=$(free_port)
  DATA[$i]=$W/n$((i + 1)); mkdir -p "${DATA[$i]}"
done
SEEDS=127.0.0.1:${REMOTE[0]},127.0.0.1:${REMOTE[1]}
FILES_SET=() E2E=()
if [ "$FILES_MODE" = shared ]; then
  mkdir -p "$W/files"; FILES_SET=(--set "nwdp.sinks.files.directory=$W/files"); E2E=(--e2e "$W/files")
else
  E2E=(--e2e "${DATA[0]}" --e2e "${DATA[1]}" --e2e "${DATA[2]}")
fi
JOURNAL="nwdp.persistence.connection-string=Data Source=$W/cluster-state.db" # one journal for the three (docs/cluster.md)

start_node() { # start_node I: starts node I+1 and waits for its ready line
  local i=$1 n=$(($1 + 1))
  STARTS[$i]=$((STARTS[$i] + 1))
  local out=$W/n$n.${STARTS[$i]}.out
  # Each start has its own node id: the stats records of a stopped node stay beside its successor's (the audit adds them up).
  "${NWDP[@]}" run --data "${DATA[$i]}" --http "${HTTP[$i]}" --admin "${ADMIN[$i]}" --node-port "${REMOTE[$i]}" --seed "$SEEDS" --kafka "$KAFKA" \
    --set "$JOURNAL" --set nwdp.persistence.allow-private-journal=off --set nwdp.node.id="rr-n$n-${STARTS[$i]}" \
    "${FILES_SET[@]}" --set nwdp.sinks.files.fsync=off --set nwdp.pump.flush-interval=300ms --set nwdp.pump.batch-interval=50ms \
    --set nwdp.stats.grace=2s --set nwdp.stats.publish-interval=1s --set nwdp.stats.settle-time=20s \
    >"$out" 2>"$W/n$n.${STARTS[$i]}.err" &
  NODE_PID[$i]=$!
  wait_line "$out" '^ready ' 120 >/dev/null || { log "node $n did not get ready (start ${STARTS[$i]})"; tail -20 "$W/n$n.${STARTS[$i]}.err" >&2; return 1; }
  log "node $n ready (start ${STARTS[$i]}, pid ${NODE_PID[$i]}): http=${HTTP[$i]} admin=${ADMIN[$i]} node=127.0.0.1:${REMOTE[$i]}"
}
token() { cat "${DATA[$1]}/admin.token"; }
members_up() { # members_up I: how many members node I+1 sees Up
  "${NWDP[@]}" cluster show --node "${ADMIN[$1]}" --token "$(token "$1")" 2>/dev/null | grep -c '| Up'
}
all_alive() { # every node process runs (a node downed by the others exits 3)
  local k code
  for k in 0 1 2; do
    [ -z "${NODE_PID[$k]}" ] && continue
    if ! kill -0 "${NODE_PID[$k]}" 2>/dev/null; then
      wait "${NODE_PID[$k]}"; code=$?
      log "node $((k + 1)) (pid ${NODE_PID[$k]}) exited $code on its own: $(grep -aE 'SBR|marked as DOWN|Shutting down myself' "$W/n$((k + 1)).${STARTS[$k]}.err" | tail -2 | cut -c1-300 | tr '\n' ' ')"
      NODE_PID[$k]=""
      return 1
    fi
  done
}
wait_cluster() { # wait_cluster I SECONDS: until node I+1 answers /healthz 200 and sees three members Up
  local i=$1 secs=$2 up=0 health=000 deadline=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    all_alive || return 1
    health=$(curl -s -o /dev/null -w '%{http_code}' "http://${HTTP[$i]}/healthz" 2>/dev/null)
    if [ "$health" = 200 ]; then up=$(members_up "$i"); [ "$up" = 3 ] && return 0; fi
    sleep 0.5
  done
  log "node $((i + 1)): /healthz $health, $up members Up after $secs s"
  return 1
}

start_node 0 || exit 2
start_node 1 || exit 2
start_node 2 || exit 2
wait_cluster 0 120 || exit 2
log "cluster of three Up"

# --- the load over the three URLs -----------------------------------------------------------------------------
RUN_ID=rolling$(date +%s)
"${NWDP[@]}" bench --url "http://${HTTP[0]},http://${HTTP[1]},http://${HTTP[2]}" --rate "$RATE" --duration "${LOAD_S}s" --batch 50 --concurrency 8 \
  --type rolling --run-id "$RUN_ID" --warmup 0 --timeout 20s --retry-timeout 2m --gap-threshold 200ms \
  "${E2E[@]}" --e2e-wait 3m --json >"$W/bench.json" 2>"$W/bench.err" &
BENCH_PID=$!
LOAD_START=$(elapsed)
log "load: $RATE events/s for $LOAD_S s over three nodes (run $RUN_ID), files sink $FILES_MODE, work directory $W"

progress() {
  local p
  p=$(grep -aE '^\[ *[0-9.]+s\] sent' "$W/bench.err" 2>/dev/null | tail -1 | sed -E 's/^\[ *[0-9.]+s\] //')
  log "${p:-starting}"
}
LAST_PROGRESS=0
wait_until() { # wait_until SECOND: progress lines every 10 s until that many seconds after the load started (or the bench ended)
  while [ $(($(elapsed) - LOAD_START)) -lt "$1" ] && kill -0 "$BENCH_PID" 2>/dev/null; do
    sleep 1
    all_alive || { STATUS=1; exit 1; }
    if [ $(($(elapsed) - LAST_PROGRESS)) -ge 10 ]; then progress; LAST_PROGRESS=$(elapsed); fi
  done
}

# --- the restarts: node 1, 2, 3 at 1/5, 2/5 and 3/5 of the load (or as soon as the previous one is done) ---------------
RESTARTS=() # "I TERM_MS EXITED_MS READY_MS UP_MS EXIT_CODE"
for i in 0 1 2; do
  wait_until $((LOAD_S * (i + 1) / 5))
  if ! kill -0 "$BENCH_PID" 2>/dev/null; then log "the load ended before restart $((i + 1))"; STATUS=1; exit 1; fi
  n=$((i + 1))
  log "restart $n/3: SIGTERM to node $n (pid ${NODE_PID[$i]})"
  term=$(now_ms)
  kill -TERM "${NODE_PID[$i]}"
  for _ in $(seq 600); do kill -0 "${NODE_PID[$i]}" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "${NODE_PID[$i]}" 2>/dev/null; then log "node $n did not stop within 60 s"; STATUS=1; exit 1; fi
  wait "${NODE_PID[$i]}"; code=$?
  exited=$(now_ms)
  log "node $n exited $code after $(((exited - term) / 1000)).$(((exited - term) % 1000 / 100)) s; starting it again"
  start_node "$i" || { STATUS=1; exit 1; }
  ready=$(now_ms)
  wait_cluster "$i" 120 || { STATUS=1; exit 1; }
  up=$(now_ms)
  log "node $n back: three members Up $(((up - term) / 1000)) s after its SIGTERM"
  RESTARTS+=("$i $term $exited $ready $up $code")
done
wait_until "$LOAD_S"
LOAD_END_MS=$(now_ms)
log "load done; waiting for the bench's end-to-end check (every acknowledged event in the three nodes' files)"
wait "$BENCH_PID"; BENCH_PID=""
j() { jq -r "$1" "$W/bench.json"; }
if ! jq -e . "$W/bench.json" >/dev/null 2>&1; then log "the bench printed no summary"; tail -5 "$W/bench.err"; STATUS=1; exit 1; fi

# --- the audit: every node's view is the cluster's (stats on the bus); asked at node 1 --------------------------
log "waiting for the audit's minutes to settle"
AUDIT_EXIT=unusable
for _ in $(seq 60); do
  "${NWDP[@]}" audit --node "${ADMIN[0]}" --token "$(token 0)" --since 30m --json >"$W/audit.json" 2>"$W/audit.err"
  AUDIT_EXIT=$?
  if jq -e '.rows' "$W/audit.json" >/dev/null 2>&1 && [ "$(jq '[.rows[] | select(.type == "rolling" and (.settled | not))] | length' "$W/audit.json")" = 0 ]; then break; fi
  sleep 5
done
"${NWDP[@]}" audit --node "${ADMIN[0]}" --token "$(token 0)" --since 30m >"$W/audit.txt" 2>&1
read -r AUDIT_OK AUDIT_LOST AUDIT_DUP AUDIT_LOST_EVENTS AUDIT_DUP_EVENTS AUDIT_UNSETTLED < <(jq -r '
  [.rows[] | select(.type == "rolling")] as $rows
  | [$rows[] | .accepted as $a | .sinks[] | {v: .verdict, n: ((.delivered - $a) | if . < 0 then -. else . end)}] as $s
  | [($s | map(select(.v == "ok")) | length), ($s | map(select(.v == "lost")) | length), ($s | map(select(.v == "duplicated")) | length),
     ($s | map(select(.v == "lost") | .n) | add // 0), ($s | map(select(.v == "duplicated") | .n) | add // 0),
     ([$rows[] | select(.settled | not)] | length)] | @tsv' "$W/audit.json" 2>/dev/null)
if [ -z "${AUDIT_OK:-}" ]; then
  log "nwdp audit gave no usable answer: $(head -c 300 "$W/audit.json" "$W/audit.err")"
  AUDIT_OK=0 AUDIT_LOST=0 AUDIT_DUP=0 AUDIT_LOST_EVENTS=0 AUDIT_DUP_EVENTS=0 AUDIT_UNSETTLED=0 AUDIT_EXIT=unusable
fi

# --- the pause each restart caused: the longest acknowledgement gap from its SIGTERM to the next restart's --------
PAUSES=() RESTART_LINES=()
for k in "${!RESTARTS[@]}"; do
  read -r i term exited ready up code <<<"${RESTARTS[$k]}"
  if [ $((k + 1)) -lt ${#RESTARTS[@]} ]; then read -r _ until _ <<<"${RESTARTS[$((k + 1))]}"; else until=$LOAD_END_MS; fi
  pause=$(jq -r --argjson f "$term" --argjson t "$until" '
    [.ack_gaps[] | select(.from_ms + .ms >= $f and .from_ms < $t) | .ms] | max // null
    | if . == null then "< \($threshold)" else tostring end' --argjson threshold "$(j .ack_gap_threshold_ms)" "$W/bench.json")
  PAUSES+=("$pause")
  line=$(awk -v n=$((i + 1)) -v c="$code" -v t="$term" -v e="$exited" -v r="$ready" -v u="$up" -v p="$pause" 'BEGIN {
    printf "node %d: exited %s %.1f s after SIGTERM, ready again at %.1f s, three members Up at %.1f s; longest pause in acknowledgements %s ms", n, c, (e - t) / 1000, (r - t) / 1000, (u - t) / 1000, p }')
  RESTART_LINES+=("$line")
done

# --- the summary ----------------------------------------------------------------------------------------------
SENT=$(j .events_sent) ACCEPTED=$(j .events) FAILED=$(j .events_failed)
MISSING=$(j .e2e.missing) DUPS=$(j .e2e.duplicates) DUPS_RESENT=$(j .e2e.duplicates_of_resent)
LOST=$((MISSING + AUDIT_LOST_EVENTS))
DUPLICATED=$((DUPS - DUPS_RESENT + AUDIT_DUP_EVENTS))
echo
echo "rolling restart: $LOAD_S s at $RATE events/s over three nodes, files sink $FILES_MODE; restarts (SIGTERM, start again, wait for three Up):"
printf '  - %s\n' "${RESTART_LINES[@]}"
echo "  bench: sent $SENT, accepted $ACCEPTED, failed $FAILED; $(j .failovers) requests failed over ($(j .transport_errors) transport errors, $(j '.status["503"] // 0') answered 503), $(j .resent_events) events resent after a lost answer; longest pause $(j .longest_ack_gap_ms) ms"
echo "  per node: $(jq -r '[.urls[] | "\(.url | sub("/v1/events$"; "")) \(.events) events (\(.failed_over) failed over)"] | join(", ")' "$W/bench.json")"
echo "  files: $(j .e2e.in_files) of $ACCEPTED acknowledged events in the files ($FILES_MODE), $MISSING missing, $DUPS duplicated ($DUPS_RESENT of them the bench's own resends), $(j .e2e.unacknowledged_in_files) unacknowledged ones also delivered"
echo "  audit: $AUDIT_OK (minute, sink) ok, $AUDIT_LOST lost ($AUDIT_LOST_EVENTS events), $AUDIT_DUP duplicated ($AUDIT_DUP_EVENTS events), $AUDIT_UNSETTLED minutes unsettled (audit exit $AUDIT_EXIT); $W/audit.txt:"
sed 's/^/    /' "$W/audit.txt" | grep -E 'rolling|minute|MINUTE|^    [A-Za-z]' | head -20
VERDICT=ok STATUS=0
if [ "$LOST" != 0 ] || [ "$DUPLICATED" != 0 ] || [ "$AUDIT_EXIT" = unusable ] || [ "$ACCEPTED" = 0 ] || [ "$AUDIT_UNSETTLED" != 0 ] || [ "$FAILED" != 0 ]; then VERDICT=FAILED STATUS=1; fi
echo "rolling summary: $VERDICT seconds=$LOAD_S sent=$SENT accepted=$ACCEPTED delivered=$(j .e2e.in_files) lost=$LOST duplicated=$DUPLICATED pauses_ms=$(IFS=,; echo "${PAUSES[*]}" | tr -d ' ') longest_pause_ms=$(j .longest_ack_gap_ms)"
exit "$STATUS"
