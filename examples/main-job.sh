#!/usr/bin/env bash
# asof's main job, offline: one wallet's balance at a moment, its whole portfolio then and
# its daily series,
# answered from the example archive (made-up data, see examples/README.md). No key and
# no network are needed. Run from anywhere: `uv run --all-packages bash examples/main-job.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wallet="solana:ExampLeWa11et1111111111111111111111111111111"

echo "# USDC balance of $wallet as of 2025-03-01"
asof --config "$here/asof.toml" balance-at "$wallet" USDC --at 2025-03-01

echo
echo "# every token it held at that moment"
asof --config "$here/asof.toml" portfolio "$wallet" --at 2025-03-01

echo
echo "# its daily USDC series, 2025-02-24 to 2025-03-04"
asof --config "$here/asof.toml" series "$wallet" USDC --from 2025-02-24 --to 2025-03-04 --every 1d
