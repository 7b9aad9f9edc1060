//! The metric catalogue (PRODUCT.md section 3): every number Waterline shows, with its
//! declared definition, numerator, denominator, time basis and default scope.
//!
//! A metric is a [`Formula`] over the rows of one [`Family`]; the planner (`query.rs`)
//! turns formulas into SQL, and baselines (`compare.rs`) use the same formulas to decide
//! how a metric is resampled. Nothing here runs a query.

use serde::Serialize;

/// Where a metric's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// One row per post (latest state) in the period.
    Posts,
    /// One row per audience author who interacted with the brand in the period.
    Authors,
    /// One row per inbound conversation: the first audience post that needs a reply.
    Responses,
    /// One row per day and business series (`waterline kpi import`).
    Business,
}

/// How a metric aggregates its family's rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Formula {
    /// Rows (that match the condition, when there is one). Additive.
    Count {
        /// A SQL condition over the row, or none.
        when: Option<&'static str>,
    },
    /// The sum of a value. Additive.
    Sum {
        /// A SQL expression over the row.
        value: &'static str,
    },
    /// Σ numerator ÷ Σ denominator × scale. Numerator and denominator are additive.
    Ratio {
        /// SQL expression summed for the numerator.
        numerator: &'static str,
        /// SQL expression summed for the denominator.
        denominator: &'static str,
        /// Multiplier (100 for percentages).
        scale: f64,
    },
    /// The mean of a per-row value (rows where it is unknown are left out).
    Mean {
        /// SQL expression.
        value: &'static str,
    },
    /// A percentile of a per-row value (0.5 = median), exact (`percentile_cont`).
    Percentile {
        /// SQL expression.
        value: &'static str,
        /// The fraction.
        fraction: f64,
    },
    /// Distinct values of a key.
    Distinct {
        /// SQL expression.
        key: &'static str,
    },
    /// A share of a panel member's part against the whole panel (share of voice).
    Voice {
        /// Which part of a mention is counted.
        part: VoicePart,
    },
    /// A row count's share of the total across the values of one dimension.
    ShareOf {
        /// The dimension the shares add up across.
        over: &'static str,
        /// Count engagements instead of posts.
        engagements: bool,
    },
}

/// What share of voice counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoicePart {
    /// Posts that mention the member.
    Mentions,
    /// Engagements on those posts.
    Engagement,
    /// Positive posts that mention the member.
    Positive,
    /// Negative posts that mention the member.
    Negative,
}

/// One catalogue entry.
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// Stable name used in queries, baselines, milestones and the API.
    pub name: &'static str,
    /// Short human label.
    pub label: &'static str,
    /// `count`, `percent`, `ratio`, `share` (0..1), `hours`.
    pub unit: &'static str,
    /// The rows it is computed over.
    pub family: Family,
    /// The formula.
    pub formula: Formula,
    /// One-sentence definition.
    pub definition: &'static str,
    /// What is counted above the line.
    pub numerator: &'static str,
    /// What it is divided by ("" for counts).
    pub denominator: &'static str,
    /// Which timestamp puts a row in a period or bucket.
    pub time_basis: &'static str,
    /// Default row scope as (field, value) pairs; a pair is dropped when the query
    /// filters or splits by that field.
    pub scope: &'static [(&'static str, &'static str)],
}

/// The default scope of content metrics: the brand's original posts.
const OWN_ORIGINALS: &[(&str, &str)] = &[("side", "own"), ("post_type", "original")];
/// The default scope of audience metrics.
const AUDIENCE: &[(&str, &str)] = &[("side", "audience")];

const POSTED: &str = "the post's creation time";
const INBOUND: &str = "the creation time of the conversation's first inbound post";

macro_rules! metric {
    ($name:expr, $label:expr, $unit:expr, $family:expr, $formula:expr, $scope:expr, $time:expr,
     $definition:expr, $numerator:expr, $denominator:expr) => {
        Metric {
            name: $name,
            label: $label,
            unit: $unit,
            family: $family,
            formula: $formula,
            scope: $scope,
            time_basis: $time,
            definition: $definition,
            numerator: $numerator,
            denominator: $denominator,
        }
    };
}

/// Per-post engagement rate by followers (percent); NULL when followers are unknown or 0.
pub const RATE_FOLLOWERS: &str =
    "engagements * 100.0 / CASE WHEN author_followers > 0 THEN author_followers END";
/// Per-post engagement rate by impressions (percent); NULL when impressions are unknown or 0.
pub const RATE_IMPRESSIONS: &str = "engagements * 100.0 / CASE WHEN views > 0 THEN views END";

/// The catalogue, in the order `waterline metrics` lists it.
pub fn catalogue() -> &'static [Metric] {
    use Family::*;
    use Formula::*;
    static CATALOGUE: std::sync::OnceLock<Vec<Metric>> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(|| {
        vec![
            metric!("posts", "Posts", "count", Posts, Count { when: None }, &[], POSTED,
                "Posts in the period (every side and type unless filtered).", "posts", ""),
            metric!("engagements", "Engagements", "count", Posts, Sum { value: "engagements" }, OWN_ORIGINALS, POSTED,
                "Likes + shares + replies + quotes of each post, summed; a part a platform does not give is unknown, not 0, and a post with no known part has no engagements.",
                "likes + shares + replies + quotes (known parts)", ""),
            metric!("engagement_rate_followers", "Engagement rate by followers (median)", "percent", Posts,
                Percentile { value: RATE_FOLLOWERS, fraction: 0.5 }, OWN_ORIGINALS, POSTED,
                "Median over posts of engagements ÷ the author's followers × 100 (followers as observed with the post); posts with unknown followers are left out.",
                "engagements of the post", "author followers"),
            metric!("engagement_rate_followers_mean", "Engagement rate by followers (mean)", "percent", Posts,
                Mean { value: RATE_FOLLOWERS }, OWN_ORIGINALS, POSTED,
                "Mean over posts of engagements ÷ the author's followers × 100; posts with unknown followers are left out.",
                "engagements of the post", "author followers"),
            metric!("engagement_rate_impressions", "Engagement rate by impressions (median)", "percent", Posts,
                Percentile { value: RATE_IMPRESSIONS, fraction: 0.5 }, OWN_ORIGINALS, POSTED,
                "Median over posts of engagements ÷ impressions × 100, only where the platform gives impressions (unknown elsewhere, never 0).",
                "engagements of the post", "impressions (views)"),
            metric!("engagement_rate_impressions_mean", "Engagement rate by impressions (mean)", "percent", Posts,
                Mean { value: RATE_IMPRESSIONS }, OWN_ORIGINALS, POSTED,
                "Mean over posts of engagements ÷ impressions × 100, only where impressions are known.",
                "engagements of the post", "impressions (views)"),
            metric!("conversation_rate", "Conversation rate (Kaushik)", "ratio", Posts, Mean { value: "replies" }, OWN_ORIGINALS, POSTED,
                "Replies per post (posts whose replies are unknown are left out).", "replies", "posts"),
            metric!("amplification_rate", "Amplification rate (Kaushik)", "ratio", Posts, Mean { value: "shares" }, OWN_ORIGINALS, POSTED,
                "Shares (reposts, boosts) per post.", "shares", "posts"),
            metric!("applause_rate", "Applause rate (Kaushik)", "ratio", Posts, Mean { value: "likes" }, OWN_ORIGINALS, POSTED,
                "Likes (favourites) per post.", "likes", "posts"),
            metric!("conversation_rate_per_1k", "Conversation rate per 1,000 followers", "ratio", Posts,
                Mean { value: "replies * 1000.0 / CASE WHEN author_followers > 0 THEN author_followers END" }, OWN_ORIGINALS, POSTED,
                "Mean over posts of replies ÷ followers × 1,000.", "replies", "followers ÷ 1,000"),
            metric!("amplification_rate_per_1k", "Amplification rate per 1,000 followers", "ratio", Posts,
                Mean { value: "shares * 1000.0 / CASE WHEN author_followers > 0 THEN author_followers END" }, OWN_ORIGINALS, POSTED,
                "Mean over posts of shares ÷ followers × 1,000.", "shares", "followers ÷ 1,000"),
            metric!("applause_rate_per_1k", "Applause rate per 1,000 followers", "ratio", Posts,
                Mean { value: "likes * 1000.0 / CASE WHEN author_followers > 0 THEN author_followers END" }, OWN_ORIGINALS, POSTED,
                "Mean over posts of likes ÷ followers × 1,000.", "likes", "followers ÷ 1,000"),
            metric!("mentions", "Brand mentions", "count", Posts, Count { when: Some("mentions_brand") }, AUDIENCE, POSTED,
                "Posts that name the brand or one of its products (or a misspelling), or @mention or reply to an owned account.",
                "posts mentioning the brand", ""),
            metric!("share_of_voice_mentions", "Share of voice (mentions)", "share", Posts, Voice { part: VoicePart::Mentions }, AUDIENCE, POSTED,
                "Brand mentions ÷ mentions of every panel member (the brand and the workspace's fixed competitors); a post naming two members counts for both.",
                "posts mentioning the member", "posts mentioning each panel member, summed"),
            metric!("share_of_voice_engagement", "Share of voice (engagement)", "share", Posts, Voice { part: VoicePart::Engagement }, AUDIENCE, POSTED,
                "Engagements on posts mentioning the member ÷ the same over every panel member.",
                "engagements on posts mentioning the member", "the same, summed over the panel"),
            metric!("share_of_voice_positive", "Share of voice (positive)", "share", Posts, Voice { part: VoicePart::Positive }, AUDIENCE, POSTED,
                "Positive posts mentioning the member ÷ positive posts mentioning each panel member.",
                "positive posts mentioning the member", "positive posts mentioning each member, summed"),
            metric!("share_of_voice_negative", "Share of voice (negative)", "share", Posts, Voice { part: VoicePart::Negative }, AUDIENCE, POSTED,
                "Negative posts mentioning the member ÷ negative posts mentioning each panel member.",
                "negative posts mentioning the member", "negative posts mentioning each member, summed"),
            metric!("positive_share", "Positive share", "share", Posts,
                Ratio { numerator: "CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END", denominator: "CASE WHEN sentiment IS NOT NULL THEN 1 ELSE 0 END", scale: 1.0 },
                AUDIENCE, POSTED, "Positive posts ÷ posts with a sentiment.", "positive posts", "posts with a sentiment"),
            metric!("neutral_share", "Neutral share", "share", Posts,
                Ratio { numerator: "CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END", denominator: "CASE WHEN sentiment IS NOT NULL THEN 1 ELSE 0 END", scale: 1.0 },
                AUDIENCE, POSTED, "Neutral posts ÷ posts with a sentiment.", "neutral posts", "posts with a sentiment"),
            metric!("negative_share", "Negative share", "share", Posts,
                Ratio { numerator: "CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END", denominator: "CASE WHEN sentiment IS NOT NULL THEN 1 ELSE 0 END", scale: 1.0 },
                AUDIENCE, POSTED, "Negative posts ÷ posts with a sentiment.", "negative posts", "posts with a sentiment"),
            metric!("net_sentiment", "Net sentiment", "share", Posts,
                Ratio { numerator: "CASE WHEN sentiment = 'positive' THEN 1 WHEN sentiment = 'negative' THEN -1 ELSE 0 END", denominator: "CASE WHEN sentiment IS NOT NULL THEN 1 ELSE 0 END", scale: 1.0 },
                AUDIENCE, POSTED, "(positive − negative) ÷ posts with a sentiment, from −1 to 1.", "positive − negative posts", "posts with a sentiment"),
            metric!("channel_share", "Channel mix (posts)", "share", Posts, ShareOf { over: "platform", engagements: false }, AUDIENCE, POSTED,
                "A platform's share of the posts (split by platform automatically).", "posts on the platform", "posts on every platform"),
            metric!("channel_share_engagements", "Channel mix (engagements)", "share", Posts, ShareOf { over: "platform", engagements: true }, AUDIENCE, POSTED,
                "A platform's share of the engagements (split by platform automatically).", "engagements on the platform", "engagements on every platform"),
            metric!("topic_share", "Topic share", "share", Posts, ShareOf { over: "topic", engagements: false }, &[], POSTED,
                "A topic's share of a side's posts (split by topic automatically; split by side to compare own and audience).",
                "posts in the topic", "posts of the same side (and other splits)"),
            metric!("interacting_audience", "Interacting audience", "count", Authors, Distinct { key: "author_key" }, &[], POSTED,
                "Distinct audience authors who replied to, quoted or @mentioned an owned account, or named the brand or a product.",
                "distinct interacting authors", ""),
            metric!("interactions", "Interactions", "count", Authors, Sum { value: "n" }, &[], POSTED,
                "Audience posts that interact with the brand (as for the interacting audience).", "interacting posts", ""),
            metric!("interactors_1", "Authors with 1 interaction", "count", Authors, Count { when: Some("n = 1") }, &[], POSTED,
                "Interacting authors with exactly one interaction in the period (or bucket).", "authors", ""),
            metric!("interactors_2_3", "Authors with 2–3 interactions", "count", Authors, Count { when: Some("n BETWEEN 2 AND 3") }, &[], POSTED,
                "Interacting authors with two or three interactions.", "authors", ""),
            metric!("interactors_4_9", "Authors with 4–9 interactions", "count", Authors, Count { when: Some("n BETWEEN 4 AND 9") }, &[], POSTED,
                "Interacting authors with four to nine interactions.", "authors", ""),
            metric!("interactors_10_plus", "Authors with 10+ interactions", "count", Authors, Count { when: Some("n >= 10") }, &[], POSTED,
                "Interacting authors with ten interactions or more.", "authors", ""),
            metric!("new_authors", "New interacting authors", "count", Authors, Count { when: Some("first_ever >= first_here") }, &[], POSTED,
                "Interacting authors whose first interaction with the brand ever (in the whole store) falls in the period (or bucket).", "authors", ""),
            metric!("returning_authors", "Returning interacting authors", "count", Authors, Count { when: Some("first_ever < first_here") }, &[], POSTED,
                "Interacting authors who had interacted before the period (or bucket).", "authors", ""),
            metric!("inbound", "Inbound conversations", "count", Responses, Count { when: None }, &[], INBOUND,
                "Conversations in which an audience post needs a reply from the brand: the post is addressed to the brand (or sits in a conversation an owned account takes part in) and is a question, complaint or request (every such post when the workspace says `inbound = \"addressed\"`); a conversation counts once, from its first such post.",
                "conversations", ""),
            metric!("response_rate", "Response rate", "share", Responses,
                Ratio { numerator: "CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END", denominator: "1", scale: 1.0 }, &[], INBOUND,
                "Inbound conversations in which an owned account posted after the first inbound post ÷ inbound conversations.",
                "answered conversations", "inbound conversations"),
            metric!("first_response_hours", "First-response time (median, hours)", "hours", Responses,
                Percentile { value: "response_hours", fraction: 0.5 }, &[], INBOUND,
                "Median of calendar hours from the conversation's first inbound post to the brand's first post after it in the conversation; unanswered conversations are left out.",
                "hours to first response", ""),
            metric!("first_response_hours_p90", "First-response time (p90, hours)", "hours", Responses,
                Percentile { value: "response_hours", fraction: 0.9 }, &[], INBOUND,
                "90th percentile of calendar hours to the first response.", "hours to first response", ""),
            metric!("first_response_business_hours", "First-response time (median, business hours)", "hours", Responses,
                Percentile { value: "response_business_hours", fraction: 0.5 }, &[], INBOUND,
                "Median of business hours (the workspace's `[responses]` days and hours, in its time zone) to the first response.",
                "business hours to first response", ""),
            metric!("first_response_business_hours_p90", "First-response time (p90, business hours)", "hours", Responses,
                Percentile { value: "response_business_hours", fraction: 0.9 }, &[], INBOUND,
                "90th percentile of business hours to the first response.", "business hours to first response", ""),
        ]
    })
}

/// The catalogue entry of a name.
pub fn find(name: &str) -> Option<&'static Metric> {
    catalogue().iter().find(|metric| metric.name == name)
}

/// A business metric (`kpi:NAME`, the sum of a series imported with `waterline kpi import`)
/// or its share against competitors (`kpi_share:NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessMetric {
    /// The series name.
    pub series: String,
    /// The brand's share of the series against the panel instead of the sum.
    pub share: bool,
}

impl BusinessMetric {
    /// Parses `kpi:NAME` or `kpi_share:NAME`.
    pub fn parse(name: &str) -> Option<BusinessMetric> {
        if let Some(series) = name.strip_prefix("kpi_share:") {
            return Some(BusinessMetric { series: series.to_owned(), share: true });
        }
        name.strip_prefix("kpi:")
            .map(|series| BusinessMetric { series: series.to_owned(), share: false })
    }
}

/// The definitions of metrics by name (catalogue metrics and business series), as JSON.
pub fn definitions(names: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for name in names {
        let value = match find(name) {
            Some(metric) => serde_json::to_value(metric).unwrap_or_default(),
            None => match BusinessMetric::parse(name) {
                Some(business) if business.share => serde_json::json!({
                    "definition": format!("The brand's share of the imported series `{}` against the panel (rows without a competitor ÷ all rows).", business.series),
                    "unit": "share"
                }),
                Some(business) => serde_json::json!({
                    "definition": format!("The sum of the imported business series `{}`.", business.series),
                    "unit": "number"
                }),
                None => serde_json::Value::Null,
            },
        };
        map.insert(name.clone(), value);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eng_1_kaushik_rates_per_post_and_per_thousand_followers_are_declared() {
        for name in [
            "conversation_rate",
            "amplification_rate",
            "applause_rate",
            "conversation_rate_per_1k",
            "amplification_rate_per_1k",
            "applause_rate_per_1k",
        ] {
            let metric = find(name).unwrap_or_else(|| panic!("{name} is missing"));
            assert!(!metric.denominator.is_empty(), "{name} declares its denominator");
        }
        assert!(find("applause_rate_per_1k").is_some_and(|m| m.definition.contains("1,000")
            || m.definition.contains("1000")
            || m.definition.contains("thousand")));
    }

    #[test]
    fn eng_2_response_rate_and_first_response_median_and_p90_are_declared() {
        for name in [
            "inbound",
            "response_rate",
            "first_response_hours",
            "first_response_hours_p90",
            "first_response_business_hours",
            "first_response_business_hours_p90",
        ] {
            assert!(find(name).is_some(), "{name} is missing");
        }
    }

    #[test]
    fn names_are_unique_and_documented() {
        let mut names = std::collections::BTreeSet::new();
        for metric in catalogue() {
            assert!(names.insert(metric.name), "duplicate {}", metric.name);
            assert!(
                !metric.definition.is_empty() && !metric.numerator.is_empty(),
                "{}",
                metric.name
            );
        }
        assert!(find("share_of_voice_mentions").is_some());
        assert_eq!(
            BusinessMetric::parse("kpi_share:prescriptions"),
            Some(BusinessMetric { series: "prescriptions".into(), share: true })
        );
    }
}
