//! Files sent with a GraphQL multipart request (the `Upload` scalar).

use std::io::Read;

use async_graphql::{Context, Upload};

use crate::error::AppError;

/// A file that arrived: the name the browser gave (if any) and its bytes.
pub struct Received {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// Reads the file `upload` names. Not `Upload::value`, which indexes the request's files
/// without a check: over JSON there are none, and a forged index must be an error, not a
/// panic.
pub fn read(ctx: &Context<'_>, upload: &Upload, argument: &str) -> Result<Received, AppError> {
    let file = ctx
        .query_env
        .uploads
        .get(upload.0)
        .and_then(|file| file.try_clone().ok())
        .ok_or_else(|| {
            AppError::invalid_field(
                argument,
                "no file arrived: send it as a multipart request / ファイルが届いていません",
            )
        })?;
    let file_name = Some(file.filename.clone()).filter(|n| !n.is_empty());
    let mut bytes = Vec::new();
    file.into_read()
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Received { file_name, bytes })
}
