//! Pharmacovigilance cases: the append-only event log, the case state rebuilt from it, and
//! the regulatory clocks (PHARMA.md PV-2 to PV-7, PV-13, AUD-1 to AUD-3).
//!
//! The log is the record: a case is whatever replaying its events gives ([`rebuild`]), so
//! no write can leave a case half-changed and a process killed at any point loses nothing
//! that was committed (AUD-1). Nothing here closes or deletes a case: only a person's
//! `decided` event does, with a reason code (PV-2).
//!
//! Clocks run on calendar days in the workspace time zone from day zero (PV-4, PV-5): EU
//! serious D0+15, EU non-serious D0+90, US serious (and possibly unexpected) D0+15; there is
//! no 7-day clock (PV-6). The internal hand-off clock runs on business days of the
//! workspace calendar (PV-7).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Flagged, nobody has decided anything yet.
    New,
    /// A reviewer is on it.
    InReview,
    /// Forwarded to the PV intake (safety database or mailbox).
    Forwarded,
    /// Reviewed and judged not to be a case, with a reason code (PV-2).
    NotACase,
    /// Holds an event but misses minimum elements: kept, awaiting follow-up (PV-3).
    PendingFollowUp,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::InReview,
        Status::Forwarded,
        Status::NotACase,
        Status::PendingFollowUp,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InReview => "in_review",
            Status::Forwarded => "forwarded",
            Status::NotACase => "not_a_case",
            Status::PendingFollowUp => "pending_follow_up",
        }
    }

    /// Parses a name (`in-review` and `in_review` both work).
    pub fn parse(text: &str) -> Option<Status> {
        let text = text.trim().replace('-', "_");
        Status::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Still waiting for the hand-off to PV: the clocks' alerts apply.
    pub fn awaits_handoff(self) -> bool {
        matches!(self, Status::New | Status::InReview)
    }
}

/// Reason codes for closing an item as "not a case" (PV-2), with what they mean.
pub const REASON_CODES: &[(&str, &str)] = &[
    ("no-event", "no adverse event or special situation in the text"),
    ("not-company-product", "the product is not one of the company's"),
    ("hypothetical", "hypothetical, label or hearsay talk, no actual exposure"),
    ("medical-information", "a medical information request: routed to MedInfo"),
    ("news-or-corporate", "news or corporate content"),
    ("duplicate", "a duplicate of another case (link it)"),
    ("other", "other: explained in the note"),
];

/// Whether `code` is a known reason code.
pub fn is_reason_code(code: &str) -> bool {
    REASON_CODES.iter().any(|(known, _)| *known == code)
}

/// The post a case was captured from (AUD-1: raw text, URL, platform ids, post time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedPost {
    /// Platform.
    pub platform: String,
    /// Native id.
    pub id: String,
    /// Link to the post, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Author handle (kept for follow-up; visible to PV roles only, PV-15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The text as captured.
    pub text: String,
    /// Publication time.
    pub posted_at: DateTime<Utc>,
    /// The language detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The owned channel it was posted on, if any (SCOPE-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Company products named (or `uncertain` ones on an owned channel).
    #[serde(default)]
    pub products: Vec<String>,
    /// Images or videos attached.
    #[serde(default)]
    pub media_count: u32,
}

/// What happened to a case: one entry of the append-only log (AUD-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// The detector flagged the post; the case is opened.
    Captured {
        /// The post.
        post: Box<CapturedPost>,
        /// Detector name and version.
        model: String,
        /// Its score.
        score: f32,
        /// Category codes flagged (`AE`, `SAE`, `PREG`, …).
        categories: Vec<String>,
        /// Whether a seriousness criterion was flagged (PV-8).
        serious: bool,
        /// The full detection: flags with spans, the four minimum elements.
        detection: serde_json::Value,
        /// Day zero (PV-4).
        day_zero: DateTime<Utc>,
        /// Why that day zero (`posted on an owned channel`, `captured`).
        day_zero_basis: String,
        /// An earlier case about the same content (PV-13), linked, not counted twice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duplicate_of: Option<String>,
    },
    /// A person opened the case (AUD-2: the first view is kept; it can set day zero).
    Viewed,
    /// The case was assigned.
    Assigned {
        /// To whom.
        assignee: String,
    },
    /// A person changed the status.
    Decided {
        /// The new status.
        status: Status,
        /// Reason code, required for `not_a_case`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Free note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The PV intake's reference when forwarding.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// PV overrode day zero, with a reason (PV-4).
    DayZeroSet {
        /// The new day zero.
        day_zero: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// A follow-up attempt (PV-3), for example a reply asking the user to contact PV.
    FollowUp {
        /// What was done.
        note: String,
    },
    /// PV's receipt log acknowledged the forwarded case (AUD-3 reconciliation).
    Received {
        /// PV's reference.
        reference: String,
    },
}

impl Action {
    /// The snake_case type name.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Captured { .. } => "captured",
            Action::Viewed => "viewed",
            Action::Assigned { .. } => "assigned",
            Action::Decided { .. } => "decided",
            Action::DayZeroSet { .. } => "day_zero_set",
            Action::FollowUp { .. } => "follow_up",
            Action::Received { .. } => "received",
        }
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Time-ordered id (UUID v7); the log's order.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`waterline` for the detector, a token name, `local` on the command line).
    pub actor: String,
    /// Their role.
    pub role: String,
    /// What.
    #[serde(flatten)]
    pub action: Action,
}

/// A follow-up attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpAttempt {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What was done.
    pub note: String,
}

/// A case as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Case id (`pv-` and 12 hex digits of the post key's hash).
    pub id: String,
    /// The post.
    pub post: CapturedPost,
    /// When the detector captured it.
    pub captured_at: DateTime<Utc>,
    /// Detector name and version.
    pub model: String,
    /// Its score.
    pub score: f32,
    /// Category codes.
    pub categories: Vec<String>,
    /// A seriousness criterion was flagged.
    pub serious: bool,
    /// The full detection (flags with spans, minimum elements).
    pub detection: serde_json::Value,
    /// Day zero.
    pub day_zero: DateTime<Utc>,
    /// Why that day zero.
    pub day_zero_basis: String,
    /// Linked earlier case (PV-13).
    pub duplicate_of: Option<String>,
    /// Status.
    pub status: Status,
    /// Reason code of a `not_a_case` decision.
    pub reason: Option<String>,
    /// Note of the last decision.
    pub note: Option<String>,
    /// Assignee.
    pub assignee: Option<String>,
    /// First time a person opened it, and who (AUD-2).
    pub first_viewed: Option<(DateTime<Utc>, String)>,
    /// Views.
    pub views: u32,
    /// When it was first forwarded to PV, and PV's reference.
    pub forwarded_at: Option<DateTime<Utc>>,
    /// PV intake reference given when forwarding.
    pub forward_reference: Option<String>,
    /// PV's receipt reference (reconciliation).
    pub received: Option<String>,
    /// Follow-up attempts (PV-3).
    pub follow_ups: Vec<FollowUpAttempt>,
    /// Events replayed.
    pub events: u32,
    /// Time of the last event.
    pub updated_at: DateTime<Utc>,
}

impl Case {
    /// Applies one event. Events before `captured` are ignored (cannot happen with the
    /// store's ordering); the fold is total: any sequence gives a state.
    fn apply(&mut self, event: &Event) {
        self.events += 1;
        self.updated_at = event.at;
        match &event.action {
            Action::Captured { .. } => {}
            Action::Viewed => {
                self.views += 1;
                if self.first_viewed.is_none() {
                    self.first_viewed = Some((event.at, event.actor.clone()));
                }
            }
            Action::Assigned { assignee } => {
                self.assignee = Some(assignee.clone());
                if self.status == Status::New {
                    self.status = Status::InReview;
                }
            }
            Action::Decided { status, reason, note, reference } => {
                self.status = *status;
                self.reason = reason.clone();
                self.note = note.clone();
                if *status == Status::Forwarded {
                    if self.forwarded_at.is_none() {
                        self.forwarded_at = Some(event.at);
                    }
                    if reference.is_some() {
                        self.forward_reference = reference.clone();
                    }
                }
            }
            Action::DayZeroSet { day_zero, reason } => {
                self.day_zero = *day_zero;
                self.day_zero_basis = format!("set by {}: {reason}", event.actor);
            }
            Action::FollowUp { note } => self.follow_ups.push(FollowUpAttempt {
                at: event.at,
                actor: event.actor.clone(),
                note: note.clone(),
            }),
            Action::Received { reference } => self.received = Some(reference.clone()),
        }
    }

    fn open(event: &Event) -> Option<Case> {
        let Action::Captured {
            post,
            model,
            score,
            categories,
            serious,
            detection,
            day_zero,
            day_zero_basis,
            duplicate_of,
        } = &event.action
        else {
            return None;
        };
        Some(Case {
            id: event.case_id.clone(),
            post: (**post).clone(),
            captured_at: event.at,
            model: model.clone(),
            score: *score,
            categories: categories.clone(),
            serious: *serious,
            detection: detection.clone(),
            day_zero: *day_zero,
            day_zero_basis: day_zero_basis.clone(),
            duplicate_of: duplicate_of.clone(),
            status: Status::New,
            reason: None,
            note: None,
            assignee: None,
            first_viewed: None,
            views: 0,
            forwarded_at: None,
            forward_reference: None,
            received: None,
            follow_ups: Vec::new(),
            events: 1,
            updated_at: event.at,
        })
    }
}

/// Rebuilds every case from the log, in log order (AUD-1).
pub fn rebuild<'a>(events: impl IntoIterator<Item = &'a Event>) -> BTreeMap<String, Case> {
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    for event in events {
        match cases.get_mut(&event.case_id) {
            Some(case) => case.apply(event),
            None => {
                if let Some(case) = Case::open(event) {
                    cases.insert(event.case_id.clone(), case);
                }
            }
        }
    }
    cases
}

/// The case id of a post key: stable, so screening a post twice opens one case.
pub fn case_id(post_key: &str) -> String {
    let hash = fnv1a(post_key.as_bytes());
    format!("pv-{:012x}", hash & 0xffff_ffff_ffff)
}

/// FNV-1a, 64 bits: enough to name cases, no dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Why a calendar could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Unknown time zone.
    #[error("unknown time zone `{0}`")]
    TimeZone(String),
    /// A day name that is not `mon` … `sun`.
    #[error("unknown business day `{0}` (use mon … sun)")]
    Day(String),
    /// A holiday that is not `YYYY-MM-DD`.
    #[error("holiday `{0}` is not a date (YYYY-MM-DD)")]
    Holiday(String),
}

/// The workspace's calendar: time zone, working days and holidays (PV-7).
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    working: [bool; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar: `days` as `mon` … `sun`, holidays as `YYYY-MM-DD`.
    pub fn new(tz: Tz, days: &[String], holidays: &[String]) -> Result<Calendar, CalendarError> {
        let mut working = [false; 7];
        for day in days {
            let weekday: Weekday =
                day.trim().parse().map_err(|_| CalendarError::Day(day.clone()))?;
            working[weekday.num_days_from_monday() as usize] = true;
        }
        let holidays = holidays
            .iter()
            .map(|text| {
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map_err(|_| CalendarError::Holiday(text.clone()))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Calendar { tz, working, holidays })
    }

    /// The calendar of a workspace configuration.
    pub fn of(config: &Config) -> Result<Calendar, CalendarError> {
        let tz: Tz = config
            .time_zone
            .parse()
            .map_err(|_| CalendarError::TimeZone(config.time_zone.clone()))?;
        let pv = &config.pharmacovigilance;
        Calendar::new(tz, &pv.business_days, &pv.holidays)
    }

    /// The time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether `date` is a working day that is not a holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.working[date.weekday().num_days_from_monday() as usize]
            && !self.holidays.contains(&date)
    }

    /// The local date of an instant.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.tz).date_naive()
    }

    /// The instant a local day starts (its first existing moment when a daylight-saving
    /// change skips midnight).
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        for hour in 0..4 {
            let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
            if let Some(local) = self.tz.from_local_datetime(&date.and_time(time)).earliest() {
                return local.with_timezone(&Utc);
            }
        }
        date.and_time(NaiveTime::MIN).and_utc()
    }

    /// The deadline "by the end of `date`": the start of the next local day.
    pub fn end_of(&self, date: NaiveDate) -> DateTime<Utc> {
        self.start_of(date + Duration::days(1))
    }

    /// The first business day strictly after `date`; with no working day at all, the next
    /// day (a calendar with no working days must not loop).
    pub fn next_business_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        for _ in 0..400 {
            day += Duration::days(1);
            if self.is_business_day(day) {
                return day;
            }
        }
        date + Duration::days(1)
    }
}

/// A case's clocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clocks {
    /// Day zero's local date.
    pub day_zero: NaiveDate,
    /// EU due date: D0+15 (serious) or D0+90 (non-serious), calendar days (PV-5).
    pub eu_due: NaiveDate,
    /// 15 or 90.
    pub eu_days: u32,
    /// US 15-day alert report due date, for serious cases (unexpectedness needs the label:
    /// a serious case is treated as possibly unexpected). None for non-serious cases, which
    /// go to periodic reports.
    pub us_due: Option<NaiveDate>,
    /// Hand-off to PV due: by the end of the first business day after day zero (PV-7).
    pub handoff_due: NaiveDate,
    /// The hand-off deadline as an instant.
    pub handoff_deadline: DateTime<Utc>,
    /// The regulatory deadline (end of `eu_due`) as an instant.
    pub due_deadline: DateTime<Utc>,
}

/// Computes the clocks of a case from day zero (PV-4 to PV-7). There is no 7-day clock:
/// fatal and life-threatening cases get D0+15 like every serious case (PV-6).
pub fn clocks(day_zero: DateTime<Utc>, serious: bool, calendar: &Calendar) -> Clocks {
    let d0 = calendar.local_date(day_zero);
    let eu_days: u32 = if serious { 15 } else { 90 };
    let eu_due = d0 + Duration::days(i64::from(eu_days));
    let us_due = serious.then(|| d0 + Duration::days(15));
    let handoff_due = calendar.next_business_day(d0);
    Clocks {
        day_zero: d0,
        eu_due,
        eu_days,
        us_due,
        handoff_due,
        handoff_deadline: calendar.end_of(handoff_due),
        due_deadline: calendar.end_of(eu_due),
    }
}

/// An alert raised by the queue's clocks or by coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvAlert {
    /// Stable id (`kind:case` or `kind:channel`).
    pub id: String,
    /// `handoff-breach`, `near-breach`, `due-breach` or `coverage-gap`.
    pub kind: String,
    /// `critical` or `warning`.
    pub severity: String,
    /// The case, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// The channel, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// What fired and why, in one sentence.
    pub message: String,
    /// The deadline or limit that was crossed.
    pub threshold: String,
    /// Since when the condition holds.
    pub since: DateTime<Utc>,
}

/// The clock alerts of one case at `now` (PV-7, SCOPE-2): the hand-off deadline passed, the
/// regulatory due date passed, or fewer than `near_breach_days` days left before the
/// 15-day horizon while the case still waits for the hand-off. Only cases that await the
/// hand-off (new, in review) raise them.
pub fn case_alerts(
    case: &Case,
    clocks: &Clocks,
    calendar: &Calendar,
    now: DateTime<Utc>,
    near_breach_days: u32,
) -> Vec<PvAlert> {
    let mut alerts = Vec::new();
    if !case.status.awaits_handoff() {
        return alerts;
    }
    if now >= clocks.due_deadline {
        alerts.push(PvAlert {
            id: format!("due-breach:{}", case.id),
            kind: "due-breach".into(),
            severity: "critical".into(),
            case_id: Some(case.id.clone()),
            channel: None,
            message: format!(
                "case {} is past its {}-day due date ({}) and was never forwarded to PV",
                case.id, clocks.eu_days, clocks.eu_due
            ),
            threshold: format!("D0 {} + {} calendar days", clocks.day_zero, clocks.eu_days),
            since: clocks.due_deadline,
        });
    }
    if now >= clocks.handoff_deadline {
        alerts.push(PvAlert {
            id: format!("handoff-breach:{}", case.id),
            kind: "handoff-breach".into(),
            severity: if case.serious { "critical" } else { "warning" }.into(),
            case_id: Some(case.id.clone()),
            channel: None,
            message: format!(
                "case {} was not forwarded to PV within 1 business day of day zero ({}, due by the end of {})",
                case.id, clocks.day_zero, clocks.handoff_due
            ),
            threshold: "1 business day (PV-7)".into(),
            since: clocks.handoff_deadline,
        });
    }
    let horizon = clocks.day_zero + Duration::days(15);
    let today = calendar.local_date(now);
    let left = (horizon - today).num_days();
    if left < i64::from(near_breach_days) && now < calendar.end_of(horizon) {
        let since_date = horizon - Duration::days(i64::from(near_breach_days));
        alerts.push(PvAlert {
            id: format!("near-breach:{}", case.id),
            kind: "near-breach".into(),
            severity: "warning".into(),
            case_id: Some(case.id.clone()),
            channel: None,
            message: format!(
                "case {} still awaits the hand-off with {left} calendar day(s) left before the 15-day deadline ({horizon})",
                case.id
            ),
            threshold: format!("fewer than {near_breach_days} days before D0+15 (SCOPE-2)"),
            since: calendar.start_of(since_date).max(case.captured_at),
        });
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays() -> Vec<String> {
        ["mon", "tue", "wed", "thu", "fri"].iter().map(|day| (*day).to_owned()).collect()
    }

    fn paris(holidays: &[&str]) -> Calendar {
        let holidays: Vec<String> = holidays.iter().map(|day| (*day).to_owned()).collect();
        Calendar::new(chrono_tz::Europe::Paris, &weekdays(), &holidays).expect("calendar")
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn captured(case: &str, day_zero: DateTime<Utc>, serious: bool) -> Event {
        Event {
            id: format!("{case}-0"),
            case_id: case.into(),
            at: day_zero,
            actor: "waterline".into(),
            role: "system".into(),
            action: Action::Captured {
                post: Box::new(CapturedPost {
                    platform: "x".into(),
                    id: "1".into(),
                    url: None,
                    author: Some("someone".into()),
                    text: "Brandix gave me a rash".into(),
                    posted_at: day_zero,
                    language: Some("en".into()),
                    channel: None,
                    products: vec!["Brandix".into()],
                    media_count: 0,
                }),
                model: "test@1".into(),
                score: 0.9,
                categories: vec!["AE".into()],
                serious,
                detection: serde_json::Value::Null,
                day_zero,
                day_zero_basis: "posted on an owned channel".into(),
                duplicate_of: None,
            },
        }
    }

    #[test]
    fn pv_5_day_zero_on_a_friday_counts_calendar_days_and_hands_off_on_monday() {
        let calendar = paris(&[]);
        // Friday 2026-01-09, 15:00 in Paris.
        let clocks = clocks(at("2026-01-09T14:00:00Z"), true, &calendar);
        assert_eq!(clocks.day_zero, date("2026-01-09"));
        assert_eq!(clocks.eu_due, date("2026-01-24"), "weekends count");
        assert_eq!(clocks.us_due, Some(date("2026-01-24")));
        assert_eq!(clocks.handoff_due, date("2026-01-12"), "the next business day is Monday");
        let non_serious = super::clocks(at("2026-01-09T14:00:00Z"), false, &calendar);
        assert_eq!(non_serious.eu_due, date("2026-04-09"));
        assert_eq!(non_serious.us_due, None);
    }

    #[test]
    fn pv_5_day_zero_on_a_holiday_and_before_one() {
        let calendar = paris(&["2026-12-25", "2027-01-01"]);
        // Christmas Day (a Friday): calendar days still count; the hand-off skips the weekend.
        let clocks = clocks(at("2026-12-25T10:00:00Z"), true, &calendar);
        assert_eq!(clocks.eu_due, date("2027-01-09"));
        assert_eq!(clocks.handoff_due, date("2026-12-28"));
        // Thursday 31 December: the next day is a holiday, then a weekend.
        let clocks = super::clocks(at("2026-12-31T10:00:00Z"), false, &calendar);
        assert_eq!(clocks.handoff_due, date("2027-01-04"));
        assert_eq!(clocks.eu_due, date("2027-03-31"));
    }

    #[test]
    fn pv_5_month_ends_and_leap_years() {
        let calendar = paris(&[]);
        assert_eq!(clocks(at("2026-01-31T12:00:00Z"), true, &calendar).eu_due, date("2026-02-15"));
        assert_eq!(clocks(at("2028-02-14T12:00:00Z"), true, &calendar).eu_due, date("2028-02-29"));
        assert_eq!(clocks(at("2026-04-30T12:00:00Z"), true, &calendar).eu_due, date("2026-05-15"));
        assert_eq!(clocks(at("2026-12-20T12:00:00Z"), true, &calendar).eu_due, date("2027-01-04"));
        assert_eq!(clocks(at("2026-11-30T12:00:00Z"), false, &calendar).eu_due, date("2027-02-28"));
    }

    #[test]
    fn pv_5_local_day_and_daylight_saving_change() {
        let calendar = paris(&[]);
        // 23:30 UTC on 14 March is already 15 March in Paris (UTC+1).
        let clocks = clocks(at("2026-03-14T23:30:00Z"), true, &calendar);
        assert_eq!(clocks.day_zero, date("2026-03-15"));
        // The clocks go forward on 29 March: the due day ends at midnight CEST (UTC+2).
        assert_eq!(clocks.eu_due, date("2026-03-30"));
        assert_eq!(clocks.due_deadline, at("2026-03-30T22:00:00Z"));
        // Day zero before the change, hand-off due after it, still the end of a local day.
        let friday = super::clocks(at("2026-03-27T16:00:00Z"), false, &calendar);
        assert_eq!(friday.handoff_due, date("2026-03-30"));
        assert_eq!(friday.handoff_deadline, at("2026-03-30T22:00:00Z"));
        // And back in October: 25 October is 25 hours long.
        let autumn = super::clocks(at("2026-10-24T10:00:00Z"), true, &calendar);
        assert_eq!(calendar.end_of(date("2026-10-25")), at("2026-10-25T23:00:00Z"));
        assert_eq!(autumn.eu_due, date("2026-11-08"));
        assert_eq!(autumn.due_deadline, at("2026-11-08T23:00:00Z"));
    }

    #[test]
    fn pv_6_fatal_cases_get_fifteen_days_not_seven() {
        let calendar = paris(&[]);
        let clocks = clocks(at("2026-06-01T08:00:00Z"), true, &calendar);
        assert_eq!((clocks.eu_due - clocks.day_zero).num_days(), 15);
        assert_eq!(clocks.us_due.map(|due| (due - clocks.day_zero).num_days()), Some(15));
    }

    #[test]
    fn pv_7_a_calendar_without_working_days_does_not_loop() {
        let calendar = Calendar::new(chrono_tz::UTC, &[], &[]).expect("calendar");
        assert_eq!(calendar.next_business_day(date("2026-01-01")), date("2026-01-02"));
        assert!(Calendar::new(chrono_tz::UTC, &["funday".into()], &[]).is_err());
        assert!(Calendar::new(chrono_tz::UTC, &weekdays(), &["25/12".into()]).is_err());
    }

    #[test]
    fn aud_1_replaying_the_log_rebuilds_the_state() {
        let d0 = at("2026-05-04T09:00:00Z");
        let mut events = vec![captured("pv-1", d0, false)];
        let later = |minutes: i64, action: Action| Event {
            id: format!("pv-1-{minutes}"),
            case_id: "pv-1".into(),
            at: d0 + Duration::minutes(minutes),
            actor: "alice".into(),
            role: "pv-reviewer".into(),
            action,
        };
        events.push(later(5, Action::Viewed));
        events.push(later(6, Action::Viewed));
        events.push(later(7, Action::Assigned { assignee: "bob".into() }));
        events.push(later(8, Action::FollowUp { note: "asked to contact PV".into() }));
        events.push(later(
            9,
            Action::Decided {
                status: Status::Forwarded,
                reason: None,
                note: None,
                reference: Some("SDB-1".into()),
            },
        ));
        events.push(later(10, Action::Received { reference: "SDB-1".into() }));
        let cases = rebuild(&events);
        let case = &cases["pv-1"];
        assert_eq!(case.status, Status::Forwarded);
        assert_eq!(case.views, 2);
        assert_eq!(case.first_viewed.as_ref().map(|(at, _)| *at), Some(d0 + Duration::minutes(5)));
        assert_eq!(case.assignee.as_deref(), Some("bob"));
        assert_eq!(case.follow_ups.len(), 1);
        assert_eq!(case.forwarded_at, Some(d0 + Duration::minutes(9)));
        assert_eq!(case.received.as_deref(), Some("SDB-1"));
        // Any prefix of the log is a valid state: a kill between two events loses nothing
        // that was written.
        for end in 1..=events.len() {
            let partial = rebuild(&events[..end]);
            assert_eq!(partial["pv-1"].events as usize, end);
        }
        // Serialising and reading the log back gives the same state.
        let json = serde_json::to_string(&events).expect("json");
        let back: Vec<Event> = serde_json::from_str(&json).expect("read back");
        assert_eq!(rebuild(&back), cases);
    }

    #[test]
    fn aud_2_the_first_view_and_its_viewer_are_kept() {
        let d0 = at("2026-05-04T09:00:00Z");
        let view = |minutes: i64, actor: &str| Event {
            id: format!("v{minutes}"),
            case_id: "pv-4".into(),
            at: d0 + Duration::minutes(minutes),
            actor: actor.into(),
            role: "pv-reviewer".into(),
            action: Action::Viewed,
        };
        let events = vec![captured("pv-4", d0, false), view(30, "carol"), view(45, "dave")];
        let case = &rebuild(&events)["pv-4"];
        assert_eq!(case.first_viewed, Some((d0 + Duration::minutes(30), "carol".to_owned())));
        assert_eq!(case.views, 2);
    }

    #[test]
    fn pv_2_nothing_closes_a_case_but_a_decision() {
        let d0 = at("2026-05-04T09:00:00Z");
        let events = vec![captured("pv-2", d0, true)];
        let cases = rebuild(&events);
        assert_eq!(cases["pv-2"].status, Status::New);
        assert!(is_reason_code("hypothetical"));
        assert!(!is_reason_code("because"));
    }

    #[test]
    fn pv_7_and_scope_2_alerts_follow_the_clocks() {
        let calendar = paris(&[]);
        let d0 = at("2026-01-09T14:00:00Z"); // Friday
        let case = rebuild(&[captured("pv-3", d0, true)]).remove("pv-3").expect("case");
        let clocks = clocks(d0, true, &calendar);
        let kinds = |now: &str| -> Vec<String> {
            case_alerts(&case, &clocks, &calendar, at(now), 10)
                .into_iter()
                .map(|alert| alert.kind)
                .collect()
        };
        assert!(kinds("2026-01-10T10:00:00Z").is_empty());
        assert_eq!(kinds("2026-01-13T10:00:00Z"), ["handoff-breach"]);
        assert_eq!(kinds("2026-01-19T10:00:00Z"), ["handoff-breach", "near-breach"]);
        assert_eq!(kinds("2026-01-25T10:00:00Z"), ["due-breach", "handoff-breach"]);
        let mut forwarded = case.clone();
        forwarded.status = Status::Forwarded;
        assert!(
            case_alerts(&forwarded, &clocks, &calendar, at("2026-01-25T10:00:00Z"), 10).is_empty()
        );
    }
}
