#!/usr/bin/env bash
# Mixed load at a fixed rate: the partner API and the job seeker's pages together.
#
#   scripts/load/mixed.sh                 # 60 s at RATE on SQLite (fresh temporary database)
#   scripts/load/mixed.sh --postgres      # the same on PostgreSQL (fresh schema, dropped after)
#   scripts/load/mixed.sh --soak          # SOAK_MINUTES at SOAK_RATE, memory and database sampled
#   scripts/load/mixed.sh --overload      # OVERLOAD_FACTOR x RATE, then RATE: shedding, recovery
#   scripts/load/mixed.sh --hostile       # the mix, plus a second partner sending the worst
#                                         # bodies at its upload rate limit: the mix's p99s
#
# Builds the release binary, starts an SMTP sink and `credentialconnect serve` on free ports
# (per-client rate limits off: one load generator is one client), creates a partner with the
# CLI, then sets up over HTTP as users would (scripts/load/prepare.py): PEOPLE people each get
# a package, open its claim link, sign up, confirm their email from the message the sink
# received, and add the courses to their resume. Then one oha per route runs at that route's
# share of the total rate (fixed rate, latency measured from each request's scheduled time):
#
#   token          POST /api/v1/token (client credentials, HTTP Basic)
#   upload_new     POST /api/v1/credentials, a package of 1-3 courses with new assertion ids
#   upload_update  POST /api/v1/credentials, a fixed set of 100 packages whose text changes
#   read_one       GET /api/v1/credentials/{id}
#   read_list      GET /api/v1/credentials?limit=20&offset=N
#   resume         GET /resume, signed in
#
# and prints, per route: the rate asked for and achieved, p50/p99/max latency, and errors (any
# status other than 2xx/3xx, and any request that got no answer). It exits 1 on any error;
# in --overload, where 503s are expected, it exits 1 if the server died or answered 503 more
# than 30 s after the overload ended (from its log, so RUST_LOG must be info).
#
# Environment:
#   RATE             total requests per second (default 200)
#   RATES            several rates, one after another on the same server ("100 200 400")
#   DURATION         seconds per run (default 60)
#   LOAD_BIN         run this binary instead of building the release one
#   MIX              per-route shares in percent
#                    (default "token=10 upload_new=15 upload_update=15 read_one=20 read_list=10 resume=30")
#   SOAK_MINUTES     length of --soak (default 30); SOAK_RATE (default RATE/3);
#                    SOAK_MIX (default: like MIX with upload_new=0 upload_update=30: new
#                    assertions grow the holding area by design, which is not what a soak
#                    looks for). The soak's server keeps claim links and idle tokens 5 min
#                    and purges every 30 s (SOAK_SERVER_ENV), so the kept rows level off.
#   SAMPLE_SECONDS   --soak sampling interval (default 30)
#   OVERLOAD_FACTOR  --overload multiple of RATE (default 5); OVERLOAD_SECONDS (default 60);
#                    RECOVERY_SECONDS at RATE afterwards (default 60);
#                    RECOVERY_MS: "normal latency" for the recovery probe (default 100)
#   HOSTILE_PER_MINUTE  --hostile: the per-partner upload limit (CC_UPLOAD_RATE_PER_MINUTE,
#                    default 6000, the service's default), at which the hostile partner sends
#                    its bodies, in turn: a SkillSync carrier of 40,000 alignments, a 3 MB
#                    package of a million empty items, and 150 credentials whose subjects are
#                    "poison" blank-node graphs (scripts/load/hostile.py). Pass: every route of
#                    the mix keeps its p99 under HOSTILE_P99_MS (default 100) with no errors.
#   CONNECTIONS      connections per route (default: 8, or 256 in --overload)
#   PEOPLE           people signed up with claimed credentials (default 5)
#   LOAD_PG_URL      PostgreSQL for --postgres (default postgres://postgres@127.0.0.1:5432/test)
#   RUST_LOG         passed to the server (default info: one line per request, to a file)
#   SERVER_ENV       extra variables for the server ("CC_MAX_IN_FLIGHT=64 ...")
#   LOAD_KEEP=1      keep the working directory (server log, oha JSON, samples)
#   CARGO_TARGET_DIR is respected for the build. Needs oha (cargo install oha --locked),
#   curl, python3, and sqlite3 or psql for the database samples.
set -euo pipefail

usage() { sed -n '2,60p' "$0" | sed 's/^# \{0,1\}//'; }

ENGINE=sqlite
MODE=mixed
while [[ $# -gt 0 ]]; do
  case "$1" in
    --postgres) ENGINE=postgres ;;
    --sqlite) ENGINE=sqlite ;;
    --soak) MODE=soak ;;
    --overload) MODE=overload ;;
    --hostile) MODE=hostile ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

RATE="${RATE:-200}"
RATES="${RATES:-$RATE}"
DURATION="${DURATION:-60}"
DURATION="${DURATION%s}"
MIX="${MIX:-token=10 upload_new=15 upload_update=15 read_one=20 read_list=10 resume=30}"
SOAK_MINUTES="${SOAK_MINUTES:-30}"
SOAK_RATE="${SOAK_RATE:-$(awk -v r="$RATE" 'BEGIN { printf "%g", r / 3 }')}"
SOAK_MIX="${SOAK_MIX:-token=10 upload_new=0 upload_update=30 read_one=20 read_list=10 resume=30}"
SOAK_SERVER_ENV="${SOAK_SERVER_ENV:-CC_PACKAGE_TTL_SECONDS=300 CC_TOKEN_IDLE_SECONDS=300 CC_PURGE_EVERY_SECONDS=30}"
SAMPLE_SECONDS="${SAMPLE_SECONDS:-30}"
OVERLOAD_FACTOR="${OVERLOAD_FACTOR:-5}"
OVERLOAD_SECONDS="${OVERLOAD_SECONDS:-60}"
RECOVERY_SECONDS="${RECOVERY_SECONDS:-60}"
RECOVERY_MS="${RECOVERY_MS:-100}"
HOSTILE_PER_MINUTE="${HOSTILE_PER_MINUTE:-6000}"
HOSTILE_P99_MS="${HOSTILE_P99_MS:-100}"
PEOPLE="${PEOPLE:-5}"
LOAD_PG_URL="${LOAD_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export RUST_LOG="${RUST_LOG:-info}"
if [[ "$MODE" == overload ]]; then CONNECTIONS="${CONNECTIONS:-256}"; else CONNECTIONS="${CONNECTIONS:-8}"; fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/scripts/load"

for tool in oha curl python3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "$tool is not installed (oha: cargo install oha --locked)" >&2
    exit 1
  }
done
if [[ "$ENGINE" == postgres ]]; then
  command -v psql >/dev/null 2>&1 || { echo "psql is not installed" >&2; exit 1; }
else
  command -v sqlite3 >/dev/null 2>&1 || { echo "sqlite3 is not installed" >&2; exit 1; }
fi

if [[ -n "${LOAD_BIN:-}" ]]; then
  # A binary built before (e.g. of another commit), run as it is.
  BIN="$LOAD_BIN"
else
  echo "== building (cargo build --release)"
  cargo build --release --quiet
  TARGET_DIR="${CARGO_TARGET_DIR:-target}"
  [[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
  BIN="$TARGET_DIR/release/credentialconnect"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cc-load.XXXXXX")"
SERVER_PID=""
SINK_PID=""
SCHEMA=""
GENERATORS=()

stop() {
  local pid=$1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

AUTOVACUUM_TURNED_ON=0

cleanup() {
  local status=$?
  for pid in "${GENERATORS[@]}"; do stop "$pid"; done
  stop "$SERVER_PID"
  stop "$SINK_PID"
  if [[ -n "$SCHEMA" ]]; then
    psql -q -X "$LOAD_PG_URL" -c "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" >/dev/null 2>&1 \
      || echo "warning: could not drop schema $SCHEMA" >&2
  fi
  if [[ "$AUTOVACUUM_TURNED_ON" == 1 ]]; then
    psql -q -X "$LOAD_PG_URL" -c "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 \
      && echo "autovacuum: back to the server's setting" >&2
  fi
  if [[ "${LOAD_KEEP:-}" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$ROOT/scripts/free_port.sh"

PORT="$(free_port)"
SMTP_PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
python3 "$HERE/smtp_sink.py" "$SMTP_PORT" "$WORK/mail" >"$WORK/sink.log" 2>&1 &
SINK_PID=$!

if [[ "$ENGINE" == sqlite ]]; then
  DB_FILE="$WORK/load.db"
  DB_URL="sqlite://$DB_FILE"
  ENGINE_LABEL="SQLite (WAL, synchronous=FULL, group commit)"
else
  SCHEMA="load_$(date +%Y%m%d%H%M%S)_$$"
  psql -q -X -v ON_ERROR_STOP=1 "$LOAD_PG_URL" -c "CREATE SCHEMA \"$SCHEMA\"" >/dev/null
  if [[ "$LOAD_PG_URL" == *\?* ]]; then sep='&'; else sep='?'; fi
  DB_URL="${LOAD_PG_URL}${sep}options=-c%20search_path%3D${SCHEMA}"
  ENGINE_LABEL="PostgreSQL (schema $SCHEMA)"
  # Updates leave dead row versions that only (auto)vacuum reclaims. Some test servers run
  # with autovacuum off; a soak there would measure that setting, not the service, so it is
  # turned on for the run (ALTER SYSTEM needs a superuser) and reset at the end.
  if [[ "$(psql -X -A -t "$LOAD_PG_URL" -c "SHOW autovacuum")" == off ]]; then
    if psql -q -X "$LOAD_PG_URL" -c "ALTER SYSTEM SET autovacuum = on" -c "SELECT pg_reload_conf()" >/dev/null 2>&1; then
      AUTOVACUUM_TURNED_ON=1
      echo "autovacuum was off on this server: on for this run (ALTER SYSTEM, reset at the end)"
    else
      echo "warning: autovacuum is off on this server and could not be turned on: tables will bloat" >&2
    fi
  fi
  ENGINE_LABEL="$ENGINE_LABEL, autovacuum $(psql -X -A -t "$LOAD_PG_URL" -c "SHOW autovacuum")"
fi

PARTNER_JSON="$(CC_DATABASE_URL="$DB_URL" "$BIN" partner create --name "Load University" --slug load 2>"$WORK/partner.err")" || {
  cat "$WORK/partner.err" >&2
  exit 1
}
CLIENT_ID="$(printf '%s' "$PARTNER_JSON" | sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p')"
CLIENT_SECRET="$(printf '%s' "$PARTNER_JSON" | sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p')"

[[ "$MODE" == soak ]] && SERVER_ENV="$SOAK_SERVER_ENV ${SERVER_ENV:-}"
UPLOAD_LIMIT=0
if [[ "$MODE" == hostile ]]; then
  # The hostile partner is limited as any partner is; the mix's partner stays under it.
  UPLOAD_LIMIT="$HOSTILE_PER_MINUTE"
  HOSTILE_JSON="$(CC_DATABASE_URL="$DB_URL" "$BIN" partner create --name "Hostile Partner" --slug hostile 2>"$WORK/partner.err")" || {
    cat "$WORK/partner.err" >&2
    exit 1
  }
  HOSTILE_ID="$(printf '%s' "$HOSTILE_JSON" | sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p')"
  HOSTILE_SECRET="$(printf '%s' "$HOSTILE_JSON" | sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p')"
fi
echo "== starting the server on $ENGINE_LABEL, $BASE (RUST_LOG=$RUST_LOG${SERVER_ENV:+, $SERVER_ENV})"
# shellcheck disable=SC2086
env CC_DATABASE_URL="$DB_URL" CC_BIND="127.0.0.1:$PORT" CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 \
  CC_UPLOAD_RATE_PER_MINUTE="$UPLOAD_LIMIT" CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 CC_VERIFY_NETWORK=0 CC_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" \
  ${SERVER_ENV:-} "$BIN" serve >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited" >&2; tail -n 40 "$WORK/server.err" >&2; exit 1; }
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  sleep 0.1
done

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0; }
# What the resident set is made of (heap, mapped files such as SQLite's shared-memory index,
# shared memory, transparent huge pages) and the thread count: a step in RSS is read
# against these.
process_sample() {
  local status huge
  status=$(awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } /^RssShmem:/ { s = $2 } /^Threads:/ { t = $2 }
       END { print a "," f "," s "," t }' "/proc/$SERVER_PID/status" 2>/dev/null || echo ",,,")
  huge=$(awk '/^AnonHugePages:/ { print $2 }' "/proc/$SERVER_PID/smaps_rollup" 2>/dev/null || true)
  echo "$status,$huge"
}

# Database size in bytes, and the rows that make it grow.
db_sample() {
  if [[ "$ENGINE" == sqlite ]]; then
    local main wal rows
    main=$(stat -c %s "$DB_FILE" 2>/dev/null || echo 0)
    wal=$(stat -c %s "$DB_FILE-wal" 2>/dev/null || echo 0)
    rows=$(sqlite3 -readonly -separator , "file:$DB_FILE?mode=ro" \
      "PRAGMA busy_timeout=5000; SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM package_credentials), (SELECT count(*) FROM credentials), (SELECT count(*) FROM access_tokens), (SELECT count(*) FROM sessions);" 2>/dev/null | tail -n 1)
    echo "$((main + wal)),$main,$wal,${rows:-,,,,}"
  else
    psql -X -A -t -F , "$DB_URL" -c "SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)),0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r','m')), 0, 0, (SELECT count(*) FROM packages), (SELECT count(*) FROM package_credentials), (SELECT count(*) FROM credentials), (SELECT count(*) FROM access_tokens), (SELECT count(*) FROM sessions)" 2>/dev/null | head -n 1
  fi
}

echo "== preparing: $PEOPLE people sign up, confirm their email and claim; request bodies"
max_rate=$(printf '%s\n' $RATES | sort -g | tail -n 1)
case "$MODE" in
  soak) new_needed=$(awk -v r="$SOAK_RATE" -v m="$SOAK_MINUTES" 'BEGIN { printf "%d", r * 0.03 * m * 60 * 3 }') ;;
  overload) new_needed=$(awk -v r="$max_rate" -v f="$OVERLOAD_FACTOR" -v s="$OVERLOAD_SECONDS" -v q="$RECOVERY_SECONDS" 'BEGIN { printf "%d", r * 0.15 * (f * s + q) }') ;;
  *) new_needed=$(awk -v r="$max_rate" -v d="$DURATION" -v n="$(printf '%s\n' $RATES | wc -l)" 'BEGIN { printf "%d", r * 0.15 * d * n * 3 }') ;;
esac
(( new_needed < 2000 )) && new_needed=2000
RUN_ID="$(date +%s)" PEOPLE="$PEOPLE" NEW_BODIES="$new_needed" \
  python3 "$HERE/prepare.py" "$BASE" "$CLIENT_ID" "$CLIENT_SECRET" "$WORK/mail" "$WORK/prepared"
P="$WORK/prepared"
TOKEN="$(cat "$P/token")"
COOKIE="$(head -n 1 "$P/cookies")"

# start_route NAME RATE SECONDS TAG: one oha in the background.
start_route() {
  local name=$1 rate=$2 seconds=$3 tag=$4 args=()
  case "$name" in
    token) args=(-m POST -a "$CLIENT_ID:$CLIENT_SECRET" -T application/x-www-form-urlencoded
                 -d grant_type=client_credentials "$BASE/api/v1/token") ;;
    upload_new) args=(-m POST -H "Authorization: Bearer $TOKEN" -T application/json
                      -Z "$P/new.jsonl" "$BASE/api/v1/credentials") ;;
    upload_update) args=(-m POST -H "Authorization: Bearer $TOKEN" -T application/json
                         -Z "$P/update.jsonl" "$BASE/api/v1/credentials") ;;
    read_one) args=(-H "Authorization: Bearer $TOKEN" --urls-from-file "$P/read-one.urls") ;;
    read_list) args=(-H "Authorization: Bearer $TOKEN" --urls-from-file "$P/read-list.urls") ;;
    resume) args=(-H "Cookie: $COOKIE" "$BASE/resume") ;;
    hostile) args=(-m POST -H "Authorization: Bearer $HOSTILE_TOKEN" -T application/json
                   -Z "$P/hostile.jsonl" "$BASE/api/v1/credentials") ;;
    *) echo "unknown route $name in MIX" >&2; exit 2 ;;
  esac
  local wait=(-w)
  [[ "$tag" == overload ]] && wait=()
  oha --no-tui --output-format json -o "$WORK/oha-$tag-$name.json" --worker-threads 1 \
    -q "$rate" -z "${seconds}s" "${wait[@]}" -t 30s -c "$CONNECTIONS" --latency-correction \
    "${args[@]}" >"$WORK/oha-$tag-$name.log" 2>&1 &
  GENERATORS+=($!)
}

# start_mix TOTAL_RATE SECONDS TAG MIX: every route at its share, all at once.
start_mix() {
  local total=$1 seconds=$2 tag=$3 mix=$4 entry name share
  GENERATORS=()
  for entry in $mix; do
    name=${entry%%=*}; share=${entry#*=}
    [[ "$share" == 0 ]] && continue
    start_route "$name" "$(awk -v t="$total" -v s="$share" 'BEGIN { printf "%g", t * s / 100 }')" "$seconds" "$tag"
  done
}

# wait_mix: until every generator has finished.
wait_mix() {
  local pid
  for pid in "${GENERATORS[@]}"; do wait "$pid" || true; done
  GENERATORS=()
}

generators_running() {
  local pid
  for pid in "${GENERATORS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

run_mix() { start_mix "$@"; wait_mix; }

# report TAG TOTAL_RATE MIX: the per-route table; returns 1 if any request failed.
report() {
  python3 - "$WORK" "$1" "$2" "$3" <<'PY'
import json, os, sys
work, tag, total, mix = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
paths = {"token": "POST /api/v1/token", "upload_new": "POST /api/v1/credentials (new)",
         "upload_update": "POST /api/v1/credentials (update)", "read_one": "GET /api/v1/credentials/{id}",
         "read_list": "GET /api/v1/credentials?limit=20", "resume": "GET /resume (signed in)"}
rows, bad, sums = [], 0, [0.0, 0]
print("%-36s %8s %9s %9s %9s %9s %8s  %s" % ("route", "asked/s", "got/s", "p50 ms", "p99 ms", "max ms", "errors", "statuses"))
for entry in mix.split():
    name, share = entry.split("=")
    if float(share) == 0:
        continue
    path = os.path.join(work, "oha-%s-%s.json" % (tag, name))
    with open(path) as f:
        r = json.load(f)
    statuses = r.get("statusCodeDistribution", {})
    errors = sum(n for s, n in statuses.items() if not (200 <= int(s) < 400))
    errors += sum(r.get("errorDistribution", {}).values())
    bad += errors
    m = r["metrics"]["latency_ms"]
    got = r["summary"]["requestsPerSec"]
    sums[0] += got
    sums[1] += errors
    detail = " ".join("%s:%d" % kv for kv in sorted(statuses.items()))
    for e, n in r.get("errorDistribution", {}).items():
        detail += " [%s: %d]" % (e, n)
    print("%-36s %8.1f %9.1f %9.2f %9.2f %9.1f %8d  %s" % (paths[name], total * float(share) / 100, got, m["p50"], m["p99"], m["max"], errors, detail))
print("%-36s %8.1f %9.1f %9s %9s %9s %8d" % ("all", total, sums[0], "", "", "", sums[1]))
sys.exit(1 if bad else 0)
PY
}

conditions() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)); load average before: $(cut -d' ' -f1-3 /proc/loadavg); oha $(oha --version | awk '{print $2}'); $ENGINE_LABEL; $CONNECTIONS connections per route"
}

status=0
case "$MODE" in
mixed)
  for rate in $RATES; do
    echo
    echo "== mixed load: $rate req/s for ${DURATION}s ($MIX)"
    conditions
    rss_before=$(rss_kb)
    run_mix "$rate" "$DURATION" "r$rate" "$MIX"
    report "r$rate" "$rate" "$MIX" || status=1
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died" >&2; exit 1; }
    echo "server RSS: $((rss_before / 1024)) MiB before, $(($(rss_kb) / 1024)) MiB after; database: $(db_sample | cut -d, -f1) bytes"
    sleep 5
  done
  ;;
soak)
  seconds=$((SOAK_MINUTES * 60))
  echo
  echo "== soak: $SOAK_RATE req/s for $SOAK_MINUTES min ($SOAK_MIX), sampling every ${SAMPLE_SECONDS}s"
  conditions
  SAMPLES="$WORK/soak.csv"
  echo "t_s,rss_kb,db_bytes,db_main,db_wal,packages,package_credentials,credentials,access_tokens,sessions,rss_anon_kb,rss_file_kb,rss_shmem_kb,threads,anon_huge_kb" >"$SAMPLES"
  echo "0,$(rss_kb),$(db_sample),$(process_sample)" >>"$SAMPLES"
  start_mix "$SOAK_RATE" "$seconds" soak "$SOAK_MIX"
  started=$(date +%s)
  while generators_running; do
    for _ in $(seq 1 "$SAMPLE_SECONDS"); do generators_running && sleep 1; done
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died" >&2; exit 1; }
    echo "$(($(date +%s) - started)),$(rss_kb),$(db_sample),$(process_sample)" | tee -a "$SAMPLES" | sed 's/^/sample: /'
  done
  wait_mix
  report soak "$SOAK_RATE" "$SOAK_MIX" || status=1
  python3 "$HERE/flat.py" "$SAMPLES" || status=1
  if [[ -n "${SOAK_CSV:-}" ]]; then cp "$SAMPLES" "$SOAK_CSV"; echo "samples copied to $SOAK_CSV"; fi
  ;;
hostile)
  HOSTILE_TOKEN="$(curl -fsS -u "$HOSTILE_ID:$HOSTILE_SECRET" -d grant_type=client_credentials "$BASE/api/v1/token" \
    | sed 's/.*"access_token":"\([^"]*\)".*/\1/')"
  python3 "$HERE/hostile.py" >"$P/hostile.jsonl"
  hostile_rate=$(awk -v m="$HOSTILE_PER_MINUTE" 'BEGIN { printf "%g", m / 60 }')
  echo
  echo "== hostile: the mix at $RATE req/s for ${DURATION}s ($MIX), and a second partner sending the worst bodies at $hostile_rate req/s (its limit, $HOSTILE_PER_MINUTE a minute)"
  conditions
  rss_before=$(rss_kb)
  start_mix "$RATE" "$DURATION" hostile "$MIX"
  start_route hostile "$hostile_rate" "$DURATION" hostile
  wait_mix
  report hostile "$RATE" "$MIX" || status=1
  python3 - "$WORK/oha-hostile-hostile.json" "$hostile_rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["metrics"]["latency_ms"]
statuses = " ".join("%s:%d" % kv for kv in sorted(r.get("statusCodeDistribution", {}).items()))
for e, n in r.get("errorDistribution", {}).items():
    statuses += " [%s: %d]" % (e, n)
print("%-36s %8.1f %9.1f %9.2f %9.2f %9.1f %8s  %s" % ("hostile partner's worst bodies", float(sys.argv[2]), r["summary"]["requestsPerSec"], m["p50"], m["p99"], m["max"], "-", statuses))
PY
  python3 - "$WORK" "$MIX" "$HOSTILE_P99_MS" <<'PY' || status=1
import json, os, sys
work, mix, bound = sys.argv[1], sys.argv[2], float(sys.argv[3])
worst = max((json.load(open(os.path.join(work, "oha-hostile-%s.json" % e.split("=")[0])))["metrics"]["latency_ms"]["p99"], e.split("=")[0])
            for e in mix.split() if float(e.split("=")[1]) > 0)
print("worst p99 of the mix beside the hostile partner: %.2f ms (%s); bound %g ms: %s" % (worst[0], worst[1], bound, "pass" if worst[0] < bound else "FAIL"))
sys.exit(0 if worst[0] < bound else 1)
PY
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died" >&2; exit 1; }
  echo "server RSS: $((rss_before / 1024)) MiB before, $(($(rss_kb) / 1024)) MiB after"
  ;;
overload)
  high=$(awk -v r="$RATE" -v f="$OVERLOAD_FACTOR" 'BEGIN { printf "%g", r * f }')
  echo
  echo "== overload: $high req/s ($OVERLOAD_FACTOR x $RATE) for ${OVERLOAD_SECONDS}s, then $RATE req/s for ${RECOVERY_SECONDS}s"
  conditions
  rss_before=$(rss_kb)
  python3 "$HERE/probe.py" "$BASE" "$P" "$CLIENT_ID" "$CLIENT_SECRET" \
    "$((OVERLOAD_SECONDS + RECOVERY_SECONDS))" "$WORK/probe.csv" "$OVERLOAD_SECONDS" "$RECOVERY_MS" \
    >"$WORK/probe.out" 2>&1 &
  PROBE_PID=$!
  run_mix "$high" "$OVERLOAD_SECONDS" overload "$MIX"
  overload_end=$(date -u +%H:%M:%S)
  rss_peak=$(rss_kb)
  alive=yes; kill -0 "$SERVER_PID" 2>/dev/null || alive=no
  run_mix "$RATE" "$RECOVERY_SECONDS" after "$MIX"
  wait "$PROBE_PID" || true
  echo
  echo "-- during the overload ($high req/s asked)"
  report overload "$high" "$MIX" || true
  echo
  echo "-- the ${RECOVERY_SECONDS}s after it, at $RATE req/s"
  report after "$RATE" "$MIX" || true
  echo
  cat "$WORK/probe.out"
  # From the server's log (RUST_LOG=info): every second after the overload with a 503 in it.
  late="$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.err" | grep 'status=503' \
    | awk -v end="$overload_end" '{ t = substr($1, 12, 8); if (t > end) print t }' | uniq -c || true)"
  echo "503s logged after the overload ended at $overload_end UTC: ${late:-none}"
  echo "server alive after the overload: $alive; RSS $((rss_before / 1024)) MiB before, $((rss_peak / 1024)) MiB at its end, $(($(rss_kb) / 1024)) MiB after the recovery run"
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died" >&2; status=1; }
  # The judgement: no 503 later than 30 s after the overload ended (the probe's stricter
  # "every probe fast until the end" is printed above, for the record).
  last_503=$(printf '%s\n' "$late" | awk 'NF == 2 { t = $2 } END { print t }')
  if [[ -n "$last_503" ]]; then
    gap=$(awk -v a="$overload_end" -v b="$last_503" 'BEGIN { split(a, x, ":"); split(b, y, ":"); print (y[1] * 3600 + y[2] * 60 + y[3]) - (x[1] * 3600 + x[2] * 60 + x[3]) }')
    echo "last 503 ${gap}s after the overload ended"
    (( gap <= 30 )) || { echo "503s more than 30 s after the overload: not recovered" >&2; status=1; }
  fi
  ;;
esac

problems="$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.err" | grep -E ' (WARN|ERROR) ' || true)"
if [[ -n "$problems" ]]; then
  echo
  echo "== server warnings and errors ($(printf '%s\n' "$problems" | wc -l) lines; first 10)"
  printf '%s\n' "$problems" | head -n 10
fi
exit $status
