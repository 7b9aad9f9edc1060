//! Bounds on what a request or a command may carry (ADR 018): dates, free text, pages. A
//! value out of bounds is a `bad_request` that says the bound, never an overflow further
//! down; the CLI and the server check through here.

use chrono::{Datelike, NaiveDate};

use crate::error::AppError;

/// The first and last years a date may name (posts, periods, baselines, milestones).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

/// The longest name (a baseline, a milestone, a token, an assignee), in characters.
pub const NAME_CHARS: usize = 200;

/// The longest note or reason (an alert note, a PV decision's reason), in characters.
pub const NOTE_CHARS: usize = 4_000;

/// The deepest page of a post list: `page × per_page` at most this many posts.
pub const DEEPEST_POST: u64 = 100_000_000;

/// `Ok` when the day's year is within [`YEARS`].
pub fn check_day(day: NaiveDate, what: &str) -> Result<(), AppError> {
    if YEARS.contains(&day.year()) {
        return Ok(());
    }
    Err(AppError::bad_request(format!(
        "`{what}` ({day}) is out of range: dates fall between {} and {}",
        YEARS.start(),
        YEARS.end()
    )))
}

/// `Ok` when the text has at most `max` characters and no control character but tabs and
/// line breaks.
pub fn check_text(text: &str, what: &str, max: usize) -> Result<(), AppError> {
    let count = text.chars().count();
    if count > max {
        return Err(AppError::bad_request(format!(
            "`{what}` has {count} characters; at most {max}"
        )));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(AppError::bad_request(format!("`{what}` holds a control character")));
    }
    Ok(())
}

/// `Ok` when a name is not blank and within [`NAME_CHARS`].
pub fn check_name(name: &str, what: &str) -> Result<(), AppError> {
    if name.trim().is_empty() {
        return Err(AppError::bad_request(format!("`{what}` is blank")));
    }
    check_text(name, what, NAME_CHARS)
}

/// `Ok` when a page of a post list is within reach.
pub fn check_page(page: u64, per_page: u64) -> Result<(), AppError> {
    if per_page == 0 || per_page > 1000 {
        return Err(AppError::bad_request("`per_page` is between 1 and 1000"));
    }
    if page == 0 || page.saturating_mul(per_page) > DEEPEST_POST {
        return Err(AppError::bad_request(format!(
            "`page` is between 1 and {} at {per_page} per page",
            DEEPEST_POST / per_page
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn dates_texts_and_pages_out_of_range_are_bad_requests() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(check_day(day(2026, 5, 1), "from").is_ok());
        assert_eq!(check_day(day(2200, 1, 1), "day_zero").unwrap_err().kind, ErrorKind::BadRequest);
        assert!(check_day(day(1899, 12, 31), "from").is_err());
        assert!(check_text("ok\nfine", "note", 10).is_ok());
        assert!(check_text(&"x".repeat(11), "note", 10).is_err());
        assert!(check_text("a\u{0}b", "note", 10).is_err());
        assert!(check_name("  ", "name").is_err());
        assert!(check_page(1, 50).is_ok());
        assert!(check_page(2_000_000, 50).is_ok());
        assert!(check_page(2_000_001, 50).is_err());
        assert!(check_page(u64::MAX, 1000).is_err());
        assert!(check_page(0, 50).is_err());
        assert!(check_page(1, 0).is_err());
    }
}
