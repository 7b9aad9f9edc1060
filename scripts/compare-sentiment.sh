#!/usr/bin/env bash
# Sentiment side by side: VADER (English, PyPI `vaderSentiment`) and VADER-FR (French, PyPI
# `vaderSentiment-fr`) against `waterline eval sentiment`, on the UMSAB validation splits.
# VADER's compound score maps to a class with the standard thresholds: >= 0.05 positive (2),
# <= -0.05 negative (0), else neutral (1). Prints a markdown table of macro-F1 and accuracy.
# VADER runs in a throw-away virtual environment, never a dependency of the product.
#
#   bash scripts/compare-sentiment.sh
#   BIN=target/release/waterline DATA=/elsewhere/data bash scripts/compare-sentiment.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
VENV="${VENV:-/var/tmp/waterline-bench-venv}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
if [ -z "${BIN:-}" ]; then
    # The release binary if it exists and knows `eval`, else the debug one.
    BIN="$TARGET/release/waterline"
    if [ ! -x "$BIN" ] || ! "$BIN" eval --help >/dev/null 2>&1; then BIN="$TARGET/debug/waterline"; fi
fi

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c 'import vaderSentiment, vaderSentiment_fr' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet vaderSentiment vaderSentiment-fr
fi

echo "waterline: $BIN"
"$VENV/bin/pip" list 2>/dev/null | awk 'tolower($1) ~ /^vadersentiment/ { print "python: " $1 " " $2 }'
echo
echo "| language | n | VADER macro-F1 | VADER accuracy | VADER texts/s | Waterline macro-F1 | Waterline accuracy | Δ macro-F1 (Waterline − VADER) |"
echo "|---|---|---|---|---|---|---|---|"
for pair in en:english fr:french; do
    lang="${pair%%:*}"
    dir="$DATA/sentiment/umsab-xlmt/${pair#*:}"
    waterline_json=$("$BIN" eval sentiment --text "$dir/val_text.txt" --labels "$dir/val_labels.txt" --lang "$lang" --json)
    "$VENV/bin/python" - "$lang" "$dir/val_text.txt" "$dir/val_labels.txt" "$waterline_json" <<'PY'
import json, sys, time, warnings
warnings.filterwarnings("ignore")  # fuzzywuzzy warns about its pure-Python matcher
lang, text_path, labels_path, waterline = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
if lang == "fr":
    from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
else:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

def lines(path):
    # One item a line, split on "\n" only (like the binary), so texts and labels stay aligned.
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r") for line in f.read().rstrip("\n").split("\n")]

texts, labels = lines(text_path), [int(x) for x in lines(labels_path)]
assert len(texts) == len(labels), f"{len(texts)} texts but {len(labels)} labels"
analyzer = SentimentIntensityAnalyzer()
start = time.perf_counter()
compounds = [analyzer.polarity_scores(t)["compound"] for t in texts]
seconds = time.perf_counter() - start
predicted = [2 if c >= 0.05 else 0 if c <= -0.05 else 1 for c in compounds]

def f1(k):
    tp = sum(p == k and y == k for p, y in zip(predicted, labels))
    fp = sum(p == k and y != k for p, y in zip(predicted, labels))
    fn = sum(p != k and y == k for p, y in zip(predicted, labels))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

macro_f1 = sum(f1(k) for k in (0, 1, 2)) / 3
accuracy = sum(p == y for p, y in zip(predicted, labels)) / len(labels)
assert waterline["n"] == len(labels), f"waterline n={waterline['n']}, VADER n={len(labels)}"
print(f"| {lang} | {len(labels)} | {macro_f1:.4f} | {accuracy:.4f} | {len(texts) / seconds:.0f} "
      f"| {waterline['macro_f1']:.4f} | {waterline['accuracy']:.4f} | {waterline['macro_f1'] - macro_f1:+.4f} |")
PY
done
