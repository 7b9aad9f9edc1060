#!/usr/bin/env bash
# Enrichment benchmark (issue #3): generates N posts, then measures on this machine
#   - import with the full enrichment chain (posts/s, peak memory),
#   - import with --no-enrich, then `waterline enrich` over the stored posts,
#   - `waterline bench enrich`: tokenisation, each annotator alone, and the whole chain,
#   - VADER (Python, same texts, same machine) side by side, in a throw-away venv.
#
#   bash scripts/bench-enrich.sh            # N=200000
#   N=50000 SKIP_BUILD=1 bash scripts/bench-enrich.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-200000}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="$TARGET/release/waterline"
WORK="${WORK:-$(mktemp -d /var/tmp/waterline-enrich-bench.XXXXXX)}"
VENV="${VENV:-/var/tmp/waterline-bench-venv}"

if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release -p waterline --locked >&2; fi
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c 'import vaderSentiment' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet vaderSentiment
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(uname -m)"
echo "posts: $N; work dir: $WORK"
rm -rf "$WORK/enriched" "$WORK/plain"
"$BIN" generate --posts "$N" --seed 1 --out "$WORK/enriched" >/dev/null
cp -r "$WORK/enriched" "$WORK/plain"

measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/out.txt"
    read -r seconds kilobytes <"$WORK/time.txt"
    echo "$seconds $((kilobytes / 1024))"
}
rate() { python3 -c "print(round($1 / $2))"; }

read -r seconds mib < <(measure "$BIN" --workspace "$WORK/enriched" import "$WORK/enriched/*.jsonl" --json)
echo "import with the full chain: $seconds s = $(rate "$N" "$seconds") posts/s, peak RSS $mib MiB"
read -r seconds mib < <(measure "$BIN" --workspace "$WORK/plain" import "$WORK/plain/*.jsonl" --json --no-enrich)
echo "import --no-enrich: $seconds s = $(rate "$N" "$seconds") posts/s, peak RSS $mib MiB"
read -r seconds mib < <(measure "$BIN" --workspace "$WORK/plain" enrich --json)
echo "waterline enrich afterwards: $seconds s = $(rate "$N" "$seconds") posts/s, peak RSS $mib MiB"
"$BIN" bench enrich "$WORK/enriched/*.jsonl" --runs 3
echo "VADER (Python, one process, same texts): $("$VENV/bin/python" scripts/vader-throughput.py "$WORK"/enriched/*.jsonl)"
