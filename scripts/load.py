#!/usr/bin/env python3
"""Closed-loop load on a Waterline server (issue 23): N concurrent clients mixing page loads,
metric queries and ingest calls for a fixed time, on loopback only.

Each client sends one request, waits for the answer (or its own time-out), and sends the
next; a 429 or 503 must carry `Retry-After`, and the client honours it, as a well-behaved
collector would. Ingest bodies carry posts with unique ids (`load-RUN-CLIENT-N-K`); the ids of
every acknowledged body are written to `--acked` so the caller can check that each is stored
exactly once. The server's resident memory is sampled from /proc every second.

Standard library only. Prints one JSON object:

    {"clients", "seconds", "requests", "by_kind": {"page": {"200": n, "503": n, ...,
     "p50_ms", "p90_ms", "p99_ms", "max_ms"}, ...}, "violations": [...],
     "rss_mb": {"idle", "max", "end"}, "acked_posts"}

A violation is any answer other than 200, or 429/503 with Retry-After, or a time-out.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
import urllib.parse

PAGES = [
    "/", "/listening", "/gap", "/audit", "/share-of-voice", "/audience",
    "/responsiveness", "/alerts", "/metrics", "/posts", "/baselines",
]
QUERIES = [
    {"metrics": ["posts", "engagements", "applause_rate", "net_sentiment"], "by": ["day", "platform"], "from": "2026-07-01"},
    {"metrics": ["mentions", "share_of_voice_mentions", "share_of_voice_engagement"], "by": ["panel"], "where": ["language=fr"]},
    {"metrics": ["inbound", "response_rate", "first_response_hours"], "by": ["account"]},
    {"metrics": ["interacting_audience", "new_authors", "returning_authors"], "by": ["month"]},
    {"metrics": ["posts", "engagements"], "by": ["week", "side"]},
]


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def request(host, port, method, path, headers, body, timeout):
    """One HTTP/1.1 request on its own connection; answers (status, headers, elapsed s)."""
    started = time.monotonic()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        await writer.drain()

        async def read_all():
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.read()  # the body, to the end (Connection: close)
            return head

        head = await asyncio.wait_for(read_all(), timeout - (time.monotonic() - started))
    finally:
        writer.close()
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    answer_headers = {}
    for line in header_lines:
        if ":" in line:
            key, value = line.split(":", 1)
            answer_headers[key.strip().lower()] = value.strip()
    return status, answer_headers, time.monotonic() - started


class Tally:
    def __init__(self):
        self.kinds = {}
        self.violations = []
        self.acked = []

    def add(self, kind, outcome, elapsed):
        entry = self.kinds.setdefault(kind, {"statuses": {}, "latencies": []})
        entry["statuses"][outcome] = entry["statuses"].get(outcome, 0) + 1
        if outcome == "200":
            entry["latencies"].append(elapsed)

    def summary(self):
        out = {}
        for kind, entry in sorted(self.kinds.items()):
            latencies = sorted(entry["latencies"])
            row = dict(sorted(entry["statuses"].items()))

            def q(p):
                return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else None

            row.update({"p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": q(1.0)})
            answered = sum(entry["statuses"].values())
            row["ok_share"] = round(entry["statuses"].get("200", 0) / answered, 4) if answered else None
            out[kind] = row
        return out


async def client(number, args, deadline, tally, run):
    rng = random.Random(args.seed * 1_000_003 + number)
    auth = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    weights = [args.pages, args.queries, args.ingest]
    sent = 0
    while time.monotonic() < deadline:
        kind = rng.choices(["page", "query", "ingest"], weights)[0]
        headers = dict(auth)
        body = None
        if kind == "page":
            method, path = "GET", rng.choice(PAGES)
        elif kind == "query":
            method, path = "POST", "/api/v1/query"
            body = json.dumps(rng.choice(QUERIES)).encode()
            headers["Content-Type"] = "application/json"
        else:
            method, path = "POST", "/api/v1/ingest"
            ids = [f"load-{run}-{number}-{sent}-{k}" for k in range(args.ingest_posts)]
            day = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
            body = "\n".join(
                json.dumps({
                    "platform": "mastodon", "id": post_id, "author_handle": f"load{rng.randint(1, 5000)}@example.org",
                    "created_at": f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
                    "text": rng.choice(["side effects since the new dose", "merci pour l'info", "where can I find it?", "great news"]),
                    "counts": {"likes": rng.randint(0, 20)},
                })
                for post_id in ids
            ).encode()
            headers["Content-Type"] = "application/x-ndjson"
        sent += 1
        try:
            status, answer_headers, elapsed = await request(args.host, args.port, method, path, headers, body, args.timeout)
        except (asyncio.TimeoutError, TimeoutError):
            tally.add(kind, "timeout", args.timeout)
            tally.violations.append(f"{kind} {path}: no answer in {args.timeout} s")
            continue
        except OSError as error:
            tally.add(kind, "connection-error", 0)
            tally.violations.append(f"{kind} {path}: {error}")
            await asyncio.sleep(0.2)
            continue
        outcome = str(status)
        tally.add(kind, outcome, elapsed)
        if status == 200:
            if kind == "ingest":
                tally.acked.extend(ids)
            continue
        if status in (429, 503):
            retry = answer_headers.get("retry-after")
            if retry is None:
                tally.violations.append(f"{kind} {path}: {status} without Retry-After")
                await asyncio.sleep(1)
            else:
                await asyncio.sleep(float(retry))
            continue
        tally.violations.append(f"{kind} {path}: {status}")


async def sample_memory(pid, deadline, samples):
    while time.monotonic() < deadline:
        value = rss_mb(pid)
        if value is not None:
            samples.append(value)
        await asyncio.sleep(1)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--token", default=os.environ.get("WATERLINE_TOKEN"))
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pages", type=float, default=40, help="share of page loads")
    parser.add_argument("--queries", type=float, default=40, help="share of metric queries")
    parser.add_argument("--ingest", type=float, default=20, help="share of ingest calls")
    parser.add_argument("--ingest-posts", type=int, default=5, help="posts per ingest body")
    parser.add_argument("--timeout", type=float, default=30, help="a client's time-out per request, s")
    parser.add_argument("--pid", type=int, help="the server's process id, for its memory")
    parser.add_argument("--acked", help="write the ids of acknowledged ingest posts here, one a line")
    parser.add_argument("--run", default=str(int(time.time())))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = urllib.parse.urlsplit(args.base)
    if base.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("load.py runs against a loopback server only")
    args.host, args.port = base.hostname, base.port or 80

    idle = rss_mb(args.pid) if args.pid else None
    tally = Tally()
    samples = []
    deadline = time.monotonic() + args.seconds
    tasks = [client(n, args, deadline, tally, args.run) for n in range(args.clients)]
    if args.pid:
        tasks.append(sample_memory(args.pid, deadline, samples))
    started = time.monotonic()
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    if args.acked:
        with open(args.acked, "w") as out:
            out.writelines(f"{post_id}\n" for post_id in tally.acked)
    by_kind = tally.summary()
    print(json.dumps({
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": sum(sum(v for k, v in row.items() if k.isdigit() or not k.endswith(("_ms", "_share"))) for row in by_kind.values()),
        "by_kind": by_kind,
        "violations": len(tally.violations),
        "violation_examples": sorted(set(tally.violations))[:10],
        "rss_mb": {
            "idle": round(idle, 1) if idle else None,
            "max": round(max(samples), 1) if samples else None,
            "end": round(rss_mb(args.pid), 1) if args.pid and rss_mb(args.pid) else None,
        },
        "acked_posts": len(tally.acked),
    }, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
