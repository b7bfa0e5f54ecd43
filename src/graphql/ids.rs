//! Global object identification (Relay): every entity has an opaque, globally unique `id`
//! (`Query.node(id)`, in `crate::schema`, fetches any of them).

use async_graphql::ID;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;

/// The global id of the row `id` of GraphQL type `type_name`.
pub fn global_id(type_name: &str, id: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// Splits a global id into its type name and row id. Anything malformed is simply not found:
/// an id is opaque, and a client has no use for knowing why it does not resolve.
pub fn parse_global_id(id: &str) -> Result<(String, String), AppError> {
    let not_found = || AppError::NotFound("object");
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| not_found())?;
    let text = String::from_utf8(bytes).map_err(|_| not_found())?;
    let (type_name, row_id) = text.split_once(':').ok_or_else(not_found)?;
    if type_name.is_empty() || row_id.is_empty() {
        return Err(not_found());
    }
    Ok((type_name.to_owned(), row_id.to_owned()))
}

/// The type names of organisations' global ids.
pub const ORGANIZATION_TYPES: &[&str] = &[
    "Nation",
    "Prefecture",
    "Municipality",
    "Facility",
    "PartnerOrganization",
];

/// The row id inside a global id of one of the `types`. Any other id — malformed, or of another
/// type — is `NOT_FOUND` for `what`, never a hint at what it is. The one parser of ids that
/// arguments name.
pub fn row_of(id: &str, types: &[&str], what: &'static str) -> Result<String, AppError> {
    match parse_global_id(id) {
        Ok((type_name, row)) if types.contains(&type_name.as_str()) => Ok(row),
        _ => Err(AppError::NotFound(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_garbage_is_not_found() {
        let id = global_id("Facility", "0190-abc");
        assert_eq!(
            parse_global_id(&id).unwrap(),
            ("Facility".to_owned(), "0190-abc".to_owned())
        );
        for bad in ["", "!!!", "RmFjaWxpdHk", "OmFiYw"] {
            assert_eq!(
                parse_global_id(bad).unwrap_err().code(),
                "NOT_FOUND",
                "{bad}"
            );
        }
    }

    #[test]
    fn an_id_of_another_type_is_not_found_as_what_was_asked_for() {
        let facility = global_id("Facility", "f1");
        assert_eq!(row_of(&facility, &["Facility"], "facility").unwrap(), "f1");
        assert_eq!(
            row_of(&facility, ORGANIZATION_TYPES, "organization").unwrap(),
            "f1"
        );
        let user = global_id("User", "u1");
        let refused = row_of(&user, ORGANIZATION_TYPES, "organization").unwrap_err();
        assert!(matches!(refused, AppError::NotFound("organization")));
        assert!(matches!(
            row_of("%%%", &["Facility"], "facility").unwrap_err(),
            AppError::NotFound("facility")
        ));
    }
}
