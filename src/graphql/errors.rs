//! Request-wide error policy: every error leaves with a stable `extensions.code`, and
//! documents with too many aliases are refused before they run.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Response, ServerError, ServerResult};

use crate::error::code;

/// Refuses documents with too many aliases, and introspection when it is disabled. Applied to
/// every parsed document by [`super::execution`], before validation.
pub struct ErrorPolicy {
    max_aliases: usize,
    introspection: bool,
}

impl ErrorPolicy {
    pub fn new(max_aliases: usize, introspection: bool) -> Self {
        ErrorPolicy {
            max_aliases,
            introspection,
        }
    }

    pub fn check(&self, document: &ExecutableDocument) -> ServerResult<()> {
        let aliases = count_aliases(document);
        if aliases > self.max_aliases {
            return Err(ServerError::new(
                format!(
                    "too many aliases: {aliases}, at most {} allowed",
                    self.max_aliases
                ),
                None,
            ));
        }
        // async-graphql answers a disabled `__schema` with a silent null; say why instead.
        if !self.introspection && selects_introspection(document) {
            return Err(ServerError::new(
                "introspection is disabled on this server",
                None,
            ));
        }
        Ok(())
    }
}

/// Errors raised by the server's own code already carry a code. Those without one come from
/// the GraphQL layer itself — a syntax error, an unknown field, a variable of the wrong type,
/// a limit exceeded — and are all the client's input.
pub fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code::INVALID_INPUT);
        }
    }
    response
}

/// Aliases across the whole document, fragments included.
pub fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| aliases_in(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| aliases_in(&fragment.node.selection_set.node))
        .sum();
    operations + fragments
}

/// Whether any selection asks for `__schema` or `__type`.
fn selects_introspection(document: &ExecutableDocument) -> bool {
    fn walk(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                name == "__schema" || name == "__type" || walk(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => walk(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| walk(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| walk(&f.node.selection_set.node))
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_counted_in_fields_inline_fragments_and_fragments() {
        let document = async_graphql::parser::parse_query(
            "query { a: x { b: y ... on T { c: z } } ...F } fragment F on Query { d: w }",
        )
        .unwrap();
        assert_eq!(count_aliases(&document), 4);
    }
}
