//! ISO 8601 dates as checkpoints store them (docs/protocol.md §5, *Checkpoints*):
//! written as Python's `datetime.isoformat()` of an aware UTC datetime (UTC
//! only: see [`CheckpointDatetime`](crate::connector::CheckpointDatetime)),
//! read as `dateutil.parser.isoparse` reads them (plus naive values read as
//! UTC, **ours**: flaw F16).

use crate::wire::timestamp::{Timestamp, days_from_civil};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Nanoseconds since the Unix epoch, UTC.
pub(crate) type Nanos = i128;

impl Timestamp {
    /// Parses an ISO 8601 date as the checkpoints read them (the Python
    /// SDK's `dateutil.parser.isoparse`): `2026-11-28T06:37:29.5+02:00`,
    /// `…Z`, `±HH[:MM]` offsets applied, a naive value taken as UTC,
    /// digits past the microsecond dropped. `None` when `text` is not such
    /// a date.
    ///
    /// For dates an API gives with an offset, before advancing a
    /// [`CheckpointDatetime`](crate::connector::CheckpointDatetime):
    ///
    /// ```
    /// use sekoia_automation::connector::Timestamp;
    ///
    /// let local = Timestamp::parse_iso8601("2026-11-28T06:37:29.565514+02:00").unwrap();
    /// assert_eq!(local.to_iso8601(), "2026-11-28T04:37:29.565514");
    /// assert_eq!(Timestamp::parse_iso8601("2026-11-28T04:37:29.565514Z"), Some(local));
    /// assert_eq!(Timestamp::parse_iso8601("28/11/2026"), None);
    /// ```
    pub fn parse_iso8601(text: &str) -> Option<Timestamp> {
        parse(text).map(to_timestamp)
    }
}

/// Parses an ISO 8601 date as [`Timestamp::parse_iso8601`] does (an offset
/// applied, a naive value taken as UTC), so that [`Display`](std::fmt::Display)'s text
/// reads back to the same instant.
///
/// ```
/// use sekoia_automation::connector::Timestamp;
///
/// let date: Timestamp = "2026-11-28T06:37:29.5+02:00".parse()?;
/// assert_eq!(date.to_string(), "2026-11-28T04:37:29.500000");
/// assert_eq!(date.to_string().parse::<Timestamp>()?, date);
/// assert!("28/11/2026".parse::<Timestamp>().is_err());
/// # Ok::<(), sekoia_automation::connector::TimestampError>(())
/// ```
impl std::str::FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        Timestamp::parse_iso8601(text).ok_or_else(|| TimestampError {
            text: text.chars().take(64).collect(),
        })
    }
}

/// A text that is not an ISO 8601 date ([`Timestamp`]'s `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not an ISO 8601 date: write it as `2026-11-28T04:37:29Z` (an offset such as `+02:00` instead of `Z`, or none for UTC)"
)]
pub struct TimestampError {
    text: String,
}

impl TimestampError {
    /// The text given (its first 64 characters).
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// An ISO 8601 string with its UTC offset, as checkpoints store dates
/// (`2026-11-28T04:37:29.565514+00:00`, Python's `isoformat()` of an aware
/// datetime).
///
/// ```
/// use sekoia_automation::connector::Timestamp;
///
/// let date = Timestamp::parse_iso8601("2026-11-28T04:37:29.565514Z").unwrap();
/// let text = serde_json::to_string(&date)?;
/// assert_eq!(text, r#""2026-11-28T04:37:29.565514+00:00""#);
/// assert_eq!(serde_json::from_str::<Timestamp>(&text)?, date);
/// # Ok::<(), serde_json::Error>(())
/// ```
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(from_timestamp(*self)))
    }
}

/// An ISO 8601 string, read as [`FromStr`](std::str::FromStr) reads it.
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

pub(crate) fn from_timestamp(timestamp: Timestamp) -> Nanos {
    i128::from(timestamp.micros_since_epoch()) * 1000
}

pub(crate) fn to_timestamp(nanos: Nanos) -> Timestamp {
    let micros = nanos.div_euclid(1000);
    crate::trigger::clock::at_micros(i64::try_from(micros).unwrap_or(if micros < 0 {
        i64::MIN
    } else {
        i64::MAX
    }))
}

/// `2026-11-28T04:37:29.565514+00:00`: 6 fraction digits, none when zero,
/// 9 when the value has nanoseconds (**ours**, read by `isoparse` too).
pub(crate) fn format(nanos: Nanos) -> String {
    let seconds = nanos.div_euclid(NANOS_PER_SECOND);
    let fraction = nanos.rem_euclid(NANOS_PER_SECOND);
    let days = seconds.div_euclid(86_400) as i64;
    let second_of_day = seconds.rem_euclid(86_400) as i64;
    let (year, month, day) = crate::wire::timestamp::civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if fraction % 1000 != 0 {
        text.push_str(&format!(".{fraction:09}"));
    } else if fraction != 0 {
        text.push_str(&format!(".{:06}", fraction / 1000));
    }
    text.push_str("+00:00");
    text
}

/// Parses what `isoparse` accepts: `YYYY-MM-DD` or `YYYYMMDD`, then
/// optionally `T` or a space and `HH[:MM[:SS[.f…]]]` (or the basic form
/// `HHMMSS`), then optionally `Z`, `±HH`, `±HHMM` or `±HH:MM`. Naive values
/// are UTC.
pub(crate) fn parse(text: &str) -> Option<Nanos> {
    let bytes = text.trim().as_bytes();
    let mut at = 0;
    let number = |at: &mut usize, digits: usize| -> Option<i64> {
        let part = bytes.get(*at..*at + digits)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *at += digits;
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = number(&mut at, 4)?;
    let extended = bytes.get(at) == Some(&b'-');
    if extended {
        at += 1;
    }
    let month = number(&mut at, 2)?;
    if extended && bytes.get(at) != Some(&b'-') {
        return None;
    }
    if extended {
        at += 1;
    }
    let day = number(&mut at, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut fraction) = (0, 0, 0, 0i128);
    let mut offset_seconds = 0i64;
    if matches!(bytes.get(at), Some(b'T' | b' ')) {
        at += 1;
        hour = number(&mut at, 2)?;
        let colon = bytes.get(at) == Some(&b':');
        let more = |at: &mut usize| -> bool {
            if colon {
                if bytes.get(*at) == Some(&b':') {
                    *at += 1;
                    return true;
                }
                false
            } else {
                bytes.get(*at).is_some_and(u8::is_ascii_digit)
            }
        };
        if more(&mut at) {
            minute = number(&mut at, 2)?;
            if more(&mut at) {
                second = number(&mut at, 2)?;
                if matches!(bytes.get(at), Some(b'.' | b',')) {
                    at += 1;
                    let start = at;
                    while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                        at += 1;
                    }
                    if at == start {
                        return None;
                    }
                    let digits = &bytes[start..at.min(start + 9)];
                    let mut value: i128 = 0;
                    for digit in digits {
                        value = value * 10 + i128::from(digit - b'0');
                    }
                    for _ in digits.len()..9 {
                        value *= 10;
                    }
                    fraction = value;
                }
            }
        }
        // 24:00 is midnight of the next day, as isoparse reads it.
        if hour > 24
            || minute > 59
            || second > 59
            || (hour == 24 && (minute, second, fraction) != (0, 0, 0))
        {
            return None;
        }
        match bytes.get(at) {
            Some(b'Z' | b'z') => at += 1,
            Some(&sign @ (b'+' | b'-')) => {
                at += 1;
                let hours = number(&mut at, 2)?;
                if bytes.get(at) == Some(&b':') {
                    at += 1;
                }
                let minutes = if at < bytes.len() {
                    number(&mut at, 2)?
                } else {
                    0
                };
                if hours > 23 || minutes > 59 {
                    return None;
                }
                offset_seconds = (hours * 3600 + minutes * 60) * if sign == b'-' { -1 } else { 1 };
            }
            _ => {}
        }
    }
    if at != bytes.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(i128::from(seconds) * NANOS_PER_SECOND + fraction)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_isoformat_of_utc_datetimes() {
        // datetime(2026, 11, 28, 4, 37, 29, 565514, tzinfo=timezone.utc).isoformat()
        let value = parse("2026-11-28T04:37:29.565514+00:00").unwrap();
        assert_eq!(format(value), "2026-11-28T04:37:29.565514+00:00");
        let whole = parse("2026-11-28T04:37:29+00:00").unwrap();
        assert_eq!(format(whole), "2026-11-28T04:37:29+00:00");
        assert_eq!(value - whole, 565_514_000);
        assert_eq!(format(whole + 5), "2026-11-28T04:37:29.000000005+00:00");
        assert_eq!(format(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn what_isoparse_accepts() {
        let utc = parse("2026-11-28T04:37:29+00:00").unwrap();
        for same in [
            "2026-11-28T04:37:29Z",
            "2026-11-28T04:37:29",
            "2026-11-28 04:37:29",
            "2026-11-28T06:37:29+02:00",
            "2026-11-28T06:37:29+0200",
            "2026-11-28T06:37:29+02",
            "2026-11-28T01:37:29-03:00",
            "20261128T043729Z",
            "2026-11-28T04:37:29.000000+00:00",
            "2026-11-28T04:37:29,0Z",
        ] {
            assert_eq!(parse(same), Some(utc), "{same}");
        }
        assert_eq!(parse("2026-11-28"), parse("2026-11-28T00:00:00Z"));
        assert_eq!(
            parse("2026-11-28T04:37Z"),
            Some(utc - 29 * NANOS_PER_SECOND)
        );
        assert_eq!(parse("2026-11-28T04:37:29.5Z"), Some(utc + 500_000_000));
        assert_eq!(
            parse("2026-11-28T04:37:29.123456789123Z"),
            Some(utc + 123_456_789)
        );
        assert_eq!(
            parse("2024-02-29T00:00:00Z").map(format).as_deref(),
            Some("2024-02-29T00:00:00+00:00")
        );
        for invalid in [
            "",
            "2026-13-01",
            "2023-02-29",
            "2026-11-28T25:00",
            "2026-11-28T04:37:29x",
            "yesterday",
            "2026-11-28T04:37:29.",
        ] {
            assert_eq!(parse(invalid), None, "{invalid}");
        }
    }
}
