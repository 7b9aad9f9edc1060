//! Alert rules (`[alerts]` in the workspace configuration) and what a firing alert says.
//!
//! Every alert explains itself: the window it looked at, the baseline it compared with, the
//! threshold, and the posts, terms and topic that drove it (PRODUCT.md section 3, "Spike").

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of alert rule.
pub const RULE_KINDS: &[&str] =
    &["volume", "negative-share", "topic-growth", "pv", "coverage-gap", "unanswered"];

/// The `[alerts]` table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// The rules in force; none declared means [`default_rules`].
    #[serde(default)]
    pub rules: Vec<AlertRule>,
    /// Where firing alerts are sent.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
}

impl AlertsConfig {
    /// The rules in force: the declared ones, or the defaults when none is declared.
    pub fn rules_in_force(&self) -> Vec<AlertRule> {
        if self.rules.is_empty() { default_rules() } else { self.rules.clone() }
    }

    /// What is wrong with this table, if anything.
    pub fn problem(&self) -> Option<String> {
        let mut names = std::collections::BTreeSet::new();
        for rule in &self.rules {
            if !names.insert(rule.name.as_str()) {
                return Some(format!("two alert rules are named `{}`", rule.name));
            }
            if let Some(problem) = rule.problem() {
                return Some(format!("alert rule `{}`: {problem}", rule.name));
            }
        }
        for hook in &self.webhooks {
            if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
                return Some(format!(
                    "webhook `{}`: the url must start with http:// or https://",
                    hook.name
                ));
            }
            for rule in &hook.rules {
                if !self.rules_in_force().iter().any(|known| &known.name == rule) {
                    return Some(format!(
                        "webhook `{}`: no alert rule is named `{rule}`",
                        hook.name
                    ));
                }
            }
        }
        None
    }
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// A unique name, shown with every alert it raises.
    pub name: String,
    /// One of [`RULE_KINDS`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The window compared with the reference windows (`1h`, `6h`, `1d`).
    #[serde(default = "default_window")]
    pub window: String,
    /// How many windows before it make the reference.
    #[serde(default = "default_reference")]
    pub reference: u32,
    /// How many standard deviations above the reference mean fire the rule.
    #[serde(default = "default_k")]
    pub k: f64,
    /// The least count in the window for the rule to fire (for `negative-share`, the least
    /// number of posts with a sentiment).
    #[serde(default = "default_min_count")]
    pub min_count: u64,
    /// After an alert of this rule (and key) ends, how long before another may fire.
    #[serde(default = "default_cooldown")]
    pub cooldown: String,
    /// Only posts of this side (`audience`, `own`, `competitor`); all sides when absent.
    #[serde(default)]
    pub side: Option<String>,
    /// Only posts of this platform.
    #[serde(default)]
    pub platform: Option<String>,
    /// Only posts matching this Boolean query.
    #[serde(default)]
    pub query: Option<String>,
    /// `unanswered`: hours a question to the brand may wait for a reply before it fires.
    #[serde(default = "default_hours")]
    pub hours: u32,
    /// Counts only: the relative day-to-day variation always taken as noise (the standard
    /// deviation is at least `dispersion` × the reference mean, besides √mean). Social
    /// volume is overdispersed (weekday rhythm, reply threads under one popular post), so a
    /// flat Poisson floor alone fires on ordinary days.
    #[serde(default = "default_dispersion")]
    pub dispersion: f64,
}

fn default_window() -> String {
    "1d".to_owned()
}
fn default_reference() -> u32 {
    14
}
/// Four, not the textbook two or three: a rule is evaluated at every bucket (twelve times a
/// window), so over months a lower k fires on ordinary day-to-day swings (measured on
/// `waterline generate --calm` scenarios).
fn default_k() -> f64 {
    4.0
}
fn default_dispersion() -> f64 {
    0.2
}
fn default_min_count() -> u64 {
    20
}
fn default_cooldown() -> String {
    "1d".to_owned()
}
fn default_hours() -> u32 {
    24
}

impl AlertRule {
    /// A rule of `kind` named `name` with every setting at its default.
    pub fn new(name: &str, kind: &str) -> AlertRule {
        AlertRule {
            name: name.to_owned(),
            kind: kind.to_owned(),
            window: default_window(),
            reference: default_reference(),
            k: default_k(),
            min_count: default_min_count(),
            cooldown: default_cooldown(),
            side: None,
            platform: None,
            query: None,
            hours: default_hours(),
            dispersion: default_dispersion(),
        }
    }

    /// The window as a duration.
    pub fn window_duration(&self) -> Option<Duration> {
        parse_duration(&self.window)
    }

    /// The cooldown as a duration.
    pub fn cooldown_duration(&self) -> Option<Duration> {
        parse_duration(&self.cooldown)
    }

    /// What is wrong with this rule, if anything.
    pub fn problem(&self) -> Option<String> {
        if !RULE_KINDS.contains(&self.kind.as_str()) {
            return Some(format!(
                "unknown type `{}` (use one of: {})",
                self.kind,
                RULE_KINDS.join(", ")
            ));
        }
        match self.window_duration() {
            None => {
                return Some(format!(
                    "cannot read the window `{}` (write 30m, 6h or 1d)",
                    self.window
                ));
            }
            Some(window) if window.as_secs() < 60 => {
                return Some("the window must be at least one minute".to_owned());
            }
            Some(_) => {}
        }
        if self.cooldown_duration().is_none() {
            return Some(format!(
                "cannot read the cooldown `{}` (write 30m, 6h or 1d)",
                self.cooldown
            ));
        }
        if self.reference < 2 {
            return Some("the reference needs at least 2 windows".to_owned());
        }
        if !(self.dispersion.is_finite() && self.dispersion >= 0.0) {
            return Some("dispersion must be a number ≥ 0".to_owned());
        }
        if !(self.k.is_finite() && self.k > 0.0) {
            return Some("k must be a positive number".to_owned());
        }
        if let Some(side) = &self.side
            && !["audience", "own", "competitor"].contains(&side.as_str())
        {
            return Some(format!("unknown side `{side}` (use audience, own or competitor)"));
        }
        None
    }
}

/// Reads `90s`, `15m`, `6h`, `1d`, `2w` (one number and one unit).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" | "sec" | "seconds" => 1,
        "m" | "min" | "minutes" => 60,
        "h" | "hours" => 3600,
        "d" | "days" => 86_400,
        "w" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(number.checked_mul(seconds)?))
}

/// The rules in force when a workspace declares none.
pub fn default_rules() -> Vec<AlertRule> {
    let mut volume = AlertRule::new("audience-volume", "volume");
    volume.side = Some("audience".to_owned());
    let mut negative = AlertRule::new("negative-share", "negative-share");
    negative.side = Some("audience".to_owned());
    // Two days: a share over one day of a mid-sized brand rests on too few posts.
    negative.window = "2d".to_owned();
    let mut topic = AlertRule::new("topic-growth", "topic-growth");
    topic.side = Some("audience".to_owned());
    // A topic is a small series with bursty threads: only a clear jump counts as growth.
    topic.dispersion = 0.75;
    vec![
        volume,
        negative,
        topic,
        AlertRule::new("pharmacovigilance", "pv"),
        AlertRule::new("coverage-gap", "coverage-gap"),
        AlertRule::new("unanswered-questions", "unanswered"),
    ]
}

/// A webhook alerts are posted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// A name for people and logs.
    pub name: String,
    /// The URL a JSON payload is POSTed to.
    pub url: String,
    /// The environment variable holding the secret the payload is signed with (HMAC-SHA256,
    /// header `X-Waterline-Signature`); unsigned when absent.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Only alerts of these rules; all when empty.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A post that drove an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPost {
    /// `platform:id`.
    pub key: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// Its author's handle, if known.
    pub author: Option<String>,
    /// The start of its text.
    pub text: String,
}

/// A term over-represented in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTerm {
    /// The term (a word or a hashtag, folded).
    pub term: String,
    /// Posts of the window that contain it.
    pub window_count: u64,
    /// How many times more often than in the reference (smoothed).
    pub lift: f64,
}

/// What one alert says: what fired and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Firing {
    /// The rule's name.
    pub rule: String,
    /// The rule's kind.
    pub kind: String,
    /// What the alert is about within the rule (a topic, a case, a channel, a post); empty
    /// for a rule with one series.
    pub key: String,
    /// When it fired (the event time that crossed the threshold).
    pub fired_at: DateTime<Utc>,
    /// The window looked at.
    pub window_start: Option<DateTime<Utc>>,
    /// The end of the window looked at.
    pub window_end: Option<DateTime<Utc>>,
    /// The value observed in the window (a count, a share).
    pub observed: f64,
    /// The reference mean.
    pub baseline: Option<f64>,
    /// The reference standard deviation.
    pub baseline_sd: Option<f64>,
    /// The threshold the observed value crossed.
    pub threshold: Option<f64>,
    /// One sentence a person reads first.
    pub summary: String,
    /// Posts that drove it (the most engaged first, at most ten).
    #[serde(default)]
    pub posts: Vec<AlertPost>,
    /// Terms that drove it.
    #[serde(default)]
    pub terms: Vec<AlertTerm>,
    /// The topic that drove it, if any.
    #[serde(default)]
    pub topic: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_one_number_and_a_unit() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("6h"), Some(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1 d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
    }

    #[test]
    fn the_default_rules_are_valid() {
        let config = AlertsConfig { rules: default_rules(), webhooks: Vec::new() };
        assert_eq!(config.problem(), None);
    }
}
