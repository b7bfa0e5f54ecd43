//! Character n-grams for searching Japanese and English by words on both databases: a text is
//! normalised (NFKC: full-width letters and digits to half-width, half-width kana to
//! full-width; then lower case), and every gram of one and two characters within a run of
//! letters is indexed. A search finds the articles holding every gram of every word asked for.

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;

/// Grams of at most this many characters are indexed.
const LONGEST: usize = 2;

/// The normalised runs of letters and digits of `text` (spaces and punctuation split them).
fn runs(text: &str) -> Vec<Vec<char>> {
    let normal: String = text.nfkc().collect::<String>().to_lowercase();
    normal
        .split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty())
        .map(|run| run.chars().collect())
        .collect()
}

/// Every gram to index for `text`.
pub fn of_text(text: &str) -> BTreeSet<String> {
    let mut grams = BTreeSet::new();
    for run in runs(text) {
        for size in 1..=LONGEST {
            for window in run.windows(size) {
                grams.insert(window.iter().collect());
            }
        }
    }
    grams
}

/// The grams an article must hold to match `query`: the two-character grams of each word (a
/// one-character word: itself). Empty when the query has no letters.
pub fn of_query(query: &str) -> BTreeSet<String> {
    let mut grams = BTreeSet::new();
    for run in runs(query) {
        if run.len() < LONGEST {
            grams.insert(run.iter().collect());
        } else {
            for window in run.windows(LONGEST) {
                grams.insert(window.iter().collect());
            }
        }
    }
    grams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_is_indexed_by_one_and_two_characters() {
        let grams = of_text("分配の確認");
        for gram in ["分", "分配", "配の", "確認", "認"] {
            assert!(grams.contains(gram), "{gram}");
        }
    }

    #[test]
    fn width_and_case_do_not_matter() {
        assert_eq!(of_query("ＰＤＦ"), of_query("pdf"));
        assert_eq!(of_query("ｶｸﾆﾝ"), of_query("カクニン"));
        assert!(of_text("PDF の出力").is_superset(&of_query("pdf")));
    }

    #[test]
    fn a_query_of_several_words_needs_each_of_them() {
        let query = of_query("データ ロック");
        assert!(query.contains("デー") && query.contains("ロッ"));
        assert!(of_query("  、。 ").is_empty());
        assert_eq!(of_query("表"), BTreeSet::from(["表".to_owned()]));
    }
}
