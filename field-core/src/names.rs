//! Name search on the tablet: the spelling-tolerant keys are `records::names` (one
//! definition, shared with the district server's duplicate finder); the FTS5 query over
//! them is the tablet's own.

pub use records::names::{name_key, normalise, word_key};

/// An FTS5 query matching names whose words start like the query's words, by spelling key.
/// Returns `None` when the query has no searchable word.
pub fn fts_query(query: &str) -> Option<String> {
    fts(query, "*")
}

/// An FTS5 query matching names that hold every word of the query as a whole word, by
/// spelling key. Returns `None` when the query has no searchable word.
pub fn fts_words_query(query: &str) -> Option<String> {
    fts(query, "")
}

fn fts(query: &str, suffix: &str) -> Option<String> {
    let words: Vec<String> = name_key(query)
        .split_whitespace()
        .filter(|w| w.chars().all(char::is_alphanumeric))
        .map(|w| format!("\"{w}\"{suffix}"))
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(format!("name_key : ({})", words.join(" AND ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_ignores_punctuation() {
        assert_eq!(fts_query("  ").as_deref(), None);
        assert_eq!(fts_query("\"*)").as_deref(), None);
        assert_eq!(
            fts_query("Yohanes B.").as_deref(),
            Some("name_key : (\"ioanes\"* AND \"b\"*)")
        );
        assert_eq!(
            fts_words_query("Yohanes B.").as_deref(),
            Some("name_key : (\"ioanes\" AND \"b\")")
        );
        assert_eq!(fts_words_query("\"*)").as_deref(), None);
    }
}
