#!/usr/bin/env bash
# Load benchmark of the partner API with wrk.
#
#   scripts/bench/upload.sh                           # SQLite (fresh temporary database file)
#   scripts/bench/upload.sh --postgres                # PostgreSQL (fresh schema, dropped at the end)
#   scripts/bench/upload.sh --postgres --after-known  # the statistics check (below)
#
# Builds the release binary, starts the server with CC_BENCH_ECHO=1 (and the per-client rate
# limits off, since one load generator is one client) on a free port, gets a
# token, then runs wrk against five routes with the same settings:
#   (a) POST /bench/echo          the three-course package; the server returns it unchanged
#   (b) POST /api/v1/credentials  "known": the same package every time, Bearer token
#   (c) POST /api/v1/credentials  "fresh": every request a new recipient and new credential
#                                 ids (request.lua with BENCH_FRESH=1)
#   (d) POST /api/v1/credentials  "twice": as fresh, but each of wrk's threads sends the same
#                                 packages in the same order (BENCH_FRESH=twice): with the
#                                 default two threads, each package sent twice at about the
#                                 same moment
#   (e) POST /api/v1/token        grant_type=client_credentials, HTTP Basic
# and prints req/s, p50/p99 latency and non-2xx responses for each, the share of the
# machine's CPU time a hypervisor took meanwhile ("steal": a warning above 2 %, when a
# ratio compares two different machines), and each route's ratio to its anchor: on SQLite
# the echo route; on PostgreSQL pgbench, run by this script on the same server with as many
# clients as wrk has connections, each transaction one INSERT of a row as large as the
# package (into a table made for it in the bench schema). On PostgreSQL pgbench also runs
# the "floor": the rows a fresh upload of the package stores, written by one plain statement
# into the same tables (see run_floor).
#
# --after-known (PostgreSQL): the known route on the new database, then the fresh route on
# it, with no ANALYZE in between (autovacuum off, as on these machines); then the fresh route
# on a second new database. The first fresh rate must stay within 20 % of the second, else
# the script fails (a plan made while a table was small, kept after it grew, would fall far
# below).
#
# --pin (PostgreSQL on this machine): the database gets a core of its own and everything else
# (the server, wrk, pgbench's client, psql) the other cores, for every route and the anchor:
# the ratios then compare the database's own work per request with its work per pgbench
# insert, as on a deployment whose database has a machine of its own. It also prints the
# database core's busy time per request for each route, and the anchor's divided by it. It
# sets the CPU affinity of the running PostgreSQL server's processes (new backends inherit it
# from the postmaster), so it needs the rights to (root, or the postgres user), and gives
# them every core back at the end.
#
# --instances "1 2 4" (PostgreSQL): the known, fresh and token routes against 1, 2, then 4
# instances serving one database (each started with `serve`, pinned to a core in turn with
# taskset), wrk's connections shared out among them; prints each route's total req/s and
# its ratio to one instance's.
#
# Environment:
#   DURATION       seconds per route (default 20)
#   CONNECTIONS    wrk connections and pgbench clients (default 64)
#   THREADS        wrk threads and pgbench threads (default 2)
#   BENCH_PG_URL   PostgreSQL database for --postgres
#                  (default postgres://postgres@127.0.0.1:5432/test)
#   BENCH_KEEP=1   keep the temporary directory (server log, wrk output) afterwards
#   RUST_LOG       passed to the server (its default is "info": one log line per request)
#   CARGO_TARGET_DIR is respected for the build.
set -euo pipefail

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'
}

ENGINE=sqlite
AFTER_KNOWN=0
PIN=0
INSTANCES=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --postgres) ENGINE=postgres ;;
    --after-known) AFTER_KNOWN=1 ;;
    --pin) PIN=1 ;;
    --instances) INSTANCES="$2"; shift ;;
    --sqlite) ENGINE=sqlite ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

DURATION="${DURATION:-20}"
DURATION="${DURATION%s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
BENCH_PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BENCH_DIR="$ROOT/scripts/bench"
BODY_FILE="$ROOT/tests/fixtures/guide/three-courses.json"

for tool in wrk curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is not installed (Debian: apt-get install -y $tool)" >&2
    exit 1
  fi
done
if [[ "$ENGINE" == postgres ]]; then
  for tool in psql pgbench; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$tool is not installed (Debian: apt-get install -y postgresql-client postgresql-contrib)" >&2
      exit 1
    fi
  done
fi
if [[ ( "$AFTER_KNOWN" == 1 || -n "$INSTANCES" || "$PIN" == 1 ) && "$ENGINE" != postgres ]]; then
  echo "--after-known, --instances and --pin run on PostgreSQL: add --postgres" >&2
  exit 2
fi
if [[ "$PIN" == 1 && -n "$INSTANCES" ]]; then
  echo "--pin and --instances both place processes on cores: choose one" >&2
  exit 2
fi
# (nproc counts the cores this shell may use: read before --pin narrows them.)
CORES="$(nproc)"
ALL_CORES="0-$(( CORES - 1 ))"
if [[ "$PIN" == 1 ]]; then
  if ! command -v taskset >/dev/null 2>&1 || [[ "$CORES" -lt 2 ]]; then
    echo "--pin needs taskset (util-linux) and at least 2 cores" >&2
    exit 1
  fi
  if [[ -z "$(pgrep -x postgres || true)" ]]; then
    echo "--pin: no PostgreSQL server process (postgres) runs on this machine" >&2
    exit 1
  fi
fi

echo "== building (cargo build --release)"
cargo build --release
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/credentialconnect"
[[ -x "$BIN" ]] || { echo "no binary at $BIN" >&2; exit 1; }

# pin_postgres CORES: every process of the local PostgreSQL server, and so the backends its
# postmaster starts from now on, runs on CORES (a taskset list).
pin_postgres() {
  local pid ok=0
  for pid in $(pgrep -x postgres); do
    taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || ok=1
  done
  return "$ok"
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cc-bench.XXXXXX")"
SERVER_PID=""
SCHEMA=""

EXTRA_PIDS=()
EXTRA_SCHEMAS=()
cleanup() {
  local status=$?
  if [[ "$PIN" == 1 ]]; then
    pin_postgres "$ALL_CORES" || echo "warning: could not give PostgreSQL every core back" >&2
  fi
  for pid in "${EXTRA_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for schema in "${EXTRA_SCHEMAS[@]}"; do
    psql -q -X "$BENCH_PG_URL" -c "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true
  done
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$SCHEMA" ]]; then
    psql -q -X "$BENCH_PG_URL" -c "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" >/dev/null 2>&1 \
      || echo "warning: could not drop schema $SCHEMA" >&2
  fi
  if [[ "${BENCH_KEEP:-}" == 1 ]]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PLACEMENT="$CORES cores shared"
if [[ "$PIN" == 1 ]]; then
  DB_CORE=$(( CORES - 1 ))
  OTHERS="0-$(( DB_CORE - 1 ))"
  pin_postgres "$DB_CORE" || { echo "--pin: could not set PostgreSQL's CPU affinity (run as root or postgres)" >&2; exit 1; }
  # This shell's children (the server, wrk, pgbench, psql) start on the other cores.
  taskset -p -c "$OTHERS" $$ >/dev/null
  PLACEMENT="PostgreSQL alone on core $DB_CORE, everything else on cores $OTHERS"
fi

source "$ROOT/scripts/free_port.sh"

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
SERVER_OUT="$WORK/server.out"
SERVER_ERR="$WORK/server.err"

show_server_log() {
  echo "--- server stderr (last 40 lines) ---" >&2
  tail -n 40 "$SERVER_ERR" >&2 || true
}

wait_for_server() {
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited during start-up" >&2
      show_server_log
      return 1
    fi
    if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "the server did not answer $BASE/healthz within 30 s" >&2
  show_server_log
  return 1
}

if [[ "$ENGINE" == sqlite ]]; then
  DB_FILE="$WORK/bench.db"
  echo "== starting the server on SQLite ($DB_FILE), $BASE"
  CC_BIND="127.0.0.1:$PORT" CC_BENCH_ECHO=1 CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 CC_UPLOAD_RATE_PER_MINUTE=0 CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 CC_VERIFY_NETWORK=0 \
    "$BIN" demo --database "$DB_FILE" >"$SERVER_OUT" 2>"$SERVER_ERR" &
  SERVER_PID=$!
  wait_for_server
  CLIENT_ID="$(sed -n 's/^ *client_id: *\([^ ]*\) *$/\1/p' "$SERVER_OUT" | head -n 1)"
  CLIENT_SECRET="$(sed -n 's/^ *client_secret: *\([^ ]*\) *$/\1/p' "$SERVER_OUT" | head -n 1)"
  ENGINE_LABEL="SQLite (WAL, synchronous=FULL, group commit)"
else
  SCHEMA="bench_$(date +%Y%m%d%H%M%S)_$$"
  echo "== creating schema $SCHEMA in $BENCH_PG_URL"
  psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL" -c "CREATE SCHEMA \"$SCHEMA\"" >/dev/null
  if [[ "$BENCH_PG_URL" == *\?* ]]; then sep='&'; else sep='?'; fi
  DB_URL="${BENCH_PG_URL}${sep}options=-c%20search_path%3D${SCHEMA}"
  PARTNER_JSON="$(CC_DATABASE_URL="$DB_URL" "$BIN" partner create --name "Bench" --slug bench 2>"$WORK/partner.err")" || {
    echo "partner create failed:" >&2
    cat "$WORK/partner.err" >&2
    exit 1
  }
  CLIENT_ID="$(printf '%s' "$PARTNER_JSON" | sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p')"
  CLIENT_SECRET="$(printf '%s' "$PARTNER_JSON" | sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p')"
  echo "== starting the server on PostgreSQL (schema $SCHEMA), $BASE"
  CC_DATABASE_URL="$DB_URL" CC_BIND="127.0.0.1:$PORT" CC_BENCH_ECHO=1 CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 CC_UPLOAD_RATE_PER_MINUTE=0 CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 CC_VERIFY_NETWORK=0 \
    "$BIN" serve >"$SERVER_OUT" 2>"$SERVER_ERR" &
  SERVER_PID=$!
  wait_for_server
  ENGINE_LABEL="PostgreSQL"
fi

if [[ -z "$CLIENT_ID" || -z "$CLIENT_SECRET" ]]; then
  echo "could not read the partner's client_id/client_secret" >&2
  exit 1
fi

TOKEN_JSON="$(curl -sS -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/api/v1/token")"
ACCESS_TOKEN="$(printf '%s' "$TOKEN_JSON" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
if [[ -z "$ACCESS_TOKEN" ]]; then
  echo "no access_token in the token response: $TOKEN_JSON" >&2
  show_server_log
  exit 1
fi
BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 | tr -d '\n')"

# One request per route before the load, so that a broken route fails here and not as
# thousands of errors.
check_route() {
  local name=$1 url=$2 auth=$3 ctype=$4 body=$5 code
  code="$(curl -sS -o "$WORK/check-$name.out" -w '%{http_code}' -X POST \
    -H "Authorization: $auth" -H "Content-Type: $ctype" --data-binary "$body" "$url")"
  if [[ "$code" != 2?? ]]; then
    echo "$name: $url answered $code:" >&2
    cat "$WORK/check-$name.out" >&2; echo >&2
    show_server_log
    exit 1
  fi
}
check_route echo "$BASE/bench/echo" "Bearer $ACCESS_TOKEN" application/json "@$BODY_FILE"
check_route upload "$BASE/api/v1/credentials" "Bearer $ACCESS_TOKEN" application/json "@$BODY_FILE"
check_route token "$BASE/api/v1/token" "$BASIC" application/x-www-form-urlencoded "grant_type=client_credentials"

# On PostgreSQL, a CHECKPOINT before each route: what the route before it wrote (pgbench
# writes most) is flushed then, not by a checkpoint that starts during the next route and
# stalls its commits (full-page writes and the flush: p99 of 350 ms were seen so).
settle() {
  if [[ "$ENGINE" == postgres ]]; then
    psql -q -X "$BENCH_PG_URL" -c CHECKPOINT >/dev/null
  fi
}

# With --pin: the database core's busy time so far, in clock ticks (user, nice, system, irq
# and softirq from /proc/stat; not idle, iowait or steal: time the hypervisor gave the core
# to another machine is no work of the database's).
db_core_ticks() {
  awk -v cpu="cpu$DB_CORE" '$1 == cpu { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# The machine's CPU time so far, in clock ticks, as "STEAL TOTAL" (the cpu line of
# /proc/stat). On a virtual machine steal is time the hypervisor ran someone else on its
# cores: a route that lost much of it ran on a slower machine than its anchor did, and its
# ratio says so rather than anything about the server.
cpu_ticks() {
  awk '$1 == "cpu" { total = 0; for (i = 2; i <= 9; i++) total += $i; print $9, total }' /proc/stat
}
# stolen NAME BEFORE: appends to wrk-NAME.txt the share of the machine's CPU time stolen
# since BEFORE (a cpu_ticks reading), as a STEAL line.
stolen() {
  local name=$1 s0 t0 s1 t1
  read -r s0 t0 <<<"$2"
  read -r s1 t1 <<<"$(cpu_ticks)"
  awk -v s="$(( s1 - s0 ))" -v t="$(( t1 - t0 ))" \
    'BEGIN { if (t > 0) printf "STEAL percent=%.1f\n", 100 * s / t }' >>"$WORK/wrk-$name.txt"
}
# db_cpu NAME BEFORE: appends to wrk-NAME.txt the database core's busy time per request since
# BEFORE (a DBCPU line), with --pin: the database's own work per request, whatever the core's
# speed did to the rate.
db_cpu() {
  [[ "$PIN" == 1 ]] || return 0
  local name=$1 before=$2 requests
  requests="$(sed -n 's/^BENCH requests=\([0-9]*\) .*/\1/p' "$WORK/wrk-$name.txt" | head -n 1)"
  awk -v ticks="$(( $(db_core_ticks) - before ))" -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { if (n > 0) printf "DBCPU us_per_request=%.1f\n", ticks * 1e6 / hz / n }' >>"$WORK/wrk-$name.txt"
}

# run_wrk NAME PATH AUTHORIZATION CONTENT_TYPE BODY_FILE|"" BODY [FRESH]
run_wrk() {
  local name=$1 path=$2 auth=$3 ctype=$4 body_file=$5 body=$6 fresh=${7:-0}
  local out="$WORK/wrk-$name.txt" before ticks
  settle
  [[ "$PIN" == 1 ]] && before="$(db_core_ticks)"
  ticks="$(cpu_ticks)"
  echo
  echo "== $name: POST $path (${DURATION}s, $CONNECTIONS connections, $THREADS threads)"
  BENCH_METHOD=POST BENCH_AUTHORIZATION="$auth" BENCH_CONTENT_TYPE="$ctype" \
    BENCH_BODY_FILE="$body_file" BENCH_BODY="$body" BENCH_FRESH="$fresh" BENCH_RUN="$$-$name" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
      -s "$BENCH_DIR/count_status.lua" "$BASE$path" | tee "$out"
  stolen "$name" "$ticks"
  db_cpu "$name" "${before:-0}"
  sleep 1
}

# pgbench_route NAME SCRIPT TITLE: pgbench on the same server, as many clients as wrk's
# connections, each transaction SCRIPT; its rate goes into wrk-NAME.txt as a BENCH line,
# like wrk's.
pgbench_route() {
  local name=$1 script=$2 title=$3 out="$WORK/wrk-$1.txt" before ticks
  settle
  echo
  echo "== $name: $title (${DURATION}s, $CONNECTIONS clients, $THREADS threads)"
  [[ "$PIN" == 1 ]] && before="$(db_core_ticks)"
  ticks="$(cpu_ticks)"
  pgbench -n -M prepared -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -f "$script" "$BENCH_PG_URL" \
    >"$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; exit 1; }
  grep -E '^(tps|latency)' "$WORK/$name.out"
  awk '/^number of transactions actually processed: / { n = $NF } /^tps = / { tps = $3 } /^latency average = / { lat = $4 }
       END { printf "BENCH requests=%d duration_us=0 rps=%.1f p50_us=%d p99_us=0 non2xx=0 statuses=none socket_errors=connect:0,read:0,write:0,timeout:0\n", n, tps, lat * 1000 }' \
    "$WORK/$name.out" >"$out"
  stolen "$name" "$ticks"
  db_cpu "$name" "${before:-0}"
  sleep 1
}

# The PostgreSQL anchor: each transaction one INSERT of a row the package's size into a
# table of the bench schema.
run_pgbench() {
  local script="$WORK/pgbench.sql"
  psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL" \
    -c "CREATE TABLE \"$SCHEMA\".anchor (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)" >/dev/null
  { printf 'INSERT INTO "%s".anchor (body) VALUES (\x27' "$SCHEMA"
    sed "s/'/''/g" "$BODY_FILE" | tr -d '\n'
    printf '\x27);\n'; } >"$script"
  pgbench_route pgbench "$script" "one INSERT of $(wc -c <"$BODY_FILE") bytes per transaction"
}

# The floor (PostgreSQL): what a fresh upload of the body must store — its package row, its
# credentials and their links, with the values the server would store — written by one
# plain statement per transaction into the bench schema's own tables (their indexes and
# foreign keys), with no look-up, no check of the package's kind and no server: what this
# schema's rows cost the database. It is a measurement, not a bound: a fresh upload has cost
# the database 0.67-1.33 times the floor (docs/benchmarks.md, "The floor").
# (Documents go in as PostgreSQL prints them from jsonb, about the size the server stores.)
run_floor() {
  local script="$WORK/floor.sql"
  # Ids from a sequence, zero-padded: they grow as the server's do (time first). (Each
  # backend takes them a thousand at a time; a sequence without that cache measured the same.)
  psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL" \
    -c "CREATE SEQUENCE \"$SCHEMA\".floor_ids CACHE 1000" >/dev/null
  psql -q -X -At -v ON_ERROR_STOP=1 -v schema="$SCHEMA" -v body="$(cat "$BODY_FILE")" "$BENCH_PG_URL" >"$script" <<'SQL'
SELECT format(
  'WITH k AS (SELECT ''floor-'' || lpad(nextval(%6$L)::text, 19, ''0'') AS id), '
  'package AS (INSERT INTO %1$I.packages (id, partner_id, token_hash, recipient, recipient_id, created_at, expires_at) '
  'SELECT k.id, %2$L, repeat(''0'', 64), %3$L, k.id, 0, 0 FROM k), '
  'created AS (INSERT INTO %1$I.credentials (id, partner_id, assertion_key, assertion_id, kind, document, fingerprint, '
  'name, description, issuer_id, issuer_name, achievement_id, achievement_type, section, awarded_text, recipient_id, '
  'verification, verification_reason, verification_checked_at, created_at, updated_at, position) '
  'SELECT v.* FROM k, LATERAL (VALUES %4$s) v), '
  'links AS (INSERT INTO %1$I.package_credentials (package_id, credential_id, position, result) '
  'SELECT k.id, k.id || ''-'' || v.i, v.i - 1, ''created'' FROM k, LATERAL (VALUES %5$s) v(i)) '
  'SELECT 1;',
  :'schema', partner.id, (sent.body -> 'recipient')::jsonb::text, credentials.rows, credentials.links,
  quote_ident(:'schema') || '.floor_ids')
FROM (SELECT :'body'::json AS body) sent,
  (SELECT id FROM :"schema".partners LIMIT 1) partner,
  LATERAL (
    SELECT string_agg(format('(k.id || ''-%1$s'', %2$L, k.id || ''-%1$s'', k.id || ''-%1$s'', '
             '''credential'', %3$L, repeat(''f'', 64), %4$L, %5$L, %6$L, %7$L, %8$L, %9$L, ''education'', %10$L, %11$L, '
             '''none'', ''no proof to check'', 0, 0, 0, %12$s)',
             e.i, partner.id, e.c::jsonb::text, e.c ->> 'name', e.c #>> '{credentialSubject,achievement,description}',
             e.c #>> '{issuer,id}', e.c #>> '{issuer,name}', e.c #>> '{credentialSubject,achievement,id}',
             e.c #>> '{credentialSubject,achievement,achievementType}', e.c ->> 'awardedDate',
             e.c #>> '{credentialSubject,id}', e.i - 1), ', ' ORDER BY e.i) AS rows,
           string_agg(format('(%s)', e.i), ', ' ORDER BY e.i) AS links
    FROM json_array_elements(sent.body -> 'credentials') WITH ORDINALITY AS e(c, i)
  ) credentials
SQL
  pgbench_route floor "$script" "the rows of a fresh upload, one plain statement per transaction"
}

# field NAME KEY: a value from the BENCH line of wrk-NAME.txt
field() {
  sed -n "s/^BENCH .*[ ]$2=\([^ ]*\).*/\1/p" "$WORK/wrk-$1.txt" | head -n 1
}
ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }

route_of() {
  case $1 in
    echo) echo "POST /bench/echo" ;;
    pgbench) echo "pgbench 1-row INSERT" ;;
    floor) echo "pgbench fresh floor" ;;
    known) echo "upload, known package" ;;
    fresh) echo "upload, fresh package" ;;
    twice) echo "fresh, each sent twice" ;;
    fresh-new) echo "fresh, new database" ;;
    fresh-after) echo "fresh, after known" ;;
    token) echo "POST /api/v1/token" ;;
  esac
}

# --instances: N servers on the one database (the first is the one started above), wrk's
# connections shared out among them, one wrk per instance at once; rates are summed.
if [[ -n "$INSTANCES" ]]; then
  PORTS=("$PORT")
  start_instance() {
    local port core=$(( $1 % CORES ))
    port="$(free_port)"
    CC_DATABASE_URL="$DB_URL" CC_BIND="127.0.0.1:$port" CC_BENCH_ECHO=1 CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 CC_UPLOAD_RATE_PER_MINUTE=0 CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 CC_VERIFY_NETWORK=0 \
      taskset -c "$core" "$BIN" serve >"$WORK/server-$port.out" 2>"$WORK/server-$port.err" &
    EXTRA_PIDS+=($!)
    for _ in $(seq 1 300); do
      curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
      sleep 0.1
    done
    PORTS+=("$port")
  }
  command -v taskset >/dev/null 2>&1 && taskset -pc 0 "$SERVER_PID" >/dev/null
  # run_split NAME N PATH AUTH CTYPE BODY_FILE BODY FRESH: one wrk per instance at once.
  run_split() {
    local name=$1 n=$2 path=$3 auth=$4 ctype=$5 body_file=$6 body=$7 fresh=$8 i
    local each=$(( CONNECTIONS / n )) pids=()
    settle
    for (( i = 0; i < n; i++ )); do
      BENCH_METHOD=POST BENCH_AUTHORIZATION="$auth" BENCH_CONTENT_TYPE="$ctype" \
        BENCH_BODY_FILE="$body_file" BENCH_BODY="$body" BENCH_FRESH="$fresh" BENCH_RUN="$$-$name-$n-$i" \
        wrk -t1 -c"$each" -d"${DURATION}s" --latency -s "$BENCH_DIR/count_status.lua" \
          "http://127.0.0.1:${PORTS[$i]}$path" >"$WORK/wrk-$name-$n-$i.txt" &
      pids+=($!)
    done
    wait "${pids[@]}"
    cat "$WORK"/wrk-"$name"-"$n"-*.txt | awk '/^BENCH / {
        for (f = 2; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
        rps += v["rps"]; non2xx += v["non2xx"]; if (v["p99_us"] > p99) p99 = v["p99_us"] }
      END { printf "%.1f %d %d\n", rps, p99, non2xx }' >"$WORK/split-$name-$n.txt"
    sleep 1
  }
  echo
  printf '%-10s %-24s %12s %14s %10s %12s\n' instances route "req/s" "worst p99" non-2xx "/ 1 instance"
  for n in $INSTANCES; do
    while (( ${#PORTS[@]} < n )); do start_instance "${#PORTS[@]}"; done
    run_split known "$n" /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" "" 0
    run_split fresh "$n" /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" "" 1
    run_split token "$n" /api/v1/token "$BASIC" application/x-www-form-urlencoded "" "grant_type=client_credentials" 0
    first="$(set -- $INSTANCES; echo "$1")"
    for route in known fresh token; do
      read -r rps p99 non2xx <"$WORK/split-$route-$n.txt"
      read -r base _ _ <"$WORK/split-$route-$first.txt"
      printf '%-10s %-24s %12s %14s %10s %12s\n' "$n" "$(route_of "$route")" "$rps" "$(ms "$p99")" "$non2xx" \
        "$(awk -v r="$rps" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", r / b }')"
    done
  done
  exit 0
fi

if [[ "$AFTER_KNOWN" == 1 ]]; then
  # As the defect was met: the known package over and over on the new database, then fresh
  # packages on it. Then the fresh route's rate on a database of its own, as new as the
  # first was: a second schema and server.
  run_wrk known /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" ""
  run_wrk fresh-after /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" "" 1
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  NEW_SCHEMA="${SCHEMA}_new"
  EXTRA_SCHEMAS+=("$NEW_SCHEMA")
  psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL" -c "CREATE SCHEMA \"$NEW_SCHEMA\"" >/dev/null
  NEW_URL="${BENCH_PG_URL}${sep}options=-c%20search_path%3D${NEW_SCHEMA}"
  NEW_PARTNER="$(CC_DATABASE_URL="$NEW_URL" "$BIN" partner create --name "Bench" --slug bench 2>"$WORK/partner-new.err")"
  NEW_ID="$(printf '%s' "$NEW_PARTNER" | sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p')"
  NEW_SECRET="$(printf '%s' "$NEW_PARTNER" | sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p')"
  echo "== a second new database (schema $NEW_SCHEMA) for the fresh route's rate there, $BASE"
  CC_DATABASE_URL="$NEW_URL" CC_BIND="127.0.0.1:$PORT" CC_BENCH_ECHO=1 CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 CC_UPLOAD_RATE_PER_MINUTE=0 CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 CC_VERIFY_NETWORK=0 \
    "$BIN" serve >"$SERVER_OUT" 2>>"$SERVER_ERR" &
  SERVER_PID=$!
  wait_for_server
  NEW_TOKEN="$(curl -sS -u "$NEW_ID:$NEW_SECRET" -d grant_type=client_credentials "$BASE/api/v1/token" \
    | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
  run_wrk fresh-new /api/v1/credentials "Bearer $NEW_TOKEN" application/json "$BODY_FILE" "" 1
  ROUTES="known fresh-after fresh-new"
  ANCHOR=fresh-new
else
  run_wrk echo /bench/echo "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" ""
  ROUTES="echo"
  ANCHOR=echo
  if [[ "$ENGINE" == postgres ]]; then
    run_pgbench
    run_floor
    ROUTES="echo pgbench floor"
    ANCHOR=pgbench
  fi
  run_wrk known /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" ""
  run_wrk fresh /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" "" 1
  run_wrk twice /api/v1/credentials "Bearer $ACCESS_TOKEN" application/json "$BODY_FILE" "" twice
  run_wrk token /api/v1/token "$BASIC" application/x-www-form-urlencoded "" "grant_type=client_credentials"
  ROUTES="$ROUTES known fresh twice token"
fi

echo
echo "== summary: $ENGINE_LABEL, ${DURATION}s per route, $CONNECTIONS connections, $THREADS wrk threads, $PLACEMENT"
printf '%-24s %12s %12s %12s %10s %10s %7s  %s\n' route "req/s" p50 p99 non-2xx "/ $ANCHOR" steal "statuses / socket errors"
steal_of() { sed -n 's/^STEAL percent=//p' "$WORK/wrk-$1.txt" | head -n 1; }
STOLEN_ROUTES=""
for name in $ROUTES; do
  ratio="$(awk -v r="$(field "$name" rps)" -v a="$(field "$ANCHOR" rps)" 'BEGIN { if (a > 0) printf "%.1f%%", 100 * r / a }')"
  steal="$(steal_of "$name")"
  printf '%-24s %12s %12s %12s %10s %10s %7s  %s / %s\n' "$(route_of "$name")" "$(field "$name" rps)" \
    "$(ms "$(field "$name" p50_us)")" "$(ms "$(field "$name" p99_us)")" "$(field "$name" non2xx)" \
    "$ratio" "$steal%" "$(field "$name" statuses)" "$(field "$name" socket_errors)"
  awk -v s="$steal" 'BEGIN { exit !(s + 0 > 2) }' && STOLEN_ROUTES="$STOLEN_ROUTES $(route_of "$name"),"
done
if [[ -n "$STOLEN_ROUTES" ]]; then
  # A ratio compares two routes on one machine; the hypervisor taking a share of the cores
  # during one of them makes it a comparison of two machines.
  echo "warning: the hypervisor took more than 2 % of the CPU time during:${STOLEN_ROUTES%,}; their ratios are not the server's alone (run again)"
fi
if [[ "$PIN" == 1 ]]; then
  # The database's own work: its core's busy time per request, and the anchor's per insert
  # divided by it (the same comparison as the rates', without the core's changes of speed).
  dbcpu() { sed -n 's/^DBCPU us_per_request=//p' "$WORK/wrk-$1.txt" | head -n 1; }
  echo
  printf '%-24s %16s %12s\n' route "db core µs/req" "/ $ANCHOR"
  for name in $ROUTES; do
    printf '%-24s %16s %12s\n' "$(route_of "$name")" "$(dbcpu "$name")" \
      "$(awk -v r="$(dbcpu "$name")" -v a="$(dbcpu "$ANCHOR")" 'BEGIN { if (r > 0) printf "%.1f%%", 100 * a / r }')"
  done
fi
CHECK=0
if [[ "$AFTER_KNOWN" == 1 ]]; then
  awk -v after="$(field fresh-after rps)" -v new="$(field fresh-new rps)" 'BEGIN {
    ratio = (new > 0 ? after / new : 0)
    printf "fresh after known / fresh on a new database: %.2f (%s: at least 0.80)\n", ratio, (ratio >= 0.8 ? "pass" : "FAIL")
    exit (ratio >= 0.8 ? 0 : 1) }' || CHECK=1
fi

# Anything the server logged above INFO, and the failed requests, for the record.
# (tracing colours its output even into a file: strip the escapes first.)
problems="$(sed 's/\x1b\[[0-9;]*m//g' "$SERVER_ERR" | grep -E ' (WARN|ERROR) |status=[45][0-9][0-9]' || true)"
if [[ -n "$problems" ]]; then
  echo
  echo "== server stderr: warnings, errors and 4xx/5xx responses ($(printf '%s\n' "$problems" | wc -l) lines; first 20)"
  printf '%s\n' "$problems" | head -n 20
fi
exit "$CHECK"
