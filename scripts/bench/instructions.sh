#!/usr/bin/env bash
# Work per request, counted in instructions: a figure that does not depend on what else
# the machine is running (wall-clock load figures do, on a shared 2-core machine).
#
#   scripts/bench/instructions.sh
#
# Builds the release binary and runs the server (SQLite, the same settings as
# scripts/bench/upload.sh) under `valgrind --tool=callgrind`. For each route (the echo
# baseline, then the upload of the guide's three-course package) it sends WARMUP requests,
# zeroes the counters, sends N requests with curl (CONCURRENCY at a time over kept-alive
# connections), dumps the counters, and prints instructions per request: every thread of
# the server counted (async workers, the SQLite writer, blocking pool), kernel time not.
#
# Environment:
#   N             requests counted per route (default 400)
#   WARMUP        requests sent before counting (default 100)
#   CONCURRENCY   requests in flight (default 16; 1 gives one commit per upload)
#   UPDATES=1     uploads alternate between the package and a copy with every `name` changed,
#                 so that with CONCURRENCY=1 each upload updates every credential (the
#                 default measures uploads that change nothing)
#   FRESH=1       every upload a new person's new credentials: the package with its
#                 recipient's ids and email and every credential's id (each number of 13 or
#                 more digits) made unique per request, as upload.sh's fresh route sends it
#   BENCH_KEEP=1  keep the temporary directory (callgrind files) afterwards: open one with
#                 callgrind_annotate for the functions behind the figure
#   CARGO_TARGET_DIR is respected for the build.
set -euo pipefail

N="${N:-400}"
WARMUP="${WARMUP:-100}"
CONCURRENCY="${CONCURRENCY:-16}"
UPDATES="${UPDATES:-0}"
FRESH="${FRESH:-0}"
if [[ "$UPDATES" == 1 && "$FRESH" == 1 ]]; then
  echo "UPDATES=1 and FRESH=1 each choose the uploads' bodies: choose one" >&2
  exit 1
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BODY_FILE="$ROOT/tests/fixtures/guide/three-courses.json"

for tool in valgrind callgrind_control curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is not installed (Debian: apt-get install -y valgrind curl)" >&2
    exit 1
  fi
done

echo "== building (cargo build --release)"
cargo build --release
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN="$TARGET_DIR/release/credentialconnect"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cc-instr.XXXXXX")"
SERVER_PID=""
cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${BENCH_KEEP:-}" == 1 ]]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT

source "$ROOT/scripts/free_port.sh"

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
echo "== starting the server under callgrind on $BASE"
CC_BIND="127.0.0.1:$PORT" CC_BENCH_ECHO=1 CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 CC_UPLOAD_RATE_PER_MINUTE=0 CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 \
  CC_VERIFY_NETWORK=0 \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out.%p" \
  "$BIN" demo --database "$WORK/bench.db" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 40 "$WORK/server.err" >&2; exit 1; }
  sleep 0.2
done
CLIENT_ID="$(sed -n 's/^ *client_id: *\([^ ]*\) *$/\1/p' "$WORK/server.out" | head -n 1)"
CLIENT_SECRET="$(sed -n 's/^ *client_secret: *\([^ ]*\) *$/\1/p' "$WORK/server.out" | head -n 1)"
TOKEN="$(curl -sS -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/api/v1/token" \
  | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
[[ -n "$TOKEN" ]] || { echo "no access token" >&2; exit 1; }
callgrind_control -i on "$SERVER_PID" >/dev/null 2>&1

# The other body of UPDATES=1: every credential (and issuer) renamed.
OTHER_BODY="$WORK/renamed.json"
sed 's/"name": "/"name": "Renamed /' "$BODY_FILE" >"$OTHER_BODY"
# FRESH=1: the package with a mark where each request's tag goes (request.lua's patterns).
FRESH_TEMPLATE="$WORK/fresh.template"
sed -E 's/"([0-9]{13,})"/"\1-@TAG@"/g; s/"jsmith@/"jsmith+@TAG@@/g' "$BODY_FILE" >"$FRESH_TEMPLATE"
FRESH_SENT=0

# body_of I: sets BODY to the body of the I-th request of a batch (UPDATES=1 or FRESH=1).
# (Not echoed: a command substitution's subshell would lose FRESH_SENT's count.)
body_of() {
  if [[ "$FRESH" == 1 ]]; then
    FRESH_SENT=$((FRESH_SENT + 1))
    BODY="$WORK/fresh-$FRESH_SENT.json"
    sed "s/@TAG@/$$-$FRESH_SENT/g" "$FRESH_TEMPLATE" >"$BODY"
  elif (( $1 % 2 )); then
    BODY="$BODY_FILE"
  else
    BODY="$OTHER_BODY"
  fi
}

# send COUNT PATH: COUNT POSTs of the package, CONCURRENCY at a time; fails unless all are 2xx.
send() {
  local count=$1 path=$2 config="$WORK/curl.conf" i
  {
    if [[ "$UPDATES" == 1 || ( "$FRESH" == 1 && "$path" != /bench/echo ) ]]; then
      # One option group per request (`next`), each with its body.
      for i in $(seq 1 "$count"); do
        body_of "$i"
        echo "request = \"POST\""
        echo "header = \"Authorization: Bearer $TOKEN\""
        echo "header = \"Content-Type: application/json\""
        echo "data-binary = \"@$BODY\""
        echo "write-out = \"%{http_code}\\n\""
        echo "url = \"$BASE$path\""
        echo "output = \"/dev/null\""
        if (( i < count )); then echo "next"; fi
      done
    else
      echo "request = \"POST\""
      echo "header = \"Authorization: Bearer $TOKEN\""
      echo "header = \"Content-Type: application/json\""
      echo "data-binary = \"@$BODY_FILE\""
      echo "write-out = \"%{http_code}\\n\""
      for _ in $(seq 1 "$count"); do
        echo "url = \"$BASE$path\""
        echo "output = \"/dev/null\""
      done
    fi
  } >"$config"
  curl -sS --no-progress-meter --parallel --parallel-max "$CONCURRENCY" --config "$config" >"$WORK/codes" || true
  local ok
  ok="$(grep -c '^2' "$WORK/codes" || true)"
  if [[ "$ok" != "$count" ]]; then
    echo "$path: $ok of $count requests answered 2xx: $(sort "$WORK/codes" | uniq -c | tr '\n' ' ')" >&2
    exit 1
  fi
}

dumps=0
declare -A PER
# measure NAME PATH: instructions per request of the route.
measure() {
  local name=$1 path=$2
  send "$WARMUP" "$path"
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  send "$N" "$path"
  callgrind_control -d "$name" "$SERVER_PID" >/dev/null 2>&1
  dumps=$((dumps + 1))
  local file="$WORK/callgrind.out.$SERVER_PID.$dumps"
  for _ in $(seq 1 100); do [[ -s "$file" ]] && break; sleep 0.1; done
  local total per
  total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$file" | head -n 1)"
  [[ -n "$total" ]] || total="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$file" | head -n 1)"
  per="$(awk -v t="$total" -v n="$N" 'BEGIN { printf "%.0f", t / n }')"
  PER[$name]=$per
  printf '%-8s %12s instructions per request  (%s over %s requests)\n' "$name" "$per" "$total" "$N"
}

echo "== $N requests per route after $WARMUP to warm up, $CONCURRENCY in flight"
measure echo /bench/echo
measure upload /api/v1/credentials
awk -v u="${PER[upload]}" -v e="${PER[echo]}" \
  'BEGIN { printf "upload/echo: %.1f times the echo route'"'"'s work\n", u / e }'
