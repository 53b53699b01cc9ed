# ClickHouse for the tests: a private server (own config, data and logs) under $NWDP_TEST_SERVICES, listening
# on 127.0.0.1 only, HTTP interface only (no native TCP, no interserver port), on a port picked free at start.
# Sourced by test.sh: adds its Debian package to need[] and defines start_/stop_ functions; start_ exports
# NWDP_TEST_CLICKHOUSE (the HTTP URL, e.g. http://127.0.0.1:41234/). Users: default (no password) and
# nwdp (password nwdp-secret), for the sink's authentication tests.
need_cmd /usr/sbin/clickhouse-server clickhouse-server
need_cmd curl curl
services+=(clickhouse)

start_clickhouse() {
  local dir="$NWDP_TEST_SERVICES/clickhouse" port attempt as=()
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  cat >"$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <nwdp><password>nwdp-secret</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></nwdp>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  if [ "$(id -u)" = 0 ]; then as=(runuser -u clickhouse --); fi
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi # taken
    cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/server.err.log</errorlog><size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$port</http_port>
  <max_connections>256</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mlock_executable>false</mlock_executable>
</yandex>
XML
    [ "$(id -u)" = 0 ] && chown -R clickhouse:clickhouse "$dir"
    "${as[@]}" /usr/sbin/clickhouse-server --config-file="$dir/config.xml" --pid-file="$dir/server.pid" --daemon
    local i
    for i in $(seq 1 300); do
      if [ "$(curl -fsS "http://127.0.0.1:$port/ping" 2>/dev/null)" = "Ok." ]; then
        export NWDP_TEST_CLICKHOUSE="http://127.0.0.1:$port/"
        echo "test.sh: ClickHouse on $NWDP_TEST_CLICKHOUSE" >&2
        return 0
      fi
      # Gone (e.g. the port was taken after all): try another port.
      if [ -f "$dir/server.pid" ] && ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    stop_clickhouse
  done
  echo "test.sh: ClickHouse did not start; see $dir/log" >&2
  return 1
}

stop_clickhouse() {
  local dir="$NWDP_TEST_SERVICES/clickhouse" pid i
  [ -f "$dir/server.pid" ] || return 0
  pid=$(cat "$dir/server.pid")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/server.pid"
}
