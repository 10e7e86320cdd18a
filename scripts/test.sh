#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and the integration suite on SQLite and on
# PostgreSQL (CC_TEST_POSTGRES_URL, default the local server; started here if it is down).
set -euo pipefail
cd "$(dirname "$0")/.."

export CC_TEST_POSTGRES_URL="${CC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

postgres_ready() {
    pg_isready -d "$CC_TEST_POSTGRES_URL" -q 2>/dev/null
}

if ! postgres_ready; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        echo "starting the local PostgreSQL cluster" >&2
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
        for _ in $(seq 1 30); do postgres_ready && break; sleep 1; done
    fi
fi
if ! postgres_ready; then
    echo "PostgreSQL is not reachable at $CC_TEST_POSTGRES_URL: the suite runs on both engines and needs it." >&2
    exit 1
fi

# The browser tests drive Debian's Chromium through chromedriver; the export tests read PDFs
# back with poppler (pdftotext, pdftoppm, pdfdetach) and decode their QR codes with zbarimg.
if ! command -v chromedriver >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ] \
    || ! command -v pdftotext >/dev/null 2>&1 || ! command -v zbarimg >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium, chromium-driver, poppler-utils and zbar-tools" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver poppler-utils zbar-tools >/dev/null
    else
        echo "The tests need Chromium, chromedriver, poppler and zbar: apt-get install chromium chromium-driver poppler-utils zbar-tools" >&2
        exit 1
    fi
fi

# The signed resume credential is checked with the JavaScript verifier wallets use.
if [ ! -d scripts/bench/js-verifier/node_modules ]; then
    (cd scripts/bench/js-verifier && npm ci --no-audit --no-fund)
fi

# Benches are compiled by clippy in CI; run them with `cargo bench`.
cargo test --locked --lib --bins --tests "$@"
