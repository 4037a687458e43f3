//! Likely duplicates among many persons: pairs with the same NIK, or the same name (by the
//! spelling-tolerant [`crate::names::name_key`]), birth date and mother. Pure: the caller
//! hands in the live persons that are not merged away, and the pairs already dismissed.
//!
//! The rule is the tablet's at registration (`field-core`'s `likely_duplicates`: same NIK;
//! or same name key, same birth date and the same mother), made to work across posyandu,
//! where one mother is often registered twice as well: the mother is compared by her name
//! key ([`mother_key`]), not by her record id. One tolerance more than the tablet's search:
//! two names of the same number of words whose keys differ by one letter in one word of
//! five letters or more (Yohanes/Yohanis, Agustinus/Agostinus), when both persons have the
//! same sex (twins of the same mother and birth date usually differ in sex or by more).
//!
//! Not O(n²): persons are grouped by blocking keys — the NIK; (birth date, mother key,
//! number of name words, first letter of the name key) — and only persons in one block are
//! compared. A NIK held by more than [`MAX_NIK_GROUP`] persons is a placeholder (`0…0`),
//! not a person, and proposes no pairs; so is a NIK of one repeated digit.

use crate::names::name_key;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Persons sharing one NIK beyond this are a placeholder NIK, not duplicates.
pub const MAX_NIK_GROUP: usize = 20;

/// The shortest word key in which one letter may differ.
pub const MIN_FUZZY_WORD: usize = 5;

/// One person as the finder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub posyandu: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub nik: Option<String>,
    /// Who the mother is ([`mother_key`]): `None` when no mother is recorded.
    pub mother: Option<String>,
}

/// The mother as the finder compares her: her name's key when her record is known (one
/// mother registered in two posyandu has two ids but one name), else her record id.
pub fn mother_key(mother_id: Option<&str>, mother_name: Option<&str>) -> Option<String> {
    match (mother_name.map(name_key), mother_id) {
        (Some(k), _) if !k.is_empty() => Some(format!("name:{k}")),
        (_, Some(id)) => Some(format!("id:{id}")),
        _ => None,
    }
}

/// Why two persons look like one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Nik,
    NameBirthMother,
}

/// A likely duplicate: `first` < `second` as strings (the canonical pair order of a
/// `duplicate_dismissal`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    pub first: String,
    pub second: String,
    pub reason: Reason,
}

/// The canonical order of a pair of ids.
pub fn canonical<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Every likely duplicate pair among `persons`, without the `dismissed` ones (canonical
/// `(first, second)`), sorted by `(first, second)`. A pair alike by NIK and by name is
/// reported once, as `nik`.
pub fn find_pairs(persons: &[Candidate], dismissed: &HashSet<(String, String)>) -> Vec<Pair> {
    let mut found: BTreeMap<(String, String), Reason> = BTreeMap::new();
    let mut add = |a: &Candidate, b: &Candidate, reason: Reason| {
        if a.id == b.id {
            return;
        }
        let (f, s) = canonical(&a.id, &b.id);
        let key = (f.to_string(), s.to_string());
        if dismissed.contains(&key) {
            return;
        }
        let r = found.entry(key).or_insert(reason);
        *r = (*r).min(reason);
    };
    // Same NIK.
    let mut by_nik: HashMap<&str, Vec<&Candidate>> = HashMap::new();
    for p in persons {
        if let Some(nik) = p.nik.as_deref().filter(|n| plausible_nik(n)) {
            by_nik.entry(nik).or_default().push(p);
        }
    }
    for group in by_nik.values().filter(|g| g.len() <= MAX_NIK_GROUP) {
        each_pair(group, |a, b| add(a, b, Reason::Nik));
    }
    // Same name key (or one letter apart), birth date and mother.
    let keys: Vec<String> = persons.iter().map(|p| name_key(&p.name)).collect();
    let mut blocks: HashMap<(&str, Option<&str>, usize, char), Vec<usize>> = HashMap::new();
    for (i, p) in persons.iter().enumerate() {
        let (Some(birth), Some(first)) = (p.birth_date.as_deref(), keys[i].chars().next()) else {
            continue;
        };
        let words = keys[i].split(' ').count();
        blocks
            .entry((birth, p.mother.as_deref(), words, first))
            .or_default()
            .push(i);
    }
    for block in blocks.values() {
        each_pair(block, |&i, &j| {
            let (a, b) = (&persons[i], &persons[j]);
            let same_sex = a.sex.is_some() && a.sex == b.sex;
            if keys[i] == keys[j] || (same_sex && one_letter_apart(&keys[i], &keys[j])) {
                add(a, b, Reason::NameBirthMother);
            }
        });
    }
    found
        .into_iter()
        .map(|((first, second), reason)| Pair {
            first,
            second,
            reason,
        })
        .collect()
}

fn each_pair<T>(items: &[T], mut f: impl FnMut(&T, &T)) {
    for (i, a) in items.iter().enumerate() {
        for b in &items[i + 1..] {
            f(a, b);
        }
    }
}

/// A NIK that names one person: not one digit repeated (`0000…`, `1111…`).
fn plausible_nik(nik: &str) -> bool {
    let mut chars = nik.chars();
    match chars.next() {
        Some(c) => chars.any(|d| d != c),
        None => false,
    }
}

/// Two name keys of the same words but one, which differs by one letter (substituted,
/// added or left out) and is at least [`MIN_FUZZY_WORD`] letters long.
pub fn one_letter_apart(a: &str, b: &str) -> bool {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if wa.len() != wb.len() {
        return false;
    }
    let mut differing = wa.iter().zip(&wb).filter(|(x, y)| x != y);
    match (differing.next(), differing.next()) {
        (Some((x, y)), None) => {
            x.chars().count().min(y.chars().count()) >= MIN_FUZZY_WORD && edit_distance_one(x, y)
        }
        _ => false,
    }
}

/// Whether two different words are one substitution, insertion or deletion apart.
fn edit_distance_one(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => short.iter().zip(&long).filter(|(x, y)| x != y).count() == 1,
        1 => {
            let start = short.iter().zip(&long).take_while(|(x, y)| x == y).count();
            short[start..] == long[start + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, name: &str, birth: &str, mother: Option<&str>) -> Candidate {
        Candidate {
            id: id.into(),
            posyandu: "P1".into(),
            name: name.into(),
            sex: Some("male".into()),
            birth_date: Some(birth.into()),
            nik: None,
            mother: mother_key(None, mother),
        }
    }

    #[test]
    fn same_nik_and_spelling_variants_are_pairs() {
        let mut a = person("b", "Yohanes Bria", "2023-01-02", Some("Maria Goreti"));
        let b = person("a", "Yohanis Bria", "2023-01-02", Some("Marya Goretti"));
        let c = person("c", "Johanes Bria", "2023-01-02", Some("Maria Goreti"));
        let mut d = person("d", "Anton Seran", "1990-05-05", None);
        let mut e = person("e", "Kornelis Tae", "1985-01-01", None);
        d.nik = Some("5304050101900001".into());
        e.nik = Some("5304050101900001".into());
        a.nik = Some("0000000000000000".into());
        let mut f = person("f", "Lain", "2000-01-01", None);
        f.nik = Some("0000000000000000".into());
        let pairs = find_pairs(&[a, b, c, d, e, f], &HashSet::new());
        let got: Vec<(&str, &str, Reason)> = pairs
            .iter()
            .map(|p| (p.first.as_str(), p.second.as_str(), p.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "b", Reason::NameBirthMother),
                ("a", "c", Reason::NameBirthMother),
                ("b", "c", Reason::NameBirthMother),
                ("d", "e", Reason::Nik),
            ]
        );
    }

    #[test]
    fn twins_other_mothers_and_dismissed_pairs_are_not() {
        let a = person("a", "Yohanes", "2023-01-02", Some("Maria"));
        let mut b = person("b", "Yohana", "2023-01-02", Some("Maria"));
        b.sex = Some("female".into());
        let c = person("c", "Yohanes", "2023-01-02", Some("Ludovika"));
        let d = person("d", "Yohanes", "2023-01-03", Some("Maria"));
        let e = person("e", "Yohanes", "2023-01-02", Some("Maria"));
        let dismissed: HashSet<(String, String)> = [("a".to_string(), "e".to_string())].into();
        assert!(find_pairs(&[a, b, c, d, e], &dismissed).is_empty());
    }

    #[test]
    fn one_letter_in_one_long_word() {
        assert!(one_letter_apart("ioanes bria", "ioanis bria"));
        assert!(one_letter_apart("agustinus", "agostinus"));
        assert!(one_letter_apart("kornelis", "korneli"));
        assert!(!one_letter_apart("maria", "mario bria"));
        assert!(!one_letter_apart("ana", "ani"));
        assert!(!one_letter_apart("ioanes bria", "ioanis brio"));
        assert!(!one_letter_apart("ioanes", "ioanes"));
    }
}
