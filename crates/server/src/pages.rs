//! The dashboard: one server-rendered page per job of PRODUCT.md section 4, global filters
//! in the URL, inline SVG charts, every figure linked to its definition and carrying the
//! query that produced it (`data-query`), so a test (or a curious user) can ask the API the
//! same question. Any page exports as one self-contained HTML file or as CSV.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{OriginalUri, Query as UrlQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};
use serde::Deserialize;
use serde_json::{Value, json};
use waterline_analytics::metrics;
use waterline_analytics::query::{Answer, Filter, Query};

use crate::api::{Caller, empty_date, flag};
use crate::auth::Permission;
use crate::backend::{PostsRequest, ReportKind};
use crate::svg::{self, Bucket, Series, TimeAxis};
use crate::{ApiError, App, Backend};

pub mod period;

use period::{Basis, DataSpan};

/// The stylesheet (also inlined into exported files).
pub const CSS: &str = include_str!("assets/app.css");
/// The page script: live updates, sortable tables, login.
pub const JS: &str = include_str!("assets/app.js");

/// The pages: path, title, the job it answers.
pub const PAGES: &[(&str, &str, &str)] = &[
    (
        "/",
        "Overview",
        "The iceberg: what the brand measures above the waterline, what the audience sees and says below it.",
    ),
    (
        "/listening",
        "Listening",
        "What the audience talks about and needs: topics, growth, sentiment, unmet needs, example posts.",
    ),
    (
        "/gap",
        "Perception gap",
        "What the brand says against what its audience cares about, topic by topic.",
    ),
    (
        "/audit",
        "Content audit",
        "Every own post's reception against its account's own last 90 days, and why.",
    ),
    (
        "/share-of-voice",
        "Share of voice",
        "The brand against its competitor panel: mentions, engagement, sentiment.",
    ),
    (
        "/audience",
        "Audience & channels",
        "Who interacts, how often, new or returning, and on which platforms.",
    ),
    (
        "/responsiveness",
        "Responsiveness",
        "Inbound conversations, response rate and time, and the questions still unanswered.",
    ),
    (
        "/baselines",
        "Baselines & milestones",
        "Frozen baselines to compare with, and targets with dates: on track or not.",
    ),
    ("/alerts", "Alerts", "Spikes and urgent posts, explained."),
    (
        "/pharmacovigilance",
        "Pharmacovigilance",
        "Adverse-event triage with regulatory clocks, exports and owned-channel coverage.",
    ),
    (
        "/drafts",
        "Draft check",
        "Check a draft before it is published: compliance rules and the reception forecast.",
    ),
    (
        "/posts",
        "Posts",
        "The posts behind every number: the same period and filters, newest first.",
    ),
    ("/metrics", "Definitions", "Every metric: numerator, denominator, time basis, default scope."),
];

/// The page routes (and the assets).
pub fn routes<B: Backend>() -> Router<Arc<App<B>>> {
    let mut router = Router::new();
    for (path, _, _) in PAGES {
        router = router.route(path, get(show::<B>));
    }
    router
        .route("/login", get(login_page))
        .route("/assets/app.css", get(|| async { asset(CSS, "text/css; charset=utf-8") }))
        .route("/assets/app.js", get(|| async { asset(JS, "text/javascript; charset=utf-8") }))
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=300")], body)
        .into_response()
}

/// The global filters and the export switches of a page URL.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    /// First local day.
    #[serde(default, deserialize_with = "empty_date")]
    pub from: Option<NaiveDate>,
    /// Last local day.
    #[serde(default, deserialize_with = "empty_date")]
    pub to: Option<NaiveDate>,
    /// `all`: every date. Without it and without dates, the page covers the last 90 days
    /// of data ([`PageParams::resolve_period`]).
    #[serde(default)]
    pub period: Option<String>,
    /// How `from` and `to` were chosen (set by [`PageParams::resolve_period`]).
    #[serde(skip)]
    pub basis: Basis,
    /// Platforms (comma-separated).
    #[serde(default)]
    pub platform: Option<String>,
    /// Languages.
    #[serde(default)]
    pub language: Option<String>,
    /// Sides.
    #[serde(default)]
    pub side: Option<String>,
    /// A topic (`#id label`).
    #[serde(default)]
    pub topic: Option<String>,
    /// Post types: original, reply, quote, repost.
    #[serde(default)]
    pub post_type: Option<String>,
    /// Sentiments (post list).
    #[serde(default)]
    pub sentiment: Option<String>,
    /// Needs (post list).
    #[serde(default)]
    pub need: Option<String>,
    /// Words the text contains (post list).
    #[serde(default)]
    pub q: Option<String>,
    /// `1`: inbound conversations nobody answered (post list).
    #[serde(default)]
    pub unanswered: Option<String>,
    /// `1`: the posts that opened an inbound conversation (post list).
    #[serde(default)]
    pub inbound: Option<String>,
    /// `1`: the audience's posts addressed to the brand or mentioning it (post list).
    #[serde(default)]
    pub interacting: Option<String>,
    /// 1-based page of the post list.
    #[serde(default)]
    pub page: Option<u64>,
    /// `html` or `csv`.
    #[serde(default)]
    pub export: Option<String>,
    /// Which table a CSV export holds (0-based).
    #[serde(default)]
    pub table: Option<usize>,
    /// Mask authors.
    #[serde(default)]
    pub pseudonymise: Option<String>,
    /// The baseline to compare with (baselines page).
    #[serde(default)]
    pub baseline: Option<String>,
    /// The PV case to open (pharmacovigilance page).
    #[serde(default)]
    pub case: Option<String>,
    /// `1`: closed PV cases too.
    #[serde(default)]
    pub all: Option<String>,
    /// The draft to check (draft page), and its metadata.
    #[serde(default)]
    pub text: Option<String>,
    /// Target countries, comma-separated.
    #[serde(default)]
    pub countries: Option<String>,
    /// `public` or `hcp`.
    #[serde(default)]
    pub audience: Option<String>,
    /// Products, `NAME=pom|otc[,reimbursed]`, separated by `;`.
    #[serde(default)]
    pub products: Option<String>,
    /// ANSM visa reference.
    #[serde(default)]
    pub visa: Option<String>,
    /// The account it will be published from.
    #[serde(default)]
    pub account: Option<String>,
    /// `1`: sponsored content.
    #[serde(default)]
    pub sponsored: Option<String>,
    /// `1`: an influencer script or employee-advocacy template.
    #[serde(default)]
    pub influencer: Option<String>,
    /// References, separated by `|`.
    #[serde(default)]
    pub references: Option<String>,
    /// `image` or `video`.
    #[serde(default)]
    pub media: Option<String>,
}

/// What the caller may see beyond reading.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// May see and act on the pharmacovigilance queue (pv-reviewer, admin: PV-15).
    pub pharmacovigilance: bool,
    /// Who is looking (actor, role): opening a case is recorded (AUD-2).
    pub viewer: Option<(String, String)>,
}

impl PageParams {
    /// The query filters of the global filters.
    pub fn filters(&self) -> Vec<Filter> {
        crate::api::filters_of(&[
            ("platform", self.platform.as_deref()),
            ("language", self.language.as_deref()),
            ("side", self.side.as_deref()),
            ("topic", self.topic.as_deref()),
            ("post_type", self.post_type.as_deref()),
        ])
    }

    /// Sets the period in force: the dates given, every date with `period=all`, else the
    /// last [`period::DEFAULT_DAYS`] days of data, ending at the latest post's day (every
    /// date when there is no post). Pages call it on the URL's parameters; a command line
    /// export that leaves the dates out keeps every date.
    pub fn resolve_period(&mut self, span: Option<DataSpan>) -> Result<(), ApiError> {
        let (from, to, basis) = period::resolve(self.from, self.to, self.period.as_deref(), span)?;
        self.from = from;
        self.to = to;
        self.basis = basis;
        Ok(())
    }

    /// The URL query of the global filters (for links and exports): the dates only when
    /// they were chosen, so a link to the default period follows the data.
    pub fn query_string(&self) -> String {
        let mut pairs = Vec::new();
        match self.basis {
            Basis::Given => {
                if let Some(from) = self.from {
                    pairs.push(format!("from={from}"));
                }
                if let Some(to) = self.to {
                    pairs.push(format!("to={to}"));
                }
            }
            Basis::AllTime => pairs.push("period=all".to_owned()),
            Basis::LastDays(_) => {}
        }
        for (name, value) in [
            ("platform", &self.platform),
            ("language", &self.language),
            ("side", &self.side),
            ("topic", &self.topic),
            ("post_type", &self.post_type),
            ("sentiment", &self.sentiment),
            ("need", &self.need),
            ("q", &self.q),
            ("unanswered", &self.unanswered),
            ("inbound", &self.inbound),
            ("interacting", &self.interacting),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                pairs.push(format!("{name}={}", encode(value)));
            }
        }
        pairs.join("&")
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A table of a page, for its CSV export.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// What it lists.
    pub name: String,
    /// Column names.
    pub header: Vec<String>,
    /// Cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// As CSV (RFC 4180 quoting).
    pub fn csv(&self) -> String {
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| {
                    if cell.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", cell.replace('"', "\"\""))
                    } else {
                        cell.clone()
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// As an HTML table (cells escaped), sortable in the browser.
    fn html(&self, id: &str, shown: usize) -> String {
        let mut out = format!(r#"<table class="data sortable" id="{}"><thead><tr>"#, attr(id));
        for name in &self.header {
            let _ = write!(out, "<th>{}</th>", esc(name));
        }
        out.push_str("</tr></thead><tbody>");
        for row in self.rows.iter().take(shown) {
            out.push_str("<tr>");
            for cell in row {
                let _ = write!(out, "<td>{}</td>", esc(cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        if self.rows.len() > shown {
            let _ = write!(
                out,
                r#"<p class="count">The first {shown} of {} rows are shown; the CSV holds them all.</p>"#,
                self.rows.len()
            );
        }
        out
    }
}

/// A page being rendered.
struct Page<'a, B> {
    app: &'a App<B>,
    params: &'a PageParams,
    body: String,
    tables: Vec<Table>,
    mask: Option<String>,
    access: Access,
    /// The days the workspace's posts span (`None`: no post).
    span: Option<DataSpan>,
}

impl<B: Backend> Page<'_, B> {
    /// The x axis of a chart by `bucket` over the period in force: a bucket the period
    /// covers only in part (it starts before `from`, or ends after the last day of data in
    /// the period) is drawn as partial.
    fn time_axis(&self, bucket: Bucket) -> TimeAxis {
        let last_of_data = self.span.map(|span| span.last);
        let last_day = match (self.params.to, last_of_data) {
            (Some(to), Some(last)) => Some(to.min(last)),
            (to, last) => to.or(last),
        };
        TimeAxis { bucket, first_day: self.params.from, last_day }
    }

    /// The period in force, said at the top of every page.
    fn period_line(&mut self, path: &str) {
        let described =
            period::describe(self.params.from, self.params.to, self.params.basis, self.span);
        let basis = match self.params.basis {
            Basis::Given => "given",
            Basis::LastDays(_) => "default",
            Basis::AllTime => "all",
        };
        let _ = write!(
            self.body,
            r#"<p class="period" id="period" data-basis="{basis}" data-from="{from}" data-to="{to}">Period: <strong>{described}</strong>{note}</p>"#,
            from = self.params.from.map(|d| d.to_string()).unwrap_or_default(),
            to = self.params.to.map(|d| d.to_string()).unwrap_or_default(),
            described = esc(&described),
            note = period::independence(path)
                .map(|note| format!(". {}", esc(note)))
                .unwrap_or_default(),
        );
    }

    /// A query under the global filters, plus the page's own filters.
    fn query(
        &self,
        metrics: &[&str],
        by: &[&str],
        filters: &[&str],
        limit: Option<usize>,
    ) -> Result<Query, ApiError> {
        let mut all = self.params.filters();
        for filter in filters {
            let filter = Filter::parse(filter)?;
            all.retain(|f| f.field != filter.field);
            all.push(filter);
        }
        Ok(Query {
            metrics: metrics.iter().map(|m| (*m).to_owned()).collect(),
            by: by.iter().map(|d| (*d).to_owned()).collect(),
            filters: all,
            from: self.params.from,
            to: self.params.to,
            limit,
            parts: false,
        })
    }

    async fn ask(&self, query: &Query) -> Result<Answer, ApiError> {
        self.app.backend.query(query.clone()).await.map_err(ApiError::from)
    }

    fn push(&mut self, html: &str) {
        self.body.push_str(html);
    }

    fn section(&mut self, title: &str, help: &str) {
        let _ = write!(self.body, "<h2>{}</h2>", esc(title));
        if !help.is_empty() {
            let _ = write!(self.body, r#"<p class="help">{}</p>"#, esc(help));
        }
    }

    /// A headline figure with its definition one click away and its query attached.
    fn figure(
        &mut self,
        label: &str,
        metric: &str,
        query: &Query,
        answer: &Answer,
        row: Option<&[(&str, &str)]>,
    ) {
        let unit = unit_of(metric);
        let (value, row_json) = match row {
            None => (answer.scalar(metric), Value::Null),
            Some(keys) => {
                let index = answer.metrics.iter().position(|m| m == metric);
                let found = answer.rows.iter().find(|r| {
                    keys.iter().all(|(dimension, key)| {
                        answer
                            .dimensions
                            .iter()
                            .position(|d| d == dimension)
                            .is_some_and(|i| r.keys[i] == *key)
                    })
                });
                let value = index.and_then(|i| found.and_then(|r| r.values[i]));
                let object: serde_json::Map<String, Value> =
                    keys.iter().map(|(d, k)| ((*d).to_owned(), json!(k))).collect();
                (value, Value::Object(object))
            }
        };
        let definition = metrics::find(metric).map_or("", |m| m.definition);
        let raw = value
            .map_or("null".to_owned(), |v| waterline_analytics::query::significant(v).to_string());
        let shown = esc(&svg::format(value, unit)).into_owned();
        // The number opens the posts it is computed over.
        let shown = match posts_href(query, Some(metric), row.unwrap_or(&[])) {
            Some(href) => format!(
                r#"<a class="posts-link" href="{}" title="The posts behind this number">{shown}</a>"#,
                attr(&href)
            ),
            None => shown,
        };
        let _ = write!(
            self.body,
            r#"<div class="figure"><span class="value" data-metric="{m}" data-value="{raw}" data-query="{q}"{r}>{shown}</span><a class="label" href="/metrics#{m}" title="{d}">{l}</a></div>"#,
            m = attr(metric),
            q = attr(&serde_json::to_string(query).unwrap_or_default()),
            r = if row_json.is_null() {
                String::new()
            } else {
                format!(r#" data-row="{}""#, attr(&row_json.to_string()))
            },
            d = attr(definition),
            l = esc(label),
        );
    }

    fn figures_open(&mut self) {
        self.body.push_str(r#"<div class="figures">"#);
    }

    fn figures_close(&mut self) {
        self.body.push_str("</div>");
    }

    /// Adds a table (shown, and exported as CSV).
    fn table(&mut self, table: Table) {
        self.table_limited(table, usize::MAX);
    }

    /// Adds a table showing at most `shown` rows (the CSV export holds them all).
    fn table_limited(&mut self, table: Table, shown: usize) {
        let id = format!("table-{}", self.tables.len());
        let _ = write!(
            self.body,
            r#"<div class="table-tools"><input type="search" class="table-filter" data-table="{id}" placeholder="Filter rows…" aria-label="Filter rows of {n}"><a class="csv" href="?{q}&export=csv&table={i}">CSV</a></div>"#,
            n = attr(&table.name),
            q = attr(&self.params.query_string()),
            i = self.tables.len()
        );
        self.body.push_str(&table.html(&id, shown));
        self.tables.push(table);
    }

    fn author(&self, value: &Value) -> String {
        let author = value.as_str().unwrap_or_default();
        match &self.mask {
            Some(salt) if !author.is_empty() => crate::pseudo::pseudonym(salt, author),
            _ => author.to_owned(),
        }
    }

    fn text(&self, value: &Value) -> String {
        let text = value.as_str().unwrap_or_default();
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        match &self.mask {
            Some(salt) => crate::pseudo::mask_text(salt, &flat),
            None => flat,
        }
    }
}

fn unit_of(metric: &str) -> &'static str {
    metrics::find(metric).map_or("number", |m| m.unit)
}

fn number(value: &Value, unit: &str) -> String {
    svg::format(value.as_f64(), unit)
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width).collect();
    out.push('…');
    out
}

/// Renders a page (for the server and for `waterline report --format html`).
pub async fn render<B: Backend>(
    app: &App<B>,
    path: &str,
    params: &PageParams,
    mask: bool,
    access: Access,
) -> Result<(String, Vec<Table>), ApiError> {
    let mask = if mask { Some(app.backend.pseudonym_salt().await?) } else { None };
    let span = period::data_span(&app.backend).await?;
    let mut page =
        Page { app, params, body: String::new(), tables: Vec::new(), mask, access, span };
    if PAGES.iter().any(|(known, _, _)| *known == path) {
        page.period_line(path);
    }
    match path {
        "/" => overview(&mut page).await?,
        "/listening" => listening(&mut page).await?,
        "/gap" => gap(&mut page).await?,
        "/audit" => audit(&mut page).await?,
        "/share-of-voice" => share_of_voice(&mut page).await?,
        "/audience" => audience(&mut page).await?,
        "/responsiveness" => responsiveness(&mut page).await?,
        "/baselines" => baselines(&mut page).await?,
        "/alerts" => alerts(&mut page).await?,
        "/pharmacovigilance" => pharmacovigilance(&mut page).await?,
        "/drafts" => drafts(&mut page).await?,
        "/posts" => posts_page(&mut page).await?,
        "/metrics" => definitions(&mut page),
        _ => return Err(ApiError::not_found(format!("no page `{path}`"))),
    }
    Ok((page.body, page.tables))
}

/// The pages whose figures [`prepare`] computes ahead of their first reader: every page of
/// aggregates (the alerts and pharmacovigilance pages read clocks that move with the time
/// of the call, the post list reads posts, the others hold no figure).
pub const PREPARED_PAGES: &[&str] = &[
    "/",
    "/listening",
    "/gap",
    "/audit",
    "/share-of-voice",
    "/audience",
    "/responsiveness",
    "/baselines",
];

/// Renders each of [`PREPARED_PAGES`] once with its default period and no filter, so that
/// every figure it shows is computed (and, by the workspace service, kept on disk for its
/// store version): run by `waterline import` after it stored posts and by a server in the
/// background when it starts. Returns how many pages were rendered; a page that fails is
/// logged and skipped (its reader gets the error).
pub async fn prepare<B: Backend>(app: &App<B>) -> usize {
    // The PV cases first: rebuilt from their event log (seconds on tens of thousands of
    // cases) and kept in memory only, where the pages' figures are read from disk when an
    // import kept them.
    if let Err(error) = app.backend.alerts(None).await {
        tracing::warn!("cannot prepare the alerts: {error}");
    }
    let mut rendered = 0;
    for path in PREPARED_PAGES {
        let started = std::time::Instant::now();
        let mut params = PageParams::default();
        let result = async {
            let span = period::data_span(&app.backend).await?;
            params.resolve_period(span)?;
            render(app, path, &params, false, Access { pharmacovigilance: false, viewer: None })
                .await
        }
        .await;
        match result {
            Ok(_) => {
                rendered += 1;
                tracing::info!(
                    page = path,
                    seconds = started.elapsed().as_secs_f64(),
                    "prepared a page"
                );
            }
            Err(error) => tracing::warn!(page = path, "cannot prepare the page: {error}"),
        }
    }
    // The owned channels' coverage, which the alerts and pharmacovigilance pages show
    // beside clocks that move with the time of the call.
    if let Err(error) = app.backend.coverage().await {
        tracing::warn!("cannot prepare the channels' coverage: {error}");
    }
    rendered
}

async fn show<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    params: Result<UrlQuery<PageParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let path = uri.path().to_owned();
    if caller.require(Permission::Read).is_err() {
        let mut response = login_html(caller.bad_token).into_response();
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    }
    let mut params = match params {
        Ok(UrlQuery(params)) => params,
        Err(error) => return error_page(&ApiError::bad_request(error.body_text())),
    };
    let span = match period::data_span(&app.backend).await {
        Ok(span) => span,
        Err(error) => return error_page(&error),
    };
    if let Err(error) = params.resolve_period(span) {
        return error_page(&error);
    }
    let mask = caller.masks_authors() || flag(params.pseudonymise.as_deref());
    let access = Access {
        pharmacovigilance: caller
            .principal
            .as_ref()
            .is_some_and(|principal| principal.may(Permission::Pharmacovigilance)),
        // A live refresh of an open page is not a new look at a case (AUD-2 records views).
        viewer: caller
            .principal
            .as_ref()
            .filter(|_| headers.get("x-waterline-fragment").is_none())
            .map(|principal| {
                (
                    principal.actor.clone(),
                    principal.role.map_or("local", |role| role.name()).to_owned(),
                )
            }),
    };
    let shows_cases = path == "/pharmacovigilance" && access.pharmacovigilance;
    let refresh = headers.get("x-waterline-fragment").is_some();
    let (body, tables) = match render(&app, &path, &params, mask, access).await {
        Ok(rendered) => rendered,
        Err(error) => return error_page(&error),
    };
    // Reading the PV queue (authors, texts, clocks) is recorded, as the API's reads are.
    if shows_cases && !refresh {
        let detail = serde_json::json!({"page": path, "query": uri.query().unwrap_or_default()});
        if let Err(error) = caller.record_read("pv.list", "/pharmacovigilance", detail).await {
            return error_page(&error);
        }
    }
    match params.export.as_deref() {
        Some("csv") => {
            let index = params.table.unwrap_or(0);
            let Some(table) = tables.get(index) else {
                return ApiError::not_found(format!("this page has {} tables", tables.len()))
                    .into_response();
            };
            let name = format!(
                "waterline{}-{}.csv",
                path.replace('/', "-").trim_end_matches('-'),
                slug(&table.name)
            );
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                    (header::CONTENT_DISPOSITION, disposition(&name)),
                ],
                table.csv(),
            )
                .into_response()
        }
        Some("html") => {
            let html = document(
                &app.backend.brand(),
                &path,
                &params,
                &body,
                Mode::Export { masked: mask },
            );
            let name = format!(
                "waterline{}.html",
                if path == "/" { "-overview".to_owned() } else { path.replace('/', "-") }
            );
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                    (header::CONTENT_DISPOSITION, disposition(&name)),
                ],
                html,
            )
                .into_response()
        }
        Some(other) => {
            ApiError::bad_request(format!("export `{other}`: html or csv")).into_response()
        }
        None if headers.get("x-waterline-fragment").is_some() => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        None => {
            let topics = app.backend.topics().await;
            let html = document(
                &app.backend.brand(),
                &path,
                &params,
                &body,
                Mode::Live { masked: mask, topics },
            );
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                html,
            )
                .into_response()
        }
    }
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect()
}

fn disposition(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

fn error_page(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Waterline: {code}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"></head><body><main><h1>{status}</h1><p class="error" data-code="{code}">{message}</p><p><a href="/">Back to the overview</a></p></main></body></html>"#,
        code = esc(error.code),
        status = error.status,
        message = esc(&error.message)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// How a page is wrapped.
#[derive(Debug, Clone)]
pub enum Mode {
    /// In the browser: navigation, filters, the script.
    Live {
        /// Authors are masked.
        masked: bool,
        /// The workspace's topics (`#id label`), offered by the topic filter.
        topics: Vec<String>,
    },
    /// One self-contained file: the stylesheet inlined, no script, no links out.
    Export {
        /// Authors are masked.
        masked: bool,
    },
}

/// The whole HTML document of a page.
pub fn document(brand: &str, path: &str, params: &PageParams, body: &str, mode: Mode) -> String {
    let (title, job) =
        PAGES.iter().find(|(p, _, _)| *p == path).map_or(("Waterline", ""), |(_, t, j)| (*t, *j));
    let mut html = String::with_capacity(body.len() + 8192);
    let _ = write!(
        html,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · {brand} · Waterline</title><link rel="icon" href="data:,">"#,
        title = esc(title),
        brand = esc(brand)
    );
    let filters = describe_filters(params);
    match mode {
        Mode::Live { masked, topics } => {
            html.push_str(r#"<link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script></head><body>"#);
            html.push_str(r#"<header class="top"><a class="brand" href="/">Waterline</a><span class="workspace">"#);
            html.push_str(&esc(brand));
            html.push_str(r#"</span><span id="live" class="live" title="Live: new posts refresh this page">live</span></header><nav class="pages">"#);
            for (p, t, _) in PAGES {
                let current = if *p == path { r#" aria-current="page""# } else { "" };
                let _ = write!(
                    html,
                    r#"<a href="{}{}"{current}>{}</a>"#,
                    p,
                    link_query(params),
                    esc(t)
                );
            }
            html.push_str("</nav>");
            html.push_str(&filter_form(path, params, &topics));
            let _ = write!(
                html,
                r#"<div class="exports">Export this view: <a href="?{q}{a}export=html">HTML</a> · <a href="?{q}{a}export=html&pseudonymise=1">HTML, authors masked</a> · <a href="?{q}{a}export=csv">CSV</a>{m}</div>"#,
                q = attr(&params.query_string()),
                a = if params.query_string().is_empty() { "" } else { "&amp;" },
                m = if masked { " · <em>authors are masked for your role</em>" } else { "" }
            );
        }
        Mode::Export { masked } => {
            let _ = write!(html, "<style>{CSS}</style></head><body>");
            let _ = write!(
                html,
                r#"<header class="top"><span class="brand">Waterline</span><span class="workspace">{}</span></header><p class="exported">Exported {} · filters: {}{}</p>"#,
                esc(brand),
                chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
                esc(&filters),
                if masked { " · authors pseudonymised" } else { "" }
            );
        }
    }
    let _ = write!(
        html,
        r#"<main id="main" data-page="{p}"><h1>{t}</h1><p class="job">{j}</p><p class="filters-applied">Filters: {f}</p>{body}</main></body></html>"#,
        p = attr(path),
        t = esc(title),
        j = esc(job),
        f = esc(&filters)
    );
    html
}

fn link_query(params: &PageParams) -> String {
    let query = params.query_string();
    if query.is_empty() { String::new() } else { format!("?{}", attr(&query)) }
}

/// The filters besides the period (each page says its period at the top of its body).
fn describe_filters(params: &PageParams) -> String {
    let parts: Vec<String> = params.filters().iter().map(ToString::to_string).collect();
    if parts.is_empty() { "none".to_owned() } else { parts.join(", ") }
}

/// The links that switch the period: the default (last 90 days of data) and all time,
/// keeping the other filters; dates are picked in the form.
fn period_choices(path: &str, params: &PageParams) -> String {
    let with_basis = |basis: Basis| {
        let query = PageParams { from: None, to: None, basis, ..params.clone() }.query_string();
        let href = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        let current = if params.basis == basis { r#" aria-current="true""# } else { "" };
        (attr(&href).into_owned(), current)
    };
    let (recent, recent_current) = with_basis(Basis::LastDays(period::DEFAULT_DAYS));
    let (all, all_current) = with_basis(Basis::AllTime);
    format!(
        r#"<span class="period-choices">period: <a href="{recent}" id="period-recent"{recent_current}>last {days} days of data</a> · <a href="{all}" id="period-all"{all_current}>all time</a> · or from and to</span>"#,
        days = period::DEFAULT_DAYS
    )
}

fn filter_form(path: &str, params: &PageParams, topics: &[String]) -> String {
    let value = |v: &Option<String>| attr(v.as_deref().unwrap_or_default()).into_owned();
    let chosen = |day: Option<NaiveDate>| match (params.basis, day) {
        (Basis::Given, Some(day)) => day.to_string(),
        _ => String::new(),
    };
    let select = |name: &str, options: &[(&str, &str)], current: &Option<String>| {
        let mut out =
            format!(r#"<label>{name} <select name="{name}"><option value="">all</option>"#);
        for (value, label) in options {
            let selected = if current.as_deref() == Some(*value) { " selected" } else { "" };
            let _ = write!(out, r#"<option value="{value}"{selected}>{label}</option>"#);
        }
        out.push_str("</select></label>");
        out
    };
    format!(
        r##"<form class="filters" method="get" action="{path}">{choices}<label>from <input type="date" name="from" value="{from}"></label><label>to <input type="date" name="to" value="{to}"></label>{all}{platform}{language}{side}{post_type}<label>topic <input type="text" name="topic" value="{topic}" placeholder="#id label" size="18" list="topics"></label><datalist id="topics">{options}</datalist><button type="submit">Apply</button> <a href="{path}">reset</a></form>"##,
        choices = period_choices(path, params),
        path = attr(path),
        // Dates show only when chosen: the default period is not frozen by the next Apply.
        from = chosen(params.from),
        to = chosen(params.to),
        all = if params.basis == Basis::AllTime {
            r#"<input type="hidden" name="period" value="all">"#
        } else {
            ""
        },
        post_type = select(
            "post_type",
            &[
                ("original", "original"),
                ("reply", "reply"),
                ("quote", "quote"),
                ("repost", "repost")
            ],
            &params.post_type
        ),
        platform = select(
            "platform",
            &[("x", "X"), ("mastodon", "Mastodon"), ("bluesky", "Bluesky"), ("reddit", "Reddit")],
            &params.platform
        ),
        language = select(
            "language",
            &[
                ("en", "English"),
                ("fr", "French"),
                ("de", "German"),
                ("es", "Spanish"),
                ("it", "Italian"),
                ("pt", "Portuguese"),
                ("und", "undetermined")
            ],
            &params.language
        ),
        side = select(
            "side",
            &[("own", "own"), ("competitor", "competitor"), ("audience", "audience")],
            &params.side
        ),
        topic = value(&params.topic),
        options = topics
            .iter()
            .map(|topic| format!(r#"<option value="{}">"#, attr(topic)))
            .collect::<String>(),
    )
}

async fn login_page() -> Response {
    login_html(false).into_response()
}

fn login_html(bad_token: bool) -> axum::response::Html<String> {
    axum::response::Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · Waterline</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script></head><body><main class="login"><h1>Waterline</h1><p>This server needs a token (<code>waterline token create --role viewer</code>).</p>{}<form id="login"><label>Token <input type="password" name="token" autocomplete="current-password" required></label> <button type="submit">Log in</button></form><p id="login-error" class="error" hidden></p></main></body></html>"#,
        if bad_token { r#"<p class="error">That token is unknown or revoked.</p>"# } else { "" }
    ))
}

// ---------------------------------------------------------------------------------------
// The pages.

async fn overview<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let own = page.query(
        &[
            "posts",
            "engagements",
            "engagement_rate_followers",
            "amplification_rate",
            "applause_rate",
        ],
        &[],
        &[],
        None,
    )?;
    let own_answer = page.ask(&own).await?;
    let own_posts = page.query(&["posts"], &[], &["side=own"], None)?;
    let own_posts_answer = page.ask(&own_posts).await?;
    let voice = page.query(
        &["mentions", "share_of_voice_mentions", "net_sentiment", "negative_share"],
        &[],
        &[],
        None,
    )?;
    let voice_answer = page.ask(&voice).await?;
    let needs = page.query(&["posts"], &["need"], &["side=audience"], None)?;
    let needs_answer = page.ask(&needs).await?;
    let care = page.query(&["inbound", "response_rate", "first_response_hours"], &[], &[], None)?;
    let care_answer = page.ask(&care).await?;
    let value = |answer: &Answer, metric: &str| svg::format(answer.scalar(metric), unit_of(metric));
    let need_count = |need: &str| {
        let index = needs_answer.dimensions.iter().position(|d| d == "need");
        needs_answer
            .rows
            .iter()
            .find(|r| index.is_some_and(|i| r.keys[i] == need))
            .and_then(|r| r.values[0])
    };
    let above = vec![
        ("Own posts".to_owned(), value(&own_posts_answer, "posts")),
        ("Engagements on them".to_owned(), value(&own_answer, "engagements")),
        (
            "Engagement rate by followers (median)".to_owned(),
            value(&own_answer, "engagement_rate_followers"),
        ),
    ];
    let below = vec![
        ("Brand mentions by the audience".to_owned(), value(&voice_answer, "mentions")),
        ("Share of voice".to_owned(), value(&voice_answer, "share_of_voice_mentions")),
        ("Net sentiment".to_owned(), value(&voice_answer, "net_sentiment")),
        ("Questions asked".to_owned(), svg::format(need_count("question"), "count")),
        ("Complaints".to_owned(), svg::format(need_count("complaint"), "count")),
        ("Conversations answered".to_owned(), value(&care_answer, "response_rate")),
    ];
    page.push(r#"<div class="iceberg">"#);
    page.push(&svg::iceberg(&above, &below));
    page.push("</div>");
    page.section(
        "Above the waterline: what the brand measures",
        "The brand's own posts and how they are received.",
    );
    page.figures_open();
    page.figure("Own posts", "posts", &own_posts, &own_posts_answer, None);
    page.figure("Engagements on own posts", "engagements", &own, &own_answer, None);
    page.figure(
        "Engagement rate by followers (median)",
        "engagement_rate_followers",
        &own,
        &own_answer,
        None,
    );
    page.figure("Amplification rate", "amplification_rate", &own, &own_answer, None);
    page.figure("Applause rate", "applause_rate", &own, &own_answer, None);
    page.figures_close();
    page.section(
        "Below the waterline: what the audience sees and says",
        "Mentions, sentiment, needs and how the brand answers them.",
    );
    page.figures_open();
    page.figure("Brand mentions", "mentions", &voice, &voice_answer, None);
    page.figure(
        "Share of voice (mentions)",
        "share_of_voice_mentions",
        &voice,
        &voice_answer,
        None,
    );
    page.figure("Net sentiment", "net_sentiment", &voice, &voice_answer, None);
    page.figure("Negative share", "negative_share", &voice, &voice_answer, None);
    page.figure("Questions", "posts", &needs, &needs_answer, Some(&[("need", "question")]));
    page.figure("Complaints", "posts", &needs, &needs_answer, Some(&[("need", "complaint")]));
    page.figure("Inbound conversations", "inbound", &care, &care_answer, None);
    page.figure("Response rate", "response_rate", &care, &care_answer, None);
    page.figure("First response (median)", "first_response_hours", &care, &care_answer, None);
    page.figures_close();
    let weekly = page.query(&["posts"], &["week", "side"], &[], None)?;
    let weekly_answer = page.ask(&weekly).await?;
    page.section(
        "Posts per week, by side",
        "Own posts against what the audience and competitors publish.",
    );
    let axis = page.time_axis(Bucket::Week);
    page.push(&svg::lines(
        "Posts per week by side",
        &series_by(&weekly, &weekly_answer, "week", "side", "posts"),
        "count",
        &axis,
    ));
    latest(page).await
}

/// The newest posts (refreshed live).
async fn latest<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let request = PostsRequest {
        from: page.params.from,
        to: page.params.to,
        filters: page.params.filters(),
        per_page: 10,
        page: 1,
        ..PostsRequest::default()
    };
    let posts = page.app.backend.posts(request).await?;
    page.section("Latest posts", "The newest stored posts; new ones appear here as they arrive.");
    if posts["total"].as_u64() == Some(0)
        && page.params.filters().is_empty()
        && page.params.from.is_none()
    {
        page.push(r#"<p class="empty" id="no-posts">No posts yet. Import files with <code>waterline import FILES</code>, or send JSON lines to <code>POST /api/v1/ingest</code>; they appear here as they arrive.</p>"#);
    }
    posts_table(page, "latest posts", &posts);
    Ok(())
}

/// Fields the post list filters on, as URL parameters of `/posts`.
const LIST_FIELDS: &[&str] =
    &["platform", "side", "language", "sentiment", "need", "post_type", "topic", "account"];

/// The post list behind a number of `query` (`/posts` with the query's period and filters,
/// the metric's default scope where the query does not set the field, `keys` of the row or
/// bucket, and what the metric's family counts: inbound conversations, the audience's
/// interactions). `None` when the post list cannot express it (a negated filter, a panel
/// split, a business series): no link is better than a link to other posts.
fn posts_href(query: &Query, metric: Option<&str>, keys: &[(&str, &str)]) -> Option<String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let set = |pairs: &mut Vec<(String, String)>, field: &str, value: &str| {
        pairs.retain(|(f, _)| f != field);
        pairs.push((field.to_owned(), value.to_owned()));
    };
    match (query.from, query.to) {
        (None, None) => set(&mut pairs, "period", "all"),
        (from, to) => {
            if let Some(from) = from {
                set(&mut pairs, "from", &from.to_string());
            }
            if let Some(to) = to {
                set(&mut pairs, "to", &to.to_string());
            }
        }
    }
    let family = metric.and_then(metrics::find).map(|m| m.family);
    match family {
        Some(metrics::Family::Business) => return None,
        Some(metrics::Family::Responses) => set(&mut pairs, "inbound", "1"),
        Some(metrics::Family::Authors) => set(&mut pairs, "interacting", "1"),
        _ => {}
    }
    let responses = family == Some(metrics::Family::Responses);
    let split: Vec<&str> =
        query.by.iter().map(String::as_str).chain(keys.iter().map(|(d, _)| *d)).collect();
    if let Some(metric) = metric.and_then(metrics::find) {
        for (field, value) in metric.scope {
            let overridden =
                query.filters.iter().any(|f| f.field == *field) || split.contains(field);
            if !overridden {
                set(&mut pairs, field, value);
            }
        }
    }
    for filter in &query.filters {
        if filter.negate || !LIST_FIELDS.contains(&filter.field.as_str()) {
            return None;
        }
        if responses && filter.field == "account" {
            return None; // the account that answered, not the author
        }
        set(&mut pairs, &filter.field, &filter.values.join(","));
    }
    for (dimension, key) in keys {
        match *dimension {
            "day" | "week" | "month" => {
                let bucket = match *dimension {
                    "day" => Bucket::Day,
                    "week" => Bucket::Week,
                    _ => Bucket::Month,
                };
                let start = bucket.start(key)?;
                let end = bucket.next(start).pred_opt()?;
                // Clipped to the query's period: a partial bucket lists the days it counted.
                let from = query.from.map_or(start, |from| from.max(start));
                let to = query.to.map_or(end, |to| to.min(end));
                pairs.retain(|(f, _)| f != "period");
                set(&mut pairs, "from", &from.to_string());
                set(&mut pairs, "to", &to.to_string());
            }
            field if LIST_FIELDS.contains(&field) && !(responses && field == "account") => {
                set(&mut pairs, field, key);
            }
            _ => return None,
        }
    }
    let query: Vec<String> =
        pairs.iter().map(|(field, value)| format!("{field}={}", encode(value))).collect();
    Some(format!("/posts?{}", query.join("&")))
}

/// `/posts`: the post list under the page's period and filters, 50 a page, newest first;
/// every number of the other pages links here with its own filters.
async fn posts_page<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let params = page.params;
    let filters = crate::api::filters_of(&[
        ("platform", params.platform.as_deref()),
        ("side", params.side.as_deref()),
        ("language", params.language.as_deref()),
        ("sentiment", params.sentiment.as_deref()),
        ("need", params.need.as_deref()),
        ("post_type", params.post_type.as_deref()),
        ("topic", params.topic.as_deref()),
        ("account", params.account.as_deref()),
    ]);
    let per_page = 50;
    let number = params.page.unwrap_or(1);
    waterline_app::limits::check_page(number, per_page)?;
    let request = PostsRequest {
        from: params.from,
        to: params.to,
        filters: filters.clone(),
        text: params.q.clone().filter(|q| !q.trim().is_empty()),
        unanswered: flag(params.unanswered.as_deref()),
        inbound: flag(params.inbound.as_deref()),
        interacting: flag(params.interacting.as_deref()),
        page: number,
        per_page,
    };
    let mut what: Vec<String> = filters
        .iter()
        .map(|f| format!("{} = {}", f.field.replace('_', " "), f.values.join(" or ")))
        .collect();
    if let Some(q) = &request.text {
        what.push(format!("text contains “{q}”"));
    }
    if request.unanswered {
        what.push("inbound conversations nobody answered".into());
    } else if request.inbound {
        what.push("posts that opened an inbound conversation".into());
    }
    if request.interacting {
        what.push("the audience's posts addressed to the brand or mentioning it".into());
    }
    let posts = page.app.backend.posts(request).await?;
    page.push(r#"<p class="help">The posts behind the numbers: a number, a bar or a point on any page links here with its period and filters.</p>"#);
    let _ = write!(
        page.body,
        r#"<p class="filters" id="posts-filters">{}</p>"#,
        esc(&if what.is_empty() {
            "Every post of the period.".to_owned()
        } else {
            format!("Filters in force: {}.", what.join("; "))
        })
    );
    let total = posts["total"].as_u64().unwrap_or(0);
    if total == 0 {
        page.push(r#"<p class="empty" id="posts-empty">No post matches these filters in this period.</p>"#);
    }
    posts_table(page, "posts", &posts);
    let pages = total.div_ceil(per_page);
    if pages > 1 {
        let base = page.params.query_string();
        let link = |n: u64, label: &str| {
            let separator = if base.is_empty() { "" } else { "&" };
            format!(r#"<a href="/posts?{}{separator}page={n}">{label}</a>"#, attr(&base))
        };
        let mut pager = format!(r#"<p class="pager" id="posts-pager">Page {number} of {pages}"#);
        if number > 1 {
            pager.push_str(&format!(" · {}", link(number - 1, "newer")));
        }
        if number < pages {
            pager.push_str(&format!(" · {}", link(number + 1, "older")));
        }
        pager.push_str("</p>");
        page.push(&pager);
    }
    Ok(())
}

fn posts_table<B: Backend>(page: &mut Page<'_, B>, name: &str, posts: &Value) {
    let mut table = Table {
        name: name.to_owned(),
        header: [
            "date",
            "platform",
            "side",
            "author",
            "text",
            "language",
            "sentiment",
            "need",
            "engagements",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for post in posts["posts"].as_array().into_iter().flatten() {
        table.rows.push(vec![
            post["created_at"]
                .as_str()
                .unwrap_or_default()
                .replace('T', " ")
                .chars()
                .take(16)
                .collect(),
            post["platform"].as_str().unwrap_or_default().to_owned(),
            post["side"].as_str().unwrap_or_default().to_owned(),
            page.author(&post["author"]),
            cut(&page.text(&post["text"]), 220),
            post["language"].as_str().unwrap_or_default().to_owned(),
            post["sentiment"].as_str().unwrap_or_default().to_owned(),
            post["need"].as_str().unwrap_or_default().to_owned(),
            number(&post["engagements"], "count"),
        ]);
    }
    if let Some(total) = posts["total"].as_u64() {
        let _ = write!(
            page.body,
            r#"<p class="count">{} posts match; {} are shown, newest first.</p>"#,
            svg::format(Some(total as f64), "count"),
            table.rows.len()
        );
    }
    page.table(table);
}

/// Line series from an answer of `query` split by a time bucket and one other dimension;
/// each point links to the posts behind it.
fn series_by(query: &Query, answer: &Answer, time: &str, split: &str, metric: &str) -> Vec<Series> {
    let (Some(t), Some(s), Some(m)) = (
        answer.dimensions.iter().position(|d| d == time),
        answer.dimensions.iter().position(|d| d == split),
        answer.metrics.iter().position(|x| x == metric),
    ) else {
        return Vec::new();
    };
    let mut buckets: Vec<String> = answer.rows.iter().map(|r| r.keys[t].clone()).collect();
    buckets.sort();
    buckets.dedup();
    let mut names: Vec<String> = answer.rows.iter().map(|r| r.keys[s].clone()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| Series {
            points: buckets
                .iter()
                .map(|bucket| {
                    let value = answer
                        .rows
                        .iter()
                        .find(|r| r.keys[t] == *bucket && r.keys[s] == name)
                        .and_then(|r| r.values[m]);
                    (bucket.chars().take(10).collect(), value.or(Some(0.0)))
                })
                .collect(),
            links: buckets
                .iter()
                .map(|bucket| {
                    posts_href(
                        query,
                        Some(metric),
                        &[(time, bucket.as_str()), (split, name.as_str())],
                    )
                })
                .collect(),
            name,
        })
        .collect()
}

fn answer_table(name: &str, answer: &Answer) -> Table {
    let mut header = answer.dimensions.clone();
    header.extend(
        answer.metrics.iter().map(|m| metrics::find(m).map_or(m.clone(), |x| x.label.to_owned())),
    );
    Table {
        name: name.to_owned(),
        header,
        rows: answer
            .rows
            .iter()
            .map(|row| {
                let mut cells = row.keys.clone();
                cells.extend(
                    answer
                        .metrics
                        .iter()
                        .zip(&row.values)
                        .map(|(m, v)| svg::format(*v, unit_of(m))),
                );
                cells
            })
            .collect(),
    }
}

async fn listening<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let needs = page.query(&["posts"], &["need"], &["side=audience"], None)?;
    let needs_answer = page.ask(&needs).await?;
    let audience = page.query(&["posts", "net_sentiment"], &[], &["side=audience"], None)?;
    let audience_answer = page.ask(&audience).await?;
    page.figures_open();
    page.figure("Audience posts", "posts", &audience, &audience_answer, None);
    page.figure("Net sentiment", "net_sentiment", &audience, &audience_answer, None);
    for need in ["question", "complaint", "request"] {
        let label = format!("{}s", need[..1].to_uppercase() + &need[1..]);
        page.figure(&label, "posts", &needs, &needs_answer, Some(&[("need", need)]));
    }
    page.figures_close();
    let report = page
        .app
        .backend
        .report(ReportKind::Listening, page.params.from, page.params.to, page.params.topic.clone())
        .await?;
    let topics: Vec<&Value> =
        report["topics"].as_array().map(|t| t.iter().collect()).unwrap_or_default();
    page.section("Topics the audience talks about", "Share of the audience's posts, growth (last third of the period against the first), sentiment.");
    let mut top: Vec<&&Value> = topics.iter().collect();
    top.sort_by(|a, b| {
        b["audience_share"]
            .as_f64()
            .partial_cmp(&a["audience_share"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let bars: Vec<(String, Option<f64>)> = top
        .iter()
        .take(15)
        .map(|t| (t["label"].as_str().unwrap_or_default().to_owned(), t["audience_share"].as_f64()))
        .collect();
    let audience = page.query(&["posts"], &[], &["side=audience"], None)?;
    let links: Vec<Option<String>> = top
        .iter()
        .take(15)
        .map(|t| {
            let id = t["id"].as_u64().map(|id| id.to_string()).unwrap_or_default();
            posts_href(&audience, None, &[("topic", id.as_str())])
        })
        .collect();
    page.push(&svg::bars_linked("Audience share by topic", &bars, "share", &links));
    let mut table = Table {
        name: "topics".into(),
        header: [
            "topic",
            "posts",
            "audience posts",
            "audience share",
            "growth",
            "net sentiment",
            "negative",
            "example",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for topic in &top {
        let example =
            topic["representative"].get(0).map(|e| page.text(&e["text"])).unwrap_or_default();
        table.rows.push(vec![
            topic["label"].as_str().unwrap_or_default().to_owned(),
            number(&topic["posts"], "count"),
            number(&topic["audience_posts"], "count"),
            number(&topic["audience_share"], "share"),
            number(&topic["growth"], "share"),
            number(&topic["sentiment"]["net"], "share"),
            number(&topic["sentiment"]["negative"], "share"),
            cut(&example, 160),
        ]);
    }
    page.table(table);
    page.section(
        "Unmet needs",
        "Questions, complaints and requests by topic, and the share the brand answered.",
    );
    let mut table = Table {
        name: "unmet needs".into(),
        header: ["topic", "need", "posts", "growth", "answered", "answered share", "example"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for need in report["unmet_needs"].as_array().into_iter().flatten() {
        let example = need["examples"].get(0).map(|e| page.text(&e["text"])).unwrap_or_default();
        table.rows.push(vec![
            need["topic"].as_str().unwrap_or_default().to_owned(),
            need["need"].as_str().unwrap_or_default().to_owned(),
            number(&need["posts"], "count"),
            number(&need["growth"], "share"),
            number(&need["answered"], "count"),
            number(&need["answered_share"], "share"),
            cut(&example, 160),
        ]);
    }
    page.table(table);
    notes(page, &report);
    Ok(())
}

fn notes<B: Backend>(page: &mut Page<'_, B>, report: &Value) {
    for note in report["notes"].as_array().into_iter().flatten() {
        let _ =
            write!(page.body, r#"<p class="note">{}</p>"#, esc(note.as_str().unwrap_or_default()));
    }
    let ignored: Vec<String> = page.params.filters().iter().map(ToString::to_string).collect();
    if !ignored.is_empty() {
        let _ = write!(
            page.body,
            r#"<p class="note">The report above covers the period only; the figures at the top follow every filter ({}).</p>"#,
            esc(&ignored.join(", "))
        );
    }
}

async fn gap<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let report = page
        .app
        .backend
        .report(ReportKind::Gap, page.params.from, page.params.to, page.params.topic.clone())
        .await?;
    let _ = write!(
        page.body,
        r#"<div class="figures"><div class="figure"><span class="value">{}</span><span class="label">Divergence of the brand's topic mix from the audience's (Jensen–Shannon, 0 = same, 1 = disjoint)</span></div><div class="figure"><span class="value">{}</span><span class="label">Own posts</span></div><div class="figure"><span class="value">{}</span><span class="label">Audience posts</span></div></div>"#,
        number(&report["divergence"], "number"),
        number(&report["own_posts"], "count"),
        number(&report["audience_posts"], "count"),
    );
    let mut topics: Vec<&Value> =
        report["topics"].as_array().map(|t| t.iter().collect()).unwrap_or_default();
    topics.sort_by(|a, b| {
        b["gap"]
            .as_f64()
            .map(f64::abs)
            .partial_cmp(&a["gap"].as_f64().map(f64::abs))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    page.section("Own against audience, topic by topic", "The largest gaps first: what the audience cares about that the brand neglects, and what the brand pushes that nobody engages with.");
    let rows: Vec<(String, Vec<Option<f64>>)> = topics
        .iter()
        .take(15)
        .map(|t| {
            (
                t["label"].as_str().unwrap_or_default().to_owned(),
                vec![t["own_share"].as_f64(), t["audience_share"].as_f64()],
            )
        })
        .collect();
    let own = page.query(&["posts"], &[], &["side=own", "post_type=original"], None)?;
    let audience = page.query(&["posts"], &[], &["side=audience"], None)?;
    let links: Vec<Vec<Option<String>>> = topics
        .iter()
        .take(15)
        .map(|t| {
            let id = t["id"].as_u64().map(|id| id.to_string()).unwrap_or_default();
            vec![
                posts_href(&own, None, &[("topic", id.as_str())]),
                posts_href(&audience, None, &[("topic", id.as_str())]),
            ]
        })
        .collect();
    page.push(&svg::grouped_bars_linked(
        "Share of own and audience posts by topic",
        &rows,
        &["own posts", "audience posts"],
        "share",
        &links,
    ));
    let mut table = Table {
        name: "topics".into(),
        header: [
            "topic",
            "audience share",
            "own share",
            "gap",
            "own posts",
            "own warm share",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for topic in &topics {
        table.rows.push(vec![
            topic["label"].as_str().unwrap_or_default().to_owned(),
            number(&topic["audience_share"], "share"),
            number(&topic["own_share"], "share"),
            number(&topic["gap"], "share"),
            number(&topic["own_posts"], "count"),
            number(&topic["own_warm_share"], "share"),
            topic["verdict"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    page.table(table);
    page.section("Declared topics", "The workspace's [[topics]] against the audience.");
    let mut table = Table {
        name: "declared topics".into(),
        header: ["topic", "audience share", "own share", "gap", "verdict"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for topic in report["declared_topics"].as_array().into_iter().flatten() {
        table.rows.push(vec![
            topic["name"].as_str().unwrap_or_default().to_owned(),
            number(&topic["audience_share"], "share"),
            number(&topic["own_share"], "share"),
            number(&topic["gap"], "share"),
            topic["verdict"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    page.table(table);
    page.section(
        "Competitors",
        "Each competitor's own divergence from the audience, and its top topics.",
    );
    let mut table = Table {
        name: "competitors".into(),
        header: ["competitor", "posts", "divergence", "top topics"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for competitor in report["competitors"].as_array().into_iter().flatten() {
        let top: Vec<String> = competitor["top_topics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| format!("{} ({})", t[0].as_str().unwrap_or_default(), number(&t[1], "share")))
            .collect();
        table.rows.push(vec![
            competitor["name"].as_str().unwrap_or_default().to_owned(),
            number(&competitor["posts"], "count"),
            number(&competitor["divergence"], "number"),
            top.join("; "),
        ]);
    }
    page.table(table);
    notes(page, &report);
    Ok(())
}

async fn audit<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let report = page
        .app
        .backend
        .report(ReportKind::Audit, page.params.from, page.params.to, page.params.topic.clone())
        .await?;
    let labels = &report["labels"];
    let _ = write!(page.body, r#"<div class="figures">"#);
    for label in ["warm", "cool", "frosty", "not enough history"] {
        let _ = write!(
            page.body,
            r#"<div class="figure {c}"><span class="value">{}</span><span class="label">{} posts</span></div>"#,
            number(&labels[label], "count"),
            esc(label),
            c = slug(label)
        );
    }
    page.push("</div>");
    page.section("What warm posts do differently", "Warm: above the account's 67th percentile of engagement rate over its previous 90 days; frosty: below the 33rd.");
    page.push("<ul class=\"summary\">");
    for line in report["summary"].as_array().into_iter().flatten() {
        let _ = write!(page.body, "<li>{}</li>", esc(line.as_str().unwrap_or_default()));
    }
    page.push("</ul>");
    let platforms: Vec<String> = page
        .params
        .platform
        .iter()
        .flat_map(|p| p.split(',').map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect();
    let mut posts: Vec<&Value> = report["audited"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            platforms.is_empty()
                || platforms.iter().any(|x| Some(x.as_str()) == p["platform"].as_str())
        })
        .collect();
    posts.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    page.section(
        "Own posts and their reception",
        "Sort by any column; filter the rows; the CSV holds every post.",
    );
    let mut table = Table {
        name: "own posts".into(),
        header: [
            "date",
            "platform",
            "account",
            "text",
            "reception",
            "percentile",
            "rate",
            "basis",
            "account median",
            "replies",
            "topic",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for post in &posts {
        let reception = &post["reception"];
        table.rows.push(vec![
            post["created_at"].as_str().unwrap_or_default().chars().take(10).collect(),
            post["platform"].as_str().unwrap_or_default().to_owned(),
            post["author"].as_str().unwrap_or_default().to_owned(),
            cut(&page.text(&post["text"]), 200),
            reception["label"].as_str().unwrap_or_default().to_owned(),
            number(&reception["percentile"], "number"),
            number(&reception["rate"], "percent"),
            reception["basis"].as_str().unwrap_or_default().to_owned(),
            number(&reception["baseline_median"], "percent"),
            number(&post["replies"], "count"),
            post["topic"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    page.table_limited(table, 500);
    notes(page, &report);
    Ok(())
}

async fn share_of_voice<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let panel_metrics = [
        "mentions",
        "share_of_voice_mentions",
        "share_of_voice_engagement",
        "share_of_voice_positive",
        "share_of_voice_negative",
        "net_sentiment",
    ];
    let brand = page.query(&panel_metrics, &[], &[], None)?;
    let brand_answer = page.ask(&brand).await?;
    page.figures_open();
    page.figure("Brand mentions", "mentions", &brand, &brand_answer, None);
    page.figure(
        "Share of voice (mentions)",
        "share_of_voice_mentions",
        &brand,
        &brand_answer,
        None,
    );
    page.figure(
        "Share of voice (engagement)",
        "share_of_voice_engagement",
        &brand,
        &brand_answer,
        None,
    );
    page.figure("Share of positive voice", "share_of_voice_positive", &brand, &brand_answer, None);
    page.figure("Share of negative voice", "share_of_voice_negative", &brand, &brand_answer, None);
    page.figures_close();
    let by_panel = page.query(&panel_metrics, &["panel"], &[], None)?;
    let panel_answer = page.ask(&by_panel).await?;
    page.section(
        "The panel",
        "The brand and each competitor of waterline.toml, over the audience's posts.",
    );
    let bars: Vec<(String, Option<f64>)> =
        panel_answer.rows.iter().map(|r| (r.keys[0].clone(), r.values[1])).collect();
    page.push(&svg::bars("Share of voice (mentions) by panel member", &bars, "share"));
    page.table(answer_table("panel", &panel_answer));
    let weekly = page.query(&["mentions"], &["week", "panel"], &[], None)?;
    let weekly_answer = page.ask(&weekly).await?;
    page.section(
        "Mentions per week",
        "Each panel member's mentions by the audience, week by week (local weeks, Monday first).",
    );
    let axis = page.time_axis(Bucket::Week);
    page.push(&svg::lines(
        "Mentions per week by panel member",
        &series_by(&weekly, &weekly_answer, "week", "panel", "mentions"),
        "count",
        &axis,
    ));
    Ok(())
}

async fn audience<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let authors = page.query(
        &[
            "interacting_audience",
            "interactions",
            "new_authors",
            "returning_authors",
            "interactors_1",
            "interactors_2_3",
            "interactors_4_9",
            "interactors_10_plus",
        ],
        &[],
        &[],
        None,
    )?;
    let authors_answer = page.ask(&authors).await?;
    page.figures_open();
    page.figure("Interacting audience", "interacting_audience", &authors, &authors_answer, None);
    page.figure("Interactions", "interactions", &authors, &authors_answer, None);
    // One definition for the tiles and the monthly chart: new authors interact for the
    // first time ever in the period (or month), returning authors had interacted before it.
    // Over all time nobody interacted before the period, so the tile is 0 by definition:
    // say the period's first day, and say why when there is none.
    let before = match page.params.from {
        Some(from) => format!("before {from}"),
        None => "before the period".to_owned(),
    };
    page.figure(
        "New authors (first interaction ever in the period)",
        "new_authors",
        &authors,
        &authors_answer,
        None,
    );
    page.figure(
        &format!("Returning authors (interacted {before} and again in the period)"),
        "returning_authors",
        &authors,
        &authors_answer,
        None,
    );
    page.figures_close();
    if page.params.from.is_none() {
        page.push(r#"<p class="note" id="returning-all-time">Over all time no author can have interacted before the period, so every author is new and returning authors are 0 by definition. Choose the last 90 days of data, or dates, to see who returns; the chart below counts returning authors month by month.</p>"#);
    }
    page.section("Frequency", "Authors by how many times they interacted in the period.");
    let frequency: Vec<(String, Option<f64>)> = [
        ("1", "interactors_1"),
        ("2–3", "interactors_2_3"),
        ("4–9", "interactors_4_9"),
        ("10+", "interactors_10_plus"),
    ]
    .iter()
    .map(|(label, metric)| {
        let noun = if *label == "1" { "interaction" } else { "interactions" };
        (format!("{label} {noun}"), authors_answer.scalar(metric))
    })
    .collect();
    page.push(&svg::bars("Authors by number of interactions", &frequency, "count"));
    let monthly = page.query(&["new_authors", "returning_authors"], &["month"], &[], None)?;
    let monthly_answer = page.ask(&monthly).await?;
    page.section(
        "New and returning authors by month",
        "The tiles' definitions applied to each month of the period: new = first interaction ever in that month; returning = interacted before that month and again in it. An author new in one month returns in the next, so the months do not add up to the period's tiles.",
    );
    let series: Vec<Series> = ["new_authors", "returning_authors"]
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            name: name.replace('_', " "),
            points: monthly_answer
                .rows
                .iter()
                .map(|r| (r.keys[0].chars().take(7).collect(), r.values[i]))
                .collect(),
            links: monthly_answer
                .rows
                .iter()
                .map(|r| posts_href(&monthly, Some(name), &[("month", r.keys[0].as_str())]))
                .collect(),
        })
        .collect();
    let axis = page.time_axis(Bucket::Month);
    page.push(&svg::lines("New and returning authors by month", &series, "count", &axis));
    let channels = page.query(
        &["channel_share", "channel_share_engagements", "posts"],
        &["platform"],
        &[],
        None,
    )?;
    let channels_answer = page.ask(&channels).await?;
    page.section(
        "Channels",
        "Where the audience talks: the share of its posts and of its engagements per platform.",
    );
    let rows: Vec<(String, Vec<Option<f64>>)> = channels_answer
        .rows
        .iter()
        .map(|r| (r.keys[0].clone(), vec![r.values[0], r.values[1]]))
        .collect();
    let links: Vec<Vec<Option<String>>> = channels_answer
        .rows
        .iter()
        .map(|r| {
            let link =
                posts_href(&channels, Some("channel_share"), &[("platform", r.keys[0].as_str())]);
            vec![link.clone(), link]
        })
        .collect();
    page.push(&svg::grouped_bars_linked(
        "Channel mix",
        &rows,
        &["posts", "engagements"],
        "share",
        &links,
    ));
    page.table(answer_table("channels", &channels_answer));
    let sides = page.query(&["posts"], &["platform", "side"], &[], None)?;
    let sides_answer = page.ask(&sides).await?;
    page.table(answer_table("posts by platform and side", &sides_answer));
    let languages = page.query(&["posts"], &["language"], &["side=audience"], None)?;
    let languages_answer = page.ask(&languages).await?;
    page.section("Languages of the audience", "");
    page.table(answer_table("languages", &languages_answer));
    Ok(())
}

async fn responsiveness<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let care_metrics = [
        "inbound",
        "response_rate",
        "first_response_hours",
        "first_response_hours_p90",
        "first_response_business_hours",
        "first_response_business_hours_p90",
    ];
    let care = page.query(&care_metrics, &[], &[], None)?;
    let care_answer = page.ask(&care).await?;
    page.figures_open();
    page.figure("Inbound conversations", "inbound", &care, &care_answer, None);
    page.figure("Response rate", "response_rate", &care, &care_answer, None);
    page.figure("First response, median", "first_response_hours", &care, &care_answer, None);
    page.figure("First response, p90", "first_response_hours_p90", &care, &care_answer, None);
    page.figure(
        "Median in business hours",
        "first_response_business_hours",
        &care,
        &care_answer,
        None,
    );
    page.figure(
        "p90 in business hours",
        "first_response_business_hours_p90",
        &care,
        &care_answer,
        None,
    );
    page.figures_close();
    let weekly = page.query(&["response_rate"], &["week"], &[], None)?;
    let weekly_answer = page.ask(&weekly).await?;
    page.section("Response rate per week", "");
    let series = vec![Series {
        name: "response rate".into(),
        points: weekly_answer
            .rows
            .iter()
            .map(|r| (r.keys[0].chars().take(10).collect(), r.values[0]))
            .collect(),
        links: weekly_answer
            .rows
            .iter()
            .map(|r| posts_href(&weekly, Some("response_rate"), &[("week", r.keys[0].as_str())]))
            .collect(),
    }];
    let axis = page.time_axis(Bucket::Week);
    page.push(&svg::lines("Response rate per week", &series, "share", &axis));
    let by_account = page.query(&care_metrics, &["account"], &[], None)?;
    let account_answer = page.ask(&by_account).await?;
    page.section("By own account", "");
    page.table(answer_table("accounts", &account_answer));
    let request = PostsRequest {
        from: page.params.from,
        to: page.params.to,
        filters: page.params.filters(),
        unanswered: true,
        per_page: 50,
        page: 1,
        ..PostsRequest::default()
    };
    let unanswered = page.app.backend.posts(request).await?;
    page.section("Unanswered", "Inbound conversations the brand has not answered (the same ones the response rate counts as unanswered), each by the post that opened it, newest first.");
    posts_table(page, "unanswered", &unanswered);
    Ok(())
}

async fn baselines<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let baselines = serde_json::json!(page.app.backend.baselines().await?);
    let list: Vec<&Value> = baselines.as_array().map(|l| l.iter().collect()).unwrap_or_default();
    page.section("Baselines", "Every metric frozen over a period; later data never changes them.");
    if list.is_empty() {
        page.push(r#"<p class="empty">No baseline yet: <code>waterline baseline create NAME --from YYYY-MM-DD --to YYYY-MM-DD</code> or <code>POST /api/v1/baselines</code>.</p>"#);
    }
    let mut table = Table {
        name: "baselines".into(),
        header: ["name", "from", "to", "where", "metrics", "created"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for baseline in &list {
        table.rows.push(vec![
            baseline["name"].as_str().unwrap_or_default().to_owned(),
            baseline["from"].as_str().unwrap_or_default().to_owned(),
            baseline["to"].as_str().unwrap_or_default().to_owned(),
            baseline["where"]
                .as_array()
                .map(|w| w.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            number(&baseline["metrics"], "count"),
            baseline["created_at"].as_str().unwrap_or_default().chars().take(16).collect(),
        ]);
    }
    if !list.is_empty() {
        page.table(table);
    }
    let chosen = page
        .params
        .baseline
        .clone()
        .or_else(|| list.first().and_then(|b| b["name"].as_str()).map(str::to_owned));
    if let (Some(name), Some(from), Some(to)) = (chosen, page.params.from, page.params.to) {
        let compared = serde_json::json!(page.app.backend.compare(name.clone(), from, to).await?);
        page.section(&format!("{from} to {to} against baseline `{name}`"), "95% percentile bootstrap intervals; a change is significant when its interval excludes 0.");
        let mut table = Table {
            name: "comparison".into(),
            header: ["metric", "baseline", "current", "change", "low", "high", "significant"]
                .map(String::from)
                .to_vec(),
            rows: Vec::new(),
        };
        for change in compared["changes"].as_array().into_iter().flatten() {
            let metric = change["metric"].as_str().unwrap_or_default();
            let unit = match unit_of(metric) {
                "count" => "number",
                other => other,
            };
            table.rows.push(vec![
                metric.to_owned(),
                number(&change["baseline"], unit),
                number(&change["current"], unit),
                number(&change["change"], unit),
                number(&change["low"], unit),
                number(&change["high"], unit),
                if change["significant"].as_bool() == Some(true) {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]);
        }
        page.table(table);
    } else if !list.is_empty() {
        page.push(r#"<p class="help">Pick a period with the filters above to compare it with the baseline.</p>"#);
    }
    let milestones = serde_json::json!(*page.app.backend.milestones().await?);
    page.section("Milestones", "Targets with dates: weekly values over complete weeks, least-squares trend, projection to the due date.");
    let statuses: Vec<&Value> =
        milestones.as_array().map(|l| l.iter().collect()).unwrap_or_default();
    if statuses.is_empty() {
        page.push(r#"<p class="empty">No milestone yet: <code>waterline milestone add NAME --metric M --target T --by YYYY-MM-DD</code>, or a [[kpis]] target in waterline.toml.</p>"#);
    }
    let mut table = Table {
        name: "milestones".into(),
        header: [
            "milestone",
            "metric",
            "target",
            "by",
            "current",
            "progress",
            "trend per week",
            "projected",
            "needed per week",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for status in &statuses {
        let metric = status["metric"].as_str().unwrap_or_default();
        let unit = unit_of(metric);
        let _ = write!(
            page.body,
            r#"<div class="milestone"><h3>{} <span class="verdict {}">{}</span></h3><p class="help">{}</p>"#,
            esc(status["name"].as_str().unwrap_or_default()),
            slug(status["verdict"].as_str().unwrap_or_default()),
            esc(status["verdict"].as_str().unwrap_or_default()),
            esc(status["explanation"].as_str().unwrap_or_default())
        );
        let weekly: Vec<(String, Option<f64>)> = status["weekly"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| (w[0].as_str().unwrap_or_default().to_owned(), w[1].as_f64()))
            .collect();
        if !weekly.is_empty() {
            let target = status["target"].as_f64();
            let series = vec![
                Series { name: metric.to_owned(), points: weekly.clone(), links: Vec::new() },
                Series {
                    name: "target".into(),
                    points: weekly.iter().map(|(w, _)| (w.clone(), target)).collect(),
                    links: Vec::new(),
                },
            ];
            // Milestones are judged on complete weeks only.
            page.push(&svg::lines(
                &format!("{metric} per week against the target"),
                &series,
                unit,
                &TimeAxis::complete(Bucket::Week),
            ));
        }
        page.push("</div>");
        table.rows.push(vec![
            status["name"].as_str().unwrap_or_default().to_owned(),
            metric.to_owned(),
            number(&status["target"], unit),
            status["by"].as_str().unwrap_or_default().to_owned(),
            number(&status["current"], unit),
            number(&status["progress"], "share"),
            number(&status["slope_per_week"], unit),
            number(&status["projected"], unit),
            number(&status["needed_per_week"], unit),
            status["verdict"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    if !statuses.is_empty() {
        page.table(table);
    }
    Ok(())
}

/// Most stored alerts the backend lists (the newest); the counts are over these.
const STORED_ALERTS_LISTED: usize = 500;

/// What the alerts page counts. Two different things: alerts the live rules stored (once
/// per episode, until a person resolves them) and pharmacovigilance clock and coverage
/// alerts computed now from the open cases and the channels (never stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct AlertCounts {
    /// Stored alerts by status.
    open: usize,
    acknowledged: usize,
    resolved: usize,
    /// Stored alerts listed (at most [`STORED_ALERTS_LISTED`]).
    stored: usize,
    /// Clock and coverage alerts firing now.
    firing: usize,
    critical: usize,
    /// The rules (kinds) they come from, the cases and the channels they are about.
    rules: usize,
    cases: usize,
    channels: usize,
}

impl AlertCounts {
    /// Counts the backend's alerts answer (`{"stored", "alerts"}`).
    fn of(answer: &Value) -> AlertCounts {
        let stored = answer["stored"].as_array().map(Vec::as_slice).unwrap_or_default();
        let firing = answer["alerts"].as_array().map(Vec::as_slice).unwrap_or_default();
        let with_status = |status: &str| stored.iter().filter(|a| a["status"] == status).count();
        let distinct = |key: &str| {
            let mut values: Vec<&str> = firing.iter().filter_map(|a| a[key].as_str()).collect();
            values.sort_unstable();
            values.dedup();
            values.len()
        };
        AlertCounts {
            open: with_status("open"),
            acknowledged: with_status("acknowledged"),
            resolved: with_status("resolved"),
            stored: stored.len(),
            firing: firing.len(),
            critical: firing.iter().filter(|a| a["severity"] == "critical").count(),
            rules: distinct("kind"),
            cases: distinct("case_id"),
            channels: distinct("channel"),
        }
    }

    /// The page's headline: each number says what it counts.
    fn headline(&self) -> String {
        let capped = if self.stored >= STORED_ALERTS_LISTED {
            format!(" among the newest {STORED_ALERTS_LISTED}")
        } else {
            String::new()
        };
        format!(
            r#"<p class="alert-summary alert-headline" id="alerts-headline" data-stored-open="{open}" data-stored-acknowledged="{ack}" data-stored-resolved="{resolved}" data-firing="{firing}"><strong>{open}</strong> stored {open_noun} open ({ack} acknowledged, {resolved} resolved{capped}) · <strong>{firing}</strong> pharmacovigilance clock and coverage {firing_noun} firing now ({critical} critical; {rules} {rule_noun}, {cases} {case_noun}, {channels} {channel_noun})</p><p class="help">Stored alerts are raised by the live rules, once per episode, and stay until a person resolves them. Clock and coverage alerts are computed on each view from the open cases and the owned channels; none is stored, and one stops firing when its case or channel moves on.</p>"#,
            open = self.open,
            open_noun = plural(self.open, "alert", "alerts"),
            ack = self.acknowledged,
            resolved = self.resolved,
            firing = self.firing,
            firing_noun = plural(self.firing, "alert", "alerts"),
            critical = self.critical,
            rules = self.rules,
            rule_noun = plural(self.rules, "rule", "rules"),
            cases = self.cases,
            case_noun = plural(self.cases, "case", "cases"),
            channels = self.channels,
            channel_noun = plural(self.channels, "channel", "channels"),
        )
    }
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

/// The clock and coverage alerts the alerts page shows (the CSV export has them all).
const ALERTS_SHOWN: usize = 500;

async fn alerts<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let answer = page.app.backend.alerts(None).await?;
    let counts = AlertCounts::of(&answer);
    page.push(&counts.headline());
    let stored = answer["stored"].as_array().cloned().unwrap_or_default();
    page.section(
        "Stored alerts",
        "Raised by the live rules (spikes, unanswered questions, pharmacovigilance), newest first; a person acknowledges and resolves them.",
    );
    let _ = write!(
        page.body,
        r#"<p class="alert-summary" id="stored-summary"><strong>{open}</strong> open, {ack} acknowledged, {resolved} resolved: {stored} stored {noun}{capped}. Each says what fired and why: the window, the baseline, the threshold, and the posts, terms and topic that drove it. New alerts appear here as they fire.</p>"#,
        open = counts.open,
        ack = counts.acknowledged,
        resolved = counts.resolved,
        stored = counts.stored,
        noun = plural(counts.stored, "alert", "alerts"),
        capped = if counts.stored >= STORED_ALERTS_LISTED {
            format!(" (the newest {STORED_ALERTS_LISTED} only)")
        } else {
            String::new()
        },
    );
    if stored.is_empty() {
        page.push(r#"<p class="empty" id="stored-empty">No alert has fired yet. Alerts are raised by the live sources (<code>waterline listen</code>, or <code>waterline serve</code> with <code>[[sources]]</code>); <code>waterline alerts scan</code> shows what the rules would have raised on the stored posts.</p>"#);
    }
    page.push(r#"<div id="alert-list" class="alert-list">"#);
    for alert in stored.iter().take(200) {
        let html = alert_card(page, alert);
        page.push(&html);
    }
    page.push("</div>");
    page.section(
        "Pharmacovigilance clocks and coverage",
        "Case clocks and owned-channel coverage, computed now (PV-7, SCOPE-1, SCOPE-2).",
    );
    let alerts: &[Value] = answer["alerts"].as_array().map_or(&[], Vec::as_slice);
    let mut table = Table {
        name: "alerts".into(),
        header: ["since", "severity", "rule", "what fired and why", "threshold", "case or channel"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for alert in alerts {
        let text = |key: &str| alert[key].as_str().unwrap_or_default().to_owned();
        let subject = alert["case_id"].as_str().or(alert["channel"].as_str()).unwrap_or_default();
        table.rows.push(vec![
            text("since").chars().take(16).collect::<String>().replace('T', " "),
            text("severity"),
            text("kind"),
            text("message"),
            text("threshold"),
            subject.to_owned(),
        ]);
    }
    if alerts.is_empty() {
        page.push(
            r#"<p class="empty" id="alerts-empty">No case clock or coverage alert is firing.</p>"#,
        );
    } else {
        let _ = write!(
            page.body,
            r#"<p class="alert-summary" id="alerts-summary"><strong>{firing}</strong> clock and coverage {noun} firing now, <strong>{critical}</strong> critical, computed from the open cases and the owned channels (not stored).</p>"#,
            firing = counts.firing,
            noun = plural(counts.firing, "alert", "alerts"),
            critical = counts.critical,
        );
    }
    // Tens of thousands fire on a long-neglected queue: the page shows the most urgent
    // (critical first, then the oldest), the CSV export and the API all of them.
    page.table_limited(table, ALERTS_SHOWN);
    page.section(
        "Rules in force",
        "Each rule with the requirement or kind it implements and what makes it fire ([alerts] in waterline.toml).",
    );
    let mut rules = Table {
        name: "rules".into(),
        header: ["rule", "requirement or kind", "fires when"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for rule in answer["rules"].as_array().into_iter().flatten() {
        rules.rows.push(vec![
            rule["rule"].as_str().unwrap_or_default().to_owned(),
            rule["requirement"].as_str().unwrap_or_default().to_owned(),
            rule["fires"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    page.table(rules);
    Ok(())
}

/// One stored alert: what fired and why, its posts and terms, who acknowledged and
/// resolved it, and the actions.
fn alert_card<B: Backend>(page: &Page<'_, B>, alert: &Value) -> String {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let explanation = &alert["explanation"];
    let id = text(&alert["id"]);
    let status = text(&alert["status"]);
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<article class="alert-card status-{status}" id="alert-{id}" data-alert="{id}"><header><span class="badge">{status}</span> <strong>{rule}</strong> <span class="muted">{kind}{key} · fired {fired}</span></header><p class="alert-why">{summary}</p>"#,
        status = attr(&status),
        id = attr(&id),
        rule = esc(&text(&alert["rule"])),
        kind = esc(&text(&alert["kind"])),
        key = if text(&alert["key"]).is_empty() {
            String::new()
        } else {
            format!(" · {}", esc(&text(&alert["key"])))
        },
        fired =
            esc(&text(&alert["fired_at"]).chars().take(16).collect::<String>().replace('T', " ")),
        summary = esc(&text(&explanation["summary"])),
    );
    let number = |value: &Value| {
        value.as_f64().map(|v| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.3}") })
    };
    let mut facts = Vec::new();
    if let (Some(start), Some(end)) =
        (explanation["window_start"].as_str(), explanation["window_end"].as_str())
    {
        facts.push(format!(
            "window {} → {}",
            &start.chars().take(16).collect::<String>().replace('T', " "),
            &end.chars().take(16).collect::<String>().replace('T', " ")
        ));
    }
    if let Some(observed) = number(&explanation["observed"]) {
        facts.push(format!("observed {observed}"));
    }
    if let Some(baseline) = number(&explanation["baseline"]) {
        let sd =
            number(&explanation["baseline_sd"]).map(|sd| format!(" ± {sd}")).unwrap_or_default();
        facts.push(format!("baseline {baseline}{sd}"));
    }
    if let Some(threshold) = number(&explanation["threshold"]) {
        facts.push(format!("threshold {threshold}"));
    }
    if let Some(topic) = explanation["topic"].as_str() {
        facts.push(format!("topic {topic}"));
    }
    if !facts.is_empty() {
        let _ = write!(html, r#"<p class="alert-facts">{}</p>"#, esc(&facts.join(" · ")));
    }
    let terms: Vec<String> = explanation["terms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|term| {
            format!(
                "{} ({} posts, ×{:.1})",
                text(&term["term"]),
                term["window_count"].as_u64().unwrap_or(0),
                term["lift"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    if !terms.is_empty() {
        let _ = write!(html, r#"<p class="alert-terms">Terms: {}</p>"#, esc(&terms.join(", ")));
    }
    let posts = explanation["posts"].as_array().cloned().unwrap_or_default();
    if !posts.is_empty() {
        html.push_str(r#"<ul class="alert-posts">"#);
        for post in posts.iter().take(5) {
            let _ = write!(
                html,
                "<li><span class=\"muted\">{} {}</span> {}</li>",
                esc(&text(&post["created_at"])
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " ")),
                esc(&page.author(&post["author"])),
                esc(&page.text(&post["text"])),
            );
        }
        html.push_str("</ul>");
    }
    let mut who = Vec::new();
    if let Some(by) = alert["acknowledged_by"].as_str() {
        who.push(format!(
            "acknowledged by {by} at {}",
            text(&alert["acknowledged_at"]).chars().take(16).collect::<String>().replace('T', " ")
        ));
    }
    if let Some(by) = alert["resolved_by"].as_str() {
        who.push(format!(
            "resolved by {by} at {}",
            text(&alert["resolved_at"]).chars().take(16).collect::<String>().replace('T', " ")
        ));
    }
    if let Some(note) = alert["note"].as_str() {
        who.push(format!("note: {note}"));
    }
    if !who.is_empty() {
        let _ = write!(html, r#"<p class="alert-who">{}</p>"#, esc(&who.join(" · ")));
    }
    if status != "resolved" {
        let id = attr(&id);
        if status == "open" {
            let _ = write!(
                html,
                r#"<form class="alert-action" data-alert="{id}" data-action="acknowledge"><input name="note" placeholder="note (optional)" aria-label="note"> <button>Acknowledge</button></form>"#
            );
        }
        let _ = write!(
            html,
            r#"<form class="alert-action" data-alert="{id}" data-action="resolve"><input name="note" placeholder="what was done (optional)" aria-label="note"> <button>Resolve</button></form><p class="error" hidden></p>"#
        );
    }
    html.push_str("</article>");
    html
}

/// The text with the evidence spans marked (byte offsets of the detector).
fn highlighted(text: &str, flags: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = flags
        .iter()
        .filter_map(|flag| {
            let start = usize::try_from(flag.pointer("/span/start")?.as_u64()?).ok()?;
            let end = usize::try_from(flag.pointer("/span/end")?.as_u64()?).ok()?;
            let category = flag["category"].as_str().unwrap_or_default().to_owned();
            (start < end
                && end <= text.len()
                && text.is_char_boundary(start)
                && text.is_char_boundary(end))
            .then_some((start, end, category))
        })
        .collect();
    spans.sort();
    let mut out = String::new();
    let mut at = 0;
    for (start, end, category) in spans {
        if start < at {
            continue;
        }
        out.push_str(&esc(&text[at..start]));
        let _ =
            write!(out, r#"<mark title="{}">{}</mark>"#, attr(&category), esc(&text[start..end]));
        at = end;
    }
    out.push_str(&esc(&text[at..]));
    out
}

fn presence_badge(name: &str, presence: &str) -> String {
    let letter = name.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or('?');
    format!(
        r#"<span class="element {p}" title="{n}: {p}">{letter}</span>"#,
        p = attr(presence),
        n = attr(name)
    )
}

async fn pv_case<B: Backend>(page: &mut Page<'_, B>, id: &str) -> Result<(), ApiError> {
    let answer = page.app.backend.pv_case(id.to_owned(), page.access.viewer.clone()).await?;
    let case = &answer["case"];
    let text = case.pointer("/post/text").and_then(Value::as_str).unwrap_or_default();
    let flags =
        case.pointer("/detection/flags").and_then(Value::as_array).cloned().unwrap_or_default();
    let _ = write!(
        page.body,
        r#"<section class="case" id="case" data-case="{id}"><h2>Case {id} <span class="status {st}">{st}</span>{serious}</h2><blockquote class="case-text">{text}</blockquote><p class="case-source">{platform}:{post} by {author} at {posted}{channel}{url}</p>"#,
        id = attr(id),
        st = attr(case["status"].as_str().unwrap_or_default()),
        serious =
            if case["serious"] == true { r#" <span class="serious">SERIOUS</span>"# } else { "" },
        text = highlighted(text, &flags),
        platform = esc(case.pointer("/post/platform").and_then(Value::as_str).unwrap_or_default()),
        post = esc(case.pointer("/post/id").and_then(Value::as_str).unwrap_or_default()),
        author = esc(case.pointer("/post/author").and_then(Value::as_str).unwrap_or("?")),
        posted = esc(case.pointer("/post/posted_at").and_then(Value::as_str).unwrap_or_default()),
        channel = case
            .pointer("/post/channel")
            .and_then(Value::as_str)
            .map(|c| format!(" on the owned channel {}", esc(c)))
            .unwrap_or_default(),
        url = case
            .pointer("/post/url")
            .and_then(Value::as_str)
            .map(|u| format!(r#" · <a href="{}" rel="noopener noreferrer">open</a>"#, attr(u)))
            .unwrap_or_default(),
    );
    page.push("<h3>Flags and evidence</h3><ul class=\"flags\">");
    for flag in &flags {
        let _ = write!(
            page.body,
            "<li><code>{}</code> “{}”{}</li>",
            esc(flag["category"].as_str().unwrap_or_default()),
            esc(flag.pointer("/span/text").and_then(Value::as_str).unwrap_or_default()),
            flag["detail"].as_str().map(|d| format!(" ({})", esc(d))).unwrap_or_default()
        );
    }
    if flags.is_empty() {
        page.push("<li>No text flag (queued for a person: media only, PV-16).</li>");
    }
    page.push("</ul><h3>Minimum elements (PV decides validity)</h3><dl class=\"elements\">");
    for name in ["patient", "reporter", "product", "reaction"] {
        let element =
            case.pointer(&format!("/detection/elements/{name}")).cloned().unwrap_or_default();
        let _ = write!(
            page.body,
            "<dt>{name}</dt><dd>{} {}</dd>",
            presence_badge(name, element["presence"].as_str().unwrap_or("uncertain")),
            element
                .pointer("/span/text")
                .and_then(Value::as_str)
                .map(|t| format!("“{}”", esc(t)))
                .unwrap_or_default()
        );
    }
    let clocks = &case["clocks"];
    let _ = write!(
        page.body,
        "</dl><h3>Clocks</h3><p class=\"clocks\">Day zero <strong>{}</strong> ({}). Hand-off to PV due by the end of <strong>{}</strong> (1 business day, PV-7). EU due <strong>{}</strong> (D0+{} calendar days){}. No 7-day clock applies (PV-6).</p>",
        esc(clocks["day_zero"].as_str().unwrap_or_default()),
        esc(case["day_zero_basis"].as_str().unwrap_or_default()),
        esc(clocks["handoff_due"].as_str().unwrap_or_default()),
        esc(clocks["eu_due"].as_str().unwrap_or_default()),
        clocks["eu_days"],
        clocks["us_due"]
            .as_str()
            .map(|d| format!("; US 15-day alert report due <strong>{}</strong>", esc(d)))
            .unwrap_or_default(),
    );
    for alert in case["alerts"].as_array().into_iter().flatten() {
        let _ = write!(
            page.body,
            r#"<p class="alert {}">{}</p>"#,
            attr(alert["severity"].as_str().unwrap_or_default()),
            esc(alert["message"].as_str().unwrap_or_default())
        );
    }
    let reasons = [
        "no-event",
        "not-company-product",
        "hypothetical",
        "medical-information",
        "news-or-corporate",
        "duplicate",
        "other",
    ]
    .map(|code| format!(r#"<option value="{code}">{code}</option>"#))
    .join("");
    let _ = write!(
        page.body,
        r#"<h3>Actions</h3><div class="pv-actions">
<form class="pv-action" data-case="{id}"><input type="hidden" name="action" value="assign"><label>Assign to <input name="to" required></label> <button>Assign</button></form>
<form class="pv-action" data-case="{id}"><input type="hidden" name="action" value="decide"><label>Status <select name="status"><option value="in_review">in review</option><option value="forwarded">forwarded to PV</option><option value="pending_follow_up">pending follow-up</option><option value="not_a_case">not a case</option></select></label> <label>Reason <select name="reason"><option value="">(only for not a case)</option>{reasons}</select></label> <label>PV reference <input name="reference"></label> <label>Note <input name="note"></label> <button>Decide</button></form>
<form class="pv-action" data-case="{id}"><input type="hidden" name="action" value="follow_up"><label>Follow-up attempt <input name="note" required placeholder="replied with the PV contact template"></label> <button>Log</button></form>
<p class="error" role="alert" hidden></p></div>"#,
        id = attr(id),
    );
    let mut history = Table {
        name: "history".into(),
        header: ["at", "event", "who", "role", "details"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for event in answer["events"].as_array().into_iter().flatten() {
        let mut details = event.clone();
        if let Some(object) = details.as_object_mut() {
            for key in ["id", "case_id", "at", "actor", "role", "type", "post", "detection"] {
                object.remove(key);
            }
        }
        history.rows.push(vec![
            event["at"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(19)
                .collect::<String>()
                .replace('T', " "),
            event["type"].as_str().unwrap_or_default().to_owned(),
            event["actor"].as_str().unwrap_or_default().to_owned(),
            event["role"].as_str().unwrap_or_default().to_owned(),
            if details.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                details.to_string()
            },
        ]);
    }
    page.section("History (append-only, AUD-1)", "");
    page.table(history);
    page.push("</section>");
    Ok(())
}

async fn pharmacovigilance<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    if !page.access.pharmacovigilance {
        page.push(r#"<p class="empty" id="pv-forbidden">The adverse-event queue holds personal data: it needs a token with the <code>pv-reviewer</code> or <code>admin</code> role (PHARMA.md PV-15). <a href="/login">Log in</a> with one (<code>waterline token create --role pv-reviewer</code>).</p>"#);
        return Ok(());
    }
    if let Some(id) = page.params.case.clone().filter(|id| !id.trim().is_empty()) {
        pv_case(page, id.trim()).await?;
    }
    let all = flag(page.params.all.as_deref());
    let queue = page.app.backend.pv_queue(all).await?;
    let count = |status: &str| queue["counts"][status].as_u64().unwrap_or(0);
    let _ = write!(
        page.body,
        r#"<div class="figures" id="pv-figures"><figure><figcaption>New</figcaption><p class="value" data-metric="pv_new" data-value="{n}">{n}</p></figure><figure><figcaption>In review</figcaption><p class="value" data-metric="pv_in_review" data-value="{r}">{r}</p></figure><figure><figcaption>Serious, awaiting hand-off</figcaption><p class="value" data-metric="pv_serious_open" data-value="{s}">{s}</p></figure><figure><figcaption>Pending follow-up</figcaption><p class="value" data-metric="pv_pending" data-value="{p}">{p}</p></figure><figure><figcaption>Forwarded to PV</figcaption><p class="value" data-metric="pv_forwarded" data-value="{f}">{f}</p></figure><figure><figcaption>Not a case</figcaption><p class="value" data-metric="pv_not_a_case" data-value="{x}">{x}</p></figure><figure><figcaption>Clock alerts</figcaption><p class="value" data-metric="pv_alerts" data-value="{a}">{a}</p></figure></div>"#,
        n = count("new"),
        r = count("in_review"),
        s = queue["serious_open"],
        p = count("pending_follow_up"),
        f = count("forwarded"),
        x = count("not_a_case"),
        a = queue["alerts"],
    );
    match queue["audit"].as_array().and_then(|samples| samples.first()) {
        Some(sample) => {
            let _ = write!(
                page.body,
                r#"<p class="audit" id="pv-audit" data-rate="{rate}">False-negative audit (ML-4): the latest sample ({name}, posts of {from} to {to}) has {size} unflagged posts read by a person and <strong>{fn_}</strong> false negative(s) found: rate <strong>{pct:.1}%</strong>. <code>waterline pv sample</code> draws the next one.</p>"#,
                rate = sample["rate"],
                name = esc(sample["name"].as_str().unwrap_or_default()),
                from = esc(sample["from"].as_str().unwrap_or_default()),
                to = esc(sample["to"].as_str().unwrap_or_default()),
                size = sample["size"],
                fn_ = sample["false_negatives"],
                pct = sample["rate"].as_f64().unwrap_or(0.0) * 100.0,
            );
        }
        None => page.push(r#"<p class="audit" id="pv-audit">False-negative audit (ML-4): no sample drawn yet. <code>waterline pv sample</code> draws unflagged screened posts for a person to read each week; cases opened for them give the false-negative rate shown here.</p>"#),
    }
    if queue["screening"] == false {
        page.push(r#"<p class="alert warning">Screening is off in this workspace (<code>[pharmacovigilance] enabled = false</code>): new posts are not screened.</p>"#);
    }
    let _ = write!(
        page.body,
        r#"<p class="exports">For the safety database: <a href="/api/v1/pv/export?format=csv">CSV</a> · <a href="/api/v1/pv/export?format=json">JSON</a> · <a href="/api/v1/pv/reconciliation">reconciliation</a> · {toggle}</p>"#,
        toggle = if all {
            r#"<a href="/pharmacovigilance">open cases only</a>"#
        } else {
            r#"<a href="/pharmacovigilance?all=1">with closed cases</a>"#
        },
    );
    page.section(
        "Queue",
        "Serious first (PV-8), then by hand-off deadline. Elements: Patient, Reporter, Product, Reaction (present, absent, uncertain). Nothing flagged is closed but by a person, with a reason code (PV-2).",
    );
    let mut table = Table {
        name: "cases".into(),
        header: [
            "case",
            "status",
            "serious",
            "flags",
            "day zero",
            "hand-off due",
            "due",
            "elements",
            "alerts",
            "post",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    let mut rows_html = String::new();
    const SHOWN: usize = 300;
    for (index, case) in queue["cases"].as_array().into_iter().flatten().enumerate() {
        let id = case["id"].as_str().unwrap_or_default();
        let categories: Vec<String> = case["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let alerts: Vec<String> = case["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["kind"].as_str().map(str::to_owned))
            .collect();
        let elements: Vec<(String, String)> = ["patient", "reporter", "product", "reaction"]
            .iter()
            .map(|name| {
                (
                    (*name).to_owned(),
                    case["elements"][*name].as_str().unwrap_or("uncertain").to_owned(),
                )
            })
            .collect();
        let due = format!(
            "{} (D0+{})",
            case["clocks"]["eu_due"].as_str().unwrap_or_default(),
            case["clocks"]["eu_days"]
        );
        let text = cut(
            &case
                .pointer("/post/text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            90,
        );
        let serious = if case["serious"] == true { "yes" } else { "" };
        if index < SHOWN {
            let _ = write!(
                rows_html,
                r#"<tr data-case="{ida}"><td><a href="/pharmacovigilance?case={ida}">{id}</a></td><td><span class="status {st}">{st}</span></td><td>{serious}</td><td>{flags}</td><td>{d0}</td><td>{handoff}</td><td>{due}</td><td>{badges}</td><td>{alerts}</td><td>{text}</td></tr>"#,
                ida = attr(id),
                id = esc(id),
                st = attr(case["status"].as_str().unwrap_or_default()),
                flags = esc(&categories.join(" ")),
                d0 = esc(case["clocks"]["day_zero"].as_str().unwrap_or_default()),
                handoff = esc(case["clocks"]["handoff_due"].as_str().unwrap_or_default()),
                due = esc(&due),
                badges = elements.iter().map(|(n, p)| presence_badge(n, p)).collect::<String>(),
                alerts = esc(&alerts.join(" ")),
                text = esc(&text),
            );
        }
        table.rows.push(vec![
            id.to_owned(),
            case["status"].as_str().unwrap_or_default().to_owned(),
            serious.to_owned(),
            categories.join(" "),
            case["clocks"]["day_zero"].as_str().unwrap_or_default().to_owned(),
            case["clocks"]["handoff_due"].as_str().unwrap_or_default().to_owned(),
            due,
            elements.iter().map(|(n, p)| format!("{n}:{p}")).collect::<Vec<_>>().join(" "),
            alerts.join(" "),
            text,
        ]);
    }
    if table.rows.is_empty() {
        page.push(r#"<p class="empty" id="pv-empty">No case awaits review. Posts that name a product of the workspace, and audience posts on owned channels, are screened as they are imported (<code>waterline pv scan</code> screens what is already stored).</p>"#);
    }
    if table.rows.len() > SHOWN {
        let _ = write!(
            page.body,
            r#"<p class="note">The first {SHOWN} of {} cases in queue order; the CSV holds them all.</p>"#,
            table.rows.len()
        );
    }
    let index = page.tables.len();
    let _ = write!(
        page.body,
        r#"<div class="table-tools"><input type="search" class="table-filter" data-table="table-{index}" placeholder="Filter rows…" aria-label="Filter cases"><a class="csv" href="?export=csv&table={index}{all}">CSV</a></div><table class="sortable" id="table-{index}"><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"#,
        all = if all { "&all=1" } else { "" },
        head = table.header.iter().map(|h| format!("<th>{}</th>", esc(h))).collect::<String>(),
    );
    page.tables.push(table);
    let coverage = page.app.backend.coverage().await?;
    page.section(
        "Owned-channel coverage",
        &format!(
            "Every owned channel with the time of its last ingested post; a gap over {} h raises an alert (SCOPE-1).",
            coverage["limit_hours"]
        ),
    );
    let mut channels = Table {
        name: "coverage".into(),
        header: [
            "channel",
            "kind",
            "platform",
            "posts",
            "last post",
            "last ingested",
            "gap (h)",
            "state",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for channel in coverage["channels"].as_array().into_iter().flatten() {
        let time = |key: &str| {
            channel[key]
                .as_str()
                .unwrap_or("never")
                .chars()
                .take(16)
                .collect::<String>()
                .replace('T', " ")
        };
        channels.rows.push(vec![
            channel["name"].as_str().unwrap_or_default().to_owned(),
            channel["kind"].as_str().unwrap_or_default().to_owned(),
            channel["platform"].as_str().unwrap_or_default().to_owned(),
            channel["posts"].to_string(),
            time("last_post"),
            time("last_ingested"),
            channel["gap_hours"].as_f64().map_or_else(|| "-".to_owned(), |h| format!("{h:.0}")),
            if channel["gap"] == true { "GAP".into() } else { "ok".into() },
        ]);
    }
    page.table(channels);
    Ok(())
}

/// The draft of the page's parameters as `check-draft`'s JSON input; products are
/// `NAME=pom|otc[,reimbursed]` for every target country.
fn draft_of(params: &PageParams) -> Result<Value, ApiError> {
    let list = |value: &Option<String>, separator: char| -> Vec<String> {
        value
            .as_deref()
            .unwrap_or_default()
            .split(separator)
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let countries: Vec<String> =
        list(&params.countries, ',').into_iter().map(|c| c.to_uppercase()).collect();
    let mut products = Vec::new();
    for item in list(&params.products, ';') {
        let Some((name, status)) = item.split_once('=') else {
            return Err(ApiError::bad_request(format!(
                "product `{item}`: write NAME=pom or NAME=otc,reimbursed"
            )));
        };
        let mut parts = status.split(',').map(|part| part.trim().to_lowercase());
        let class = parts.next().unwrap_or_default();
        if class != "pom" && class != "otc" {
            return Err(ApiError::bad_request(format!("product `{item}`: pom or otc")));
        }
        let reimbursed = parts.any(|part| part == "reimbursed");
        let per_country: serde_json::Map<String, Value> = countries
            .iter()
            .map(|country| (country.clone(), json!({"class": class, "reimbursed": reimbursed})))
            .collect();
        products.push(json!({"name": name.trim(), "status": per_country}));
    }
    fn text(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let mut draft = json!({
        "text": params.text.clone().unwrap_or_default(),
        "countries": countries,
        "products": products,
        "sponsored": flag(params.sponsored.as_deref()),
        "influencer": flag(params.influencer.as_deref()),
        "references": list(&params.references, '|'),
    });
    for (key, value) in [
        ("audience", text(&params.audience)),
        ("visa", text(&params.visa)),
        ("account", text(&params.account)),
        ("media", text(&params.media)),
    ] {
        if let Some(value) = value {
            draft[key] = json!(value);
        }
    }
    Ok(draft)
}

async fn drafts<B: Backend>(page: &mut Page<'_, B>) -> Result<(), ApiError> {
    let params = page.params;
    let value = |v: &Option<String>| attr(v.as_deref().unwrap_or_default()).into_owned();
    let selected = |v: &Option<String>, option: &str| {
        if v.as_deref() == Some(option) { " selected" } else { "" }
    };
    let checked = |v: &Option<String>| if flag(v.as_deref()) { " checked" } else { "" };
    let _ = write!(
        page.body,
        r#"<form class="draft" id="draft-form" method="get" action="/drafts">
<label class="wide">Draft <textarea name="text" rows="5" required>{text}</textarea></label>
<label>Countries <input name="countries" value="{countries}" placeholder="FR,GB,US"></label>
<label>Audience <select name="audience"><option value="">(not declared)</option><option value="public"{public}>general public</option><option value="hcp"{hcp}>verified HCPs</option></select></label>
<label>Products <input name="products" value="{products}" placeholder="Brandix=pom; Doloxa=otc,reimbursed"></label>
<label>Account <input name="account" value="{account}" placeholder="owned handle"></label>
<label>ANSM visa <input name="visa" value="{visa}"></label>
<label>References <input name="references" value="{references}" placeholder="Smith 2024 | SmPC 5.1"></label>
<label>Media <select name="media"><option value="">none</option><option value="image"{image}>image</option><option value="video"{video}>video</option></select></label>
<label><input type="checkbox" name="sponsored" value="1"{sponsored}> sponsored</label>
<label><input type="checkbox" name="influencer" value="1"{influencer}> influencer or employee script</label>
<button>Check</button></form>"#,
        text = esc(params.text.as_deref().unwrap_or_default()),
        countries = value(&params.countries),
        public = selected(&params.audience, "public"),
        hcp = selected(&params.audience, "hcp"),
        products = value(&params.products),
        account = value(&params.account),
        visa = value(&params.visa),
        references = value(&params.references),
        image = selected(&params.media, "image"),
        video = selected(&params.media, "video"),
        sponsored = checked(&params.sponsored),
        influencer = checked(&params.influencer),
    );
    if params.text.as_deref().is_none_or(|text| text.trim().is_empty()) {
        page.push(r#"<p class="empty" id="draft-empty">Write a draft and its metadata (countries, audience, the products it names and their legal status) and check it. Products of the workspace named in the text get their status from <code>waterline.toml</code>. Nothing is published or stored; links are listed for review, never fetched.</p>"#);
        return Ok(());
    }
    let draft = draft_of(params)?;
    let answer = page.app.backend.check_draft(draft).await?;
    let status = answer["status"].as_str().unwrap_or_default();
    let _ = write!(
        page.body,
        r#"<p class="draft-status {s}" id="draft-status" data-status="{s}">Status: <strong>{s}</strong></p>"#,
        s = attr(status)
    );
    let mut findings = Table {
        name: "findings".into(),
        header: ["rule", "severity", "jurisdiction", "span", "message", "fix"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    for finding in answer["findings"].as_array().into_iter().flatten() {
        let text = |key: &str| finding[key].as_str().unwrap_or_default().to_owned();
        findings.rows.push(vec![
            text("rule"),
            text("severity"),
            text("jurisdiction"),
            finding.pointer("/span/text").and_then(Value::as_str).unwrap_or_default().to_owned(),
            text("message"),
            text("fix"),
        ]);
    }
    page.section("Findings", "Each with its rule (PHARMA.md section c), jurisdiction, the words at issue and a fix (CMP-0b).");
    page.table(findings);
    let mut review = Table {
        name: "needs review".into(),
        header: ["rule", "why a person must decide"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for item in answer["needs_review"].as_array().into_iter().flatten() {
        review.rows.push(vec![
            item["rule"].as_str().unwrap_or_default().to_owned(),
            item["reason"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    for item in answer["cannot_assess"].as_array().into_iter().flatten() {
        review.rows.push(vec![
            item["rule"].as_str().unwrap_or_default().to_owned(),
            format!("cannot assess: {}", item["missing"].as_str().unwrap_or_default()),
        ]);
    }
    page.section("Needs review and cannot assess", "Never counted as passed.");
    page.table(review);
    page.section("Reception forecast (advisory)", "Predicted engagement percentile among the account's own posts; it never overrides a BLOCK (ENG-3).");
    match answer.get("forecast").filter(|f| !f.is_null()) {
        Some(forecast) => {
            let _ = write!(
                page.body,
                r#"<p class="forecast" id="forecast" data-percentile="{p}">Percentile <strong>{p}</strong> among {n} own posts; fit R² {r2} (cross-validated {cv}, trust: {t}).</p>"#,
                p = forecast["percentile"],
                n = forecast["posts"],
                r2 = forecast["r2"],
                cv = forecast["r2_cv"],
                t = esc(forecast["trust"].as_str().unwrap_or_default()),
            );
            let mut features = Table {
                name: "forecast features".into(),
                header: ["feature", "value", "weight", "contribution"].map(String::from).to_vec(),
                rows: Vec::new(),
            };
            for feature in forecast["features"].as_array().into_iter().flatten() {
                features.rows.push(vec![
                    feature["name"].as_str().unwrap_or_default().to_owned(),
                    feature["value"].to_string(),
                    feature["weight"].to_string(),
                    feature["contribution"].to_string(),
                ]);
            }
            page.table(features);
        }
        None => {
            let _ = write!(
                page.body,
                r#"<p class="empty" id="forecast-unavailable">No forecast: {}</p>"#,
                esc(answer["forecast_unavailable"].as_str().unwrap_or("unavailable"))
            );
        }
    }
    Ok(())
}

fn definitions<B: Backend>(page: &mut Page<'_, B>) {
    let mut table = Table {
        name: "metrics".into(),
        header: [
            "name",
            "label",
            "unit",
            "definition",
            "numerator",
            "denominator",
            "time basis",
            "default scope",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    page.push(r#"<dl class="definitions">"#);
    for metric in metrics::catalogue() {
        let scope = if metric.scope.is_empty() {
            "every row".to_owned()
        } else {
            metric.scope.iter().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(", ")
        };
        let _ = write!(
            page.body,
            r#"<dt id="{n}">{l} <code>{n}</code></dt><dd>{d}<br><small>numerator: {num}; denominator: {den}; time basis: {t}; default scope: {s}; unit: {u}</small></dd>"#,
            n = attr(metric.name),
            l = esc(metric.label),
            d = esc(metric.definition),
            num = esc(metric.numerator),
            den = esc(if metric.denominator.is_empty() { "-" } else { metric.denominator }),
            t = esc(metric.time_basis),
            s = esc(&scope),
            u = esc(metric.unit),
        );
        table.rows.push(vec![
            metric.name.to_owned(),
            metric.label.to_owned(),
            metric.unit.to_owned(),
            metric.definition.to_owned(),
            metric.numerator.to_owned(),
            metric.denominator.to_owned(),
            metric.time_basis.to_owned(),
            scope,
        ]);
    }
    page.push("</dl>");
    page.tables.push(table);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    const SPAN: DataSpan = DataSpan {
        first: NaiveDate::from_ymd_opt(2006, 3, 21).unwrap(),
        last: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    };

    /// Parameters as a URL gives them, resolved as the dashboard resolves them.
    fn resolved(from: Option<&str>, to: Option<&str>, period: Option<&str>) -> PageParams {
        let mut params = PageParams {
            from: from.map(day),
            to: to.map(day),
            period: period.map(str::to_owned),
            platform: Some("x".into()),
            ..PageParams::default()
        };
        params.resolve_period(Some(SPAN)).unwrap();
        params
    }

    #[test]
    fn the_alerts_headline_counts_stored_alerts_and_firing_alerts_apart() {
        let answer = json!({
            "stored": [
                {"id": "1", "status": "open"},
                {"id": "2", "status": "open"},
                {"id": "3", "status": "acknowledged"},
                {"id": "4", "status": "resolved"},
            ],
            "alerts": [
                {"kind": "due-breach", "severity": "critical", "case_id": "A"},
                {"kind": "near-breach", "severity": "warning", "case_id": "A"},
                {"kind": "handoff-breach", "severity": "warning", "case_id": "B"},
                {"kind": "coverage-gap", "severity": "warning", "channel": "x"},
            ],
        });
        let counts = AlertCounts::of(&answer);
        assert_eq!(
            counts,
            AlertCounts {
                open: 2,
                acknowledged: 1,
                resolved: 1,
                stored: 4,
                firing: 4,
                critical: 1,
                rules: 4,
                cases: 2,
                channels: 1,
            }
        );
        let headline = counts.headline();
        assert!(
            headline.contains(
                "<strong>2</strong> stored alerts open (1 acknowledged, 1 resolved) · <strong>4</strong> pharmacovigilance clock and coverage alerts firing now (1 critical; 4 rules, 2 cases, 1 channel)"
            ),
            "{headline}"
        );
        assert!(
            headline.contains(r#"data-stored-open="2""#) && headline.contains(r#"data-firing="4""#)
        );
        // The case of the issue: nothing stored, many clocks firing; each number says what.
        let quiet = AlertCounts::of(
            &json!({"stored": [], "alerts": [{"kind": "due-breach", "severity": "critical", "case_id": "A"}]}),
        );
        assert!(
            quiet.headline().contains("<strong>0</strong> stored alerts open (0 acknowledged, 0 resolved) · <strong>1</strong> pharmacovigilance clock and coverage alert firing now"),
            "{}",
            quiet.headline()
        );
        let many: Vec<Value> =
            (0..STORED_ALERTS_LISTED).map(|_| json!({"status": "open"})).collect();
        let capped = AlertCounts::of(&json!({"stored": many, "alerts": []}));
        assert!(capped.headline().contains("among the newest 500"), "{}", capped.headline());
    }

    #[test]
    fn links_carry_chosen_dates_and_all_time_but_not_the_default_period() {
        let cases = [
            // (from, to, period, query string)
            (None, None, None, "platform=x"),
            (None, None, Some("all"), "period=all&platform=x"),
            (
                Some("2026-01-01"),
                Some("2026-01-31"),
                None,
                "from=2026-01-01&to=2026-01-31&platform=x",
            ),
            (Some("2026-01-01"), None, Some("all"), "from=2026-01-01&platform=x"),
        ];
        for (from, to, period, expected) in cases {
            let params = resolved(from, to, period);
            assert_eq!(params.query_string(), expected, "{from:?} {to:?} {period:?}");
        }
        // The default is in force all the same.
        let default = resolved(None, None, None);
        assert_eq!((default.from, default.to), (Some(day("2026-09-02")), None));
        assert_eq!(default.basis, Basis::LastDays(90));
    }

    #[test]
    fn the_filter_form_offers_both_periods_and_shows_only_chosen_dates() {
        let default = filter_form("/", &resolved(None, None, None), &[]);
        assert!(default.contains(r#"<input type="date" name="from" value="">"#), "{default}");
        assert!(
            default.contains(r#"href="/?period=all&amp;platform=x" id="period-all""#),
            "{default}"
        );
        assert!(
            default.contains(r#"href="/?platform=x" id="period-recent" aria-current="true""#),
            "{default}"
        );
        assert!(!default.contains(r#"name="period""#), "{default}");
        let all = filter_form("/audience", &resolved(None, None, Some("all")), &[]);
        assert!(all.contains(r#"<input type="hidden" name="period" value="all">"#), "{all}");
        assert!(all.contains(r#"id="period-all" aria-current="true""#), "{all}");
        let chosen = filter_form("/", &resolved(Some("2026-01-01"), Some("2026-01-31"), None), &[]);
        assert!(chosen.contains(r#"name="from" value="2026-01-01""#), "{chosen}");
        assert!(chosen.contains(r#"name="to" value="2026-01-31""#), "{chosen}");
        assert!(chosen.contains(r#"<select name="post_type">"#), "{chosen}");
    }

    #[test]
    fn the_filters_line_lists_the_filters_besides_the_period() {
        assert_eq!(describe_filters(&PageParams::default()), "none");
        let params = PageParams { post_type: Some("reply".into()), ..resolved(None, None, None) };
        assert_eq!(describe_filters(&params), "platform=x, post_type=reply");
    }
}
