//! Bahasa Indonesia first, English second: `?lang=en` (or `id`) switches and is remembered
//! in a cookie; every text is written as a pair at the place it is used.

use axum::http::HeaderMap;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Id,
    En,
}

impl Lang {
    pub fn t(self, id: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
}

/// `?lang=` first, then the `lang` cookie, else Indonesian.
pub fn lang(headers: &HeaderMap, query: &HashMap<String, String>) -> Lang {
    let pick = |v: &str| match v {
        "en" => Some(Lang::En),
        "id" => Some(Lang::Id),
        _ => None,
    };
    query
        .get("lang")
        .and_then(|v| pick(v))
        .or_else(|| super::session::cookie(headers, "lang").and_then(pick))
        .unwrap_or(Lang::Id)
}
