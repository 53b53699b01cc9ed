#!/usr/bin/env bash
# Soak: one node on a separate `nwdp broker`, a steady load from `nwdp bench --rate`, faults on a schedule, then
# the verdict: nothing acknowledged lost, nothing duplicated, RSS flat. docs/reliability.md#soak says how to read it.
#
#   scripts/soak.sh [MINUTES]        (default 10; the load runs that long, landing and the audit take ~1-2 min more)
#
# Environment: SOAK_RATE (events/s, default 1500), SOAK_DIR (work directory, default a new /tmp/nwdp-soak.*, kept
# on failure or with SOAK_KEEP=1), NWDP_DLL (the nwdp.dll to run; default the Release build, built when missing),
# SOAK_TMPFS_MB (size of the data directory's tmpfs for the disk-full fault, default 96).
#
# Faults, in this order, spread over the load: broker down 10 s; produce errors (retriable: NOT_LEADER, then
# REQUEST_TIMED_OUT); PostgreSQL (the sql sink's server) stopped 30 s; the node SIGKILLed and restarted; the broker
# down and, once ingress spills, the data directory's disk (the spill store) full for 10 s; the node SIGKILLed while
# spilling, garbage appended to the spill store's tail (the SQLite WAL), restarted. The PostgreSQL fault is skipped without PostgreSQL 15 binaries,
# the disk-full one where a tmpfs cannot be mounted (not root); each says so.
#
# Exit 0 when every acknowledged event is in the files sink exactly once and in PostgreSQL once, `nwdp audit` finds
# nothing lost or duplicated in any minute (a kill's minute may count the requests in flight at the kill, never
# answered, as delivered and not accepted: at most the bench's unacknowledged events), and RSS is flat; 1 otherwise;
# 2 when it could not run.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MINUTES=${1:-10}
[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -ge 1 ]] || { echo "usage: scripts/soak.sh [MINUTES] (a whole number >= 1)" >&2; exit 2; }
RATE=${SOAK_RATE:-1500}
LOAD_S=$((MINUTES * 60))
TMPFS_MB=${SOAK_TMPFS_MB:-96}

# --- the nwdp binary ------------------------------------------------------------------------------------------
DLL=${NWDP_DLL:-$ROOT/NeverwinterDP.Host/bin/Release/net10.0/nwdp.dll}
if [ ! -f "$DLL" ]; then
  echo "soak: building NeverwinterDP.Host (Release)" >&2
  dotnet build NeverwinterDP.Host -c Release -nologo -v q >/dev/null || { echo "soak: build failed" >&2; exit 2; }
fi
NWDP=(dotnet "$DLL") # an array, not a function: "${NWDP[@]}" ... & gives the process id of dotnet itself

# --- work directory and cleanup -------------------------------------------------------------------------------
W=${SOAK_DIR:-$(mktemp -d /tmp/nwdp-soak.XXXXXX)}
mkdir -p "$W"; chmod 755 "$W"
DATA=$W/data FILES=$W/files
mkdir -p "$DATA" "$FILES"
BROKER_PID="" NODE_PID="" BENCH_PID="" SAMPLER_PID="" PG_DIR="" MOUNTED="" STATUS=2
log() { printf 'soak [%5ss] %s\n' "$(elapsed)" "$*"; }
START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }

stop_pid() { # stop_pid PID [SIGNAL]: signal it, wait up to 30 s, then SIGKILL
  local pid=$1 sig=${2:-TERM}
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -s "$sig" "$pid" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  [ -n "${PG_RESTART:-}" ] && kill "$PG_RESTART" 2>/dev/null # a PostgreSQL restart still waiting must not start it again
  stop_pid "$BENCH_PID"
  stop_pid "$NODE_PID"
  [ -n "$BROKER_PID" ] && { echo quit >&3 2>/dev/null; stop_pid "$BROKER_PID"; }
  exec 3>&-
  if [ -n "$PG_DIR" ]; then pg_ctl_as stop -m immediate >/dev/null 2>&1 || true; fi
  if [ -n "$MOUNTED" ]; then umount "$DATA" 2>/dev/null || umount -l "$DATA" 2>/dev/null || true; fi
  if [ "$STATUS" = 0 ] && [ -z "${SOAK_KEEP:-}" ] && [ -z "${SOAK_DIR:-}" ]; then rm -rf "$W"; else echo "soak: logs and data kept in $W" >&2; fi
  exit "$STATUS"
}
trap cleanup EXIT
trap 'echo "soak: interrupted" >&2; STATUS=130; exit 130' INT TERM

wait_line() { # wait_line FILE REGEX SECONDS: prints the first matching line
  local file=$1 re=$2 secs=$3 line
  for _ in $(seq $((secs * 10))); do
    line=$(grep -m1 -E "$re" "$file" 2>/dev/null) && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}

# --- the broker -----------------------------------------------------------------------------------------------
mkfifo "$W/broker.in"
"${NWDP[@]}" broker --partitions 8 --topic nwdp.logs.soak <"$W/broker.in" >"$W/broker.out" 2>"$W/broker.err" &
BROKER_PID=$!
exec 3<>"$W/broker.in"
line=$(wait_line "$W/broker.out" '^ready kafka=' 90) || { echo "soak: the broker did not get ready" >&2; cat "$W/broker.err" >&2; exit 2; }
KAFKA=${line#ready kafka=}
broker() { # broker COMMAND: sends one fault command, prints its answer
  local before; before=$(wc -l <"$W/broker.out")
  echo "$*" >&3
  for _ in $(seq 200); do
    if [ "$(wc -l <"$W/broker.out")" -gt "$before" ]; then sed -n "$((before + 1))p" "$W/broker.out"; return 0; fi
    sleep 0.1
  done
  echo "no answer to '$*'"
}

# --- PostgreSQL (the sql sink's server) -------------------------------------------------------------------------
PG_BIN=/usr/lib/postgresql/15/bin
pg_ctl_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@"; else "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@"; fi; }
pg_start() { pg_ctl_as -l "$PG_DIR/server.log" -w -t 60 -o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR/run' -c fsync=off" start >/dev/null; }
PG_SETTINGS=()
if [ -x "$PG_BIN/postgres" ]; then
  PG_DIR=$W/postgresql
  mkdir -p "$PG_DIR/data" "$PG_DIR/run"
  as=()
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$PG_DIR"; as=(runuser -u postgres --); fi
  if "${as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U nwdp --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 && pg_start &&
     "${as[@]}" "$PG_BIN/createdb" -h "$PG_DIR/run" -U nwdp soak; then
    PG_SETTINGS=(--set nwdp.sinks.pg.kind=postgresql --set "nwdp.sinks.pg.connection-string=Host=$PG_DIR/run;Username=nwdp;Database=soak")
  else
    echo "soak: PostgreSQL did not start (see $PG_DIR); the sql sink and its fault are skipped" >&2
    PG_DIR=""
  fi
else
  echo "soak: no PostgreSQL 15 binaries ($PG_BIN); the sql sink and its fault are skipped" >&2
fi
psql_soak() { psql -h "$PG_DIR/run" -U nwdp -d soak -tAc "$1" 2>/dev/null; }

# --- the data directory: a small tmpfs when possible (disk-full fault) -------------------------------------------
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=${TMPFS_MB}m" tmpfs "$DATA" 2>"$W/mount.err"; then
  MOUNTED=1
else
  echo "soak: cannot mount a tmpfs for the data directory ($(cat "$W/mount.err" 2>/dev/null || echo 'not root')); the disk-full fault is skipped" >&2
fi

# --- the node -----------------------------------------------------------------------------------------------
HTTP=127.0.0.1:0 ADMIN=127.0.0.1:0 STARTS=0
start_node() {
  STARTS=$((STARTS + 1))
  local out=$W/node.$STARTS.out
  # Each start has its own node id: the stats records of a killed node stay beside its successor's instead of
  # being replaced by them (docs/reliability.md#soak, "known limits").
  "${NWDP[@]}" run --http "$HTTP" --admin "$ADMIN" --data "$DATA" --kafka "$KAFKA" --set nwdp.node.id="soak-$STARTS" \
    --set nwdp.sinks.files.directory="$FILES" --set nwdp.sinks.files.fsync=off \
    --set nwdp.pump.flush-interval=300ms --set nwdp.pump.batch-interval=50ms \
    --set nwdp.spill.after=2s --set nwdp.spill.probe-interval=500ms \
    --set nwdp.stats.grace=2s --set nwdp.stats.publish-interval=1s --set nwdp.stats.settle-time=20s \
    "${PG_SETTINGS[@]}" >"$out" 2>"$W/node.$STARTS.err" &
  NODE_PID=$!
  echo "$NODE_PID" >"$W/node.pid"
  local ready
  ready=$(wait_line "$out" '^ready ' 120) || { log "the node did not get ready (start $STARTS)"; tail -20 "$W/node.$STARTS.err" >&2; return 1; }
  HTTP=$(sed -E 's/.* http=http:\/\/([^ ]+).*/\1/' <<<"$ready")
  ADMIN=$(sed -E 's/.* admin=http:\/\/([^ ]+).*/\1/' <<<"$ready")
  log "node ready (start $STARTS, pid $NODE_PID): http=$HTTP admin=$ADMIN"
}
start_node || exit 2
TOKEN=$(cat "$DATA/admin.token")

# --- RSS sampler: "SECONDS RSS_KIB" every 3 s while the load runs ------------------------------------------------
(
  while sleep 3; do
    pid=$(cat "$W/node.pid" 2>/dev/null) || continue
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
    [ -n "$rss" ] && echo "$(($(date +%s) - START)) $rss" >>"$W/rss.log"
  done
) &
SAMPLER_PID=$!

# --- the load -----------------------------------------------------------------------------------------------
RUN_ID=soak$(date +%s)
"${NWDP[@]}" bench --url "http://$HTTP" --rate "$RATE" --duration "${LOAD_S}s" --batch 100 --concurrency 8 --type soak --run-id "$RUN_ID" \
  --warmup 0 --timeout 20s --retry-timeout 3m --e2e "$FILES" --e2e-wait 3m --json >"$W/bench.json" 2>"$W/bench.err" &
BENCH_PID=$!
LOAD_START=$(elapsed)
log "load: $RATE events/s for $MINUTES min (run $RUN_ID), work directory $W"

FAULTS_DONE=0 FAULTS_SKIPPED=0 FAULT_LOG=()
fault_done() { FAULTS_DONE=$((FAULTS_DONE + 1)); FAULT_LOG+=("$1"); log "fault done: $1"; }
fault_skipped() { FAULTS_SKIPPED=$((FAULTS_SKIPPED + 1)); FAULT_LOG+=("skipped: $1"); log "fault skipped: $1"; }
KILL_WINDOWS=() # "FROM_MS TO_MS" of each node outage: its minutes may count the requests in flight at the kill as delivered, not accepted
now_ms() { date +%s%3N; }

progress() {
  local p rss=""
  p=$(grep -aE '^\[ *[0-9.]+s\] sent' "$W/bench.err" 2>/dev/null | tail -1 | sed -E 's/^\[ *[0-9.]+s\] //')
  [ -f "$W/rss.log" ] && rss=$(tail -1 "$W/rss.log" | awk '{printf "%d MiB", $2/1024}')
  log "${p:-starting}  faults $FAULTS_DONE done  rss ${rss:-?}"
}
# wait_until SECOND: progress lines every 10 s until that many seconds after the load started (or the bench ended)
LAST_PROGRESS=0
wait_until() {
  while [ $(($(elapsed) - LOAD_START)) -lt "$1" ] && kill -0 "$BENCH_PID" 2>/dev/null; do
    sleep 1
    if [ $(($(elapsed) - LAST_PROGRESS)) -ge 10 ]; then progress; LAST_PROGRESS=$(elapsed); fi
  done
}

f_broker_down() {
  broker down 1 >/dev/null; sleep 10; broker up 1 >/dev/null
  fault_done "broker down 10 s"
}
f_produce_errors() {
  # Produce (API 0) answered NOT_LEADER_OR_FOLLOWER (6) 50 times, then REQUEST_TIMED_OUT (7) 20 times: the
  # idempotent producer retries them.
  local a b
  a=$(broker errors 0 50 6); b=$(broker errors 0 20 7)
  sleep 5
  fault_done "produce errors ($a; $b)"
}
f_pg_stop() {
  if [ -z "$PG_DIR" ]; then fault_skipped "PostgreSQL stopped 30 s (no PostgreSQL)"; return; fi
  pg_ctl_as stop -m fast -w >/dev/null 2>&1
  (sleep 30; pg_start) &
  PG_RESTART=$!
  fault_done "PostgreSQL stopping for 30 s (restarts in the background)"
}
f_kill_restart() {
  local from; from=$(now_ms)
  kill -9 "$NODE_PID"; wait "$NODE_PID" 2>/dev/null
  start_node || return 1
  KILL_WINDOWS+=("$from $(now_ms)")
  fault_done "node SIGKILLed and restarted"
}
f_disk_full() {
  if [ -z "$MOUNTED" ]; then fault_skipped "disk full (no tmpfs)"; return; fi
  # The bus goes down first and the disk fills once ingress spills: a batch caught in flight by the outage (its
  # acknowledgement lost, so possibly on the bus) is spilled and replayed without a duplicate. Filled at the same
  # moment, such a batch cannot be spilled and is answered 503, and the sender's resend duplicates it on the bus
  # (docs/reliability.md#soak, "known limits").
  broker down 1 >/dev/null
  sleep 4
  dd if=/dev/zero of="$DATA/filler" bs=64k 2>/dev/null
  log "data directory full ($(df -h --output=avail "$DATA" | tail -1 | tr -d ' ') free), bus down: ingress answers 503 or spills"
  sleep 10
  rm -f "$DATA/filler"; broker up 1 >/dev/null
  fault_done "spill store's disk full 10 s (bus down)"
}
f_corrupt_tail() {
  local from wal
  broker down 1 >/dev/null
  sleep 5 # the node spills
  from=$(now_ms)
  kill -9 "$NODE_PID"; wait "$NODE_PID" 2>/dev/null
  wal=$(ls -t "$DATA"/*.db-wal 2>/dev/null | head -1)
  if [ -n "$wal" ]; then head -c 4096 /dev/urandom >>"$wal"; else wal="(no WAL: $(ls "$DATA" | tr '\n' ' '))"; fi
  broker up 1 >/dev/null
  start_node || return 1
  KILL_WINDOWS+=("$from $(now_ms)")
  fault_done "node SIGKILLed while spilling, 4 KiB of garbage appended to $(basename "$wal"), restarted"
}

FAULTS=(f_broker_down f_produce_errors f_pg_stop f_kill_restart f_disk_full f_corrupt_tail)
N=${#FAULTS[@]}
for i in "${!FAULTS[@]}"; do
  # Fault i starts at (i+1)/(N+2) of the load (or right after the previous one when that ran late).
  wait_until $((LOAD_S * (i + 1) / (N + 2)))
  if ! kill -0 "$BENCH_PID" 2>/dev/null; then log "the load ended before fault $((i + 1))"; break; fi
  log "fault $((i + 1))/$N: ${FAULTS[$i]#f_}"
  "${FAULTS[$i]}" || { log "fault ${FAULTS[$i]#f_} failed"; STATUS=1; exit 1; }
done
LATE=""
kill -0 "$BENCH_PID" 2>/dev/null || LATE=" (some faults ran after the load ended)"
wait_until "$LOAD_S"
LOAD_END=$(elapsed)
kill "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""
[ -n "${PG_RESTART:-}" ] && wait "$PG_RESTART"
log "load done; waiting for the bench's end-to-end check (every acknowledged event in the files)"
wait "$BENCH_PID"; BENCH_PID=""
j() { jq -r "$1" "$W/bench.json"; }
if ! jq -e . "$W/bench.json" >/dev/null 2>&1; then log "the bench printed no summary"; tail -5 "$W/bench.err"; STATUS=1; exit 1; fi

# --- PostgreSQL: the same events, once -----------------------------------------------------------------------
PG_ROWS=- PG_DISTINCT=- PG_MISSING=0 PG_DUP=0
FILES_DISTINCT=$(($(j .e2e.in_files) + $(j .e2e.unacknowledged_in_files)))
if [ -n "$PG_DIR" ]; then
  for _ in $(seq 90); do
    PG_DISTINCT=$(psql_soak "SELECT count(DISTINCT substring(message from 'seq=([0-9]+)')) FROM nwdp_logs WHERE topic = 'nwdp.logs.soak' AND message LIKE '%run=$RUN_ID %'")
    [ "${PG_DISTINCT:-0}" -ge "$FILES_DISTINCT" ] 2>/dev/null && break
    sleep 2
  done
  PG_ROWS=$(psql_soak "SELECT count(*) FROM nwdp_logs WHERE topic = 'nwdp.logs.soak' AND message LIKE '%run=$RUN_ID %'")
  PG_MISSING=$((FILES_DISTINCT - ${PG_DISTINCT:-0})); [ $PG_MISSING -lt 0 ] && PG_MISSING=0
  PG_DUP=$((${PG_ROWS:-0} - ${PG_DISTINCT:-0}))
fi

# --- the audit: wait until every minute settled --------------------------------------------------------------
log "waiting for the audit's minutes to settle"
for _ in $(seq 60); do
  "${NWDP[@]}" audit --node "$ADMIN" --token "$TOKEN" --since 30m --json >"$W/audit.json" 2>"$W/audit.err"
  AUDIT_EXIT=$?
  if jq -e '.rows' "$W/audit.json" >/dev/null 2>&1 && [ "$(jq '[.rows[] | select(.type == "soak" and (.settled | not))] | length' "$W/audit.json")" = 0 ]; then break; fi
  sleep 5
done
"${NWDP[@]}" audit --node "$ADMIN" --token "$TOKEN" --since 30m >"$W/audit.txt" 2>&1
# Every minute is judged. In a minute in which a node was SIGKILLed, the requests in flight at the kill are on the
# bus but were never answered 2xx (the node counts `accepted` before it answers, docs/monitoring.md#delivered-counts-and-a-killed-node),
# so such a minute may show DUPLICATED by at most those events: the bench's "unacknowledged ones also delivered". More
# than that, or LOST, in any minute fails the soak.
windows=$(printf '%s\n' "${KILL_WINDOWS[@]}" | jq -R -s 'split("\n") | map(select(length > 0) | split(" ") | map(tonumber))')
UNACKED=$(jq -r '.e2e.unacknowledged_in_files // 0' "$W/bench.json" 2>/dev/null || echo 0)
read -r AUDIT_OK AUDIT_LOST AUDIT_DUP AUDIT_INFLIGHT AUDIT_LOST_EVENTS AUDIT_DUP_EVENTS < <(jq -r --argjson w "$windows" --argjson unacked "${UNACKED:-0}" '
  def killed($m): any($w[]; ($m + 60000) > .[0] - 10000 and $m <= .[1]);
  [.rows[] | select(.type == "soak")] as $rows
  | [$rows[] | . as $r | .sinks[] | {sink, v: .verdict, killed: killed($r.minute_ms), n: ((.delivered - $r.accepted) | if . < 0 then -. else . end)}] as $all
  # per sink, the kill minutes duplicated by no more than the unacknowledged events delivered are the in-flight requests
  | ($all | map(select(.killed and .v == "duplicated")) | group_by(.sink) | map({sink: .[0].sink, n: (map(.n) | add)})) as $inflight
  | ($inflight | map(select(.n <= $unacked) | .sink)) as $explained
  | [$all[] | select((.killed and .v == "duplicated" and (.sink as $s | $explained | index($s))) | not)] as $judged
  | [($judged | map(select(.v == "ok")) | length), ($judged | map(select(.v == "lost")) | length), ($judged | map(select(.v == "duplicated")) | length),
     ($inflight | map(select(.n <= $unacked) | .n) | max // 0),
     ($judged | map(select(.v == "lost") | .n) | add // 0), ($judged | map(select(.v == "duplicated") | .n) | add // 0)] | @tsv' "$W/audit.json")

if [ -z "${AUDIT_OK:-}" ] || [ -z "${AUDIT_DUP_EVENTS:-}" ]; then
  log "nwdp audit gave no usable answer: $(head -c 300 "$W/audit.json" "$W/audit.err")"
  AUDIT_OK=0 AUDIT_LOST=0 AUDIT_DUP=0 AUDIT_INFLIGHT=0 AUDIT_LOST_EVENTS=0 AUDIT_DUP_EVENTS=0 AUDIT_EXIT=unusable
fi

# --- RSS --------------------------------------------------------------------------------------------------------
read -r RSS_FIRST RSS_LAST RSS_PEAK < <(awk -v s="$LOAD_START" -v e="$LOAD_END" '
  function median(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0 }
  $1 >= s && $1 <= e { if ($1 < s + 60) f[++nf] = $2; if ($1 > e - 60) l[++nl] = $2; if ($2 > p) p = $2 }
  END { printf "%d %d %d\n", median(f, nf) / 1024, median(l, nl) / 1024, p / 1024 }' "$W/rss.log")
RSS_FLAT=yes
if [ "$RSS_LAST" -gt $((RSS_FIRST * 115 / 100)) ] && [ "$RSS_LAST" -gt $((RSS_FIRST + 64)) ]; then RSS_FLAT=no; fi

# --- the summary ----------------------------------------------------------------------------------------------
SENT=$(j .events_sent) ACCEPTED=$(j .events) FAILED=$(j .events_failed)
LOST=$(($(j .e2e.missing) + PG_MISSING + AUDIT_LOST_EVENTS))
DUPLICATED=$(($(j .e2e.duplicates) + PG_DUP + AUDIT_DUP_EVENTS))
echo
echo "soak: $MINUTES min at $RATE events/s$LATE; faults:"
printf '  - %s\n' "${FAULT_LOG[@]}"
echo "  bench: sent $SENT, accepted (2xx) $ACCEPTED, refused or cut off by the faults $FAILED ($(j .transport_errors) transport errors, $(j .retries) retries after 429/503)"
echo "  files: $(j .e2e.in_files) of $ACCEPTED acknowledged events, $(j .e2e.missing) missing, $(j .e2e.duplicates) duplicated, $(j .e2e.unacknowledged_in_files) unacknowledged ones also delivered (in flight at a kill)"
[ -n "$PG_DIR" ] && echo "  postgresql: $PG_DISTINCT distinct events in $PG_ROWS rows ($PG_MISSING fewer than the files, $PG_DUP duplicated)"
echo "  audit: $AUDIT_OK (minute, sink) ok, $AUDIT_LOST lost, $AUDIT_DUP duplicated; in the kill minutes up to $AUDIT_INFLIGHT events per sink delivered but never accepted, within the $UNACKED unacknowledged events (requests in flight at the kills) (audit exit $AUDIT_EXIT)"
echo "  rss: first-minute median $RSS_FIRST MiB, last-minute median $RSS_LAST MiB, peak $RSS_PEAK MiB: $([ $RSS_FLAT = yes ] && echo flat || echo GROWING)"
VERDICT=ok STATUS=0
if [ "$LOST" != 0 ] || [ "$DUPLICATED" != 0 ] || [ "$AUDIT_EXIT" = unusable ] || [ "$RSS_FLAT" != yes ] || [ "$ACCEPTED" = 0 ]; then VERDICT=FAILED STATUS=1; fi
echo "soak summary: $VERDICT minutes=$MINUTES sent=$SENT accepted=$ACCEPTED delivered=$(j .e2e.in_files) faults=$FAULTS_DONE/$N lost=$LOST duplicated=$DUPLICATED rss_first_mib=$RSS_FIRST rss_last_mib=$RSS_LAST rss_peak_mib=$RSS_PEAK rss_flat=$RSS_FLAT"
exit "$STATUS"
