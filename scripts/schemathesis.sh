#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against the partner API's own OpenAPI document: thousands of
# generated requests, every check (no 5xx, status codes, content types, headers and bodies
# as documented, schema-valid data accepted, invalid data refused, authentication enforced).
#
#   scripts/schemathesis.sh                 # ST_MAX_EXAMPLES per operation (default 500)
#   ST_MAX_EXAMPLES=50 scripts/schemathesis.sh
#
# It installs schemathesis into a virtual environment (target/schemathesis-venv, or
# ST_VENV), builds the release binary, starts `credentialconnect demo` on a fresh SQLite
# database and a free port (rate limits off: one test client is one client; no outbound
# fetches), reads the demo partner's credentials and gets a token with every scope, then runs
# `schemathesis run` with scripts/schemathesis.toml. Exit status: schemathesis's (0 = no
# failure). The report (JUnit XML and NDJSON events) and the server's log are kept in
# target/schemathesis/ for a failed run.
#
# Environment:
#   ST_MAX_EXAMPLES   generated cases per operation and phase (default 500)
#   ST_SEED           schemathesis's random seed (default: a random one, printed)
#   ST_VERSION        the schemathesis version to install (default 4.32.5)
#   ST_VENV           the virtual environment's directory
#   ST_PROFILE        release (default) or debug: the build the server runs (debug builds
#                     far faster, for a check of the document rather than of speed)
#   CARGO_TARGET_DIR  respected for the build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
ST_VERSION="${ST_VERSION:-4.32.5}"
ST_VENV="${ST_VENV:-$TARGET_DIR/schemathesis-venv}"
ST_MAX_EXAMPLES="${ST_MAX_EXAMPLES:-500}"
ST_SEED="${ST_SEED:-$RANDOM$RANDOM}"
REPORT_DIR="$TARGET_DIR/schemathesis"

if ! "$ST_VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  echo "== installing schemathesis $ST_VERSION into $ST_VENV"
  python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install --quiet --upgrade pip
  "$ST_VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi

ST_PROFILE="${ST_PROFILE:-release}"
if [[ "$ST_PROFILE" == debug ]]; then
  echo "== building (cargo build)"
  cargo build --locked
  BIN="$TARGET_DIR/debug/credentialconnect"
else
  echo "== building (cargo build --release)"
  cargo build --release --locked
  BIN="$TARGET_DIR/release/credentialconnect"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cc-schemathesis.XXXXXX")"
SERVER_PID=""
cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$ROOT/scripts/free_port.sh"

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
rm -rf "$REPORT_DIR"
mkdir -p "$REPORT_DIR"
echo "== starting the server on a fresh SQLite database, $BASE"
CC_BIND="127.0.0.1:$PORT" CC_TOKEN_RATE_PER_MINUTE=0 CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE=0 CC_UPLOAD_RATE_PER_MINUTE=0 CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE=0 CC_VERIFY_NETWORK=0 \
  "$BIN" demo --database "$WORK/schemathesis.db" >"$WORK/server.out" 2>"$REPORT_DIR/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited" >&2; tail -n 40 "$REPORT_DIR/server.log" >&2; exit 1; }
  sleep 0.1
done
CC_ST_CLIENT_ID="$(sed -n 's/^ *client_id: *\([^ ]*\) *$/\1/p' "$WORK/server.out" | head -n 1)"
CC_ST_CLIENT_SECRET="$(sed -n 's/^ *client_secret: *\([^ ]*\) *$/\1/p' "$WORK/server.out" | head -n 1)"
TOKEN_JSON="$(curl -sS -u "$CC_ST_CLIENT_ID:$CC_ST_CLIENT_SECRET" -d grant_type=client_credentials "$BASE/api/v1/token")"
CC_ST_TOKEN="$(printf '%s' "$TOKEN_JSON" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
[[ -n "$CC_ST_TOKEN" ]] || { echo "no token: $TOKEN_JSON" >&2; exit 1; }
export CC_ST_CLIENT_ID CC_ST_CLIENT_SECRET CC_ST_TOKEN

# Something to read, replace and delete, so those operations meet a 200 as well as 404s.
curl -fsS -o /dev/null -H "Authorization: Bearer $CC_ST_TOKEN" -H 'Content-Type: application/json' \
  --data-binary @tests/fixtures/guide/three-courses.json "$BASE/api/v1/credentials"

echo "== schemathesis $ST_VERSION: $ST_MAX_EXAMPLES examples per operation and phase, seed $ST_SEED"
status=0
"$ST_VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$BASE/api/v1/openapi.json" \
  --max-examples "$ST_MAX_EXAMPLES" --seed "$ST_SEED" --no-color \
  --report junit,ndjson --report-dir "$REPORT_DIR" || status=$?

# Whatever the checks said, the server must not have logged an error or a panic.
if sed 's/\x1b\[[0-9;]*m//g' "$REPORT_DIR/server.log" | grep -E ' ERROR |panicked' | head -n 20; then
  echo "!! the server logged errors during the run (above; full log in $REPORT_DIR/server.log)" >&2
  status=1
fi
kill -0 "$SERVER_PID" 2>/dev/null || { echo "!! the server died during the run" >&2; status=1; }
echo "== $(grep -c 'status=5[0-9][0-9]' <(sed 's/\x1b\[[0-9;]*m//g' "$REPORT_DIR/server.log") || true) responses with a 5xx status in the server log"
exit "$status"
