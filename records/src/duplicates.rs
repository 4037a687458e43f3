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
//! Not O(n²), whatever the data: persons are grouped by blocking keys — the NIK; (birth date,
//! mother key, number of name words, first letter of the name key) — and within a block by
//! their exact name key; names one letter apart are found through an index of each key's
//! one-letter deletions ([`one_letter_apart`] confirms), never by comparing every two names
//! of a block. A NIK held by more than [`MAX_NIK_GROUP`] persons is a placeholder (`0…0`),
//! not a person, and proposes no pairs; so is a NIK of one repeated digit, and so are more
//! than [`MAX_NAME_GROUP`] persons of one name key, birth date and mother (a copied test
//! record, a "Bayi" with a default birth date): without that bound one such group of n
//! persons would propose n²/2 pairs (75,000 of them: 2.8 billion, more memory than a server
//! has).

use crate::names::name_key;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Persons sharing one NIK beyond this are a placeholder NIK, not duplicates.
pub const MAX_NIK_GROUP: usize = 20;

/// Persons of one name key, birth date and mother beyond this are a placeholder, not
/// duplicates (as [`MAX_NIK_GROUP`] for a NIK).
pub const MAX_NAME_GROUP: usize = 20;

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
    // Same name key (or one letter apart), birth date and mother: per block, the persons of
    // each name key.
    let keys: Vec<String> = persons.iter().map(|p| name_key(&p.name)).collect();
    type Block<'a> = BTreeMap<&'a str, Vec<usize>>;
    let mut blocks: HashMap<(&str, Option<&str>, usize, char), Block<'_>> = HashMap::new();
    for (i, p) in persons.iter().enumerate() {
        let (Some(birth), Some(first)) = (p.birth_date.as_deref(), keys[i].chars().next()) else {
            continue;
        };
        let words = keys[i].split(' ').count();
        blocks
            .entry((birth, p.mother.as_deref(), words, first))
            .or_default()
            .entry(keys[i].as_str())
            .or_default()
            .push(i);
    }
    for block in blocks.values() {
        let groups: Vec<(&str, &Vec<usize>)> = block
            .iter()
            .filter(|(_, members)| members.len() <= MAX_NAME_GROUP)
            .map(|(k, members)| (*k, members))
            .collect();
        for (_, members) in &groups {
            each_pair(members, |&i, &j| {
                add(&persons[i], &persons[j], Reason::NameBirthMother);
            });
        }
        for (g, h) in fuzzy_neighbours(&groups) {
            for &i in groups[g].1 {
                for &j in groups[h].1 {
                    let (a, b) = (&persons[i], &persons[j]);
                    if a.sex.is_some() && a.sex == b.sex {
                        add(a, b, Reason::NameBirthMother);
                    }
                }
            }
        }
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

/// The pairs `(g, h)`, `g < h`, of `groups` (distinct name keys of one block) whose keys are
/// [`one_letter_apart`]. Each key is indexed under itself and under each of its one-letter
/// deletions, per word long enough to differ ([`MIN_FUZZY_WORD`]): two words one
/// substitution apart share a deletion at the same place, a word one letter longer than
/// another has it among its deletions. Only keys sharing an entry are compared.
fn fuzzy_neighbours(groups: &[(&str, &Vec<usize>)]) -> BTreeSet<(usize, usize)> {
    let mut found = BTreeSet::new();
    if groups.len() < 2 {
        return found;
    }
    let mut index: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    for (g, (key, _)) in groups.iter().enumerate() {
        let words: Vec<&str> = key.split(' ').collect();
        for (w, word) in words.iter().enumerate() {
            let chars: Vec<char> = word.chars().collect();
            if chars.len() < MIN_FUZZY_WORD {
                continue;
            }
            index.entry((w, (*key).to_string())).or_default().push(g);
            for p in 0..chars.len() {
                let shorter: String = chars[..p].iter().chain(&chars[p + 1..]).collect();
                let mut variant = words.clone();
                variant[w] = &shorter;
                index.entry((w, variant.join(" "))).or_default().push(g);
            }
        }
    }
    for sharing in index.values().filter(|g| g.len() > 1) {
        each_pair(sharing, |&g, &h| {
            let pair = (g.min(h), g.max(h));
            if g != h && !found.contains(&pair) && one_letter_apart(groups[g].0, groups[h].0) {
                found.insert(pair);
            }
        });
    }
    found
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
    fn a_placeholder_group_proposes_no_pairs() {
        // 21 copies of one test record: a placeholder, not 210 duplicates; 20 are pairs.
        let copies = |n: usize, birth: &str| -> Vec<Candidate> {
            (0..n)
                .map(|i| person(&format!("{birth}-{i:02}"), "Anak Contoh", birth, None))
                .collect()
        };
        assert!(find_pairs(&copies(MAX_NAME_GROUP + 1, "2023-05-10"), &HashSet::new()).is_empty());
        let pairs = find_pairs(&copies(MAX_NAME_GROUP, "2023-05-11"), &HashSet::new());
        assert_eq!(pairs.len(), MAX_NAME_GROUP * (MAX_NAME_GROUP - 1) / 2);
        // Nor with a spelling variant beside it; a NIK pair among them still counts.
        let mut many = copies(MAX_NAME_GROUP + 1, "2023-05-10");
        many.push(person("z", "Anak Kontoh", "2023-05-10", None));
        many[0].nik = Some("5304050101900001".into());
        many[1].nik = Some("5304050101900001".into());
        let got = find_pairs(&many, &HashSet::new());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].reason, Reason::Nik);
    }

    /// The rule as first written: every two persons of a block compared.
    fn reference(persons: &[Candidate]) -> Vec<(String, String, Reason)> {
        let mut found: BTreeMap<(String, String), Reason> = BTreeMap::new();
        let keys: Vec<String> = persons.iter().map(|p| name_key(&p.name)).collect();
        for (i, a) in persons.iter().enumerate() {
            for (j, b) in persons.iter().enumerate().skip(i + 1) {
                let (ka, kb) = (&keys[i], &keys[j]);
                let reason = if a.nik.is_some() && a.nik == b.nik {
                    Some(Reason::Nik)
                } else if a.birth_date.is_some()
                    && a.birth_date == b.birth_date
                    && a.mother == b.mother
                    && ka.chars().next() == kb.chars().next()
                    && (ka == kb || (a.sex.is_some() && a.sex == b.sex && one_letter_apart(ka, kb)))
                {
                    Some(Reason::NameBirthMother)
                } else {
                    None
                };
                if let Some(r) = reason {
                    let (f, s) = canonical(&a.id, &b.id);
                    found.insert((f.into(), s.into()), r);
                }
            }
        }
        found.into_iter().map(|((f, s), r)| (f, s, r)).collect()
    }

    #[test]
    fn the_index_finds_what_comparing_every_two_finds() {
        // Names built from a few spelling variants, so that many are one letter apart.
        let firsts = [
            "Yohanes",
            "Yohanis",
            "Yohannes",
            "Agustinus",
            "Agostinus",
            "Maria",
            "Marina",
            "Kornelis",
            "Korneli",
            "Anton",
            "Antonius",
            "Theresia",
            "Teresa",
        ];
        let lasts = ["Bria", "Seran", "Tae", "Mau", "Bere", "Berek"];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let mut persons = Vec::new();
        for i in 0..600 {
            let name = if next(4) == 0 {
                firsts[next(firsts.len())].to_string()
            } else {
                format!(
                    "{} {}",
                    firsts[next(firsts.len())],
                    lasts[next(lasts.len())]
                )
            };
            let mut p = person(
                &format!("p{i:03}"),
                &name,
                ["2023-01-02", "2023-01-03"][next(2)],
                [Some("Maria Goreti"), Some("Ludovika"), None][next(3)],
            );
            p.sex = [Some("male"), Some("female"), None][next(3)].map(str::to_string);
            if next(10) == 0 {
                p.nik = Some(format!("53040501019000{:02}", next(30)));
            }
            persons.push(p);
        }
        let got: Vec<(String, String, Reason)> = find_pairs(&persons, &HashSet::new())
            .into_iter()
            .map(|p| (p.first, p.second, p.reason))
            .collect();
        let want = reference(&persons);
        let fuzzy = want
            .iter()
            .filter(|(f, s, r)| {
                let name = |id: &str| {
                    persons
                        .iter()
                        .find(|p| p.id == id)
                        .map(|p| name_key(&p.name))
                };
                *r == Reason::NameBirthMother && name(f) != name(s)
            })
            .count();
        assert!(
            want.len() > 200 && fuzzy > 50,
            "{} pairs, {fuzzy} by spelling",
            want.len()
        );
        assert_eq!(got, want);
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
