#!/usr/bin/env bash
# Runs the whole test suite (what CI runs). On a fresh Debian machine as root it first installs the
# system packages the tests talk to (kcat: an independent Kafka client in a second process).
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) and run again" >&2
    exit 1
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test NeverwinterDP.sln -c Release --filter "Category!=Benchmark" --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line: "N passed, N failed, N skipped".
passed=$(grep -aE '^\s*Passed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
failed=$(grep -aE '^\s*Failed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
skipped=$(grep -aE '^\s*Skipped: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
if [ -n "$passed$failed" ]; then
  echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
fi
exit "$status"
