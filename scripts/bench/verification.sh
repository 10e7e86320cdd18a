#!/usr/bin/env bash
# Verification throughput on one core: the Rust verifier and, in the same run, the
# JavaScript verifier most wallets use (@digitalbazaar/vc with the eddsa-rdfc-2022
# cryptosuite), both on the official OB 3.0 eddsa-rdfc-2022 test vector, with the same
# bundled contexts and the same published controller document, no network.
#
#   scripts/bench/verification.sh [SECONDS_PER_SIDE]      (default 5; CORE=N picks the core)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-5}"
core="${CORE:-0}"

cargo bench --bench verification --no-run
if [ ! -d scripts/bench/js-verifier/node_modules ]; then
    (cd scripts/bench/js-verifier && npm ci --no-audit --no-fund)
fi

rust=$(taskset -c "$core" cargo bench --bench verification -- "$seconds" 2>/tmp/verification-bench-split.txt | tail -n 1)
cat /tmp/verification-bench-split.txt >&2
js=$(taskset -c "$core" node scripts/bench/js-verifier/bench.mjs "$seconds")

python3 - "$rust" "$js" <<'PY'
import json, sys
rust, js = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"rust": rust, "javascript": js, "ratio": rust["per_second"] / js["per_second"]}, indent=2))
print(f"Rust {rust['per_second']:.0f}/s, {js['verifier']} {js['per_second']:.0f}/s: "
      f"{rust['per_second'] / js['per_second']:.1f}x", file=sys.stderr)
PY
