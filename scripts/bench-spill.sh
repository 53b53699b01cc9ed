#!/usr/bin/env bash
# Spill and replay throughput, measured with `nwdp bench` while the broker is down (issue 5's benchmark).
#
#   scripts/bench-spill.sh [EVENTS] [BATCH] [CONCURRENCY] [REPLAY_RATE]
#
# Starts `nwdp broker` (a separate process, so the outage is the broker's own fault injection), a node on it with
# the embedded defaults otherwise (SQLite state store in a temp data dir), takes broker 1 down, runs
# `nwdp bench` (every event spilled), brings the broker back and times the replay until `nwdp spill status`
# shows no backlog. Prints both rates. Everything it starts is stopped at the end; the temp dir is removed.
set -euo pipefail
events=${1:-1000000}
batch=${2:-1000}
concurrency=${3:-32}
replay_rate=${4:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
nwdp=("dotnet" "$root/NeverwinterDP.Host/bin/Release/net10.0/nwdp.dll")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

[ -f "${nwdp[1]}" ] || dotnet build "$root/NeverwinterDP.Host" -c Release -v q -nologo >/dev/null
wait_line() { # FILE PATTERN SECONDS
  for _ in $(seq $((${3} * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench-spill: '$2' did not appear in $1" >&2; tail -20 "$1" >&2; exit 1
}

mkfifo "$work/broker.in"
"${nwdp[@]}" broker < "$work/broker.in" > "$work/broker.out" 2> "$work/broker.err" & pids+=($!)
exec 3> "$work/broker.in" # held open: the broker reads one command per line from it
wait_line "$work/broker.out" '^ready' 60
kafka=$(sed -n 's/^ready kafka=//p' "$work/broker.out")

"${nwdp[@]}" run --data "$work/data" --http 127.0.0.1:0 --admin 127.0.0.1:0 --kafka "$kafka" \
  --set nwdp.spill.replay-rate="$replay_rate" > "$work/node.out" 2> "$work/node.err" & pids+=($!)
wait_line "$work/node.out" '^ready' 90
http=$(grep -o 'http=[^ ]*' "$work/node.out" | cut -d= -f2)
admin=$(grep -o 'admin=[^ ]*' "$work/node.out" | cut -d= -f2); admin=${admin#http://}

echo "down 1" >&3; wait_line "$work/broker.out" '^ok down 1' 10
echo "bench-spill: broker down; warming up (opens the circuit, creates the spillover entity)" >&2
"${nwdp[@]}" bench --url "$http" --events 20000 --batch "$batch" --concurrency 8 -q > /dev/null
backlog() { "${nwdp[@]}" spill status --node "$admin" --json | python3 -c 'import json,sys; print(sum(t["events"] for t in json.load(sys.stdin)["topics"]))'; }
before=$(backlog)

echo "bench-spill: $events events, batches of $batch, $concurrency connections, all spilled" >&2
"${nwdp[@]}" bench --url "$http" --events "$events" --batch "$batch" --concurrency "$concurrency" --json > "$work/bench.json"
spilled=$(( $(backlog) - before ))
python3 - "$work/bench.json" "$spilled" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"spill:  {r['events']:,} events accepted in {r['elapsed_s']:.2f} s = {r['events_per_sec']:,.0f} events/s, {r['mib_per_sec']:.1f} MiB/s "
      f"(p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, {r['retries']} retried after 429/503, {r['errors']} errors); {int(sys.argv[2]):,} of them in the spill store")
EOF

total=$(backlog)
echo "up 1" >&3; wait_line "$work/broker.out" '^ok up 1' 10
start=$(date +%s.%N)
last=$total
while true; do
  left=$(backlog)
  now=$(date +%s.%N)
  if [ "$left" -eq 0 ]; then break; fi
  if [ "$left" != "$last" ]; then echo "bench-spill: replaying, $left events left" >&2; last=$left; fi
  sleep 1
done
python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]); print(f'replay: {n:,} events replayed to Kafka in {t:.1f} s = {n/t:,.0f} events/s (replay-rate {sys.argv[4]})')" "$start" "$now" "$total" "$replay_rate"
exec 3>&-
