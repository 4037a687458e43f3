//! Name keys that tolerate the common spelling variants of names in NTT and Indonesia:
//! old and new spelling (Soekarno/Sukarno, Djoko/Joko, Tjahja/Cahya), y/j/i (Yohanes/Johanes,
//! Maria/Marya), c/k/q (Fransiscus/Fransiskus), ph/f, th/t, kh/ch/k, v/f, z/s, doubled letters
//! (Muhammad/Muhamad) and a silent h (Yohana/Yoana).
//!
//! One definition for the tablet (`field-core`'s `name_key` column, its search and its
//! likely duplicates) and the district server's duplicate finder, so both match alike.

/// Lowercase words, letters only, diacritics removed.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = true;
    for c in name.chars() {
        let c = fold(c);
        if c == '\u{0}' {
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_string()
}

fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'Á' | 'À' | 'Â' | 'Ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        '\'' | '’' | '`' => '\u{0}',
        _ => c,
    }
}

/// The spelling-tolerant key of one word.
pub fn word_key(word: &str) -> String {
    let w = normalise(word).replace(' ', "");
    let mut s = w;
    for (from, to) in [
        ("oe", "u"),
        ("dj", "j"),
        ("tj", "c"),
        ("sj", "sy"),
        ("nj", "ny"),
        ("ch", "k"),
        ("kh", "k"),
        ("ph", "f"),
        ("th", "t"),
        ("ck", "k"),
        ("q", "k"),
        ("x", "ks"),
        ("c", "k"),
        ("v", "f"),
        ("z", "s"),
        ("y", "i"),
        ("j", "i"),
        ("w", "u"),
    ] {
        s = s.replace(from, to);
    }
    // A silent h after a vowel or at the end (Yohana/Yoana, Muhammad/Muhamad keeps its h
    // before a consonant... but both lose it consistently).
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == 'h' && i > 0 {
            continue;
        }
        // Doubled letters count once.
        if out.ends_with(c) {
            continue;
        }
        out.push(c);
    }
    out
}

/// The key of a whole name: the key of each word, separated by spaces.
pub fn name_key(name: &str) -> String {
    normalise(name)
        .split_whitespace()
        .map(word_key)
        .filter(|k| !k.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_share_a_key() {
        for (a, b) in [
            ("Soekarno", "Sukarno"),
            ("Djoko", "Joko"),
            ("Yohanes", "Johanes"),
            ("Maria", "Marya"),
            ("Fransiscus", "Fransiskus"),
            ("Muhammad", "Muhamad"),
            ("Yohana", "Yoana"),
            ("Tjahja", "Cahya"),
            ("Theresia", "Teresia"),
            ("Yosef", "Josef"),
            ("Maria Goreti", "MARIA GORETTI"),
            ("Élisabeth", "Elisabet"),
        ] {
            assert_eq!(name_key(a), name_key(b), "{a} / {b}");
        }
        assert_ne!(name_key("Maria"), name_key("Mario"));
    }
}
