//! The pharmacovigilance triage queue (PHARMA.md PV-1 to PV-16, AUD-1 to AUD-3, SCOPE-1,
//! SCOPE-2): screening posts into cases, the reviewers' actions, clocks, alerts, exports,
//! reconciliation and owned-channel coverage. The case state is always rebuilt from the
//! append-only event log in the state database (`waterline_model::pv`).

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use waterline_enrich::pv::{Context, Detection, Detector, Presence, Span};
use waterline_model::config::normalise_handle;
use waterline_model::pv::{
    self, Action, Calendar, CapturedPost, Case, Clocks, Event, PvAlert, Status,
};
use waterline_model::{Config, Post, Side};
use waterline_store::state::{PvEventRow, PvReceipt, StateDb};

/// Who acts on the queue.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Name (a token's name, or the local user on the command line).
    pub name: String,
    /// Role (`pv-reviewer`, `admin`, `cli`, `system`).
    pub role: String,
}

impl Actor {
    /// The detector.
    pub fn system() -> Actor {
        Actor { name: "waterline".into(), role: "system".into() }
    }

    /// The person at the command line: the operating-system user, with the name they
    /// declare in `WATERLINE_USER` after it ([`crate::access::cli_actor`]).
    pub fn local() -> Actor {
        Actor { name: crate::access::cli_actor(), role: "cli".into() }
    }
}

/// An owned channel registered for screening and coverage (SCOPE-1, SCOPE-3).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ChannelRule {
    /// Name for people.
    pub name: String,
    /// `social`, `website`, `forum`, `app`…
    pub kind: String,
    /// Platform (lower case).
    pub platform: String,
    /// Account on that platform (normalised), or every post of the platform.
    pub handle: Option<String>,
}

/// The owned channels of a workspace: its accounts and `[pharmacovigilance] channels`.
pub fn channels(config: &Config) -> Vec<ChannelRule> {
    let mut channels = Vec::new();
    for (platform, handles) in &config.accounts {
        for handle in handles {
            channels.push(ChannelRule {
                name: format!("{platform}/@{}", normalise_handle(handle)),
                kind: "social".into(),
                platform: platform.to_lowercase(),
                handle: Some(normalise_handle(handle)),
            });
        }
    }
    for channel in &config.pharmacovigilance.channels {
        channels.push(ChannelRule {
            name: channel.name.clone(),
            kind: channel.kind.clone(),
            platform: channel.platform.to_lowercase(),
            handle: channel.handle.as_deref().map(normalise_handle),
        });
    }
    channels
}

/// A post the detector flagged, ready to become a case.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `platform:id`.
    pub post_key: String,
    /// The case id.
    pub case_id: String,
    /// The post as captured.
    pub post: CapturedPost,
    /// What the detector said.
    pub detection: Detection,
    /// Posted on an owned channel (day zero = publication, PV-4).
    pub owned: bool,
    /// `platform:id` keys of posts this one repeats (near-duplicate leader, quoted or
    /// reposted post), for linking (PV-13).
    pub related: Vec<String>,
    /// No text, only media: queued for a person (PV-16).
    pub media_only: bool,
}

/// The optional encoder layer of the detector (`[pharmacovigilance] encoder`,
/// docs/adr/011-optional-sentence-encoder.md, docs/adr/013-fine-tuned-adverse-event-classifier.md):
/// the shipped model with either the shipped encoder head over a sentence encoder, or the
/// thresholds of a fine-tuned classifier (a folder written by `waterline train
/// adverse-events-classifier`), and that encoder (a build with `--features encoder`).
pub struct EncoderLayer {
    detector: Detector,
    #[cfg(feature = "encoder")]
    reader: Reader,
}

/// What gives the encoder layer's P(relevant).
#[cfg(feature = "encoder")]
enum Reader {
    /// A sentence encoder; the shipped head reads its embedding.
    Encoder(waterline_enrich::encoder::Encoder),
    /// A fine-tuned classifier.
    Classifier(waterline_enrich::finetune::Classifier),
}

impl EncoderLayer {
    /// Loads the folder: a fine-tuned classifier with its thresholds, or a sentence encoder
    /// with the shipped head.
    #[cfg(feature = "encoder")]
    pub fn load(folder: &std::path::Path) -> Result<EncoderLayer> {
        let model = waterline_enrich::pv::model::Model::from_bytes(
            waterline_enrich::models::ADVERSE_EVENTS_MODEL,
        )?;
        if waterline_enrich::pv::finetuned::is_fine_tuned(folder) {
            let (classifier, head) = waterline_enrich::pv::finetuned::load(folder)
                .with_context(|| format!("the fine-tuned classifier in `{}`", folder.display()))?;
            return Ok(EncoderLayer {
                detector: Detector::with_model(model).with_head(head),
                reader: Reader::Classifier(classifier),
            });
        }
        let head = waterline_enrich::pv::head::Head::from_bytes(
            waterline_enrich::models::ADVERSE_EVENTS_ENCODER_HEAD,
        )?;
        let encoder = waterline_enrich::encoder::Encoder::load(folder)
            .with_context(|| format!("the sentence encoder in `{}`", folder.display()))?;
        if encoder.dims() != head.dims() {
            bail!(
                "the sentence encoder in `{}` gives {} dimensions; the shipped head was trained on {}",
                folder.display(),
                encoder.dims(),
                head.dims()
            );
        }
        Ok(EncoderLayer {
            detector: Detector::with_model(model).with_head(head),
            reader: Reader::Encoder(encoder),
        })
    }

    /// Without the `encoder` feature the layer cannot load.
    #[cfg(not(feature = "encoder"))]
    pub fn load(folder: &std::path::Path) -> Result<EncoderLayer> {
        bail!(
            "[pharmacovigilance] encoder = `{}` needs a binary built with `--features encoder` (docs/adr/011-optional-sentence-encoder.md)",
            folder.display()
        )
    }

    /// The process-wide layer for the configured folder, loaded once; an error is logged
    /// once and the fast detector screens alone (each case records which detector read it).
    fn shared(folder: &str) -> Option<&'static EncoderLayer> {
        static LAYER: std::sync::OnceLock<Option<EncoderLayer>> = std::sync::OnceLock::new();
        LAYER
            .get_or_init(|| match EncoderLayer::load(std::path::Path::new(folder)) {
                Ok(layer) => Some(layer),
                Err(error) => {
                    tracing::error!("the detector's encoder layer is off: {error:#}");
                    None
                }
            })
            .as_ref()
    }

    /// Reads a text: the fast detector first; when it neither routes the text on a flag nor
    /// neutralises it, and the text is English, the mixed score decides.
    pub fn detect(&self, text: &str, context: &Context<'_>) -> Detection {
        let fast = self.detector.detect(text, context);
        if !self.detector.wants_embedding(context.language) {
            return fast;
        }
        let routed =
            fast.flags.iter().any(|flag| waterline_enrich::pv::lexicon::routes(flag.category));
        if routed || waterline_enrich::pv::lexicon::analyse(text).neutral {
            return fast;
        }
        match self.probability(text) {
            Some(probability) => {
                self.detector.detect_with_probability(text, context, Some(probability))
            }
            None => fast,
        }
    }

    /// The encoder layer's P(relevant) for a text (None when the model run failed: logged).
    #[cfg(feature = "encoder")]
    fn probability(&self, text: &str) -> Option<f32> {
        let result = match &self.reader {
            Reader::Encoder(encoder) => encoder.embed(&[text]).map(|mut embeddings| {
                let head = self.detector.head()?;
                Some(head.probability(&embeddings.pop()?))
            }),
            Reader::Classifier(classifier) => {
                waterline_enrich::pv::finetuned::relevance(classifier, &[text])
                    .map(|probabilities| probabilities.first().copied())
            }
        };
        match result {
            Ok(probability) => probability,
            Err(error) => {
                tracing::warn!("the detector's encoder layer: {error}");
                None
            }
        }
    }

    #[cfg(not(feature = "encoder"))]
    fn probability(&self, _text: &str) -> Option<f32> {
        None
    }
}

/// Decides which posts become cases.
pub struct Screener {
    detector: &'static Detector,
    encoder: Option<&'static EncoderLayer>,
    channels: Vec<ChannelRule>,
    products: Vec<(String, Vec<String>)>,
    enabled: bool,
}

impl Screener {
    /// The screener of a workspace.
    pub fn new(config: &Config) -> Screener {
        let products = config
            .products
            .iter()
            .map(|product| {
                let mut names = vec![product.name.to_lowercase()];
                names.extend(product.inns.iter().map(|inn| inn.to_lowercase()));
                names.extend(product.aliases.iter().map(|alias| alias.to_lowercase()));
                (product.name.clone(), names)
            })
            .collect();
        Screener {
            detector: Detector::shipped(),
            encoder: config.pharmacovigilance.encoder.as_deref().and_then(EncoderLayer::shared),
            channels: channels(config),
            products,
            enabled: config.pharmacovigilance.enabled,
        }
    }

    /// Whether screening is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The owned channel a post belongs to: replies to an owned account, posts on a
    /// registered channel's platform (and account). The brand's own posts are not reports.
    fn channel(&self, post: &Post) -> Option<&ChannelRule> {
        if post.side == Some(Side::Own) {
            return None;
        }
        let platform = post.platform.to_lowercase();
        let replied = post.reply_to_author.as_deref().map(normalise_handle);
        self.channels.iter().find(|channel| {
            channel.platform == platform
                && match &channel.handle {
                    None => channel.kind != "social",
                    Some(handle) => replied.as_deref() == Some(handle.as_str()),
                }
        })
    }

    /// Screens one enriched post (PV-1): posts naming a company product anywhere, and
    /// every audience post on an owned channel (SCOPE-1). Competitor-only posts are not
    /// screened (PHARMA.md b.3).
    pub fn screen(&self, post: &Post) -> Option<Candidate> {
        if !self.enabled || post.side == Some(Side::Own) {
            return None;
        }
        let named = named_products(post);
        let channel = self.channel(post);
        if named.is_empty() && channel.is_none() {
            return None;
        }
        let detection = self.read(post, &named);
        let bare = waterline_enrich::analysed(&post.text)
            .split_whitespace()
            .filter(|word| !word.starts_with("http") && !word.starts_with('@'))
            .count()
            == 0;
        let media_only = channel.is_some() && bare && post.media_count > 0;
        if !detection.relevant && !media_only {
            return None;
        }
        let mut related = Vec::new();
        if let Some(leader) = post.annotations.as_deref().and_then(|a| a.duplicate_of.as_ref())
            && *leader != post.id
        {
            related.push(format!("{}:{leader}", post.platform));
        }
        for other in [&post.quote_of, &post.repost_of].into_iter().flatten() {
            related.push(format!("{}:{other}", post.platform));
        }
        Some(candidate(post, channel, &named, detection, related, media_only))
    }

    /// A case a person opens for a post the screening did not flag (SCOPE-4, ML-4): the
    /// detector's evidence is kept, the person's categories are added.
    pub fn by_hand(&self, post: &Post, categories: &[waterline_enrich::pv::Category]) -> Candidate {
        let channel = if post.side == Some(Side::Own) { None } else { self.channel(post) };
        let named = named_products(post);
        let text = waterline_enrich::analysed(&post.text);
        let mut detection = self.read(post, &named);
        for category in categories {
            if !detection.flags.iter().any(|flag| flag.category == *category) {
                detection.flags.push(waterline_enrich::pv::Flag {
                    category: *category,
                    span: Span { start: 0, end: text.len(), text: text.to_owned() },
                    detail: Some("declared by a person".into()),
                });
            }
        }
        detection.relevant = true;
        candidate(post, channel, &named, detection, Vec::new(), false)
    }

    /// The detector's reading of a post that names these products (none: read as about a
    /// product, the detector's evaluation mode).
    fn read(&self, post: &Post, named: &[&str]) -> Detection {
        let text = waterline_enrich::analysed(&post.text);
        let context = Context {
            language: language_of(post).unwrap_or("und"),
            author: post.author_handle.as_deref(),
            products: self.product_spans(text, named),
        };
        match self.encoder {
            Some(layer) => layer.detect(text, &context),
            None => self.detector.detect(text, &context),
        }
    }

    /// Whether a post is in the screening's scope (names a product, or sits on an owned
    /// channel), whatever the detector says.
    pub fn in_scope(&self, post: &Post) -> bool {
        if !self.enabled || post.side == Some(Side::Own) {
            return false;
        }
        let names_product = post.annotations.as_deref().is_some_and(|annotations| {
            annotations.entities.iter().any(|entity| entity.starts_with("product:"))
        });
        names_product || self.channel(post).is_some()
    }

    fn product_spans(&self, text: &str, named: &[&str]) -> Vec<Span> {
        let lower = text.to_lowercase();
        if lower.len() != text.len() {
            return Vec::new();
        }
        let mut spans = Vec::new();
        for (name, terms) in &self.products {
            if !named.contains(&name.as_str()) {
                continue;
            }
            for term in terms {
                if let Some(start) = lower.find(term.as_str()) {
                    let end = start + term.len();
                    if text.is_char_boundary(start) && text.is_char_boundary(end) {
                        spans.push(Span { start, end, text: text[start..end].to_owned() });
                        break;
                    }
                }
            }
        }
        spans
    }
}

/// The company products a post names (from the entity annotations).
fn named_products(post: &Post) -> Vec<&str> {
    post.annotations
        .as_deref()
        .map(|annotations| {
            annotations.entities.iter().filter_map(|e| e.strip_prefix("product:")).collect()
        })
        .unwrap_or_default()
}

fn language_of(post: &Post) -> Option<&str> {
    post.annotations.as_deref().and_then(|annotations| annotations.language.as_deref())
}

/// A candidate case for a post and what the detector said.
fn candidate(
    post: &Post,
    channel: Option<&ChannelRule>,
    named: &[&str],
    detection: Detection,
    related: Vec<String>,
    media_only: bool,
) -> Candidate {
    let post_key = format!("{}:{}", post.platform, post.id);
    Candidate {
        case_id: pv::case_id(&post_key),
        post_key,
        post: CapturedPost {
            platform: post.platform.clone(),
            id: post.id.clone(),
            url: post.url.clone(),
            author: post.author_handle.clone(),
            text: post.text.clone(),
            posted_at: post.created_at,
            language: language_of(post).map(str::to_owned),
            channel: channel.map(|channel| channel.name.clone()),
            products: named.iter().map(|name| (*name).to_owned()).collect(),
            media_count: post.media_count,
        },
        detection,
        owned: channel.is_some(),
        related,
        media_only,
    }
}

/// Opens cases for candidates not seen before (one transaction each); returns how many
/// were opened. Related posts that already have a case link the new one (PV-13).
pub async fn capture(
    state: &StateDb,
    candidates: Vec<Candidate>,
    known: &mut HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<u64> {
    capture_as(state, candidates, known, now, &Actor::system(), None).await
}

/// [`capture`] by someone, with a reason that becomes day zero's basis.
async fn capture_as(
    state: &StateDb,
    candidates: Vec<Candidate>,
    known: &mut HashMap<String, String>,
    now: DateTime<Utc>,
    actor: &Actor,
    reason: Option<&str>,
) -> Result<u64> {
    let mut captures = Vec::new();
    for candidate in candidates {
        if known.contains_key(&candidate.post_key) {
            continue;
        }
        let duplicate_of = candidate.related.iter().find_map(|key| known.get(key).cloned());
        let (day_zero, mut basis) = if candidate.owned {
            (candidate.post.posted_at.min(now), "posted on an owned channel (PV-4)".to_owned())
        } else {
            (now, "captured by screening (earliest access on our side)".to_owned())
        };
        if let Some(reason) = reason {
            if !candidate.owned {
                basis = format!("opened by {} (first awareness)", actor.name);
            }
            basis = format!("{basis}; opened by hand: {reason}");
        }
        let mut categories: Vec<String> = candidate
            .detection
            .categories()
            .into_iter()
            .map(|category| category.code().to_owned())
            .collect();
        if candidate.media_only {
            categories.push("MEDIA".into());
        }
        let action = Action::Captured {
            serious: candidate.detection.serious(),
            detection: serde_json::to_value(&candidate.detection)?,
            post: Box::new(candidate.post),
            model: candidate.detection.model.clone(),
            score: candidate.detection.score,
            categories,
            day_zero,
            day_zero_basis: basis,
            duplicate_of,
        };
        let event = new_event(&candidate.case_id, actor, action, now);
        known.insert(candidate.post_key.clone(), candidate.case_id);
        captures.push((candidate.post_key, row(&event)?));
    }
    // One transaction for the batch (thousands of cases per million generated posts).
    let opened = state.pv_capture_many(&captures).await?;
    Ok(opened.into_iter().filter(|&opened| opened).count() as u64)
}

/// The post keys that already have a case, and their cases.
pub async fn known_cases(state: &StateDb) -> Result<HashMap<String, String>> {
    Ok(state.pv_post_keys().await?.into_iter().collect())
}

fn new_event(case_id: &str, actor: &Actor, action: Action, at: DateTime<Utc>) -> Event {
    Event {
        id: uuid::Uuid::now_v7().to_string(),
        case_id: case_id.to_owned(),
        at,
        actor: actor.name.clone(),
        role: actor.role.clone(),
        action,
    }
}

fn row(event: &Event) -> Result<PvEventRow> {
    Ok(PvEventRow {
        id: event.id.clone(),
        case_id: event.case_id.clone(),
        at: event.at.timestamp_millis(),
        actor: event.actor.clone(),
        role: event.role.clone(),
        kind: event.action.kind().to_owned(),
        body: serde_json::to_string(event)?,
    })
}

/// The log, parsed; an unreadable entry is an error naming it (the log is the record).
pub async fn events(state: &StateDb, case_id: Option<&str>) -> Result<Vec<Event>> {
    use rayon::prelude::*;
    let rows = state.pv_events(case_id).await?;
    // Parsed on every core: tens of megabytes of JSON on a queue of tens of thousands of
    // cases (the order of the log is kept).
    tokio::task::spawn_blocking(move || {
        rows.par_iter()
            .map(|row| {
                serde_json::from_str(&row.body).with_context(|| {
                    format!("unreadable PV event {} of case {}", row.id, row.case_id)
                })
            })
            .collect()
    })
    .await
    .context("the PV log's reader stopped")?
}

/// Every case, rebuilt from the log.
pub async fn cases(state: &StateDb) -> Result<BTreeMap<String, Case>> {
    Ok(pv::rebuild(&events(state, None).await?))
}

/// What a person does to a case.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Open it (recorded: AUD-2).
    View,
    /// Assign it.
    Assign {
        /// To whom.
        to: String,
    },
    /// Change its status.
    Decide {
        /// `in_review`, `forwarded`, `not_a_case`, `pending_follow_up`.
        status: String,
        /// Reason code (required for `not_a_case`).
        #[serde(default)]
        reason: Option<String>,
        /// Note (required with reason `other`).
        #[serde(default)]
        note: Option<String>,
        /// PV intake reference when forwarding.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Log a follow-up attempt (PV-3).
    FollowUp {
        /// What was done.
        note: String,
    },
    /// Override day zero with a reason (PV-4).
    DayZero {
        /// RFC 3339 time.
        at: String,
        /// Why.
        reason: String,
    },
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No such case.
    #[error("no case `{0}`")]
    NotFound(String),
    /// The request is not acceptable as it stands.
    #[error("{0}")]
    Invalid(String),
}

/// Validates a request and turns it into the event to append.
pub fn action_of(request: Request) -> Result<Action, RequestError> {
    let invalid = |message: String| RequestError::Invalid(message);
    Ok(match request {
        Request::View => Action::Viewed,
        Request::Assign { to } => {
            let to = to.trim().to_owned();
            if to.is_empty() {
                return Err(invalid("`to` must name someone".into()));
            }
            text_limit(&to, "to", crate::limits::NAME_CHARS)?;
            Action::Assigned { assignee: to }
        }
        Request::Decide { status, reason, note, reference } => {
            let parsed = Status::parse(&status).ok_or_else(|| {
                invalid(format!(
                    "unknown status `{status}` (in_review, forwarded, not_a_case, pending_follow_up)"
                ))
            })?;
            if parsed == Status::New {
                return Err(invalid("a case cannot be set back to `new`".into()));
            }
            let reason = reason.map(|reason| reason.trim().to_owned()).filter(|r| !r.is_empty());
            let note = note.map(|note| note.trim().to_owned()).filter(|n| !n.is_empty());
            let reference = reference.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
            if let Some(note) = &note {
                text_limit(note, "note", crate::limits::NOTE_CHARS)?;
            }
            if let Some(reference) = &reference {
                text_limit(reference, "reference", crate::limits::NAME_CHARS)?;
            }
            if parsed == Status::Forwarded && reference.is_none() {
                return Err(invalid(
                    "forwarding needs the safety database's reference (`reference`): the hand-off is reconciled against it (AUD-3)"
                        .into(),
                ));
            }
            if parsed != Status::Forwarded && reference.is_some() {
                return Err(invalid("a reference only goes with `forwarded`".into()));
            }
            if parsed == Status::NotACase {
                let Some(code) = &reason else {
                    return Err(invalid(format!(
                        "closing as not_a_case needs a reason code (PV-2): {}",
                        reason_codes()
                    )));
                };
                if !pv::is_reason_code(code) {
                    return Err(invalid(format!(
                        "unknown reason code `{code}`: {}",
                        reason_codes()
                    )));
                }
                if code == "other" && note.is_none() {
                    return Err(invalid("reason `other` needs a note".into()));
                }
            } else if reason.is_some() {
                return Err(invalid("a reason code only goes with not_a_case".into()));
            }
            Action::Decided { status: parsed, reason, note, reference }
        }
        Request::FollowUp { note } => {
            let note = note.trim().to_owned();
            if note.is_empty() {
                return Err(invalid("a follow-up needs a note saying what was done".into()));
            }
            text_limit(&note, "note", crate::limits::NOTE_CHARS)?;
            Action::FollowUp { note }
        }
        Request::DayZero { at, reason } => {
            let at: String = at.trim().chars().take(64).collect();
            let day_zero = DateTime::parse_from_rfc3339(&at)
                .map_err(|_| invalid(format!("`{at}` is not an RFC 3339 time")))?
                .with_timezone(&Utc);
            let reason = reason.trim().to_owned();
            if reason.is_empty() {
                return Err(invalid("overriding day zero needs a reason (PV-4)".into()));
            }
            text_limit(&reason, "reason", crate::limits::NOTE_CHARS)?;
            Action::DayZeroSet { day_zero, reason }
        }
    })
}

fn text_limit(text: &str, what: &str, max: usize) -> Result<(), RequestError> {
    crate::limits::check_text(text, what, max).map_err(|error| RequestError::Invalid(error.message))
}

/// PV-4: day zero is the first moment anyone on the company's side could have seen the
/// post. An override may move it earlier than the recorded one (someone saw it sooner),
/// never later, never before the post was published, never into the future.
pub fn check_day_zero(
    case: &Case,
    day_zero: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RequestError> {
    if day_zero > case.day_zero {
        return Err(RequestError::Invalid(format!(
            "day zero can only move earlier than the recorded {} (PV-4: the clock starts when anyone on the company's side could first have seen the post)",
            case.day_zero.to_rfc3339()
        )));
    }
    if day_zero < case.post.posted_at {
        return Err(RequestError::Invalid(format!(
            "day zero cannot be before the post was published ({})",
            case.post.posted_at.to_rfc3339()
        )));
    }
    if day_zero > now {
        return Err(RequestError::Invalid("day zero cannot be in the future".into()));
    }
    Ok(())
}

fn reason_codes() -> String {
    pv::REASON_CODES.iter().map(|(code, _)| *code).collect::<Vec<_>>().join(", ")
}

/// Applies a request to a case: appends one event and returns the case as it now stands.
pub async fn act(
    state: &StateDb,
    case_id: &str,
    actor: &Actor,
    request: Request,
) -> Result<Case, ActError> {
    let action = action_of(request)?;
    let now = Utc::now();
    if let Action::DayZeroSet { day_zero, .. } = &action {
        let case = pv::rebuild(&events(state, Some(case_id)).await?)
            .remove(case_id)
            .ok_or_else(|| RequestError::NotFound(case_id.to_owned()))?;
        check_day_zero(&case, *day_zero, now)?;
    }
    let event = new_event(case_id, actor, action, now);
    if !state.pv_append(&row(&event)?).await? {
        return Err(RequestError::NotFound(case_id.to_owned()).into());
    }
    let events = events(state, Some(case_id)).await?;
    pv::rebuild(&events)
        .remove(case_id)
        .ok_or_else(|| RequestError::NotFound(case_id.to_owned()).into())
}

/// A refused request or a failure.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// Refused.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<waterline_store::StoreError> for ActError {
    fn from(error: waterline_store::StoreError) -> ActError {
        ActError::Other(error.into())
    }
}

impl From<serde_json::Error> for ActError {
    fn from(error: serde_json::Error) -> ActError {
        ActError::Other(error.into())
    }
}

/// A case with its clocks, alerts and minimum elements, as the queue shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Its clocks.
    pub clocks: Clocks,
    /// Its clock alerts now.
    pub alerts: Vec<PvAlert>,
    /// The four minimum elements: `present`, `absent` or `uncertain` (PV-1 iii).
    pub elements: BTreeMap<String, String>,
    /// All four present: potentially a valid ICSR (PV decides validity).
    pub valid: bool,
}

/// The four elements' presence from a stored detection.
pub fn elements_of(detection: &serde_json::Value) -> BTreeMap<String, String> {
    ["patient", "reporter", "product", "reaction"]
        .into_iter()
        .map(|name| {
            let presence = detection
                .pointer(&format!("/elements/{name}/presence"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or(Presence::Uncertain.as_str());
            (name.to_owned(), presence.to_owned())
        })
        .collect()
}

/// The queue: cases with clocks and alerts, serious first (PV-8), then by hand-off
/// deadline; closed cases after open ones.
pub fn queue(
    cases: BTreeMap<String, Case>,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<CaseView>> {
    let calendar = Calendar::of(config)?;
    let near = config.pharmacovigilance.near_breach_days;
    let mut views: Vec<CaseView> = cases
        .into_values()
        .map(|case| {
            let clocks = pv::clocks(case.day_zero, case.serious, &calendar);
            let alerts = pv::case_alerts(&case, &clocks, &calendar, now, near);
            let elements = elements_of(&case.detection);
            let valid = elements.values().all(|presence| presence == "present");
            CaseView { case, clocks, alerts, elements, valid }
        })
        .collect();
    views.sort_by(|a, b| {
        let open = |view: &CaseView| !view.case.status.awaits_handoff();
        open(a)
            .cmp(&open(b))
            .then(b.case.serious.cmp(&a.case.serious))
            .then(a.clocks.handoff_deadline.cmp(&b.clocks.handoff_deadline))
            .then(a.case.id.cmp(&b.case.id))
    });
    Ok(views)
}

/// One case as the queue shows it.
pub fn view(case: Case, config: &Config, now: DateTime<Utc>) -> Result<CaseView> {
    let id = case.id.clone();
    queue(BTreeMap::from([(id, case)]), config, now)?
        .pop()
        .context("internal error: the case vanished")
}

/// Export columns (CSV): the four elements and their evidence for the safety database.
pub const EXPORT_COLUMNS: &[&str] = &[
    "case_id",
    "status",
    "reason",
    "serious",
    "categories",
    "day_zero",
    "eu_due",
    "us_due",
    "handoff_due",
    "forwarded_at",
    "forward_reference",
    "assignee",
    "platform",
    "post_id",
    "url",
    "author",
    "posted_at",
    "captured_at",
    "channel",
    "products",
    "language",
    "patient",
    "patient_evidence",
    "reporter",
    "reporter_evidence",
    "product",
    "product_evidence",
    "reaction",
    "reaction_evidence",
    "text",
    "model",
    "score",
    "duplicate_of",
    "follow_ups",
];

pub fn evidence(detection: &serde_json::Value, name: &str) -> String {
    detection
        .pointer(&format!("/elements/{name}/span/text"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The queue as CSV (header included, also when empty).
pub fn export_csv(views: &[CaseView]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(EXPORT_COLUMNS)?;
    for view in views {
        let case = &view.case;
        let time = |at: &DateTime<Utc>| at.to_rfc3339();
        let element = |name: &str| view.elements.get(name).cloned().unwrap_or_default();
        writer.write_record([
            case.id.clone(),
            case.status.as_str().to_owned(),
            case.reason.clone().unwrap_or_default(),
            case.serious.to_string(),
            case.categories.join(" "),
            view.clocks.day_zero.to_string(),
            view.clocks.eu_due.to_string(),
            view.clocks.us_due.map(|due| due.to_string()).unwrap_or_default(),
            view.clocks.handoff_due.to_string(),
            case.forwarded_at.as_ref().map(time).unwrap_or_default(),
            case.forward_reference.clone().unwrap_or_default(),
            case.assignee.clone().unwrap_or_default(),
            case.post.platform.clone(),
            case.post.id.clone(),
            case.post.url.clone().unwrap_or_default(),
            case.post.author.clone().unwrap_or_default(),
            time(&case.post.posted_at),
            time(&case.captured_at),
            case.post.channel.clone().unwrap_or_default(),
            case.post.products.join(" "),
            case.post.language.clone().unwrap_or_default(),
            element("patient"),
            evidence(&case.detection, "patient"),
            element("reporter"),
            evidence(&case.detection, "reporter"),
            element("product"),
            evidence(&case.detection, "product"),
            element("reaction"),
            evidence(&case.detection, "reaction"),
            case.post.text.clone(),
            case.model.clone(),
            format!("{:.4}", case.score),
            case.duplicate_of.clone().unwrap_or_default(),
            case.follow_ups.len().to_string(),
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// The queue as JSON for the safety database: each case with its four elements and their
/// evidence spans, flags, clocks and history summary.
pub fn export_json(views: &[CaseView], now: DateTime<Utc>) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = views
        .iter()
        .map(|view| {
            let case = &view.case;
            serde_json::json!({
                "case_id": case.id,
                "status": case.status,
                "reason": case.reason,
                "serious": case.serious,
                "categories": case.categories,
                "flags": case.detection.get("flags").cloned().unwrap_or_default(),
                "minimum_elements": case.detection.get("elements").cloned().unwrap_or_default(),
                "valid": view.valid,
                "day_zero": case.day_zero,
                "day_zero_basis": case.day_zero_basis,
                "clocks": view.clocks,
                "forwarded_at": case.forwarded_at,
                "forward_reference": case.forward_reference,
                "received": case.received,
                "assignee": case.assignee,
                "source": case.post,
                "captured_at": case.captured_at,
                "model": case.model,
                "score": case.score,
                "duplicate_of": case.duplicate_of,
                "follow_ups": case.follow_ups,
            })
        })
        .collect();
    serde_json::json!({
        "format": "waterline-pv-export/1",
        "generated_at": now,
        "count": cases.len(),
        "cases": cases,
    })
}

/// The reconciliation of forwarded cases against PV's receipt log (AUD-3).
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    /// When it was produced.
    pub generated_at: DateTime<Utc>,
    /// The period covered (forwarding dates), if one was asked for.
    pub period: Option<(String, String)>,
    /// Cases forwarded in the period.
    pub forwarded: usize,
    /// Of those, acknowledged by PV's log.
    pub acknowledged: usize,
    /// Forwarded but missing from PV's log: chase them.
    pub missing_in_pv: Vec<ReconciliationRow>,
    /// In PV's log but not forwarded from here (or unknown cases).
    pub unknown_to_waterline: Vec<String>,
    /// Every forwarded case.
    pub rows: Vec<ReconciliationRow>,
    /// Cases still awaiting the hand-off (not yet forwarded nor closed).
    pub awaiting_handoff: usize,
}

/// One forwarded case in the reconciliation.
#[derive(Debug, Clone, Serialize)]
pub struct ReconciliationRow {
    /// Case.
    pub case_id: String,
    /// When forwarded.
    pub forwarded_at: Option<DateTime<Utc>>,
    /// Our reference.
    pub reference: Option<String>,
    /// PV's reference, if acknowledged.
    pub received: Option<String>,
}

/// Builds the reconciliation (also when there is nothing to reconcile: AUD-3).
pub fn reconcile(
    cases: &BTreeMap<String, Case>,
    receipts: &[PvReceipt],
    period: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    now: DateTime<Utc>,
) -> Reconciliation {
    let by_case: HashMap<&str, &PvReceipt> = receipts
        .iter()
        .filter_map(|receipt| receipt.case_id.as_deref().map(|case| (case, receipt)))
        .collect();
    let by_reference: HashMap<&str, &PvReceipt> =
        receipts.iter().map(|receipt| (receipt.reference.as_str(), receipt)).collect();
    let in_period = |at: &DateTime<Utc>| match period {
        None => true,
        Some((from, to)) => {
            let day = at.date_naive();
            day >= from && day <= to
        }
    };
    let mut rows = Vec::new();
    let mut matched: HashSet<&str> = HashSet::new();
    for case in cases.values() {
        let Some(forwarded_at) = case.forwarded_at else { continue };
        if !in_period(&forwarded_at) {
            continue;
        }
        let receipt = by_case.get(case.id.as_str()).copied().or_else(|| {
            case.forward_reference
                .as_deref()
                .and_then(|reference| by_reference.get(reference).copied())
        });
        let received =
            receipt.map(|receipt| receipt.reference.clone()).or_else(|| case.received.clone());
        if let Some(receipt) = receipt {
            matched.insert(receipt.reference.as_str());
        }
        rows.push(ReconciliationRow {
            case_id: case.id.clone(),
            forwarded_at: Some(forwarded_at),
            reference: case.forward_reference.clone(),
            received,
        });
    }
    let missing_in_pv: Vec<ReconciliationRow> =
        rows.iter().filter(|row| row.received.is_none()).cloned().collect();
    let unknown_to_waterline = receipts
        .iter()
        .filter(|receipt| !matched.contains(receipt.reference.as_str()))
        .filter(|receipt| {
            receipt
                .case_id
                .as_deref()
                .is_none_or(|case| cases.get(case).is_none_or(|case| case.forwarded_at.is_none()))
        })
        .map(|receipt| receipt.reference.clone())
        .collect();
    Reconciliation {
        generated_at: now,
        period: period.map(|(from, to)| (from.to_string(), to.to_string())),
        forwarded: rows.len(),
        acknowledged: rows.len() - missing_in_pv.len(),
        missing_in_pv,
        unknown_to_waterline,
        awaiting_handoff: cases.values().filter(|case| case.status.awaits_handoff()).count(),
        rows,
    }
}

/// Reads PV's receipt log: a CSV with a `reference` column and optional `case_id` and
/// `received_at` (RFC 3339 or `YYYY-MM-DD`). Rows without a reference are reported.
pub fn read_receipts(text: &str) -> Result<(Vec<PvReceipt>, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|header| header.trim() == name);
    let Some(reference) = column("reference") else {
        bail!("the receipt log needs a `reference` column (and optionally case_id, received_at)");
    };
    let case = column("case_id");
    let received = column("received_at");
    let mut receipts = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("line {line}: {error}"));
                continue;
            }
        };
        let value = |position: Option<usize>| {
            position
                .and_then(|position| record.get(position))
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let Some(reference) = value(Some(reference)) else {
            problems.push(format!("line {line}: field `reference`: empty"));
            continue;
        };
        let received_at = match value(received) {
            None => None,
            Some(text) => match parse_time(text) {
                Some(at) => Some(at.timestamp_millis()),
                None => {
                    problems
                        .push(format!("line {line}: field `received_at`: `{text}` is not a time"));
                    continue;
                }
            },
        };
        receipts.push(PvReceipt {
            reference: reference.to_owned(),
            case_id: value(case).map(str::to_owned),
            received_at,
        });
    }
    Ok((receipts, problems))
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|at| at.with_timezone(&Utc)).ok().or_else(|| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
    })
}

/// One owned channel's coverage (SCOPE-1).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Coverage {
    /// The channel.
    #[serde(flatten)]
    pub channel: ChannelRule,
    /// Posts stored for it (its own posts and the replies to it).
    pub posts: u64,
    /// Publication time of its latest post.
    pub last_post: Option<DateTime<Utc>>,
    /// When its latest post was ingested.
    pub last_ingested: Option<DateTime<Utc>>,
    /// Hours since the last ingestion.
    pub gap_hours: Option<f64>,
    /// Over the configured limit (or never ingested).
    pub gap: bool,
}

/// The coverage of every owned channel, from the stored posts.
pub async fn coverage(
    session: &crate::measure::Session,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Coverage>> {
    let channels = channels(config);
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    // One scan for every channel (one per channel took seconds each on millions of posts).
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let mut columns = Vec::new();
    for (i, channel) in channels.iter().enumerate() {
        let platform = quote(&channel.platform);
        let condition = match &channel.handle {
            Some(handle) => {
                let handle = quote(handle);
                format!("pl = {platform} AND (ah = {handle} OR ra = {handle})")
            }
            None => format!("pl = {platform}"),
        };
        columns.push(format!(
            "count(CASE WHEN {condition} THEN 1 END) AS posts_{i}, \
             CAST(max(CASE WHEN {condition} THEN created_at END) AS VARCHAR) AS last_post_{i}, \
             CAST(max(CASE WHEN {condition} THEN observed_at END) AS VARCHAR) AS last_ingested_{i}"
        ));
    }
    let mut platforms: Vec<String> = channels.iter().map(|c| quote(&c.platform)).collect();
    platforms.sort();
    platforms.dedup();
    let sql = format!(
        "SELECT {} FROM (SELECT lower(platform) AS pl, lower(author_handle) AS ah, \
         lower(reply_to_author) AS ra, created_at, observed_at FROM posts \
         WHERE lower(platform) IN ({})) p",
        columns.join(", "),
        platforms.join(", ")
    );
    let batches = session.analytics.query(&sql).await?;
    let json = waterline_analytics::to_json(&batches)?;
    let row = json.get(0).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (i, channel) in channels.into_iter().enumerate() {
        let posts = row.get(format!("posts_{i}")).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let time =
            |key: String| row.get(key).and_then(serde_json::Value::as_str).and_then(parse_time);
        let last_post = time(format!("last_post_{i}"));
        let last_ingested = time(format!("last_ingested_{i}"));
        out.push(Coverage { channel, posts, last_post, last_ingested, gap_hours: None, gap: true });
    }
    regap(&mut out, config, now);
    Ok(out)
}

/// Recomputes the gaps of a coverage list at `now` (the stored times do not change until
/// the next ingestion; the gaps grow with the clock).
pub fn regap(coverage: &mut [Coverage], config: &Config, now: DateTime<Utc>) {
    let limit = f64::from(config.pharmacovigilance.coverage_gap_hours);
    for channel in coverage {
        channel.gap_hours =
            channel.last_ingested.map(|at| (now - at).num_seconds() as f64 / 3600.0);
        channel.gap = channel.gap_hours.is_none_or(|hours| hours > limit);
    }
}

/// The alert rules in force, as the alerts page and API describe them.
pub fn alert_rules(config: &Config) -> serde_json::Value {
    let pv = &config.pharmacovigilance;
    serde_json::json!([
        {"rule": "handoff-breach", "requirement": "PV-7",
         "fires": "a case still new or in review after the end of the first business day after day zero",
         "calendar": {"time_zone": config.time_zone, "business_days": pv.business_days, "holidays": pv.holidays}},
        {"rule": "near-breach", "requirement": "SCOPE-2",
         "fires": format!("a case still awaiting the hand-off with fewer than {} calendar days before D0+15", pv.near_breach_days)},
        {"rule": "due-breach", "requirement": "PV-5",
         "fires": "a case never forwarded past its due date (D0+15 serious, D0+90 non-serious)"},
        {"rule": "coverage-gap", "requirement": "SCOPE-1",
         "fires": format!("an owned channel with no post ingested for more than {} hours", pv.coverage_gap_hours)},
    ])
}

/// Every PV alert now: clock breaches and near-breaches of open cases, coverage gaps.
pub fn alerts(
    cases: &BTreeMap<String, Case>,
    coverage: &[Coverage],
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<PvAlert>> {
    // Only cases that await the hand-off have running clocks: the others are skipped
    // before their clocks are computed (most cases of a long-running workspace are closed).
    let calendar = Calendar::of(config)?;
    let near = config.pharmacovigilance.near_breach_days;
    let mut alerts: Vec<PvAlert> = cases
        .values()
        .filter(|case| case.status.awaits_handoff())
        .flat_map(|case| {
            let clocks = pv::clocks(case.day_zero, case.serious, &calendar);
            pv::case_alerts(case, &clocks, &calendar, now, near)
        })
        .collect();
    let limit = config.pharmacovigilance.coverage_gap_hours;
    for channel in coverage.iter().filter(|channel| channel.gap) {
        let message = match (channel.last_ingested, channel.gap_hours) {
            (Some(at), Some(hours)) => format!(
                "no post ingested for {} for {hours:.0} h (last at {}), over the {limit} h limit",
                channel.channel.name,
                at.to_rfc3339()
            ),
            _ => format!("nothing has ever been ingested for {}", channel.channel.name),
        };
        alerts.push(PvAlert {
            id: format!("coverage-gap:{}", channel.channel.name),
            kind: "coverage-gap".into(),
            severity: "warning".into(),
            case_id: None,
            channel: Some(channel.channel.name.clone()),
            message,
            threshold: format!("{limit} h without an ingested post (SCOPE-1)"),
            since: channel
                .last_ingested
                .map_or(now, |at| at + chrono::Duration::hours(i64::from(limit))),
        });
    }
    alerts.sort_by(|a, b| {
        (a.severity != "critical").cmp(&(b.severity != "critical")).then(a.since.cmp(&b.since))
    });
    Ok(alerts)
}

/// One post of an audit sample.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SampleItem {
    /// `platform:id`.
    pub post: String,
    /// Its text, to read.
    pub text: String,
    /// The detector's score.
    pub score: f32,
}

/// A false-negative audit sample (ML-4).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Sample {
    /// Name: the day it was drawn and a counter.
    pub name: String,
    /// When.
    pub drawn_at: DateTime<Utc>,
    /// First and last day of the window.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Unflagged screened posts in the window.
    pub population: usize,
    /// Drawn.
    pub size: usize,
    /// The posts.
    pub items: Vec<SampleItem>,
    /// Cases opened since for sampled posts (filled when listed).
    #[serde(default)]
    pub false_negatives: usize,
    /// `false_negatives / size` (filled when listed).
    #[serde(default)]
    pub rate: f64,
}

const SAMPLE: &str = "pv_sample";

/// Draws and stores an audit sample: screened posts of the last `days` days (before the
/// newest post) with no case, uniformly at random.
pub async fn draw_sample(
    session: &crate::measure::Session,
    state: &StateDb,
    config: &Config,
    size: usize,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Sample> {
    use rand::SeedableRng;
    use rand::seq::IndexedRandom;
    let newest = session
        .analytics
        .query("SELECT CAST(max(created_at) AS VARCHAR) AS newest FROM posts")
        .await?;
    let newest = waterline_analytics::to_json(&newest)?
        .get(0)
        .and_then(|row| row.get("newest").and_then(serde_json::Value::as_str).and_then(parse_time))
        .unwrap_or(now);
    let since = newest - chrono::Duration::days(i64::from(days.max(1)));
    let posts = session
        .analytics
        .posts_where(&format!(
            "created_at > CAST('{}' AS TIMESTAMP)",
            since.format("%Y-%m-%dT%H:%M:%S")
        ))
        .await?;
    let known = known_cases(state).await?;
    let screener = Screener::new(config);
    let population: Vec<&Post> = posts
        .iter()
        .filter(|post| screener.in_scope(post))
        .filter(|post| !known.contains_key(&format!("{}:{}", post.platform, post.id)))
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(now.timestamp_millis() as u64);
    let chosen: Vec<&&Post> = population.choose_multiple(&mut rng, size).collect();
    let items = chosen
        .into_iter()
        .map(|post| SampleItem {
            post: format!("{}:{}", post.platform, post.id),
            text: post.text.clone(),
            score: screener.read(post, &[]).score,
        })
        .collect::<Vec<_>>();
    let existing = state.documents(SAMPLE).await?.len();
    let sample = Sample {
        name: format!("{}-{}", now.format("%Y-%m-%d"), existing + 1),
        drawn_at: now,
        from: since.date_naive().to_string(),
        to: newest.date_naive().to_string(),
        population: population.len(),
        size: items.len(),
        items,
        false_negatives: 0,
        rate: 0.0,
    };
    state
        .put_document(
            SAMPLE,
            &sample.name,
            &serde_json::to_string(&sample)?,
            now.timestamp_millis(),
            false,
        )
        .await?;
    Ok(sample)
}

/// The samples drawn so far, with the false negatives found in each: sampled posts that
/// have a case now (opened by hand after reading them).
pub async fn samples(state: &StateDb) -> Result<Vec<Sample>> {
    let known = known_cases(state).await?;
    let mut out = Vec::new();
    for (_, _, body) in state.documents(SAMPLE).await? {
        let mut sample: Sample = serde_json::from_str(&body)?;
        sample.false_negatives =
            sample.items.iter().filter(|item| known.contains_key(&item.post)).count();
        sample.rate =
            if sample.size == 0 { 0.0 } else { sample.false_negatives as f64 / sample.size as f64 };
        out.push(sample);
    }
    out.sort_by_key(|sample| std::cmp::Reverse(sample.drawn_at));
    Ok(out)
}

/// What a screening of the stored posts did.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ScanOutcome {
    /// Posts screened.
    pub screened: usize,
    /// Posts the screening flagged.
    pub flagged: usize,
    /// Cases opened (a post with a case already keeps it).
    pub opened: usize,
}

/// Screens every stored post (batch by batch as the engine streams them, never every post
/// at once) and opens a case for each new flag.
pub async fn scan(
    workspace: &crate::workspace::Workspace,
    session: &crate::measure::Session,
    now: DateTime<Utc>,
) -> Result<ScanOutcome> {
    let screener = Screener::new(&workspace.config);
    if !screener.enabled() {
        bail!("screening is off: set [pharmacovigilance] enabled = true in waterline.toml");
    }
    let state = session.store.state();
    let mut batches = session.analytics.post_batches("TRUE").await?;
    let mut known = known_cases(state).await?;
    let mut outcome = ScanOutcome { screened: 0, flagged: 0, opened: 0 };
    while let Some(posts) = batches.next().await {
        let posts = posts?;
        outcome.screened += posts.len();
        let candidates: Vec<Candidate> = {
            use rayon::prelude::*;
            posts.par_iter().filter_map(|post| screener.screen(post)).collect()
        };
        outcome.flagged += candidates.len();
        outcome.opened += capture(state, candidates, &mut known, now).await? as usize;
    }
    Ok(outcome)
}

/// Opens a case by hand on a stored post (`PLATFORM:ID`), with the reviewer's reason and
/// categories; answers the case's id.
pub async fn open_case(
    workspace: &crate::workspace::Workspace,
    session: &crate::measure::Session,
    actor: &Actor,
    post: &str,
    reason: &str,
    categories: &[String],
    now: DateTime<Utc>,
) -> Result<String> {
    let Some((platform, id)) = post.split_once(':') else {
        bail!("name the post as PLATFORM:ID (for example x:1234)");
    };
    if reason.trim().is_empty() {
        bail!("say why the case is opened (--reason)");
    }
    let categories = categories
        .iter()
        .map(|code| {
            waterline_enrich::pv::Category::parse(code.trim())
                .with_context(|| format!("unknown category `{code}`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let state = session.store.state();
    let mut known = known_cases(state).await?;
    if let Some(case) = known.get(post) {
        bail!("{post} already has case {case}");
    }
    let quote = |text: &str| text.replace('\'', "''");
    let found = session
        .analytics
        .posts_where(&format!("platform = '{}' AND id = '{}'", quote(platform), quote(id)))
        .await?;
    let stored = found.first().with_context(|| format!("no stored post {post}"))?;
    let candidate = Screener::new(&workspace.config).by_hand(stored, &categories);
    let case_id = candidate.case_id.clone();
    capture_as(state, vec![candidate], &mut known, now, actor, Some(reason.trim())).await?;
    Ok(case_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pv_2_closing_needs_a_reason_code() {
        let decide = |status: &str, reason: Option<&str>, note: Option<&str>| {
            action_of(Request::Decide {
                status: status.into(),
                reason: reason.map(str::to_owned),
                note: note.map(str::to_owned),
                reference: None,
            })
        };
        assert!(decide("not_a_case", None, None).is_err());
        assert!(decide("not_a_case", Some("because"), None).is_err());
        assert!(decide("not_a_case", Some("other"), None).is_err());
        assert!(decide("not_a_case", Some("other"), Some("spam bot")).is_ok());
        assert!(decide("not-a-case", Some("hypothetical"), None).is_ok());
        assert!(decide("new", None, None).is_err());
        assert!(decide("forwarded", Some("no-event"), None).is_err());
    }

    #[test]
    fn forwarding_needs_the_safety_database_reference() {
        let forward = |reference: Option<&str>| {
            action_of(Request::Decide {
                status: "forwarded".into(),
                reason: None,
                note: None,
                reference: reference.map(str::to_owned),
            })
        };
        assert!(forward(None).is_err());
        assert!(forward(Some("  ")).is_err());
        assert!(forward(Some("SDB-2026-0001")).is_ok());
        assert!(forward(Some(&"R".repeat(crate::limits::NAME_CHARS + 1))).is_err());
        let in_review = action_of(Request::Decide {
            status: "in_review".into(),
            reason: None,
            note: None,
            reference: Some("SDB-1".into()),
        });
        assert!(in_review.is_err(), "a reference only goes with forwarded");
    }

    #[test]
    fn free_text_fields_have_length_limits() {
        let huge = "x".repeat(1_000_000);
        assert!(action_of(Request::Assign { to: huge.clone() }).is_err());
        assert!(action_of(Request::FollowUp { note: huge.clone() }).is_err());
        assert!(
            action_of(Request::DayZero { at: "2026-01-01T00:00:00Z".into(), reason: huge })
                .is_err()
        );
        assert!(action_of(Request::Assign { to: "Dr. Lee".into() }).is_ok());
    }

    #[test]
    fn pv_4_day_zero_moves_earlier_only_and_never_before_the_post() {
        let case: Case = serde_json::from_value(serde_json::json!({
            "id": "pv-1", "captured_at": "2026-03-02T10:00:00Z", "model": "m", "score": 0.9,
            "categories": [], "serious": false, "detection": {},
            "day_zero": "2026-03-02T10:00:00Z", "day_zero_basis": "capture",
            "duplicate_of": null, "status": "new", "reason": null, "note": null,
            "assignee": null, "first_viewed": null, "views": 0, "forwarded_at": null,
            "forward_reference": null, "received": null, "follow_ups": [], "events": 1,
            "updated_at": "2026-03-02T10:00:00Z",
            "post": {"platform": "x", "id": "1", "url": null, "author": "a", "text": "t",
                     "posted_at": "2026-03-01T08:00:00Z", "language": "en", "channel": null,
                     "products": []}
        }))
        .expect("a case");
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        let now = at("2026-03-05T00:00:00Z");
        assert!(check_day_zero(&case, at("2026-03-01T09:00:00Z"), now).is_ok());
        assert!(check_day_zero(&case, at("2026-03-02T10:00:00Z"), now).is_ok());
        // Later than the capture: the clock would restart and hide a breach.
        assert!(check_day_zero(&case, at("2026-03-03T00:00:00Z"), now).is_err());
        assert!(check_day_zero(&case, at("2100-01-01T00:00:00Z"), now).is_err());
        // Before the post existed.
        assert!(check_day_zero(&case, at("2026-02-28T00:00:00Z"), now).is_err());
    }

    #[test]
    fn pv_4_day_zero_override_needs_a_reason() {
        assert!(
            action_of(Request::DayZero { at: "2026-01-01T00:00:00Z".into(), reason: " ".into() })
                .is_err()
        );
        assert!(
            action_of(Request::DayZero { at: "yesterday".into(), reason: "x".into() }).is_err()
        );
        assert!(
            action_of(Request::DayZero {
                at: "2026-01-01T00:00:00Z".into(),
                reason: "seen by a rep".into()
            })
            .is_ok()
        );
        assert!(action_of(Request::FollowUp { note: String::new() }).is_err());
    }

    #[test]
    fn aud_3_reconciliation_is_produced_when_empty() {
        let report = reconcile(&BTreeMap::new(), &[], None, Utc::now());
        assert_eq!(report.forwarded, 0);
        assert!(report.missing_in_pv.is_empty());
        let (receipts, problems) = read_receipts(
            "reference,case_id,received_at\nSDB-1,pv-1,2026-01-02\n,pv-2,\nSDB-3,,soon\n",
        )
        .expect("read");
        assert_eq!(receipts.len(), 1);
        assert_eq!(problems.len(), 2);
        assert!(read_receipts("id\n1\n").is_err());
    }
}
