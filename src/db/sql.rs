//! Small helpers for SQL built at run time.

/// `$first, $first+1, …` for `count` values: the `IN (…)` list of a batch load. Placeholders are
/// numbered by hand because `QueryBuilder<Any>` emits `?`, which PostgreSQL rejects.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_from_the_given_start() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }
}
