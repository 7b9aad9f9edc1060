//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Built from
//! [`crate::API_ROUTES`] and the error codes, so a route cannot be served undocumented
//! (a test checks both ways).

use serde_json::{Map, Value, json};

use crate::error::CODES;

fn summary(method: &str, path: &str) -> (&'static str, &'static str) {
    match (method, path) {
        ("get", "/api/v1/health") => ("Liveness and version", "health"),
        ("get", "/api/v1/openapi.json") => ("This document", "meta"),
        ("get", "/api/v1/whoami") => {
            ("The caller: actor, role, whether a token is required", "access")
        }
        ("post", "/api/v1/login") => ("Check a token and keep it in an HttpOnly cookie", "access"),
        ("post", "/api/v1/logout") => ("Forget the login cookie", "access"),
        ("get", "/api/v1/status") => {
            ("Counts by platform and side, store version, latest import runs", "status")
        }
        ("get", "/api/v1/metrics") => (
            "The metric catalogue (definitions, numerators, denominators) and the dimensions",
            "metrics",
        ),
        ("post", "/api/v1/query") => (
            "Compute metrics × dimensions × filters over a period (the shape of `waterline query`)",
            "metrics",
        ),
        ("get", "/api/v1/reports/{kind}") => (
            "A report: listening, gap, audit (JSON of docs/schema.md) or share-of-voice (two query answers)",
            "reports",
        ),
        ("get", "/api/v1/posts") => {
            ("Posts with their enrichments, newest first, paginated", "posts")
        }
        ("post", "/api/v1/ingest") => {
            ("Import JSON lines in any supported format (a webhook for collectors)", "posts")
        }
        ("get", "/api/v1/events") => (
            "Server-sent events: `alert` as each alert fires (explained), `posts` when the stored posts change",
            "live",
        ),
        ("get", "/api/v1/baselines") => ("The frozen baselines", "baselines"),
        ("post", "/api/v1/baselines") => {
            ("Freeze every metric over a period as a baseline", "baselines")
        }
        ("delete", "/api/v1/baselines/{name}") => ("Delete a baseline", "baselines"),
        ("get", "/api/v1/baselines/{name}/compare") => {
            ("Compare a period with a baseline (95% bootstrap intervals)", "baselines")
        }
        ("get", "/api/v1/milestones") => {
            ("Every milestone's progress, trend, projection and verdict", "milestones")
        }
        ("post", "/api/v1/milestones") => {
            ("Add a milestone (a metric target with a date)", "milestones")
        }
        ("delete", "/api/v1/milestones/{name}") => ("Remove a milestone", "milestones"),
        ("get", "/api/v1/alerts") => (
            "Stored alerts (spikes, PV-flagged posts, coverage gaps, unanswered questions) with what fired and why, who acknowledged and resolved them; one page of the PV clock and coverage alerts firing now (`page`, `per_page` up to 1000, default 500; `total_alerts`); the rules in force",
            "alerts",
        ),
        ("get", "/api/v1/alerts/{id}") => {
            ("One stored alert with its explanation and webhook deliveries", "alerts")
        }
        ("post", "/api/v1/alerts/{id}/acknowledge") => {
            ("Acknowledge an open alert (body: optional `note`); who and when are kept", "alerts")
        }
        ("post", "/api/v1/alerts/{id}/resolve") => {
            ("Resolve an alert (body: optional `note`); who and when are kept", "alerts")
        }
        ("get", "/api/v1/sources") => {
            ("Live sources: state (live, backing-off, degraded, stopped), counters, cursor", "live")
        }
        ("get", "/api/v1/pv/cases") => (
            "The pharmacovigilance queue: cases with flags, minimum elements, clocks and alerts (serious first)",
            "pharmacovigilance",
        ),
        ("get", "/api/v1/pv/cases/{id}") => (
            "One case with its append-only event log; opening it is recorded (AUD-2)",
            "pharmacovigilance",
        ),
        ("post", "/api/v1/pv/cases/{id}/actions") => (
            "A reviewer's action: view, assign, decide (status, reason code), follow_up, day_zero",
            "pharmacovigilance",
        ),
        ("get", "/api/v1/pv/export") => (
            "The queue for the safety database, CSV or JSON with the four minimum elements",
            "pharmacovigilance",
        ),
        ("get", "/api/v1/pv/reconciliation") => (
            "Forwarded cases against PV's receipt log (AUD-3), also when empty",
            "pharmacovigilance",
        ),
        ("post", "/api/v1/drafts/check") => (
            "Check a draft before publication: compliance findings (C-01..C-27) and an advisory reception forecast",
            "drafts",
        ),
        ("get", "/api/v1/pv/coverage") => (
            "Owned channels with the time of their last ingested post and gaps (SCOPE-1)",
            "pharmacovigilance",
        ),
        ("get", "/api/v1/tokens") => {
            ("API tokens (records only; tokens are stored as hashes)", "access")
        }
        ("post", "/api/v1/tokens") => ("Create a token; the answer holds it, once", "access"),
        ("delete", "/api/v1/tokens/{id}") => ("Revoke a token", "access"),
        ("get", "/api/v1/audit") => ("The audit log: every write, who and when", "access"),
        _ => ("", "other"),
    }
}

fn query_parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn parameters(method: &str, path: &str) -> Vec<Value> {
    let date = json!({"type": "string", "format": "date"});
    let text = json!({"type": "string"});
    let mut list = Vec::new();
    for segment in path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let mut parameter =
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
            if name == "kind" {
                parameter["schema"] =
                    json!({"type": "string", "enum": ["listening", "gap", "audit"]});
            }
            list.push(parameter);
        }
    }
    match (method, path) {
        ("get", "/api/v1/pv/cases") => {
            list.push(query_parameter("all", "`1`: closed cases too", text.clone()));
        }
        ("get", "/api/v1/pv/export") => {
            list.push(query_parameter(
                "format",
                "`csv` (default) or `json`",
                json!({"type": "string", "enum": ["csv", "json"]}),
            ));
        }
        ("get", "/api/v1/reports/{kind}") => {
            list.push(query_parameter("from", "First local day (inclusive)", date.clone()));
            list.push(query_parameter("to", "Last local day (inclusive)", date));
            list.push(query_parameter(
                "pseudonymise",
                "Mask authors, @handles and e-mail addresses (`1`)",
                text,
            ));
        }
        ("get", "/api/v1/posts") => {
            list.push(query_parameter("from", "First local day (inclusive)", date.clone()));
            list.push(query_parameter("to", "Last local day (inclusive)", date));
            for field in [
                "platform",
                "side",
                "language",
                "sentiment",
                "need",
                "topic",
                "account",
                "post_type",
            ] {
                list.push(query_parameter(field, "Comma-separated values to keep", text.clone()));
            }
            list.push(query_parameter(
                "q",
                "Words the text contains (case-insensitive; 16 words at most)",
                text.clone(),
            ));
            list.push(query_parameter(
                "inbound",
                "`1`: the posts that opened an inbound conversation (what `inbound` counts)",
                text.clone(),
            ));
            list.push(query_parameter(
                "interacting",
                "`1`: audience posts addressed to the brand or mentioning it (what the author metrics count)",
                text.clone(),
            ));
            list.push(query_parameter(
                "unanswered",
                "`1`: the posts that opened an inbound conversation the brand has not answered (what `inbound` minus the answered ones counts)",
                text.clone(),
            ));
            list.push(query_parameter(
                "page",
                "1-based page",
                json!({"type": "integer", "minimum": 1}),
            ));
            list.push(query_parameter(
                "per_page",
                "Posts per page (1–1000, default 50)",
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            ));
            list.push(query_parameter("pseudonymise", "Mask authors (`1`)", text));
        }
        ("get", "/api/v1/baselines/{name}/compare") => {
            list.push(query_parameter(
                "from",
                "First local day of the compared period",
                date.clone(),
            ));
            list.push(query_parameter("to", "Last local day of the compared period", date));
        }
        ("get", "/api/v1/audit") => {
            list.push(query_parameter(
                "limit",
                "Entries (default 200)",
                json!({"type": "integer"}),
            ));
        }
        _ => {}
    }
    list
}

fn request_body(method: &str, path: &str) -> Option<Value> {
    let schema = match (method, path) {
        ("post", "/api/v1/query") => json!({"$ref": "#/components/schemas/Query"}),
        ("post", "/api/v1/login") => {
            json!({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}})
        }
        ("post", "/api/v1/baselines") => {
            json!({"type": "object", "required": ["name", "from", "to"], "properties": {
            "name": {"type": "string"}, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
            "where": {"type": "array", "items": {"type": "string"}}}})
        }
        ("post", "/api/v1/milestones") => {
            json!({"type": "object", "required": ["name", "metric", "target", "by"], "properties": {
            "name": {"type": "string"}, "metric": {"type": "string"}, "target": {"type": "number"},
            "by": {"type": "string", "format": "date"}, "since": {"type": "string", "format": "date"},
            "where": {"type": "array", "items": {"type": "string"}}}})
        }
        ("post", "/api/v1/drafts/check") => {
            json!({"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string"},
            "countries": {"type": "array", "items": {"type": "string", "description": "ISO 3166 alpha-2: FR, GB, US, DE…"}},
            "audience": {"type": "string", "enum": ["public", "hcp"]},
            "products": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "status": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                    "class": {"type": "string", "enum": ["pom", "otc"]}, "reimbursed": {"type": "boolean"}}}}}}},
            "visa": {"type": "string"}, "sponsored": {"type": "boolean"}, "influencer": {"type": "boolean"},
            "account": {"type": "string"}, "references": {"type": "array", "items": {"type": "string"}},
            "media": {"type": "string", "enum": ["image", "video"]}}})
        }
        ("post", "/api/v1/pv/cases/{id}/actions") => {
            json!({"type": "object", "required": ["action"], "properties": {
            "action": {"type": "string", "enum": ["view", "assign", "decide", "follow_up", "day_zero"]},
            "to": {"type": "string", "description": "assign: the assignee"},
            "status": {"type": "string", "enum": ["in_review", "forwarded", "not_a_case", "pending_follow_up"]},
            "reason": {"type": "string", "enum": ["no-event", "not-company-product", "hypothetical", "medical-information", "news-or-corporate", "duplicate", "other"]},
            "note": {"type": "string"}, "reference": {"type": "string"},
            "at": {"type": "string", "format": "date-time", "description": "day_zero: the new day zero"}}})
        }
        ("post", "/api/v1/tokens") => {
            json!({"type": "object", "required": ["name", "role"], "properties": {
            "name": {"type": "string"}, "role": {"type": "string", "enum": ["viewer", "analyst", "pv-reviewer", "admin"]}}})
        }
        ("post", "/api/v1/ingest") => {
            return Some(
                json!({"required": true, "description": "JSON lines (or one JSON document) in any format `waterline import` detects: Waterline JSONL, X API v2, X archive, Mastodon, Bluesky Jetstream, Reddit.",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}, "application/json": {"schema": {}}}}),
            );
        }
        _ => return None,
    };
    Some(json!({"required": true, "content": {"application/json": {"schema": schema}}}))
}

fn success(method: &str, path: &str) -> (&'static str, Value) {
    match (method, path) {
        ("delete", _) => ("204", json!({"description": "Done"})),
        ("post", "/api/v1/baselines" | "/api/v1/milestones" | "/api/v1/tokens") => (
            "201",
            json!({"description": "Created", "content": {"application/json": {"schema": {"type": "object"}}}}),
        ),
        ("get", "/api/v1/events") => (
            "200",
            json!({"description": "An event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
        ),
        ("post", "/api/v1/query") => (
            "200",
            json!({"description": "The answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}}),
        ),
        _ => (
            "200",
            json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}),
        ),
    }
}

/// The document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, permission) in crate::API_ROUTES {
        let (summary, tag) = summary(method, path);
        let (code, ok) = success(method, path);
        let mut responses = Map::new();
        responses.insert(code.into(), ok);
        let mut errors: Vec<u16> = vec![400, 500];
        if permission.is_some() {
            errors.extend([401, 403]);
        }
        if path.contains('{') {
            errors.push(404);
        }
        match (*method, *path) {
            ("post", "/api/v1/ingest") => errors.extend([413, 422, 503]),
            ("post", "/api/v1/baselines" | "/api/v1/milestones")
            | ("post", "/api/v1/alerts/{id}/acknowledge" | "/api/v1/alerts/{id}/resolve") => {
                errors.push(409);
            }
            _ => {}
        }
        for status in errors {
            responses.insert(status.to_string(), json!({"description": CODES.iter().filter(|(_, s, _)| *s == status).map(|(c, _, _)| *c).collect::<Vec<_>>().join(", "),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
        }
        let mut operation = json!({
            "summary": summary,
            "tags": [tag],
            "operationId": format!("{method}_{}", path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '.'], "_").trim_end_matches('_')),
            "parameters": parameters(method, path),
            "responses": responses,
            "x-permission": permission,
        });
        if permission.is_none() {
            operation["security"] = json!([]);
        }
        if let Some(body) = request_body(method, path) {
            operation["requestBody"] = body;
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    let codes: Vec<Value> = CODES
        .iter()
        .map(|(code, status, meaning)| json!({"code": code, "status": status, "meaning": meaning}))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Waterline API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Social listening and engagement audit. Reads need a token unless the server is bound to loopback; writes always do. Roles: viewer (authors masked), analyst, pv-reviewer, admin. Errors: {\"error\": {\"code\", \"status\", \"message\"}} with the codes of x-error-codes.",
        },
        "x-error-codes": codes,
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "waterline token create --role ROLE"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "status", "message"], "properties": {
                    "code": {"type": "string", "enum": CODES.iter().map(|(c, _, _)| *c).collect::<Vec<_>>()},
                    "status": {"type": "integer"}, "message": {"type": "string"}}}}},
                "Query": {"type": "object", "required": ["metrics"], "additionalProperties": false, "properties": {
                    "metrics": {"type": "array", "items": {"type": "string"}, "description": "Catalogue names (GET /api/v1/metrics), kpi:SERIES or kpi_share:SERIES"},
                    "by": {"type": "array", "items": {"type": "string", "enum": waterline_analytics::query::DIMENSIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>()}},
                    "where": {"type": "array", "items": {"oneOf": [{"type": "string", "description": "field=a,b or field!=a"},
                        {"type": "object", "required": ["field", "values"], "properties": {"field": {"type": "string"}, "negate": {"type": "boolean"}, "values": {"type": "array", "items": {"type": "string"}}}}]}},
                    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                    "limit": {"type": "integer", "minimum": 1}}},
                "Answer": {"type": "object", "required": ["dimensions", "metrics", "rows", "definitions", "notes"], "properties": {
                    "dimensions": {"type": "array", "items": {"type": "string"}},
                    "metrics": {"type": "array", "items": {"type": "string"}},
                    "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                    "time_zone": {"type": "string"}, "where": {"type": "array", "items": {"type": "string"}},
                    "rows": {"type": "array", "items": {"type": "object", "description": "dimension values (strings) and metric values (numbers, null = unknown)"}},
                    "definitions": {"type": "object"}, "notes": {"type": "array", "items": {"type": "string"}}}},
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented_with_a_summary() {
        let document = super::document();
        for (method, path, _) in crate::API_ROUTES {
            let operation = &document["paths"][*path][*method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert!(
                !operation["summary"].as_str().unwrap_or_default().is_empty(),
                "{method} {path} has no summary"
            );
        }
        let documented: usize = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, crate::API_ROUTES.len());
    }
}
