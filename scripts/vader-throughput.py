"""VADER EN throughput on Waterline JSON lines: runs `polarity_scores` on the "text" field of
every record of the given files (single process) and prints one JSON line
{"texts": N, "seconds": S, "texts_per_second": R}. Reading the files is not timed.
Needs the PyPI package `vaderSentiment` (scripts/compare-sentiment.sh installs it), e.g.:

    waterline generate --posts 50000 --seed 1 --out /var/tmp/vader-scenario
    /var/tmp/waterline-bench-venv/bin/python scripts/vader-throughput.py /var/tmp/vader-scenario/*.jsonl
"""
import json
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

texts = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        texts.extend(json.loads(line)["text"] for line in f if line.strip())
if not texts:
    sys.exit("usage: vader-throughput.py FILE.jsonl... (no texts read)")

analyzer = SentimentIntensityAnalyzer()
start = time.perf_counter()
for text in texts:
    analyzer.polarity_scores(text)
seconds = time.perf_counter() - start
print(json.dumps({"texts": len(texts), "seconds": round(seconds, 3), "texts_per_second": round(len(texts) / seconds)}))
