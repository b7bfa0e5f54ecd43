//! Parsed GraphQL documents, kept by their exact query text.
//!
//! Clients send the same few documents over and over (an application's queries are fixed
//! strings with variables), and parsing one is a measurable part of a small request. A
//! document found here is handed to async-graphql as already parsed; everything after parsing
//! (the request policies, async-graphql's depth and directive checks, validation) still runs
//! for every request. Text that does not parse is never kept, so its error is reported by
//! async-graphql exactly as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

/// Longest query text kept; longer documents are parsed every time.
const MAX_QUERY_BYTES: usize = 4 * 1024;
/// Documents kept. With the text limit this bounds the cache to 512 KiB of text and its
/// syntax trees (a few MiB at most), whatever clients send.
const MAX_DOCUMENTS: usize = 128;

#[derive(Default)]
pub struct DocumentCache {
    inner: Mutex<Documents>,
}

#[derive(Default)]
struct Documents {
    by_text: HashMap<Arc<str>, Kept>,
    /// Use counter, for evicting the least recently used document.
    clock: u64,
}

struct Kept {
    document: Arc<ExecutableDocument>,
    used: u64,
}

impl DocumentCache {
    /// The parsed document of `query`, parsing it unless it is kept. `None` when the text does
    /// not parse: async-graphql then parses it itself and reports the error.
    pub fn parsed(&self, query: &str) -> Option<ExecutableDocument> {
        if let Some(document) = self.kept(query) {
            return Some(ExecutableDocument::clone(&document));
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        if query.len() <= MAX_QUERY_BYTES {
            self.keep(query, Arc::new(document.clone()));
        }
        Some(document)
    }

    fn kept(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        let mut documents = self.inner.lock().expect("document cache lock");
        documents.clock += 1;
        let now = documents.clock;
        let kept = documents.by_text.get_mut(query)?;
        kept.used = now;
        Some(kept.document.clone())
    }

    fn keep(&self, query: &str, document: Arc<ExecutableDocument>) {
        let mut documents = self.inner.lock().expect("document cache lock");
        if documents.by_text.len() >= MAX_DOCUMENTS && !documents.by_text.contains_key(query) {
            // A linear scan: it runs only when a new document arrives at a full cache.
            let oldest = documents
                .by_text
                .iter()
                .min_by_key(|(_, kept)| kept.used)
                .map(|(text, _)| text.clone());
            if let Some(oldest) = oldest {
                documents.by_text.remove(&oldest);
            }
        }
        documents.clock += 1;
        let used = documents.clock;
        documents
            .by_text
            .insert(Arc::from(query), Kept { document, used });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().by_text.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_kept_by_its_exact_text() {
        let cache = DocumentCache::default();
        assert!(cache.parsed("{ __typename }").is_some());
        assert!(cache.parsed("{ __typename }").is_some());
        assert_eq!(cache.len(), 1);
        assert!(cache.parsed("{  __typename }").is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn text_that_does_not_parse_is_not_kept() {
        let cache = DocumentCache::default();
        assert!(cache.parsed("{ broken").is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn long_texts_are_not_kept() {
        let cache = DocumentCache::default();
        let long = format!("{{ __typename {} }}", " ".repeat(MAX_QUERY_BYTES));
        assert!(cache.parsed(&long).is_some());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_least_recently_used_document_goes_first() {
        let cache = DocumentCache::default();
        let query = |i: usize| format!("{{ a{i}: __typename }}");
        for i in 0..MAX_DOCUMENTS {
            cache.parsed(&query(i));
        }
        // Document 0 is used again, so document 1 is now the oldest.
        cache.parsed(&query(0));
        cache.parsed(&query(MAX_DOCUMENTS));
        assert_eq!(cache.len(), MAX_DOCUMENTS);
        assert!(cache.kept(&query(0)).is_some());
        assert!(cache.kept(&query(1)).is_none());
    }
}
