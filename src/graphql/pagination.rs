//! Relay-style cursor pagination (`first` / `after`), capped.
//!
//! Cursors are opaque to clients: base64url of the list's name and the row's sort key, so a
//! cursor from one list is refused by another instead of being misread. Lists are read with
//! keyset conditions, so a page costs the same at the end of 50,000 rows as at the start.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

/// A validated page request: how many rows, and after which sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The list's name, the first part of its cursors.
    pub list: String,
    pub first: usize,
    pub after: Option<Vec<String>>,
}

impl PageRequest {
    /// `list` names the list (cursors of another list are refused); `key_parts` is how many
    /// values its sort key has.
    pub fn parse(
        list: &str,
        first: Option<i32>,
        after: Option<String>,
        key_parts: usize,
    ) -> Result<Self, AppError> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => {
                return Err(AppError::invalid_field(
                    "first",
                    "first must not be negative",
                ));
            }
            Some(n) if n as usize > MAX_PAGE_SIZE => {
                return Err(AppError::invalid_field(
                    "first",
                    format!("first must be at most {MAX_PAGE_SIZE}"),
                ));
            }
            Some(n) => n as usize,
        };
        let after = after
            .map(|cursor| {
                decode_cursor(&cursor)
                    .filter(|parts| parts.len() == key_parts + 1 && parts[0] == list)
                    .map(|mut parts| parts.split_off(1))
                    .ok_or_else(|| {
                        AppError::invalid_field("after", "the cursor is not valid for this list")
                    })
            })
            .transpose()?;
        Ok(PageRequest {
            list: list.to_owned(),
            first,
            after,
        })
    }

    /// The cursor of a row of this list, from the parts of its sort key.
    pub fn cursor(&self, key: &[&str]) -> String {
        let mut parts = Vec::with_capacity(key.len() + 1);
        parts.push(self.list.as_str());
        parts.extend_from_slice(key);
        encode_cursor(&parts)
    }

    /// Rows to fetch: one more than asked, to learn whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.first as i64 + 1
    }
}

/// The complexity of a list field: its rows' selection times the page size, so that the
/// complexity limit bounds the work a query can ask for (an out-of-range `first` is refused by
/// the resolver; here it only must not overflow).
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.map_or(DEFAULT_PAGE_SIZE, |n| {
        n.clamp(0, MAX_PAGE_SIZE as i32) as usize
    });
    1 + rows.max(1) * child_complexity
}

fn encode_cursor(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\u{1f}"))
}

fn decode_cursor(cursor: &str) -> Option<Vec<String>> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.split('\u{1f}').map(str::to_owned).collect())
}

/// Splits fetched rows into the page and whether more follow.
pub fn split_page<T>(mut rows: Vec<T>, request: &PageRequest) -> (Vec<T>, bool) {
    let has_next = rows.len() > request.first;
    rows.truncate(request.first);
    (rows, has_next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_capped_and_must_not_be_negative() {
        assert_eq!(
            PageRequest::parse("l", None, None, 1).unwrap().first,
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(
            PageRequest::parse("l", Some(100), None, 1).unwrap().first,
            100
        );
        assert!(PageRequest::parse("l", Some(101), None, 1).is_err());
        assert!(PageRequest::parse("l", Some(99_999_999), None, 1).is_err());
        assert!(PageRequest::parse("l", Some(-1), None, 1).is_err());
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let facilities = PageRequest::parse("facilities", None, None, 2).unwrap();
        let cursor = facilities.cursor(&["FACILITY", "131000001"]);
        let request = PageRequest::parse("facilities", Some(5), Some(cursor.clone()), 2).unwrap();
        assert_eq!(request.after.unwrap(), vec!["FACILITY", "131000001"]);
        // Another list's cursor of the same shape is refused, not misread.
        assert!(PageRequest::parse("auditLog", None, Some(cursor), 2).is_err());
        assert!(PageRequest::parse("facilities", None, Some(encode_cursor(&["x"])), 2).is_err());
        assert!(PageRequest::parse("facilities", None, Some("%%%".into()), 1).is_err());
    }
}
