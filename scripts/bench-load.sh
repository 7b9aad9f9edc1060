#!/usr/bin/env bash
# Load benchmark (issue 23): the release server on loopback, CLIENTS closed-loop clients
# mixing page loads, metric queries and ingest calls for SECONDS (scripts/load.py), then:
#   - every answer was 200, or 429/503 with Retry-After (no time-out, no 500, no 401);
#   - every acknowledged ingest post is stored exactly once (checked with `waterline sql`
#     after the server stopped);
#   - the server's resident memory: idle, peak, end.
#
#   bash scripts/bench-load.sh                                   # quick: demo (50,000 posts), 200 clients, 60 s
#   N=1000000 CLIENTS=500 SECONDS_=600 bash scripts/bench-load.sh # the issue's full run
#
# Exits 1 when a check fails. Prints the load script's JSON and one closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-50000}"
CLIENTS="${CLIENTS:-200}"
DURATION="${SECONDS_:-60}"
PORT="${PORT:-18282}"
TARGET="${CARGO_TARGET_DIR:-/var/tmp/waterline-target}"
BIN="${BIN:-$TARGET/release/waterline}"
WORK="${WORK:-/var/tmp/waterline-bench-load-$N}"
if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release -p waterline --locked >&2; fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; $(uname -m)"
if [ ! -d "$WORK/.waterline" ]; then
    rm -rf "$WORK"
    "$BIN" generate --posts "$N" --seed 42 --out "$WORK" >/dev/null
    "$BIN" --workspace "$WORK" import "$WORK/*.jsonl" --json >/dev/null
fi
echo "posts: $N in $WORK; $CLIENTS clients for $DURATION s"
TOKEN=$("$BIN" --workspace "$WORK" token create --role analyst --name "load-$(date +%s)" 2>/dev/null)
ulimit -n 65536 2>/dev/null || true
log=$(mktemp)
acked=$(mktemp)
"$BIN" --workspace "$WORK" serve --listen "127.0.0.1:$PORT" >"$log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$log" "$acked"' EXIT
until grep -q "serving on" "$log"; do sleep 0.2; kill -0 $SERVER 2>/dev/null || { cat "$log"; exit 1; }; done
# Warm the caches once, as a user opening the dashboard would, before the idle reading.
for page in / /listening /gap /audit /audience /alerts; do curl -s -o /dev/null "http://127.0.0.1:$PORT$page"; done
RUN="r$(date +%s)"
result=$(python3 scripts/load.py --base "http://127.0.0.1:$PORT" --token "$TOKEN" --clients "$CLIENTS" \
    --seconds "$DURATION" --pid "$SERVER" --acked "$acked" --run "$RUN")
echo "$result"
kill -INT $SERVER; wait $SERVER || true

# Exactly once: each acknowledged id stored, none twice.
stored=$("$BIN" --workspace "$WORK" sql --json \
    "SELECT id, count(*) AS copies FROM posts WHERE id LIKE 'load-$RUN-%' GROUP BY id")
python3 - "$acked" "$stored" "$result" <<'PY'
import json, sys
acked = set(open(sys.argv[1]).read().split())
rows = json.loads(sys.argv[2])
copies = {row["id"]: row["copies"] for row in rows}
result = json.loads(sys.argv[3])
missing = sorted(acked - copies.keys())
twice = sorted(i for i, n in copies.items() if n != 1)
failures = []
if missing:
    failures.append(f"{len(missing)} acknowledged posts not stored (e.g. {missing[:3]})")
if twice:
    failures.append(f"{len(twice)} posts stored more than once (e.g. {twice[:3]})")
if result["violations"]:
    failures.append(f"{result['violations']} answers other than 200 or 429/503 with Retry-After")
for kind in ("page", "query"):
    row = result["by_kind"].get(kind, {})
    if row.get("ok_share") is not None and row["ok_share"] < 0.95:
        failures.append(f"{kind}: only {row['ok_share']:.1%} answered 200")
print(f"acknowledged ingest posts: {len(acked)}, stored: {len(copies)} "
      f"(unacknowledged but stored: {len(copies.keys() - acked)}), twice: {len(twice)}")
if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("ok: no time-out or error; every acknowledged ingest stored exactly once")
PY
