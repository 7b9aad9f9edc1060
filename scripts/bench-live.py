"""Live latency for scripts/bench-server.sh: keeps one server-sent-events connection open,
ingests posts one at a time at a steady rate and measures, for each, the time from the
start of the ingest call to the `posts` event on the stream (what an open dashboard hears).
Standard library only. Usage: bench-live.py HOST:PORT TOKEN COUNT [INTERVAL_S]"""
import http.client
import json
import statistics
import sys
import threading
import time

address, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
host, port = address.split(":")
events = []
lock = threading.Condition()


def listen():
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    connection.request("GET", "/api/v1/events", headers={"Accept": "text/event-stream"})
    response = connection.getresponse()
    while True:
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"event: posts"):
            with lock:
                events.append(time.monotonic())
                lock.notify_all()


threading.Thread(target=listen, daemon=True).start()
time.sleep(1.0)
latencies = []
for i in range(count):
    line = json.dumps({
        "platform": "x", "id": f"bench-live-{time.time_ns()}-{i}", "author_handle": "bench",
        "created_at": "2026-10-31T23:59:00Z", "text": f"@novarishealth live benchmark post {i}",
    })
    with lock:
        seen = len(events)
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    connection.request("POST", "/api/v1/ingest", body=line + "\n",
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    reply = connection.getresponse()
    reply.read()
    if reply.status != 200:
        sys.exit(f"ingest answered {reply.status}")
    with lock:
        lock.wait_for(lambda: len(events) > seen, timeout=60)
        if len(events) > seen:
            latencies.append((events[seen] - started) * 1000.0)
    time.sleep(interval)
latencies.sort()
p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
print(json.dumps({"posts": count, "heard": len(latencies), "median_ms": round(statistics.median(latencies), 1),
                  "p99_ms": round(p99, 1), "max_ms": round(latencies[-1], 1)}))
