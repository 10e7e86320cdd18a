#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with cargo-fuzz (libFuzzer), each for a bounded time,
# and keeps each target's corpus, minimised, in fuzz/corpus/<target>/ (committed).
#
#   scripts/fuzz.sh                  # every target, FUZZ_SECONDS each
#   scripts/fuzz.sh package jws      # only these
#
# Targets (fuzz/fuzz_targets/, each states its invariants):
#   package       the package reader (src/domain/package.rs) behind the lenient JSON reader
#   lenient_json  the lenient JSON reader against serde_json
#   jws           compact JWS decoding and the verifier's VC-JWT check, offline
#   proof         embedded proofs: Data Integrity, JSON-LD, canonicalisation, key decoding
#   basic_auth    the token endpoint's HTTP Basic client credentials
#   fetch_url     the outbound fetch client's URL and address rules, did:web URLs
#   jsonld_differential  generated credential-shaped JSON-LD through our processor and
#                 jsonld.js (node; `npm ci` in scripts/bench/js-verifier): same canonical
#                 N-Quads whenever both give quads
#
# Environment:
#   FUZZ_SECONDS      seconds per target (default 60)
#   FUZZ_JOBS         parallel fuzzing processes per target (default 1)
#   FUZZ_MAX_LEN      largest generated input in bytes (default 32768)
#   FUZZ_MAX_FILES    corpus files kept per target after minimising (default 400)
#   FUZZ_MAX_FILE_KB  largest corpus file kept, KiB (default 64)
#   FUZZ_SANITIZER    none (default) or address
#
# Toolchain: cargo-fuzz needs nightly compiler flags (-Zsanitizer, sanitizer coverage
# options); only stable Rust is installed here, so RUSTC_BOOTSTRAP=1 lets the stable compiler
# take them. The default is no sanitizer: the crate forbids `unsafe` code, so what fuzzing
# finds here is panics, hangs and broken invariants (each target asserts its own), which
# libFuzzer catches without AddressSanitizer; ASan would only watch the dependencies' unsafe
# code, at about half the speed on this two-core machine. FUZZ_SANITIZER=address turns it on
# (the stable toolchain ships the ASan runtime).
#
# A crash leaves its input in fuzz/artifacts/<target>/; the script goes on with the other
# targets, then exits 1. Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O TARGET fuzz/artifacts/TARGET/crash-…
# then write a failing unit test from it and fix the code.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

ALL_TARGETS=(package lenient_json jws proof basic_auth fetch_url jsonld_differential)
if [[ $# -gt 0 ]]; then
  TARGETS=("$@")
else
  TARGETS=("${ALL_TARGETS[@]}")
fi

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_JOBS="${FUZZ_JOBS:-1}"
FUZZ_MAX_LEN="${FUZZ_MAX_LEN:-32768}"
FUZZ_MAX_FILES="${FUZZ_MAX_FILES:-400}"
FUZZ_MAX_FILE_KB="${FUZZ_MAX_FILE_KB:-64}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1

if [[ " ${TARGETS[*]} " == *" jsonld_differential "* && ! -d scripts/bench/js-verifier/node_modules ]]; then
  (cd scripts/bench/js-verifier && npm ci --no-audit --no-fund)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi

FUZZ_FLAGS=(--sanitizer "$FUZZ_SANITIZER" -O --debug-assertions)
echo "== building the fuzz targets (${FUZZ_FLAGS[*]})"
(cd fuzz && cargo fuzz build "${FUZZ_FLAGS[@]}" >/dev/null)

WORK="$ROOT/fuzz/target/work"
mkdir -p "$WORK"

# seed TARGET DIR: the first inputs, from the test fixtures, when the corpus is empty.
seed() {
  local target=$1 dir=$2 f i=0
  local fixtures="$ROOT/tests/fixtures"
  case $target in
    package)
      # The first byte picks the partner's rules (unstable ids, strict, a mapping, limits).
      for f in "$fixtures"/guide/*.json "$fixtures"/standards/examples/clr20/*.json \
               "$fixtures"/standards/examples/ob30/simple*.json "$fixtures"/standards/examples/ob30/complete.json; do
        { printf '\x00'; cat "$f"; } >"$dir/seed-$((i++))"
        { printf '\x01'; cat "$f"; } >"$dir/seed-$((i++))"
      done
      printf '\x00{"credentials": ["%s"]}' "$(tr -d '\n' <"$fixtures/standards/examples/ob30/simple.jwt")" >"$dir/seed-jws"
      ;;
    lenient_json)
      for f in "$fixtures"/guide/*.json "$fixtures"/standards/examples/ob30/simple*.json; do
        cp "$f" "$dir/seed-$((i++))"
      done
      printf '{"a": "one\n   two\t\\"x\\" \\\\ \\u00e9"}' >"$dir/seed-raw-controls"
      ;;
    jws)
      for f in "$fixtures"/standards/examples/*/simple.jwt; do
        tr -d '\n' <"$f" >"$dir/seed-$((i++))"
      done
      ;;
    proof)
      for f in "$fixtures"/standards/examples/signed/*-signed.json "$fixtures"/standards/examples/ob30/simple*.json \
               "$fixtures"/standards/examples/ob30/credential-status-revoked.json "$fixtures"/standards/examples/clr20/simple.json; do
        cp "$f" "$dir/seed-$((i++))"
      done
      ;;
    basic_auth)
      for pair in "client:secret" "my%20client:s3cr%3At" "a+b:c:d" "cc_abc:cc_secret_xyz" ":" "x"; do
        printf 'Basic %s' "$(printf '%s' "$pair" | base64 -w0)" >"$dir/seed-$((i++))"
      done
      printf 'Bearer abc' >"$dir/seed-$((i++))"
      ;;
    fetch_url)
      for u in "https://example.com/.well-known/did.json" "https://127.0.0.1:6379/" "http://localhost/x" \
               "https://[::ffff:10.0.0.1]/" "https://0x7f.1/" "https://169.254.169.254/latest/meta-data" \
               "https://[64:ff9b::a00:1]/" "example.com%3A8443:user:alice" "issuer.example:users:a%2Fb"; do
        printf '%s' "$u" >"$dir/seed-$((i++))"
      done
      ;;
    jsonld_differential)
      # The input only steers the document generator: any bytes will do to start.
      for n in 16 64 256 1024; do
        head -c "$n" /dev/zero | tr '\0' '\125' >"$dir/seed-$((i++))"
        seq 1 "$n" | head -c "$n" >"$dir/seed-$((i++))"
      done
      ;;
    *) echo "unknown target $target" >&2; return 1 ;;
  esac
}

SUMMARY=()
FAILED=()
for target in "${TARGETS[@]}"; do
  kept="$ROOT/fuzz/corpus/$target"
  run="$WORK/$target"
  rm -rf "$run"
  mkdir -p "$kept" "$run" "$ROOT/fuzz/artifacts/$target"
  if [[ -z "$(ls -A "$kept")" ]]; then
    seed "$target" "$kept"
  fi
  cp "$kept"/. "$run"/ -r
  echo
  echo "== $target: ${FUZZ_SECONDS}s, $(ls "$run" | wc -l) inputs to start from"
  log="$WORK/$target.log"
  status=0
  parallel=()
  if [[ $FUZZ_JOBS -gt 1 ]]; then
    parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
  fi
  (cd fuzz && cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "$run" -- \
      -max_total_time="$FUZZ_SECONDS" -max_len="$FUZZ_MAX_LEN" -timeout=10 -rss_limit_mb=4096 \
      "${parallel[@]}" -print_final_stats=1 \
      -artifact_prefix="$ROOT/fuzz/artifacts/$target/") >"$log" 2>&1 || status=$?
  execs="$({ grep -h 'stat::number_of_executed_units' "$log" "$ROOT"/fuzz/fuzz-*.log 2>/dev/null || true; } | awk '{s += $2} END {print s + 0}')"
  rm -f "$ROOT"/fuzz/fuzz-*.log
  if [[ $status -ne 0 ]]; then
    FAILED+=("$target")
    echo "!! $target failed (exit $status); the input is in fuzz/artifacts/$target/:" >&2
    grep -E -A 12 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 40 >&2 || tail -n 40 "$log" >&2
  fi
  # Minimise: the smallest set of inputs with the same coverage, then the size caps.
  merged="$WORK/$target.merged"
  rm -rf "$merged"
  mkdir -p "$merged"
  (cd fuzz && cargo fuzz cmin "${FUZZ_FLAGS[@]}" "$target" "$run" -- -max_len="$FUZZ_MAX_LEN" -timeout=10 >/dev/null 2>&1) || true
  find "$run" -type f -size +"${FUZZ_MAX_FILE_KB}"k -delete
  ls -S "$run" | tail -n "$FUZZ_MAX_FILES" | while read -r f; do cp "$run/$f" "$merged/"; done
  rm -rf "$kept"
  mv "$merged" "$kept"
  files="$(ls "$kept" | wc -l)"
  bytes="$(du -sb "$kept" | cut -f1)"
  rate=$((execs / (FUZZ_SECONDS > 0 ? FUZZ_SECONDS : 1)))
  SUMMARY+=("$(printf '%-14s %8ss %14s %10s/s %8s files %10s bytes  %s' "$target" "$FUZZ_SECONDS" "$execs" "$rate" "$files" "$bytes" \
    "$([[ $status -eq 0 ]] && echo ok || echo CRASH)")")
done

echo
echo "== summary ($(date -u +%Y-%m-%d), $(nproc) cores, sanitizer $FUZZ_SANITIZER)"
printf '%-14s %9s %14s %12s %14s %16s\n' target time executions rate corpus ""
printf '%s\n' "${SUMMARY[@]}"
if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "crashes in: ${FAILED[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
