//! `/api/v1/…`: JSON in, JSON out, errors as `{"error": {"code", "status", "message"}}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query as UrlQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use waterline_analytics::metrics;
use waterline_analytics::query::{self, Answer, Filter, Query};

use crate::auth::{self, Permission, Principal, Role};
use crate::backend::{NewBaseline, NewMilestone, PostsRequest, ReportKind};
use crate::{ApiError, App, Backend};

/// Who is asking: the token's principal, the anonymous loopback reader, or nobody.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` when the server needs a token and the request has no valid one.
    pub principal: Option<Principal>,
    /// A token was sent and is unknown or revoked.
    pub bad_token: bool,
    /// A token was sent and could not be checked now (the state database is busy): the
    /// answer is 503 with `Retry-After`, never 401.
    pub unverified: bool,
    /// An anonymous loopback reader whom the operator lets see authors.
    pub anonymous_authors: bool,
    /// The client's address (`?` when unknown).
    pub origin: String,
    /// `METHOD /path` of the request (for the audit log).
    pub request: String,
    /// Where denied attempts and reads of PV data are recorded.
    state: Option<waterline_store::state::StateDb>,
}

impl Caller {
    /// The principal if it may do this, else `unauthorized` or `forbidden`.
    pub fn require(&self, permission: Permission) -> Result<&Principal, ApiError> {
        let answer = self.check(permission);
        if let Err(error) = &answer {
            self.record_denial(permission, error);
        }
        answer
    }

    /// Records a denied attempt in the audit log: who (as far as known), what was asked,
    /// from where, and why it was refused.
    fn record_denial(&self, permission: Permission, error: &ApiError) {
        let Some(state) = self.state.clone() else { return };
        let actor = match (&self.principal, self.bad_token) {
            (Some(principal), _) => principal.clone(),
            (None, true) => Principal::new("unknown token", None),
            (None, false) => Principal::new("anonymous", None),
        }
        .from_origin(self.origin.clone());
        let target = self.request.clone();
        let detail =
            json!({"permission": permission, "status": error.status, "reason": error.message});
        tokio::spawn(async move {
            if let Err(error) = auth::audit(&state, &actor, "denied", &target, detail).await {
                tracing::warn!("cannot record a denied request: {error}");
            }
        });
    }

    /// Records a read of pharmacovigilance data (a list, a case, an export): who, when,
    /// what and from where.
    pub async fn record_read(
        &self,
        action: &str,
        target: &str,
        detail: Value,
    ) -> Result<(), ApiError> {
        if let (Some(state), Some(principal)) = (&self.state, &self.principal) {
            auth::audit(state, principal, action, target, detail).await?;
        }
        Ok(())
    }

    fn check(&self, permission: Permission) -> Result<&Principal, ApiError> {
        match &self.principal {
            Some(principal) => {
                principal.require(permission)?;
                Ok(principal)
            }
            None if self.unverified => Err(ApiError::new(
                "busy",
                "the token cannot be checked right now; retry after `Retry-After` seconds",
            )),
            None if self.bad_token => {
                Err(ApiError::new("unauthorized", "the token is unknown or revoked"))
            }
            None => Err(ApiError::new(
                "unauthorized",
                "this server needs a token: send `Authorization: Bearer TOKEN` or log in at /login",
            )),
        }
    }

    /// Whether authors must be masked for this caller: viewers, and anonymous readers
    /// unless the operator started the server with `--anonymous-authors`.
    pub fn masks_authors(&self) -> bool {
        !self.principal.as_ref().is_some_and(|p| {
            p.may(Permission::ReadAuthors) || (p.role.is_none() && self.anonymous_authors)
        })
    }
}

impl<B: Backend> FromRequestParts<Arc<App<B>>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App<B>>) -> Result<Caller, ApiError> {
        let origin = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "?".to_owned(), |info| info.0.to_string());
        let request = format!("{} {}", parts.method, parts.uri.path());
        let mut caller = caller(app, &parts.headers).await;
        caller.principal = caller.principal.map(|p| p.from_origin(origin.clone()));
        caller.origin = origin;
        caller.request = request;
        Ok(caller)
    }
}

/// The caller of a request with these headers.
pub async fn caller<B: Backend>(app: &App<B>, headers: &HeaderMap) -> Caller {
    let nobody = Caller {
        principal: None,
        bad_token: false,
        unverified: false,
        anonymous_authors: app.options.anonymous_authors,
        origin: "?".to_owned(),
        request: String::new(),
        state: Some(app.backend.state().clone()),
    };
    match auth::token_of(headers) {
        Some(token) if token.is_empty() => Caller { bad_token: true, ..nobody },
        Some(token) => match app.tokens.verify(app.backend.state(), &token).await {
            Ok(Some(principal)) => Caller { principal: Some(principal), ..nobody },
            Ok(None) => Caller { bad_token: true, ..nobody },
            Err(error) => {
                tracing::error!("cannot verify a token: {error}");
                Caller { unverified: true, ..nobody }
            }
        },
        None if app.options.require_token => nobody,
        None => Caller { principal: Some(Principal::local()), ..nobody },
    }
}

/// Reads a JSON body, answering `bad_request` with the reason.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        ApiError::bad_request(format!("invalid JSON body at `{}`: {}", error.path(), error.inner()))
    })
}

/// `GET /api/v1/health`.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

/// The 404 of unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint (the API is described at /api/v1/openapi.json)")
}

/// The 405 of known paths with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new("method_not_allowed", "this endpoint does not take this method")
}

/// `GET /api/v1/whoami`.
pub async fn whoami<B: Backend>(State(app): State<Arc<App<B>>>, caller: Caller) -> Json<Value> {
    let role = caller.principal.as_ref().and_then(|p| p.role).map(Role::name);
    Json(json!({
        "actor": caller.principal.as_ref().map(|p| p.actor.clone()),
        "role": role,
        "authenticated": caller.principal.is_some(),
        "token_required": app.options.require_token,
        "masked_authors": caller.masks_authors(),
    }))
}

#[derive(Debug, Deserialize)]
struct Login {
    token: String,
}

/// `POST /api/v1/login {"token"}`: checks the token and sets it as an HttpOnly cookie.
pub async fn login<B: Backend>(
    State(app): State<Arc<App<B>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let login: Login = json_body(&body)?;
    let Some(principal) = app.tokens.verify(app.backend.state(), login.token.trim()).await? else {
        return Err(ApiError::new("unauthorized", "the token is unknown or revoked"));
    };
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000",
        auth::COOKIE,
        login.token.trim()
    );
    let mut response =
        Json(json!({"actor": principal.actor, "role": principal.role})).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /api/v1/logout`: clears the cookie.
pub async fn logout() -> Response {
    let mut response = Json(json!({"logged_out": true})).into_response();
    let cookie = format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", auth::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /api/v1/status`.
pub async fn status<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let status = app.backend.status().await?;
    Ok(Json(serde_json::to_value(status).map_err(ApiError::internal)?))
}

/// `GET /api/v1/metrics`: the catalogue and the dimensions.
pub async fn metrics<B: Backend>(caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let dimensions: Vec<Value> = query::DIMENSIONS
        .iter()
        .map(|(name, meaning)| json!({"name": name, "meaning": meaning}))
        .collect();
    Ok(Json(json!({"metrics": metrics::catalogue(), "dimensions": dimensions})))
}

/// A filter as a string (`platform=x,bluesky`, `side!=own`) or as an object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FilterSpec {
    Text(String),
    Object(Filter),
}

/// The body of `POST /api/v1/query`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    metrics: Vec<String>,
    #[serde(default)]
    by: Vec<String>,
    #[serde(default, rename = "where")]
    filters: Vec<FilterSpec>,
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
    #[serde(default)]
    limit: Option<usize>,
}

impl QueryBody {
    /// The query it asks.
    pub fn into_query(self) -> Result<Query, ApiError> {
        if self.metrics.is_empty() {
            return Err(ApiError::new(
                "invalid_query",
                "name at least one metric (GET /api/v1/metrics)",
            ));
        }
        for (day, what) in [(self.from, "from"), (self.to, "to")] {
            if let Some(day) = day {
                waterline_app::limits::check_day(day, what)?;
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            return Err(ApiError::bad_request(format!("`to` ({to}) is before `from` ({from})")));
        }
        let filters = self
            .filters
            .into_iter()
            .map(|spec| match spec {
                FilterSpec::Text(text) => Filter::parse(&text).map_err(ApiError::from),
                FilterSpec::Object(filter) => Ok(filter),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Query {
            metrics: self.metrics,
            by: self.by,
            filters,
            from: self.from,
            to: self.to,
            limit: self.limit,
            parts: false,
        })
    }
}

/// The JSON answer of a query (the shape of `waterline query --json`).
pub fn answer_json(query: &Query, answer: &Answer, time_zone: &str) -> Value {
    json!({
        "dimensions": answer.dimensions,
        "metrics": answer.metrics,
        "from": query.from,
        "to": query.to,
        "time_zone": time_zone,
        "where": query.filters.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "rows": answer.objects(),
        "definitions": metrics::definitions(&answer.metrics),
        "notes": answer.notes,
    })
}

/// `POST /api/v1/query`.
pub async fn query<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let request: QueryBody = json_body(&body)?;
    let query = request.into_query()?;
    let answer = app.backend.query(query.clone()).await?;
    let mut value = answer_json(&query, &answer, &app.backend.time_zone());
    if caller.masks_authors() && query.by.iter().any(|by| by == "account") {
        let salt = app.backend.pseudonym_salt().await?;
        crate::pseudo::pseudonymise_column(&salt, &mut value["rows"], "account");
    }
    Ok(Json(value))
}

/// The period and sharing parameters of report and page URLs.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodParams {
    /// First local day.
    #[serde(default, deserialize_with = "empty_date")]
    pub from: Option<NaiveDate>,
    /// Last local day.
    #[serde(default, deserialize_with = "empty_date")]
    pub to: Option<NaiveDate>,
    /// Mask authors (`1`, `true`).
    #[serde(default)]
    pub pseudonymise: Option<String>,
    /// Only these topics: an id (`#12`), a whole name, or words of the label; several
    /// separated by commas.
    #[serde(default)]
    pub topic: Option<String>,
}

/// A date that may be given empty (an HTML form's blank field).
pub fn empty_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(day) => {
            let day = day.chars().take(40).collect::<String>();
            let parsed = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| {
                serde::de::Error::custom(format!("`{day}` is not a YYYY-MM-DD date"))
            })?;
            waterline_app::limits::check_day(parsed, "date")
                .map_err(|error| serde::de::Error::custom(error.message))?;
            Ok(Some(parsed))
        }
    }
}

/// Whether a `pseudonymise` parameter asks for it.
pub fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true" | "yes" | "on"))
}

/// `GET /api/v1/reports/{kind}?from&to&pseudonymise`.
pub async fn report<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(kind): Path<String>,
    params: Result<UrlQuery<PeriodParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if kind == "share-of-voice" {
        return Ok(Json(share_of_voice(&app, params.from, params.to).await?));
    }
    let Some(kind) = ReportKind::parse(&kind) else {
        return Err(ApiError::not_found(format!(
            "no report `{kind}` (listening, gap, audit, share-of-voice; any other figure is a query: POST /api/v1/query)"
        )));
    };
    let shared = app.backend.report(kind, params.from, params.to, params.topic.clone()).await?;
    let mut value = Value::clone(&shared);
    if caller.masks_authors() || flag(params.pseudonymise.as_deref()) {
        crate::pseudo::pseudonymise(&app.backend.pseudonym_salt().await?, &mut value);
    }
    Ok(Json(value))
}

/// The share-of-voice report: the panel's shares and mentions per week (two queries).
async fn share_of_voice<B: Backend>(
    app: &App<B>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Value, ApiError> {
    let panel = Query {
        metrics: [
            "mentions",
            "share_of_voice_mentions",
            "share_of_voice_engagement",
            "share_of_voice_positive",
            "share_of_voice_negative",
            "net_sentiment",
        ]
        .map(String::from)
        .to_vec(),
        by: vec!["panel".into()],
        from,
        to,
        ..Query::default()
    };
    let weekly = Query {
        metrics: vec!["mentions".into()],
        by: vec!["week".into(), "panel".into()],
        from,
        to,
        ..Query::default()
    };
    let zone = app.backend.time_zone();
    let panel_answer = app.backend.query(panel.clone()).await?;
    let weekly_answer = app.backend.query(weekly.clone()).await?;
    Ok(json!({
        "panel": answer_json(&panel, &panel_answer, &zone),
        "weekly": answer_json(&weekly, &weekly_answer, &zone),
    }))
}

/// The parameters of `GET /api/v1/posts`.
#[derive(Debug, Default, Deserialize)]
pub struct PostsParams {
    #[serde(default, deserialize_with = "empty_date")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_date")]
    to: Option<NaiveDate>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    side: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    sentiment: Option<String>,
    #[serde(default)]
    need: Option<String>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    unanswered: Option<String>,
    #[serde(default)]
    inbound: Option<String>,
    #[serde(default)]
    interacting: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    post_type: Option<String>,
    #[serde(default)]
    page: Option<u64>,
    #[serde(default)]
    per_page: Option<u64>,
    #[serde(default)]
    pseudonymise: Option<String>,
}

/// Filters from optional `field=a,b` parameters (blank ones ignored).
pub fn filters_of(fields: &[(&str, Option<&str>)]) -> Vec<Filter> {
    fields
        .iter()
        .filter_map(|(field, value)| {
            let value = (*value)?.trim();
            (!value.is_empty()).then(|| Filter {
                field: (*field).to_owned(),
                negate: false,
                values: value
                    .split(',')
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect(),
            })
        })
        .collect()
}

/// `GET /api/v1/posts`: newest first, with enrichments, paginated.
pub async fn posts<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    params: Result<UrlQuery<PostsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let per_page = params.per_page.unwrap_or(50);
    let page = params.page.unwrap_or(1);
    waterline_app::limits::check_page(page, per_page)?;
    let request = PostsRequest {
        from: params.from,
        to: params.to,
        filters: filters_of(&[
            ("platform", params.platform.as_deref()),
            ("side", params.side.as_deref()),
            ("language", params.language.as_deref()),
            ("sentiment", params.sentiment.as_deref()),
            ("need", params.need.as_deref()),
            ("topic", params.topic.as_deref()),
            ("account", params.account.as_deref()),
            ("post_type", params.post_type.as_deref()),
        ]),
        text: params.q.filter(|q| !q.trim().is_empty()),
        unanswered: flag(params.unanswered.as_deref()),
        inbound: flag(params.inbound.as_deref()),
        interacting: flag(params.interacting.as_deref()),
        page,
        per_page,
    };
    let mut value = app.backend.posts(request).await?;
    if caller.masks_authors() || flag(params.pseudonymise.as_deref()) {
        crate::pseudo::pseudonymise(&app.backend.pseudonym_salt().await?, &mut value);
    }
    Ok(Json(value))
}

/// `POST /api/v1/ingest`: JSON lines in any supported format, imported as one run.
pub async fn ingest<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(Permission::Ingest)?.clone();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new("unprocessable", "the body is empty: send JSON lines"));
    }
    // Recorded in the audit log by the application layer, before the body is filed away.
    let outcome = app.backend.ingest(body.to_vec(), principal).await?;
    if let Ok(Some(version)) = app.backend.refresh().await {
        app.live.publish(version);
    }
    Ok((StatusCode::OK, Json(outcome)))
}

/// `GET /api/v1/baselines`.
pub async fn baselines<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(json!(app.backend.baselines().await?)))
}

/// `POST /api/v1/baselines {"name", "from", "to", "where"}`.
pub async fn create_baseline<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(Permission::Measure)?.clone();
    let baseline: NewBaseline = json_body(&body)?;
    if baseline.name.trim().is_empty() {
        return Err(ApiError::bad_request("a baseline needs a name"));
    }
    if baseline.to < baseline.from {
        return Err(ApiError::bad_request("`to` is before `from`"));
    }
    // The audit row commits with the baseline, in the application layer.
    let value = app.backend.create_baseline(baseline, principal).await?;
    Ok((StatusCode::CREATED, Json(value)))
}

/// `DELETE /api/v1/baselines/{name}`.
pub async fn delete_baseline<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let principal = caller.require(Permission::Measure)?.clone();
    app.backend.delete_baseline(name, principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct CompareParams {
    #[serde(default, deserialize_with = "empty_date")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_date")]
    to: Option<NaiveDate>,
}

/// `GET /api/v1/baselines/{name}/compare?from&to`.
pub async fn compare<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(name): Path<String>,
    params: Result<UrlQuery<CompareParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (Some(from), Some(to)) = (params.from, params.to) else {
        return Err(ApiError::bad_request(
            "`from` and `to` (YYYY-MM-DD) give the period to compare",
        ));
    };
    if to < from {
        return Err(ApiError::bad_request("`to` is before `from`"));
    }
    Ok(Json(json!(app.backend.compare(name, from, to).await?)))
}

/// `GET /api/v1/milestones`: the status of each.
pub async fn milestones<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(json!(*app.backend.milestones().await?)))
}

/// `POST /api/v1/milestones`.
pub async fn add_milestone<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(Permission::Measure)?.clone();
    let milestone: NewMilestone = json_body(&body)?;
    if milestone.name.trim().is_empty() {
        return Err(ApiError::bad_request("a milestone needs a name"));
    }
    let detail = serde_json::to_value(&milestone).unwrap_or_default();
    app.backend.add_milestone(milestone, principal).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// `DELETE /api/v1/milestones/{name}`.
pub async fn remove_milestone<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let principal = caller.require(Permission::Measure)?.clone();
    app.backend.remove_milestone(name, principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The page of `GET /api/v1/alerts`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsParams {
    #[serde(default)]
    page: Option<u64>,
    #[serde(default)]
    per_page: Option<u64>,
}

/// The clock and coverage alerts of one `GET /api/v1/alerts` answer, unless `per_page` says
/// otherwise (tens of thousands fire on an unworked queue; the CSV export has them all).
pub const ALERTS_PER_PAGE: u64 = 500;

/// `GET /api/v1/alerts`: the stored alerts (`stored`, newest first, each explained, with
/// who acknowledged and resolved it), one page of the PV clock and coverage alerts firing
/// now (`alerts`, most urgent first, `?page=` and `?per_page=` up to 1,000, with
/// `total_alerts`), and the rules in force.
pub async fn alerts<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    params: Result<UrlQuery<AlertsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let page = params.page.unwrap_or(1);
    let per_page = params.per_page.unwrap_or(ALERTS_PER_PAGE);
    waterline_app::limits::check_page(page, per_page)?;
    let mut value = app.backend.alerts(Some((page, per_page))).await?;
    if caller.masks_authors() {
        crate::pseudo::pseudonymise(&app.backend.pseudonym_salt().await?, &mut value);
    }
    Ok(Json(value))
}

/// `GET /api/v1/alerts/{id}`: one stored alert with its webhook deliveries.
pub async fn alert<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let state = app.backend.state();
    let Some(row) = state.alert(&id).await.map_err(ApiError::internal)? else {
        return Err(ApiError::not_found(format!("no alert `{id}`")));
    };
    let mut answer = waterline_app::alerts::alert_json(&row);
    answer["deliveries"] = json!(state.deliveries(&id).await.map_err(ApiError::internal)?);
    if caller.masks_authors() {
        crate::pseudo::pseudonymise(&app.backend.pseudonym_salt().await?, &mut answer);
    }
    Ok(Json(answer))
}

/// The body of an acknowledgement or a resolution.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    /// Why, or what was done.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/alerts/{id}/acknowledge`: someone is on it (who and when are kept).
pub async fn acknowledge_alert<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<AlertNote>>,
) -> Result<Json<Value>, ApiError> {
    alert_action(app, caller, id, body.map(|Json(body)| body).unwrap_or_default(), false).await
}

/// `POST /api/v1/alerts/{id}/resolve`: it is dealt with (who and when are kept).
pub async fn resolve_alert<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<AlertNote>>,
) -> Result<Json<Value>, ApiError> {
    alert_action(app, caller, id, body.map(|Json(body)| body).unwrap_or_default(), true).await
}

async fn alert_action<B: Backend>(
    app: Arc<App<B>>,
    caller: Caller,
    id: String,
    body: AlertNote,
    resolve: bool,
) -> Result<Json<Value>, ApiError> {
    let principal = caller.require(Permission::Alerts)?.clone();
    let alert = waterline_app::alerts::act(
        app.backend.state(),
        &principal,
        &id,
        body.note.as_deref(),
        resolve,
    )
    .await?;
    Ok(Json(alert))
}

/// `GET /api/v1/sources`: each live source's state, counters and cursor.
pub async fn sources<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(app.backend.sources().await?))
}

/// The parameters of `GET /api/v1/pv/cases`.
#[derive(Debug, Deserialize)]
pub struct PvListParams {
    /// `1`: closed cases too.
    #[serde(default)]
    pub all: Option<String>,
}

/// `GET /api/v1/pv/cases?all=1`.
pub async fn pv_cases<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    params: Result<UrlQuery<PvListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Pharmacovigilance)?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let all = flag(params.all.as_deref());
    let queue = app.backend.pv_queue(all).await?;
    let cases = queue["cases"].as_array().map_or(0, Vec::len);
    caller.record_read("pv.list", "queue", json!({"closed_too": all, "cases": cases})).await?;
    Ok(Json(queue))
}

fn role_name(principal: &Principal) -> String {
    principal.role.map_or("local", Role::name).to_owned()
}

/// `GET /api/v1/pv/cases/{id}`: the case and its log; opening it is recorded (AUD-2).
pub async fn pv_case<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let principal = caller.require(Permission::Pharmacovigilance)?.clone();
    let viewer = (principal.actor.clone(), role_name(&principal));
    let case = app.backend.pv_case(id.clone(), Some(viewer)).await?;
    caller.record_read("pv.view", &id, json!({})).await?;
    Ok(Json(case))
}

/// `POST /api/v1/pv/cases/{id}/actions`: one reviewer action, logged twice: in the case's
/// event log and in the audit log.
pub async fn pv_act<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let principal = caller.require(Permission::Pharmacovigilance)?.clone();
    let request: Value = json_body(&body)?;
    let case = app
        .backend
        .pv_act(id.clone(), principal.actor.clone(), role_name(&principal), request.clone())
        .await?;
    let action = request.get("action").and_then(Value::as_str).unwrap_or("?").to_owned();
    auth::audit(app.backend.state(), &principal, &format!("pv.{action}"), &id, request).await?;
    Ok(Json(case))
}

/// The parameters of `GET /api/v1/pv/export`.
#[derive(Debug, Deserialize)]
pub struct PvExportParams {
    /// `csv` or `json`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /api/v1/pv/export?format=csv|json`.
pub async fn pv_export<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    params: Result<UrlQuery<PvExportParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = caller.require(Permission::Pharmacovigilance)?.clone();
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let format = params.format.unwrap_or_else(|| "csv".into());
    let (kind, body) = app.backend.pv_export(format.clone()).await?;
    auth::audit(app.backend.state(), &principal, "pv.export", "queue", json!({"format": format}))
        .await?;
    let name = if kind.starts_with("text/csv") { "waterline-pv.csv" } else { "waterline-pv.json" };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .map_err(ApiError::internal)?,
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/v1/pv/reconciliation`.
pub async fn pv_reconcile<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Pharmacovigilance)?;
    let report = app.backend.pv_reconcile().await?;
    caller.record_read("pv.reconciliation", "queue", json!({})).await?;
    Ok(Json(report))
}

/// `GET /api/v1/pv/coverage`.
pub async fn coverage<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(app.backend.coverage().await?))
}

/// `GET /api/v1/tokens`.
pub async fn tokens<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let principal = caller.require(Permission::Admin)?;
    Ok(Json(
        json!({"tokens": waterline_app::access::tokens(app.backend.state(), principal).await?}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: String,
}

/// `POST /api/v1/tokens {"name", "role"}`: the token is in the answer, once.
pub async fn create_token<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(Permission::Admin)?.clone();
    let request: NewToken = json_body(&body)?;
    let issued = waterline_app::access::issue_token(
        app.backend.state(),
        &principal,
        &request.name,
        &request.role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

/// `DELETE /api/v1/tokens/{id}`.
pub async fn revoke_token<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let principal = caller.require(Permission::Admin)?.clone();
    waterline_app::access::revoke(app.backend.state(), &principal, &id).await?;
    app.tokens.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct AuditParams {
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/v1/audit?limit`: the latest writes, newest first.
pub async fn audit_log<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    UrlQuery(params): UrlQuery<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let principal = caller.require(Permission::Admin)?;
    let limit = params.limit.unwrap_or(200);
    let entries =
        waterline_app::access::audit_entries(app.backend.state(), principal, limit).await?;
    Ok(Json(json!({"entries": entries})))
}

/// `POST /api/v1/drafts/check`: the compliance check and the reception forecast of a draft.
pub async fn check_draft<B: Backend>(
    State(app): State<Arc<App<B>>>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let draft: Value = json_body(&body)?;
    Ok(Json(app.backend.check_draft(draft).await?))
}
