#!/usr/bin/env python3
"""Converts the IBM customer-care threads (../shared/data/conversations/ibm-customer-care/dev.json:
one JSON array of threads, messages under `dialogContent` with a role key `client`, `client1`
or `agent`, the brand's answer often only in `agentURL` without a time) to Waterline JSON
lines on the `x` platform, so that `waterline import` reads them.

Each message becomes a post; a message replies to the message before it in its thread, and the
thread's first tweet is the conversation id. The @handles a message's text names become its
`mentions` (as X payloads list them), so the brand a customer addressed is known. The `agentURL` answer takes its time from its
tweet id (an X snowflake: milliseconds = (id >> 22) + 1288834974657).

    python3 scripts/ibm-customer-care-to-jsonl.py ../shared/data/conversations/ibm-customer-care/dev.json > threads.jsonl

Standard library only; the output is personal data (handles, sometimes e-mail addresses):
keep it out of commits and public reports.
"""
import datetime
import json
import re
import sys

HANDLE = re.compile(r"(?<![\w@])@(\w{1,15})")


def snowflake_time(tweet_id):
    millis = (int(tweet_id) >> 22) + 1288834974657
    moment = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main(path):
    threads = json.load(open(path, encoding="utf-8"))
    out = sys.stdout
    for thread in threads:
        company = thread["dialogHeader"]["company"]
        messages = []
        for message in thread.get("dialogContent", []):
            author = message.get("agent") or message.get("client") or message.get("client1")
            messages.append((message["tweet_ID"], author, message["datetime"], message["message"]))
        answer = thread.get("agentURL") or {}
        if answer.get("tweet_ID") and answer.get("url_utterance"):
            messages.append((answer["tweet_ID"], company, snowflake_time(answer["tweet_ID"]), answer["url_utterance"]))
        messages.sort(key=lambda m: int(m[0]))
        root = messages[0][0] if messages else None
        previous = None
        for tweet_id, author, created_at, text in messages:
            post = {
                "platform": "x",
                "id": tweet_id,
                "author_handle": author,
                "created_at": created_at,
                "text": text,
                "url": f"https://x.com/{author}/status/{tweet_id}",
                "conversation_id": root,
            }
            mentions = HANDLE.findall(text)
            if mentions:
                post["mentions"] = mentions
            if previous is not None:
                post["reply_to"] = previous[0]
                post["reply_to_author"] = previous[1]
            out.write(json.dumps(post, ensure_ascii=False) + "\n")
            previous = (tweet_id, author)


if __name__ == "__main__":
    main(sys.argv[1])
