//! Bucket sizes and timestamps as users write them.

use crate::WatchError;
use chrono::{DateTime, NaiveDate, Utc};

/// The largest bucket accepted: a year. Larger buckets make no series.
const MAX_BUCKET_SECS: i64 = 366 * 86_400;

/// Parse a bucket size such as `30s`, `15m`, `1h`, `6h`, `1d` or `1w` into seconds.
pub fn bucket_parse(text: &str) -> Result<i64, WatchError> {
    let bad = || WatchError::BadBucket(text.chars().take(40).collect());
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(bad)?;
    let (number, unit) = trimmed.split_at(split);
    // A bare unit ("h") means one of it, as people say "per hour".
    let number: i64 = if number.is_empty() {
        1
    } else {
        number.parse().map_err(|_| bad())?
    };
    let unit_secs = match unit.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return Err(bad()),
    };
    let secs = number.checked_mul(unit_secs).ok_or_else(bad)?;
    if secs <= 0 || secs > MAX_BUCKET_SECS {
        return Err(bad());
    }
    Ok(secs)
}

/// Write a bucket size the way [`bucket_parse`] reads it (`1h`, `15m`, `90s`).
pub fn bucket_format(secs: i64) -> String {
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs >= size && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// Unix seconds as ISO 8601 UTC (`2011-03-16T14:45:00Z`).
pub fn format_time(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// Parse an RFC 3339 time, a `YYYY-MM-DDTHH:MM[:SS]` UTC time, a date
/// (midnight UTC), or Unix seconds.
pub fn parse_time(text: &str) -> Result<i64, WatchError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| WatchError::BadTime(text.chars().take(40).collect()));
    }
    Err(WatchError::BadTime(text.chars().take(40).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_sizes_parse_and_round_trip() {
        assert_eq!(bucket_parse("1h"), Ok(3600));
        assert_eq!(bucket_parse("15m"), Ok(900));
        assert_eq!(bucket_parse("1d"), Ok(86_400));
        assert_eq!(bucket_parse(" 30s "), Ok(30));
        assert_eq!(bucket_parse("h"), Ok(3600));
        assert_eq!(bucket_parse("2W"), Ok(1_209_600));
        for secs in [30, 60, 900, 3600, 21_600, 86_400, 604_800, 90] {
            assert_eq!(bucket_parse(&bucket_format(secs)), Ok(secs));
        }
    }

    #[test]
    fn bad_bucket_sizes_are_refused_with_advice() {
        for bad in [
            "",
            "0h",
            "-1h",
            "1x",
            "h1",
            "99999999999999999999d",
            "400d",
            "1.5h",
        ] {
            let err = bucket_parse(bad).unwrap_err();
            assert!(err.to_string().contains("e.g. 15m"), "{bad}: {err}");
        }
    }

    #[test]
    fn times_parse_in_several_forms() {
        let t = 1_300_286_700; // 2011-03-16T14:45:00Z
        assert_eq!(format_time(t), "2011-03-16T14:45:00Z");
        assert_eq!(parse_time("2011-03-16T14:45:00Z"), Ok(t));
        assert_eq!(parse_time("2011-03-16T15:45:00+01:00"), Ok(t));
        assert_eq!(parse_time("2011-03-16T14:45"), Ok(t));
        assert_eq!(parse_time("2011-03-16"), Ok(t - 14 * 3600 - 45 * 60));
        assert_eq!(parse_time("1300286700"), Ok(t));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("").is_err());
    }
}
