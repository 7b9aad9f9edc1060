#!/usr/bin/env python3
"""Independent check of Waterline's response metrics on the IBM customer-care threads.

Reads ../shared/data/conversations/ibm-customer-care/dev.json directly (not Waterline's
conversion) and prints, per brand (the thread's `company`), the threads, the answered share
and the median and p90 first-response time in hours, per thread: from the customer's first
message to the brand's first reply after it (an `agent` message of the thread, or the
`agentURL` answer, whose time is read from its tweet id, an X snowflake). Percentiles
interpolate linearly between order statistics, as SQL `percentile_cont` does.

    python3 scripts/ibm-response-times.py ../shared/data/conversations/ibm-customer-care/dev.json

Standard library only. Compare with:

    waterline query --metrics inbound,response_rate,first_response_hours,first_response_hours_p90 --by account --json
"""
import datetime
import json
import sys


def parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def snowflake(tweet_id):
    millis = (int(tweet_id) >> 22) + 1288834974657
    return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def main(path):
    threads = json.load(open(path, encoding="utf-8"))
    # The file repeats a few threads under another session id (the same tweets): a thread is
    # identified by its customer's first tweet, and its copies' answers are pooled.
    conversations = {}
    for thread in threads:
        company = thread["dialogHeader"]["company"]
        customer = [(parse(m["datetime"]), m["tweet_ID"]) for m in thread.get("dialogContent", []) if "agent" not in m]
        if not customer:
            continue
        opened, first_id = min(customer)
        replies = [parse(m["datetime"]) for m in thread.get("dialogContent", []) if "agent" in m]
        answer = thread.get("agentURL") or {}
        if answer.get("tweet_ID") and answer.get("url_utterance"):
            replies.append(snowflake(answer["tweet_ID"]))
        entry = conversations.setdefault(first_id, {"company": company, "opened": opened, "replies": []})
        entry["replies"].extend(replies)
    brands = {}
    for entry in conversations.values():
        later = [r for r in entry["replies"] if r > entry["opened"]]
        brand = brands.setdefault(entry["company"], {"threads": 0, "answered": 0, "hours": []})
        brand["threads"] += 1
        if later:
            brand["answered"] += 1
            brand["hours"].append((min(later) - entry["opened"]).total_seconds() / 3600.0)
    out = {}
    for company, entry in sorted(brands.items()):
        out[company] = {
            "threads": entry["threads"],
            "response_rate": round(entry["answered"] / entry["threads"], 4),
            "median_hours": None if not entry["hours"] else round(percentile(entry["hours"], 0.5), 4),
            "p90_hours": None if not entry["hours"] else round(percentile(entry["hours"], 0.9), 4),
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
