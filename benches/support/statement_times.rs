//! Where a benchmark's database time goes, statement by statement: sqlx reports each statement
//! it ran, with its execution time, as a `sqlx::query` event; this layer sums them per
//! statement text while recording is on. For finding what to make cheaper, not for the
//! benchmark's figures (turning the events on costs time of its own).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Calls and seconds per statement.
#[derive(Clone, Default)]
pub struct StatementTimes {
    recording: Arc<AtomicBool>,
    totals: Arc<Mutex<HashMap<String, (u64, f64)>>>,
}

impl StatementTimes {
    /// Installs the layer as the process's subscriber; recording starts off.
    pub fn install() -> StatementTimes {
        let times = StatementTimes::default();
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(times.clone()))
            .expect("no other subscriber is installed");
        times
    }

    pub fn record(&self, on: bool) {
        self.recording.store(on, Ordering::SeqCst);
    }

    /// The `top` statements by total time, (statement, calls, seconds), forgetting them.
    pub fn take_top(&self, top: usize) -> Vec<(String, u64, f64)> {
        let totals = std::mem::take(&mut *self.totals.lock().unwrap());
        let mut rows: Vec<_> = totals
            .iter()
            .map(|(sql, (calls, secs))| (sql.clone(), *calls, *secs))
            .collect();
        rows.sort_by(|a, b| b.2.total_cmp(&a.2));
        rows.truncate(top);
        rows
    }
}

impl<S: tracing::Subscriber> Layer<S> for StatementTimes {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" || !self.recording.load(Ordering::Relaxed) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        // The whole statement when sqlx shortened it to a summary; its first words name it.
        let text = if fields.statement.trim().is_empty() {
            fields.summary
        } else {
            fields.statement
        };
        let key: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(110)
            .collect();
        let mut totals = self.totals.lock().unwrap();
        let entry = totals.entry(key).or_default();
        entry.0 += 1;
        entry.1 += fields.elapsed_secs;
    }
}

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
    elapsed_secs: f64,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.statement = value.to_owned(),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        // `summary` and `db.statement` may arrive as Debug values.
        match field.name() {
            "summary" if self.summary.is_empty() => self.summary = format!("{value:?}"),
            "db.statement" if self.statement.is_empty() => {
                self.statement = format!("{value:?}");
            }
            _ => {}
        }
    }
}
