//! UTC timestamps in the two forms the Python SDK puts on the wire.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC instant with microsecond precision, formatted as Python's naive
/// `datetime` would print it.
///
/// ```
/// use sekoia_automation::connector::Timestamp;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = Timestamp::from(UNIX_EPOCH + Duration::from_micros(1_767_323_045_123_456));
/// assert_eq!(t.to_python_string(), "2026-01-02 03:04:05.123456");
/// assert_eq!(t.to_iso8601(), "2026-01-02T03:04:05.123456");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros_since_epoch: i64,
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Microseconds since the Unix epoch.
    pub fn micros_since_epoch(self) -> i64 {
        self.micros_since_epoch
    }

    /// `str(datetime)`: `2026-01-02 03:04:05.123456`, without the fraction when
    /// it is zero (as Python prints it). Used in action logs.
    pub fn to_python_string(self) -> String {
        self.format(' ')
    }

    /// `datetime.isoformat()`: `2026-01-02T03:04:05.123456`, without the
    /// fraction when it is zero. Used in trigger logs.
    pub fn to_iso8601(self) -> String {
        self.format('T')
    }

    fn format(self, separator: char) -> String {
        let micros = self.micros_since_epoch.rem_euclid(1_000_000);
        let seconds = self.micros_since_epoch.div_euclid(1_000_000);
        let days = seconds.div_euclid(86_400);
        let second_of_day = seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute, second) = (
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
        );
        let mut text =
            format!("{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}");
        if micros != 0 {
            text.push_str(&format!(".{micros:06}"));
        }
        text
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        let micros = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => after.as_micros() as i64,
            Err(before) => -(before.duration().as_micros() as i64),
        };
        Timestamp {
            micros_since_epoch: micros,
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(timestamp: Timestamp) -> Self {
        let micros = timestamp.micros_since_epoch;
        if micros >= 0 {
            UNIX_EPOCH + Duration::from_micros(micros as u64)
        } else {
            UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic
/// Gregorian date (the inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_civil_dates_are_inverses() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in (-800_000..800_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(
                days_from_civil(year, i64::from(month), i64::from(day)),
                days
            );
        }
    }

    fn at(micros: i64) -> Timestamp {
        Timestamp {
            micros_since_epoch: micros,
        }
    }

    #[test]
    fn formats_like_python() {
        assert_eq!(at(0).to_python_string(), "1970-01-01 00:00:00");
        assert_eq!(at(1).to_iso8601(), "1970-01-01T00:00:00.000001");
        // 2000-02-29 (leap day) 23:59:59.5
        assert_eq!(
            at(951_868_799_500_000).to_python_string(),
            "2000-02-29 23:59:59.500000"
        );
        assert_eq!(
            at(4_102_444_800_000_000).to_iso8601(),
            "2100-01-01T00:00:00"
        );
        assert_eq!(at(-1_000_000).to_iso8601(), "1969-12-31T23:59:59");
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // Compare against a naive day-by-day walk.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for days in 0..146_097 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_days = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            d += 1;
            if d > month_days[(m - 1) as usize] {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
