#!/usr/bin/env bash
# The spine against the Kafka client's ceiling, in one go on this machine (issue 12's yardstick):
#
#   scripts/bench-ratio.sh [DURATION] [RECORDS]      (defaults: 30s of nwdp bench per case, 1000000 kcat records)
#
#   1. kcat        produces RECORDS records of 200 B with acks=all to a `nwdp broker` (timed, no nwdp in the path)
#   2. ingress     `nwdp run --kafka <that broker>` with the files sink off, and `nwdp bench` against it
#   3. end to end  `nwdp run` with the defaults (embedded broker, files sink) and `nwdp bench --e2e`
#
# Prints each figure (events/s in the steady state after a 5 s warm-up, p99, the node's RSS and CPU) and its
# ratio to kcat, with the date and the machine. Needs kcat (only this script does: apt-get install kcat) and
# python3. Builds the Release once and runs the built nwdp.dll; every process it starts is stopped on exit.
# The load generator runs on the same cores as the node: figures from a busy machine are lower bounds.
set -euo pipefail
duration=${1:-30s}
records=${2:-1000000}
batch=${BATCH:-100}
concurrency=${CONCURRENCY:-64}
root=$(cd "$(dirname "$0")/.." && pwd)

command -v kcat >/dev/null || { echo "bench-ratio: kcat is not installed; on Debian/Ubuntu: apt-get install kcat" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench-ratio: python3 is not installed; on Debian/Ubuntu: apt-get install python3" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  exec 3>&- 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench-ratio: building the Release (once)" >&2
dotnet build "$root/NeverwinterDP.Host" -c Release -nologo -v q 2>&1 | grep -E " error |rror\(s\)" >&2 || true
nwdp=("dotnet" "$root/NeverwinterDP.Host/bin/Release/net10.0/nwdp.dll")
[ -f "${nwdp[1]}" ] || { echo "bench-ratio: ${nwdp[1]} was not built" >&2; exit 1; }

wait_line() { # FILE PATTERN SECONDS
  for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench-ratio: '$2' did not appear in $1 within $3 s" >&2; tail -20 "$1" "${1%.out}.err" >&2 2>/dev/null || true; exit 1
}
stop() { # PID: SIGTERM, wait for a graceful exit
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# --- 1. kcat → nwdp broker -------------------------------------------------------------------------------
mkfifo "$work/broker.in"
"${nwdp[@]}" broker < "$work/broker.in" > "$work/broker.out" 2> "$work/broker.err" & pids+=($!)
exec 3> "$work/broker.in" # held open: the broker reads commands from it
wait_line "$work/broker.out" '^ready' 60
kafka=$(sed -n 's/^ready kafka=//p' "$work/broker.out")
echo "topic bench.kcat" >&3; wait_line "$work/broker.out" '^ok topic bench.kcat' 10

# 200-byte records (199 characters and the newline kcat splits on), written before the clock starts.
python3 - "$work/records" "$records" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
pad = "x" * (199 - len('{"seq":000000000000,"msg":""}'))
with open(path, "w") as f:
    for i in range(n):
        f.write(f'{{"seq":{i:012d},"msg":"{pad}"}}\n')
PY
echo "bench-ratio: kcat producing $records records of 200 B to $kafka, acks=all" >&2
start=$(date +%s.%N)
kcat -P -b "$kafka" -t bench.kcat -X acks=all -l "$work/records" 2> "$work/kcat.err"
end=$(date +%s.%N)
kcat_rate=$(python3 -c "import sys; print(round(int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$records" "$start" "$end")
rm -f "$work/records"

# --- 2. ingress alone: nwdp run --kafka <broker>, files sink off ------------------------------------------
echo "bench-ratio: ingress alone, nwdp bench for $duration" >&2
"${nwdp[@]}" run --data "$work/ingress" --http 127.0.0.1:0 --admin 127.0.0.1:0 --kafka "$kafka" \
  --set nwdp.sinks.files.enabled=off > "$work/ingress.out" 2> "$work/ingress.err" & node=$!; pids+=($node)
wait_line "$work/ingress.out" '^ready' 120
http=$(grep -o 'http=[^ ]*' "$work/ingress.out" | cut -d= -f2)
"${nwdp[@]}" bench --url "$http" --duration "$duration" --batch "$batch" --concurrency "$concurrency" --pid "$node" --json \
  > "$work/ingress.json" || echo "bench-ratio: nwdp bench reported errors (see below)" >&2
stop "$node"

# --- 3. end to end: nwdp run defaults (embedded broker, files sink), nwdp bench --e2e ----------------------
echo "bench-ratio: end to end, nwdp bench --e2e for $duration" >&2
"${nwdp[@]}" run --data "$work/e2e" --http 127.0.0.1:0 --admin 127.0.0.1:0 > "$work/e2e.out" 2> "$work/e2e.err" & node=$!; pids+=($node)
wait_line "$work/e2e.out" '^ready' 120
http=$(grep -o 'http=[^ ]*' "$work/e2e.out" | cut -d= -f2)
"${nwdp[@]}" bench --url "$http" --duration "$duration" --batch "$batch" --concurrency "$concurrency" --pid "$node" \
  --e2e "$work/e2e" --e2e-wait 2m --json > "$work/e2e.json" || echo "bench-ratio: nwdp bench reported errors or a failed end-to-end check (see below)" >&2
stop "$node"

# --- report -------------------------------------------------------------------------------------------------
python3 - "$kcat_rate" "$records" "$work/ingress.json" "$work/e2e.json" "$duration" "$batch" "$concurrency" <<'PY'
import json, os, sys, datetime, platform
kcat, records = int(sys.argv[1]), int(sys.argv[2])
ingress, e2e = (json.load(open(p)) for p in sys.argv[3:5])
duration, batch, concurrency = sys.argv[5:8]
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"bench-ratio  {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  {os.cpu_count()} cores ({model}), load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
print(f"nwdp bench: {duration} per case, batches of {batch}, {concurrency} connections, ~200 B events, 5 s warm-up; kcat: {records:,} records of 200 B, acks=all")
print()
print(f"{'what':<44}{'events/s':>12}{'ratio':>8}{'p99 ms':>9}{'RSS MiB':>9}{'CPU %':>7}{'CPU µs/ev':>10}")
print(f"{'kcat -P, acks=all, to nwdp broker':<44}{kcat:>12,}{1:>8.2f}{'':>9}{'':>9}{'':>7}{'':>10}")
def row(name, r):
    s, n = r.get("steady") or {}, r.get("node") or {}
    rate = s.get("events_per_sec", r["events_per_sec"])
    p99 = s.get("p99_ms", r["p99_ms"])
    per = n.get("cpu_us_per_event")
    print(f"{name:<44}{rate:>12,.0f}{rate / kcat:>8.2f}{p99:>9.1f}{n.get('rss_max_mib', 0):>9.0f}{n.get('steady_cpu_percent') or n.get('cpu_percent', 0):>7.0f}{(f'{per:.1f}' if per else ''):>10}")
row("ingress alone (--kafka, files sink off)", ingress)
row("end to end (defaults: embedded broker, files)", e2e)
print()
for name, r in (("ingress alone", ingress), ("end to end", e2e)):
    st = ", ".join(f"{k}: {v:,}" for k, v in r["status"].items())
    print(f"{name}: {r['events']:,} events accepted in {r['elapsed_s']:.1f} s ({r['events_per_sec']:,.0f}/s over the whole run), "
          f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, p999 {r['p999_ms']:.1f} ms; status {st}; {r['retries']:,} retried, {r['errors']:,} errors")
e = e2e.get("e2e")
if e:
    into = e.get("steady_into_files_per_sec")
    print(f"end to end into files: {e['in_files_at_run_end']:,} of {e['acknowledged']:,} acknowledged events in files when the run ended, "
          f"{e['in_files']:,} after {e['waited_s']:.1f} s more" + (f"; {into:,.0f} events/s into files in the steady state" if into else ""))
    print(f"exactly once: {'yes' if e['exactly_once'] else 'NO'} ({e['missing']:,} missing, {e['duplicates']:,} duplicates, {e['unacknowledged_in_files']:,} unacknowledged also in files)")
PY
exec 3>&-
