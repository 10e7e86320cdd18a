#!/usr/bin/env bash
# The long reliability runs (docs/reliability.md); the quick versions run in scripts/test.sh.
#   kill -9 twenty times on each engine, 200 rounds of 50 people racing for one assertion
#   across two instances, PostgreSQL stopped for 30 s under load, then the mixed load:
#   60 s at LOAD_RATE, 30 minutes at a third of it, and 5x LOAD_RATE (needs oha).
# The hostile-input runs have their own scripts (docs/reliability.md, "Hostile input"):
#   scripts/fuzz.sh (cargo-fuzz, FUZZ_SECONDS per target), scripts/schemathesis.sh (the API
#   against its OpenAPI document), CC_PROPTEST_CASES=10000 cargo test --release --test properties.
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_TEST_POSTGRES_URL="${CC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
CC_CRASH_ROUNDS="${CC_CRASH_ROUNDS:-20}" cargo test --locked --test durability -- --nocapture
CC_RACE_ROUNDS="${CC_RACE_ROUNDS:-200}" cargo test --locked --test instances -- --nocapture
CC_OUTAGE_SECONDS="${CC_OUTAGE_SECONDS:-30}" cargo test --locked --test outage -- --ignored --nocapture
LOAD_RATE="${LOAD_RATE:-200}"
RATE="$LOAD_RATE" scripts/load/mixed.sh
RATE="$LOAD_RATE" scripts/load/mixed.sh --soak
RATE="$LOAD_RATE" RECOVERY_MS="${RECOVERY_MS:-300}" scripts/load/mixed.sh --overload
