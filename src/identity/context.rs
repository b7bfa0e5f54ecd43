//! The signed-in actor in a GraphQL request, and the gate that holds a user with an open
//! obligation (privacy policy, expired password, authenticator) to the operations that settle it.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use async_graphql::{ServerError, ServerResult};

use super::model::Actor;
use crate::error::code;

pub use crate::actor::{current_actor, request_meta, require_actor};

/// Root mutations that prove a credential: one per request, so a request cannot try many
/// passwords or codes at once behind aliases.
const CREDENTIAL_FIELDS: [&str; 8] = [
    "signIn",
    "verifySecondFactor",
    "resetPasswordWithSecurityAnswer",
    "completeFirstLogin",
    "requestPasswordReset",
    "changePassword",
    "confirmTotp",
    "setSecurityQuestion",
];

pub struct SessionGate;

impl SessionGate {
    /// Applied to every parsed document (by `graphql::execution`, before validation): at most
    /// one credential step per request, and a user with an open obligation only runs the
    /// operations that settle it.
    pub fn check(document: &ExecutableDocument, actor: Option<&Actor>) -> ServerResult<()> {
        let roots = root_fields(document);
        let credential_attempts = roots
            .iter()
            .filter(|(ty, name)| {
                *ty == OperationType::Mutation && CREDENTIAL_FIELDS.contains(&name.as_str())
            })
            .count();
        if credential_attempts > 1 {
            return Err(coded(
                "at most one sign-in step per request / 1回のリクエストで行えるサインイン操作は1つです",
                code::INVALID_INPUT,
            ));
        }
        // A root field passes when one of the open obligations allows it, so a user with two
        // obligations can settle either first.
        if let Some(actor) = actor
            && let Some(obligation) = actor.obligations.first()
            && roots
                .iter()
                .any(|(_, name)| !actor.obligations.iter().any(|o| o.allows(name)))
        {
            let mut error = coded(obligation.message(), code::FORBIDDEN);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("reason", obligation.reason());
            return Err(error);
        }
        Ok(())
    }
}

fn coded(message: &str, error_code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", error_code);
    error
}

/// The root fields of every operation in the document (fragments spread at the root included).
fn root_fields(document: &ExecutableDocument) -> Vec<(OperationType, String)> {
    let mut fields = Vec::new();
    // Fragments may cite each other in a cycle (validation, which rejects that, runs later).
    let mut visited = std::collections::HashSet::new();
    for (_, operation) in document.operations.iter() {
        let ty = operation.node.ty;
        let mut pending = vec![&operation.node.selection_set.node];
        while let Some(set) = pending.pop() {
            for item in &set.items {
                match &item.node {
                    Selection::Field(field) => fields.push((ty, field.node.name.node.to_string())),
                    Selection::InlineFragment(fragment) => {
                        pending.push(&fragment.node.selection_set.node)
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = &spread.node.fragment_name.node;
                        if !visited.insert(name.clone()) {
                            continue;
                        }
                        if let Some(fragment) = document.fragments.get(name) {
                            pending.push(&fragment.node.selection_set.node);
                        }
                    }
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_fields_include_aliases_and_fragments() {
        let document = async_graphql::parser::parse_query(
            "mutation { a: signIn(username: \"x\", password: \"y\") { challengeId } ...F } \
             fragment F on Mutation { b: signIn(username: \"x\", password: \"z\") { challengeId } }",
        )
        .unwrap();
        let names: Vec<_> = root_fields(&document).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["signIn", "signIn"]);
    }

    #[test]
    fn cyclic_fragments_do_not_loop() {
        let document = async_graphql::parser::parse_query(
            "query { ...A } fragment A on Query { ...A me { id } }",
        )
        .unwrap();
        assert_eq!(root_fields(&document).len(), 1);
    }
}
