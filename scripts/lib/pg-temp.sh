# Sourced by benchmark scripts: pg_temp_start starts a throwaway PostgreSQL on a free loopback port (as the
# postgres OS user when root) and sets PG_URL; pg_temp_stop stops it and deletes its folder.
pg_temp_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) $(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)"); do
    [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install them, e.g. apt-get install postgresql" >&2
  return 1
}
# runuser lives in sbin, which a minimal PATH (cron, env -i) leaves out.
pg_temp_as() { if [ "$(id -u)" = 0 ]; then "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"; else "$@"; fi; }
pg_temp_start() {
  local bin port
  bin=$(pg_temp_bin) || return 1
  PG_DIR=$(pg_temp_as mktemp -d -t accord-bench-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pg_temp_as "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-sync >/dev/null
  pg_temp_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  PG_BIN=$bin
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
pg_temp_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_temp_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
