//! Small helpers for SQL built at run time.

/// `$first, $first+1, …` for `count` values: the `IN (…)` list of a batch load. Placeholders are
/// numbered by hand because `QueryBuilder<Any>` emits `?`, which PostgreSQL rejects.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, …, $columns), ($columns+1, …), …` for `rows` rows: the VALUES of a multi-row insert.
pub fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(1 + row * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The WHERE clause of a list query assembled from optional filters. Each `?` in a condition
/// becomes the next numbered placeholder (`$n`), so conditions can be added in any order.
#[derive(Debug, Default)]
pub struct Filter {
    conditions: Vec<String>,
    values: Vec<String>,
}

impl Filter {
    /// Adds a condition (joined with AND); its `?`s take `values` in order.
    pub fn and(&mut self, condition: &str, values: impl IntoIterator<Item = String>) -> &mut Self {
        let mut sql = String::with_capacity(condition.len() + 8);
        let mut values = values.into_iter();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                let value = values.next().expect("a value for every placeholder");
                self.values.push(value);
                sql.push_str(&format!("${}", self.values.len()));
            }
            sql.push_str(part);
        }
        debug_assert!(values.next().is_none(), "more values than placeholders");
        self.conditions.push(sql);
        self
    }

    /// `" WHERE …"`, or nothing when no condition was added.
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// Binds the values, in placeholder order, to `query`.
    pub fn bind<'q, O>(
        self,
        mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
        for value in self.values {
            query = query.bind(value);
        }
        query
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_from_the_given_start() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }

    #[test]
    fn value_rows_number_row_after_row() {
        assert_eq!(super::value_rows(2, 2), "($1, $2), ($3, $4)");
    }

    #[test]
    fn filters_number_their_placeholders_in_order() {
        let mut filter = super::Filter::default();
        assert_eq!(filter.where_clause(), "");
        filter
            .and("a = ?", ["x".to_owned()])
            .and("(b, c) > (?, ?)", ["y".to_owned(), "z".to_owned()]);
        assert_eq!(filter.where_clause(), " WHERE a = $1 AND (b, c) > ($2, $3)");
    }
}
