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

log=$(mktemp)
trap 'rm -f "$log"; stop_services' EXIT
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
