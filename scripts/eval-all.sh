#!/usr/bin/env bash
# Runs every `waterline eval` on the public data and prints the figures of docs/QUALITY.md.
#
#   bash scripts/eval-all.sh                 # uses target/release/waterline (builds it)
#   BIN=path/to/waterline bash scripts/eval-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="${BIN:-$TARGET/release/waterline}"
if [ ! -x "$BIN" ]; then cargo build --release -p waterline --locked >&2; fi

echo "## language (UMSAB validation splits)"
for pair in english:en french:fr german:de spanish:es italian:it portuguese:pt arabic:ar hindi:hi; do
    "$BIN" eval language --text "$DATA/sentiment/umsab-xlmt/${pair%%:*}/val_text.txt" --lang "${pair##*:}"
done
echo "## sentiment (UMSAB validation splits; never trained on)"
for pair in english:en french:fr german:de spanish:es italian:it portuguese:pt; do
    folder="$DATA/sentiment/umsab-xlmt/${pair%%:*}"
    "$BIN" eval sentiment --text "$folder/val_text.txt" --labels "$folder/val_labels.txt" --lang "${pair##*:}"
done
echo "## needs: complaints"
"$BIN" eval needs --complaints-csv "$DATA/complaints/complaints-en/complaints-data.csv"
"$BIN" eval needs --complaints-csv testdata/enrich/complaints-fr.csv
