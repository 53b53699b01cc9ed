#!/usr/bin/env bash
# Runs the whole test suite (what CI runs). On a fresh Debian machine as root it first installs the
# system packages the tests talk to (kcat: an independent Kafka client in a second process).
set -euo pipefail
cd "$(dirname "$0")"

# The system packages and servers the tests talk to: each scripts/services/<name>.sh is sourced; it
# adds its Debian packages (need_cmd COMMAND PACKAGE) and, for a server, defines start_<name> and
# stop_<name>, which run a private instance under $NWDP_TEST_SERVICES for this run only.
need=()
services=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
for s in scripts/services/*.sh; do source "$s"; done
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # No daemon is started by the packages themselves (policy-rc.d): test.sh starts private instances.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq "${need[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  else
    echo "test.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) and run again" >&2
    exit 1
  fi
fi

NWDP_TEST_SERVICES=$(mktemp -d /tmp/nwdp-services.XXXXXX)
chmod 755 "$NWDP_TEST_SERVICES"
export NWDP_TEST_SERVICES
stop_services() {
  for name in "${services[@]}"; do "stop_$name" || true; done
  rm -rf "$NWDP_TEST_SERVICES"
}
trap stop_services EXIT
for name in "${services[@]}"; do "start_$name"; done

# Build once, then two passes over the built solution:
#  1. unit tests (neither Integration nor Benchmark), xunit running test classes in parallel;
#  2. integration tests (Category=Integration: in-process nodes, clusters, the embedded broker, processes, real
#     servers), two test classes at a time (most of their time is waiting: failovers, timeouts, servers); the
#     classes that start nwdp processes or set the environment (ProcessCollection, ProcessEnvironmentCollection:
#     DisableParallelization) run after them, one at a time, alone, so their timings and memory figures stay honest.
# Benchmarks (Category=Benchmark) are left out. Extra arguments ("$@") go to both dotnet test runs (a logger,
# --results-directory, ...); not --filter (each pass has its own) nor "--" (pass 1 uses it for its run settings).
logs=()
trap 'rm -f "${logs[@]}"; stop_services' EXIT
dotnet build NeverwinterDP.sln -c Release -nologo
status=0
run_pass() {
  local filter=$1; shift
  local log; log=$(mktemp); logs+=("$log")
  set +e
  # A test that hangs (a deadlock, a probe that never answers) fails after 15 minutes with a mini dump in
  # TestResults/, instead of holding CI until its own limit; the longest test (the soak) takes about 4.
  dotnet test NeverwinterDP.sln -c Release --no-build --filter "$filter" --logger "console;verbosity=normal" \
    --blame-hang-timeout 15m --blame-hang-dump-type mini "$@" 2>&1 | tee "$log"
  local code=${PIPESTATUS[0]}
  set -e
  if [ "$code" != 0 ]; then status=$code; fi
}
extra=("$@")
run_pass "Category!=Benchmark&Category!=Integration" "${extra[@]}" -- xUnit.ParallelizeTestCollections=true xUnit.MaxParallelThreads=2
run_pass "Category=Integration" "${extra[@]}" -- xUnit.ParallelizeTestCollections=true xUnit.MaxParallelThreads=2

# One plain closing line for both passes: "N passed, N failed, N skipped" (each pass's last summary, summed).
count() { # count WORD LOG: the number on the pass's last "WORD: N" summary line (0 when none)
  local n; n=$(grep -aE "^\s*$1: +[0-9]+" "$2" | tail -1 | grep -oE '[0-9]+' || true)
  echo "${n:-0}"
}
passed=0 failed=0 skipped=0 summaries=0
for log in "${logs[@]}"; do
  grep -qaE '^\s*(Passed|Failed): +[0-9]+' "$log" && summaries=$((summaries + 1))
  passed=$((passed + $(count Passed "$log")))
  failed=$((failed + $(count Failed "$log")))
  skipped=$((skipped + $(count Skipped "$log")))
done
if ((failed)); then
  # The failures again, each test's name and error message (not its stack or output), so that the tail of a long
  # CI log says what failed.
  echo "failed tests:"
  for log in "${logs[@]}"; do
    awk '/^  Failed [A-Za-z]/ { show = 1; lines = 0 }
         /^  (Stack Trace|Standard Output Messages):/ { show = 0 }
         show && lines++ < 25 { print }' "$log"
  done
fi
if ((summaries)); then
  echo "$passed passed, $failed failed, $skipped skipped"
fi
exit "$status"
