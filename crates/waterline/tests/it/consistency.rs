//! One value per headline figure, whatever the surface: the CLI, the API, the reports and
//! the post list behind a number give the same counts on a generated workspace (issue 22).

use std::process::Command;

use serde_json::{Value, json};

use crate::server::Server;
use crate::support::binary;

fn cli(dir: &std::path::Path, args: &[&str]) -> Value {
    let output = Command::new(binary()).arg("--workspace").arg(dir).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{args:?} is not JSON ({e}): {}", String::from_utf8_lossy(&output.stdout))
    })
}

/// The value of `metric` in the row whose keys are `keys`.
fn value(answer: &Value, keys: &[(&str, &str)], metric: &str) -> f64 {
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| keys.iter().all(|(k, v)| row[*k] == *v))
        .and_then(|row| row[metric].as_f64())
        .unwrap_or(0.0)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

#[test]
fn the_cli_the_api_the_reports_and_the_post_lists_agree_on_every_headline_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        let output = Command::new(binary()).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    run(&["generate", "--posts", "6000", "--seed", "3", "--out", &out]);
    run(&["--workspace", &out, "import", &format!("{out}/*.jsonl")]);

    // The CLI first (before the server holds the workspace).
    let by_side = cli(dir.path(), &["query", "--metrics", "posts", "--by", "side", "--json"]);
    let by_topic = cli(dir.path(), &["query", "--metrics", "posts", "--by", "topic", "--json"]);
    let listening = cli(dir.path(), &["report", "listening", "--json"]);
    let gap = cli(dir.path(), &["report", "gap", "--json"]);
    let audit = cli(dir.path(), &["report", "audit", "--json", "--audited", "100000"]);
    let topics = cli(dir.path(), &["topics", "list", "--json"]);

    let server = Server::start_in(dir, &[]);
    let api_by_side =
        server.post_json("/api/v1/query", None, &json!({"metrics": ["posts"], "by": ["side"]}));
    assert_eq!(api_by_side.status, 200, "{}", api_by_side.text());
    let api_by_side = api_by_side.json();
    let api_by_topic =
        server.post_json("/api/v1/query", None, &json!({"metrics": ["posts"], "by": ["topic"]}));
    assert_eq!(api_by_topic.status, 200, "{}", api_by_topic.text());
    let api_by_topic = api_by_topic.json();
    let api = |kind: &str| {
        let reply = server.get(&format!("/api/v1/reports/{kind}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    };
    let (api_listening, api_gap, api_audit) = (api("listening"), api("gap"), api("audit"));
    let total = |path: &str| -> f64 {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        reply.json()["total"].as_f64().unwrap()
    };

    // Posts by side: the CLI, the API, the listening report and the post list.
    let mut sides = 0.0;
    for side in ["own", "audience", "competitor"] {
        let figure = value(&by_side, &[("side", side)], "posts");
        assert_eq!(figure, value(&api_by_side, &[("side", side)], "posts"), "{side}");
        assert_eq!(figure, total(&format!("/api/v1/posts?side={side}&per_page=1")), "{side}");
        sides += figure;
    }
    assert!(sides > 5_000.0, "{sides}");
    assert_eq!(listening["posts"], api_listening["posts"]);
    assert_eq!(
        listening["audience_posts"].as_f64().unwrap(),
        value(&by_side, &[("side", "audience")], "posts")
    );

    // Topics: the stored assignment gives one count per topic on every surface.
    let mut checked = 0;
    for topic in listening["topics"].as_array().unwrap() {
        let id = topic["id"].as_u64().unwrap();
        let name = format!("#{id} {}", topic["label"].as_str().unwrap());
        let posts = topic["posts"].as_f64().unwrap();
        assert_eq!(posts, value(&by_topic, &[("topic", &name)], "posts"), "{name}");
        assert_eq!(posts, value(&api_by_topic, &[("topic", &name)], "posts"), "{name}");
        let listed = topics["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"].as_u64() == Some(id))
            .map(|t| t["posts"].as_f64().unwrap())
            .unwrap();
        assert_eq!(posts, listed, "{name}: topics list");
        // The post list behind the number, by id and by the whole name.
        assert_eq!(posts, total(&format!("/api/v1/posts?topic=%23{id}&per_page=1")), "{name}");
        assert_eq!(posts, total(&format!("/api/v1/posts?topic={}&per_page=1", encode(&name))));
        checked += 1;
        if checked == 8 {
            break;
        }
    }
    assert!(checked >= 5, "only {checked} topics");
    // The reports take the same topic filter: the listening page lists that topic only, the
    // audit audits only the own posts on it.
    let first = listening["topics"][0]["id"].as_u64().unwrap();
    let focused = server.get(&format!("/api/v1/reports/listening?topic=%23{first}")).json();
    let ids: Vec<u64> =
        focused["topics"].as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [first]);
    let focused_audit = server.get(&format!("/api/v1/reports/audit?topic=%23{first}")).json();
    assert!(focused_audit["posts"].as_u64().unwrap() <= audit["posts"].as_u64().unwrap());
    assert!(
        focused_audit["audited"]
            .as_array()
            .unwrap()
            .iter()
            .all(|post| post["topic_id"].as_u64() == Some(first))
    );
    let unknown = server.get("/api/v1/reports/gap?topic=no%20such%20subject%20at%20all");
    assert_eq!(unknown.status, 400, "{}", unknown.text());
    // A topic filter that names nothing says so.
    let nothing = server.get("/api/v1/posts?topic=no%20such%20subject%20at%20all");
    assert_eq!(nothing.status, 400, "{}", nothing.text());
    assert!(nothing.text().contains("no topic matches"), "{}", nothing.text());

    // The gap and the audit: same counts from the CLI and the API, and each says what it counts.
    for key in ["own_posts", "audience_posts", "divergence"] {
        assert_eq!(gap[key], api_gap[key], "gap {key}");
    }
    assert_eq!(audit["posts"], api_audit["posts"]);
    assert_eq!(audit["labels"], api_audit["labels"]);
    let notes = |report: &Value| report["notes"].to_string();
    assert!(notes(&gap).contains("own original posts"), "{}", notes(&gap));
    assert!(notes(&audit).contains("own original posts with content"), "{}", notes(&audit));
    // The gap's own posts are own originals with a topic: no more than the own posts.
    assert!(gap["own_posts"].as_f64().unwrap() <= value(&by_side, &[("side", "own")], "posts"));
    assert!(audit["posts"].as_f64().unwrap() <= value(&by_side, &[("side", "own")], "posts"));

    // Every number of the pages opens the posts behind it: a count of posts or of inbound
    // conversations equals the total of the post list it links to, and every chart of
    // posts over time links each point.
    let html_attr = |text: &str| text.replace("&amp;", "&").replace("&quot;", "\"");
    let mut followed = 0;
    for page in ["/", "/audience", "/responsiveness", "/listening", "/share-of-voice"] {
        let html = server.get(page).text();
        for figure in html.split(r#"<span class="value" data-metric=""#).skip(1) {
            let metric = figure.split('"').next().unwrap();
            let shown = figure.split(r#"data-value=""#).nth(1).unwrap().split('"').next().unwrap();
            let Some(link) = figure.split(r#"<a class="posts-link" href=""#).nth(1) else {
                continue;
            };
            let href = html_attr(link.split('"').next().unwrap());
            assert!(href.starts_with("/posts?"), "{page} {metric}: {href}");
            // Only plain counts equal the length of their post list (a share or a number of
            // authors is computed over it).
            if !["posts", "inbound"].contains(&metric) {
                continue;
            }
            let list = server.get(&href);
            assert_eq!(list.status, 200, "{href}: {}", list.text());
            let listed = list.text();
            let count = listed
                .split(r#"<p class="count">"#)
                .nth(1)
                .map(|rest| rest.split(' ').next().unwrap().replace(',', ""))
                .unwrap_or_else(|| "0".into());
            assert_eq!(
                count.parse::<f64>().unwrap(),
                shown.parse::<f64>().unwrap(),
                "{page}: {metric} = {shown}, but {href} lists {count}"
            );
            followed += 1;
        }
        if page == "/" {
            assert!(
                html.contains(r#"<svg"#) && html.contains(r#"<a class="posts-link" href="/posts?"#)
            );
        }
    }
    assert!(followed >= 4, "only {followed} figures followed");
}

#[test]
fn response_metrics_plan_on_a_workspace_without_an_inbound_conversation() {
    // The conversations cache of such a workspace has no row; it keeps its columns, so a
    // filtered response metric answers instead of failing on an unknown column.
    let workspace = crate::support::Workspace::new();
    let lines = [
        crate::support::post_line("x", "1", 1, "a first post", 1),
        crate::support::post_line("x", "2", 2, "a second post", 2),
    ]
    .join("\n");
    let file = workspace.write("p.jsonl", lines.as_bytes());
    workspace.import(&[&file]);
    let answer = workspace.json(&[
        "query",
        "--metrics",
        "inbound,response_rate",
        "--where",
        "need=question",
        "--by",
        "post_type",
    ]);
    assert!(answer["rows"].as_array().unwrap().is_empty(), "{answer}");
}
