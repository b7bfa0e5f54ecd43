//! The one error type at the API edge.
//!
//! Every error a client sees carries a stable `extensions.code`. Internal failures are logged
//! with their detail and reach the client only as `INTERNAL` with a generic message, so SQL,
//! constraint names and file paths never leave the server.

use async_graphql::ErrorExtensions;

/// Stable machine-readable error codes (the `extensions.code` of every GraphQL error).
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// An answer larger than an anonymous caller may receive.
    pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
    pub const INTERNAL: &str = "INTERNAL";
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthenticated,
    /// One answer for an unknown user, a wrong password, a wrong or expired code and a locked
    /// account, so that none of them can be told apart.
    #[error(
        "the username, password or code is not valid / ユーザー名、パスワードまたは認証コードが正しくありません"
    )]
    InvalidCredentials,
    /// Signed in, but an obligation (privacy policy, expired password …) must be met first.
    #[error("{message}")]
    ObligationPending {
        message: &'static str,
        reason: &'static str,
    },
    /// A set-up link that was real but can no longer be used (used, replaced or expired): the
    /// holder is told which, and what to do.
    #[error("{message}")]
    LinkUnusable {
        message: &'static str,
        reason: &'static str,
    },
    #[error("not allowed")]
    Forbidden,
    /// The message names what was looked for, never whether it exists elsewhere.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    InvalidInput {
        message: String,
        /// The argument or input field at fault, when there is one.
        field: Option<String>,
    },
    /// Bad rows of a bulk input (a list or a CSV), each named by its row number; the bulk
    /// operation changed nothing.
    #[error("{} row(s) are invalid, nothing was registered / {}行に誤りがあります。登録していません", rows.len(), rows.len())]
    InvalidRows {
        /// The argument holding the rows ("facilities", "csv").
        argument: &'static str,
        rows: Vec<RowError>,
    },
    #[error("{0}")]
    Conflict(String),
    /// A state rule refuses the change (`extensions.reason`, e.g. DATA_LOCKED, STALE_VERSION),
    /// with the current value when it helps the caller retry (`extensions.current`).
    #[error("{message}")]
    Refused {
        message: String,
        reason: &'static str,
        current: Option<serde_json::Value>,
    },
    #[error("too many requests, try again later")]
    RateLimited,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// What is wrong with one row of a bulk input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based: the n-th item of a list, the n-th line after a CSV's header.
    pub row: usize,
    /// The column or input field at fault, when there is one.
    pub field: Option<String>,
    pub message: String,
}

/// The 1-based line of the text a CSV record starts on. The reader's own line count places a
/// record preceded by blank lines on the first blank line; this skips them.
pub fn csv_line(text: &str, position: &csv::Position) -> usize {
    let bytes = text.as_bytes();
    let mut start = usize::try_from(position.byte())
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
        start += 1;
    }
    1 + bytes[..start].iter().filter(|&&b| b == b'\n').count()
}

impl RowError {
    /// `field` of `row` is wrong, because `message`.
    pub fn field(row: usize, field: &str, message: impl Into<String>) -> Self {
        RowError {
            row,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// The error of `row`, taken from a field validation's error.
    pub fn from_error(row: usize, error: AppError) -> Self {
        match error {
            AppError::InvalidInput { message, field } => RowError {
                row,
                field,
                message,
            },
            other => RowError {
                row,
                field: None,
                message: other.to_string(),
            },
        }
    }
}

impl AppError {
    /// A refusal by a state rule, with its stable reason.
    pub fn refused(reason: &'static str, message: impl Into<String>) -> Self {
        AppError::Refused {
            message: message.into(),
            reason,
            current: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::InvalidInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        AppError::InvalidInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated
            | AppError::InvalidCredentials
            | AppError::LinkUnusable { .. } => code::UNAUTHENTICATED,
            AppError::ObligationPending { .. } => code::FORBIDDEN,
            AppError::Forbidden => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::InvalidInput { .. } | AppError::InvalidRows { .. } => code::INVALID_INPUT,
            AppError::Conflict(_) | AppError::Refused { .. } => code::CONFLICT,
            AppError::RateLimited => code::RATE_LIMITED,
            AppError::Internal(_) => code::INTERNAL,
        }
    }
}

impl AppError {
    /// What the audit log keeps of a refusal: the message, and for bulk input the bad rows.
    pub fn audit_detail(&self) -> String {
        match self {
            AppError::InvalidRows { rows, .. } => {
                let mut detail = self.to_string();
                for row in rows.iter().take(20) {
                    detail.push_str(&format!(
                        "; row {} {}: {}",
                        row.row,
                        row.field.as_deref().unwrap_or("-"),
                        row.message
                    ));
                }
                if rows.len() > 20 {
                    detail.push_str(&format!("; … {} more", rows.len() - 20));
                }
                detail
            }
            AppError::InvalidInput {
                message,
                field: Some(field),
            } => format!("{field}: {message}"),
            other => other.to_string(),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        AppError::Internal(error)
    }
}

impl From<sqlx::Error> for AppError {
    /// Constraint violations are the client's doing (a duplicate, a dangling reference, a value
    /// the schema's CHECK refuses); everything else is ours. Constraint names stay in the log.
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            let kind = db.kind();
            tracing::info!(constraint = ?db.constraint(), error = %db, "constraint violation");
            match kind {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return AppError::Conflict("a record with the same key already exists".into());
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return AppError::invalid("a referenced record does not exist");
                }
                sqlx::error::ErrorKind::CheckViolation
                | sqlx::error::ErrorKind::NotNullViolation => {
                    return AppError::invalid("a value is outside the allowed range");
                }
                _ => {}
            }
        }
        AppError::Internal(anyhow::Error::new(error))
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        if let AppError::Internal(source) = self {
            // Logged here, once, with the full chain; the client sees only the code.
            tracing::error!(error = ?source, "internal error");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let AppError::InvalidInput {
                field: Some(field), ..
            } = self
            {
                ext.set("field", field.as_str());
            }
            if let AppError::InvalidRows { argument, rows } = self {
                ext.set("field", *argument);
                let rows: Vec<async_graphql::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut row = async_graphql::indexmap::IndexMap::new();
                        row.insert(
                            async_graphql::Name::new("row"),
                            async_graphql::Value::from(r.row as u64),
                        );
                        row.insert(
                            async_graphql::Name::new("field"),
                            r.field
                                .clone()
                                .map(async_graphql::Value::from)
                                .unwrap_or(async_graphql::Value::Null),
                        );
                        row.insert(
                            async_graphql::Name::new("message"),
                            async_graphql::Value::from(r.message.clone()),
                        );
                        async_graphql::Value::Object(row)
                    })
                    .collect();
                ext.set("rows", rows);
            }
            if let AppError::ObligationPending { reason, .. }
            | AppError::LinkUnusable { reason, .. } = self
            {
                ext.set("reason", *reason);
            }
            if let AppError::Refused {
                reason, current, ..
            } = self
            {
                ext.set("reason", *reason);
                if let Some(current) = current
                    && let Ok(value) = async_graphql::Value::from_json(current.clone())
                {
                    ext.set("current", value);
                }
            }
            if let AppError::InvalidCredentials = self {
                ext.set("reason", "INVALID_CREDENTIALS");
            }
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.extend()
    }
}
