# MariaDB for the tests: a private server (own data directory, Unix socket only: --skip-networking) under
# $NWDP_TEST_SERVICES, started and stopped by test.sh. Sourced by test.sh: adds its Debian package to need[]
# and defines start_/stop_ functions; start_ exports NWDP_TEST_MARIADB (a MySqlConnector connection string
# for database nwdp_test, user nwdp with a password, over the socket).
need_cmd /usr/sbin/mariadbd mariadb-server
services+=(mariadb)

start_mariadb() {
  local dir="$NWDP_TEST_SERVICES/mariadb"
  mkdir -p "$dir/data" "$dir/run"
  local user=()
  if [ "$(id -u)" = 0 ]; then chown -R mysql:mysql "$dir"; user=(--user=mysql); fi
  # root@localhost without a password (this instance is private and reachable only through its socket).
  mariadb-install-db --no-defaults "${user[@]}" --datadir="$dir/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1
  # No fsync per commit (like fsync=off for PostgreSQL): the tests need crash-safety of the sink, not of the disk.
  /usr/sbin/mariadbd --no-defaults "${user[@]}" --datadir="$dir/data" --socket="$dir/run/mariadb.sock" \
    --pid-file="$dir/run/mariadb.pid" --log-error="$dir/server.log" --skip-networking \
    --innodb-flush-log-at-trx-commit=2 --max-connections=200 --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_bin >/dev/null 2>&1 &
  local i
  for i in $(seq 1 300); do
    mariadb-admin --no-defaults --socket="$dir/run/mariadb.sock" -u root ping >/dev/null 2>&1 && break
    if [ "$i" = 300 ]; then echo "test.sh: MariaDB did not start; $dir/server.log:" >&2; tail -20 "$dir/server.log" >&2; return 1; fi
    sleep 0.2
  done
  mariadb --no-defaults --socket="$dir/run/mariadb.sock" -u root <<'SQL'
CREATE DATABASE nwdp_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER 'nwdp'@'localhost' IDENTIFIED BY 'nwdp-test';
GRANT ALL PRIVILEGES ON nwdp_test.* TO 'nwdp'@'localhost';
-- Databases of their own for tests that need one (MariaDbDatabase: the cluster journal on MariaDB).
GRANT ALL PRIVILEGES ON `nwdpj\_%`.* TO 'nwdp'@'localhost';
SQL
  export NWDP_TEST_MARIADB="Server=$dir/run/mariadb.sock;Protocol=Unix;User ID=nwdp;Password=nwdp-test;Database=nwdp_test"
  echo "test.sh: MariaDB on $dir/run/mariadb.sock" >&2
}

stop_mariadb() {
  local dir="$NWDP_TEST_SERVICES/mariadb" pid
  [ -f "$dir/run/mariadb.pid" ] || return 0
  pid=$(cat "$dir/run/mariadb.pid")
  mariadb-admin --no-defaults --socket="$dir/run/mariadb.sock" -u root shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
}
