# PostgreSQL for the tests: a private server (own data directory, Unix socket only, no TCP port) under
# $NWDP_TEST_SERVICES, started and stopped by test.sh. Sourced by test.sh: adds its Debian package to
# need[] and defines start_/stop_ functions; start_ exports NWDP_TEST_POSTGRES (an Npgsql connection string).
need_cmd /usr/lib/postgresql/15/bin/postgres postgresql
services+=(postgresql)

start_postgresql() {
  local dir="$NWDP_TEST_SERVICES/postgresql" bin=/usr/lib/postgresql/15/bin
  mkdir -p "$dir/data" "$dir/run"
  local as=()
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; as=(runuser -u postgres --); fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U nwdp --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir/run' -c fsync=off -c max_connections=200" start >/dev/null
  "${as[@]}" "$bin/createdb" -h "$dir/run" -U nwdp nwdp_test
  export NWDP_TEST_POSTGRES="Host=$dir/run;Username=nwdp;Database=nwdp_test"
  echo "test.sh: PostgreSQL on $dir/run" >&2
}

stop_postgresql() {
  local dir="$NWDP_TEST_SERVICES/postgresql" as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  [ -f "$dir/data/postmaster.pid" ] && "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
