-- wrk script for scripts/bench-server.sh: 200 connections POST the dashboard's metric
-- queries to /api/v1/query in turn (the same mix for every run).
local bodies = {
  '{"metrics": ["posts", "engagements", "applause_rate", "net_sentiment"], "by": ["day", "platform"]}',
  '{"metrics": ["mentions", "share_of_voice_mentions", "share_of_voice_engagement"], "by": ["panel"]}',
  '{"metrics": ["posts"], "by": ["week", "side"]}',
  '{"metrics": ["inbound", "response_rate", "first_response_hours"]}',
  '{"metrics": ["posts", "engagements", "conversation_rate"], "by": ["account"], "where": ["side=own,competitor"], "limit": 20}',
  '{"metrics": ["mentions", "net_sentiment", "negative_share"], "where": ["platform=x"]}',
}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/query", { ["Content-Type"] = "application/json" }, bodies[(counter % #bodies) + 1])
end
