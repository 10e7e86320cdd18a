#!/usr/bin/env bash
# The long reliability runs (docs/reliability.md); the quick versions run in scripts/test.sh.
#   kill -9 twenty times on each engine, 200 rounds of 50 people racing for one assertion
#   across two instances, and PostgreSQL stopped for 30 s under load.
# The hostile-input runs have their own scripts (docs/reliability.md, "Hostile input"):
#   scripts/fuzz.sh (cargo-fuzz, FUZZ_SECONDS per target), scripts/schemathesis.sh (the API
#   against its OpenAPI document), CC_PROPTEST_CASES=10000 cargo test --release --test properties.
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_TEST_POSTGRES_URL="${CC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
CC_CRASH_ROUNDS="${CC_CRASH_ROUNDS:-20}" cargo test --locked --test durability -- --nocapture
CC_RACE_ROUNDS="${CC_RACE_ROUNDS:-200}" cargo test --locked --test instances -- --nocapture
CC_OUTAGE_SECONDS="${CC_OUTAGE_SECONDS:-30}" cargo test --locked --test outage -- --ignored --nocapture
