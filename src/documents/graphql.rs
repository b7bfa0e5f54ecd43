//! The GraphQL face of documents: importing questionnaire recipients from a CSV upload.

use std::io::Read;

use async_graphql::{Context, ID, Object, Upload};

use super::recipients::{self, ImportRecord};
use crate::actor::{request_meta, require_actor};
use crate::audit;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::ids::global_id;

/// One CSV import of questionnaire recipients.
pub struct QuestionnaireImport(ImportRecord);

/// One CSV import of the people questionnaires are printed for (接種予定者リストの登録).
#[Object]
impl QuestionnaireImport {
    /// The import's id.
    async fn id(&self) -> ID {
        global_id("QuestionnaireImport", &self.0.id)
    }

    /// The uploaded file's name, as the browser gave it.
    async fn file_name(&self) -> Option<&str> {
        self.0.file_name.as_deref()
    }

    /// People imported: check it equals the number of people in the list (seed p. 20).
    async fn imported(&self) -> i64 {
        self.0.imported
    }

    /// Rows of the template left empty, skipped without error.
    async fn skipped_empty_rows(&self) -> i64 {
        self.0.skipped_empty_rows
    }

    /// When it was imported.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct DocumentQuery;

#[Object]
impl DocumentQuery {
    /// The signed-in organisation's imports of questionnaire recipients, newest first (at most
    /// 100).
    async fn questionnaire_imports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<QuestionnaireImport>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let imports = recipients::imports_of(db, &actor.organization.id, 100).await?;
        Ok(imports.into_iter().map(QuestionnaireImport).collect())
    }
}

#[derive(Default)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// Imports the people to print pre-screening questionnaires for, from a CSV (UTF-8 or
    /// Shift_JIS; at most 1,000 people; header 氏名,氏名カナ,生年月日,性別,都道府県,市区町村,
    /// 医療従事者等区分,勤務先 or the English names). All or nothing: every bad row is named
    /// (`extensions.rows`). Sent as a multipart request with the `Apollo-Require-Preflight`
    /// header. A facility, medical association, prefecture or municipality, for itself.
    /// Audited.
    async fn import_questionnaire_recipients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CSV file.")] file: Upload,
    ) -> async_graphql::Result<QuestionnaireImport> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            recipients::may_import(actor)?;
            // Not `Upload::value`, which indexes the request's files without a check: over
            // JSON there are none.
            let upload = ctx
                .query_env
                .uploads
                .get(file.0)
                .and_then(|upload| upload.try_clone().ok())
                .ok_or_else(|| {
                    AppError::invalid_field(
                        "file",
                        "no file arrived: send the CSV as a multipart request / ファイルが届いていません",
                    )
                })?;
            let file_name = Some(upload.filename.clone()).filter(|n| !n.is_empty());
            let mut bytes = Vec::new();
            upload
                .into_read()
                .read_to_end(&mut bytes)
                .map_err(|e| AppError::Internal(e.into()))?;
            recipients::import(db, &meta, actor, file_name, &bytes).await
        }
        .await;
        let record = audit::record_if_refused(
            db,
            &meta,
            actor,
            "importQuestionnaireRecipients",
            None,
            result,
        )
        .await?;
        Ok(QuestionnaireImport(record))
    }
}
