//! `fresh-device --phases`: the fresh tablet's run as a timeline, from the enrolment request
//! to the last page applied: the enrolment's parts, each pull page (asked, decoded, applied
//! with its cursor, commit included), and the idle gaps in which the tablet waited for a page.

use super::FirstSync;
use std::time::Duration;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The timeline's lines (times in ms from the enrolment request).
pub fn timeline(f: &FirstSync) -> Vec<String> {
    let mut out = Vec::new();
    let e = &f.enrol_times;
    let mut at = Duration::ZERO;
    let line = |out: &mut Vec<String>, what: &str, start: Duration, wall: Duration| {
        out.push(format!(
            "phase {what}: at {:.1} ms, {:.1} ms",
            ms(start),
            ms(wall)
        ));
    };
    line(&mut out, "enrolment and login requests", at, e.requests);
    at += e.requests;
    line(
        &mut out,
        "store creation (new database, schema; the Argon2id seal runs beside it and on)",
        at,
        e.create,
    );
    if let Some(a) = f.argon2_s {
        out.push(format!(
            "phase … one Argon2id seal at the tablet's cost (timed alone): {:.1} ms",
            a * 1000.0
        ));
    }
    at += e.create;
    line(&mut out, "enrolment saved in the store", at, e.save);
    at += e.save;
    line(&mut out, "places fetched and merged", at, e.places);
    at += e.places;
    line(
        &mut out,
        &format!(
            "pages pulled while the key was sealed ({} pages, {} changes)",
            f.enrol_pages.len(),
            e.pulled
        ),
        at,
        e.pull,
    );
    at += e.pull;
    line(
        &mut out,
        "the seal's end awaited, keyring saved, store moved to its name",
        at,
        e.seal_wait,
    );
    at += e.seal_wait;
    let sync0 = Duration::from_secs_f64(f.sync_start_s);
    line(
        &mut out,
        "enrolment's end to the sync's start",
        at,
        sync0.saturating_sub(at),
    );
    out.push(format!(
        "phase CPU of the tablet: enrolment {:.0} ms, whole run {:.0} ms",
        f.enrol_cpu_s * 1000.0,
        f.cpu_s * 1000.0
    ));
    let Some(first) = f.enrol_pages.first().or(f.pages.first()) else {
        return out;
    };
    if let Some(p) = f.pages.first() {
        line(
            &mut out,
            "sync's start to its first page asked (lock, status, push check)",
            sync0,
            p.asked,
        );
    }
    let (mut apply, mut idle, mut fetch, mut decode) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    // The enrolment's pages (times from the enrolment's start), then the sync's (from its
    // start): one timeline from the enrolment request.
    let all: Vec<field_core::sync::PageTimes> = f
        .enrol_pages
        .iter()
        .copied()
        .chain(f.pages.iter().map(|p| field_core::sync::PageTimes {
            asked: sync0 + p.asked,
            decoded: sync0 + p.decoded,
            apply_start: sync0 + p.apply_start,
            apply_end: sync0 + p.apply_end,
            ..*p
        }))
        .collect();
    let first_asked = if f.enrol_pages.is_empty() {
        sync0 + first.asked
    } else {
        first.asked
    };
    let mut prev_end = first_asked;
    for (i, p) in all.iter().enumerate() {
        let gap = p.apply_start.saturating_sub(prev_end);
        idle += gap;
        let wall = p.apply_end.saturating_sub(p.apply_start);
        apply += wall;
        let took = p.decoded.saturating_sub(p.asked);
        fetch += took;
        decode += p.decode;
        out.push(format!(
            "page {:>3}: {:>5} changes; asked {:>7.1}, decoded {:>7.1} ({:>5.1} ms, decode {:>4.1}); \
             idle before apply {:>5.1}; apply {:>7.1}..{:>7.1} = {:>6.1} ms{}",
            i + 1,
            p.changes,
            ms(p.asked),
            ms(p.decoded),
            ms(took),
            ms(p.decode),
            ms(gap),
            ms(p.apply_start),
            ms(p.apply_end),
            ms(wall),
            if i < f.enrol_pages.len() {
                " (enrolment, sealing)"
            } else {
                ""
            }
        ));
        prev_end = p.apply_end;
    }
    let end = all.last().map_or(Duration::ZERO, |p| p.apply_end);
    out.push(format!(
        "phase pull summary: {} pages, from the first asked to the last applied {:.0} ms; \
         applying {:.0} ms; idle (waiting for pages, between applies) {:.0} ms; requests \
         asked to decoded {:.0} ms (decode {:.0} ms), overlapping the applies",
        all.len(),
        ms(end.saturating_sub(first_asked)),
        ms(apply),
        ms(idle),
        ms(fetch),
        ms(decode)
    ));
    let mut slow: Vec<(usize, Duration, u32)> = all
        .iter()
        .enumerate()
        .map(|(i, p)| (i + 1, p.apply_end.saturating_sub(p.apply_start), p.changes))
        .collect();
    slow.sort_by_key(|s| std::cmp::Reverse(s.1));
    let mut sizes: Vec<Duration> = all
        .iter()
        .filter(|p| p.changes >= 1_000)
        .map(|p| p.apply_end.saturating_sub(p.apply_start))
        .collect();
    sizes.sort();
    if let Some(median) = sizes.get(sizes.len() / 2) {
        out.push(format!(
            "phase median apply of a page of 1,000 or more: {:.1} ms; the slowest: {}",
            ms(*median),
            slow.iter()
                .take(8)
                .map(|(i, d, n)| format!("page {i} ({n}) {:.0} ms", ms(*d)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}
