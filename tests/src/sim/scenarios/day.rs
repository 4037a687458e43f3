//! `posyandu-day`: a kader's tablet syncs a posyandu day (about 60 children, about 300
//! records) over a shaped 2G link (64 kbit/s, 400 ms round trip, 2 % loss), while another
//! kader of the same posyandu has synced a few changes of their own in the meantime (so the
//! run has something to pull). Counts the HTTP requests (round trips) and the bytes.

use super::{Options, blocking, enrol};
use crate::proxy::{LinkShape, Proxy};
use crate::sim::report::{Report, Target};
use crate::sim::server::SimServer;
use crate::sim::village::Village;
use crate::sim::{Result, SimError};
use std::time::Instant;
use sync_protocol::Role;

use super::wire::MAWAR;

pub async fn posyandu_day(o: &Options) -> Result<Report> {
    one_day(o, "posyandu-day").await
}

async fn one_day(o: &Options, s: &str) -> Result<Report> {
    let server = SimServer::start(o.backend).await?;
    let proxy = Proxy::start(server.addr, LinkShape::two_g()).await?;
    server.add_user("kader.mawar2", Role::Kader, MAWAR).await?;

    // The tablet over 2G: enrolled, the posyandu's families registered and synced before.
    let setup = Instant::now();
    let mut a = enrol(&server, &proxy.url(), &o.spec("kader.mawar", true)).await?;
    let mut village = Village::new(MAWAR, o.seed);
    let children = o.day_children;
    let (mut a, mut village) = blocking(move || {
        let today = a.store.today()?;
        let from = today
            .checked_sub_months(chrono::Months::new(59))
            .ok_or_else(|| SimError::Check("date out of range".into()))?;
        village.register_children(&mut a.store, children, from, today)?;
        Ok((a, village))
    })
    .await?;
    a.sync().await?;
    // The other kader, on loopback: a family with a newborn registered and synced.
    let mut b = enrol(&server, &server.url(), &o.spec("kader.mawar2", true)).await?;
    b.sync().await?;
    let mut other = Village::new(MAWAR, o.seed + 1);
    let mut b = blocking(move || {
        let today = b.store.today()?;
        other.register_families(&mut b.store, 1, today, today)?;
        Ok(b)
    })
    .await?;
    let other_sent = b.sync().await?.0.sent;
    eprintln!(
        "   {s}: set up in {:.1} s (over 2G)",
        setup.elapsed().as_secs_f64()
    );

    // The day, recorded offline.
    let (mut a, stats) = blocking(move || {
        let today = a.store.today()?;
        let which = village.under_five(today);
        let mut stats = village.posyandu_day(&mut a.store, today, &which, 100, u64::MAX)?;
        let before = a.pending()?;
        village.newborn(&mut a.store, today - chrono::Days::new(12))?;
        village.newborn(&mut a.store, today - chrono::Days::new(20))?;
        stats.changes += a.pending()? - before;
        Ok((a, stats))
    })
    .await?;
    let n = a.pending()?;

    proxy.reset_stats();
    let (rep, t) = a.sync().await?;
    let st = proxy.stats();
    if rep.sent != n || rep.waiting != 0 {
        return Err(SimError::Check(format!(
            "sent {} of {n}, {} waiting",
            rep.sent, rep.waiting
        )));
    }
    let mut r = Report::default();
    r.note(format!(
        "{s}: {} children, {n} changes (incl. 2 newborns); push batch {}; {} pushes, {} pulls, \
         {} received ({other_sent} pushed by the other kader; more means the tablet's own came back), \
         {} retries; \
         {} TCP connection(s) (the handshake is one more round trip), {} injected faults; \
         the link model loses 2 % of segments",
        stats.children,
        a.client.config().push_batch,
        rep.push_requests,
        rep.pull_requests,
        rep.received,
        rep.retries,
        st.connections,
        st.faults_applied,
    ));
    r.add(s, "records", n as f64, "");
    r.secs(s, "sync over 2G", t.total, Some(Target::AtMost(15.0)));
    r.secs(s, "of which push", t.push, None);
    r.secs(s, "of which pull", t.pull, None);
    r.check(
        s,
        "round trips (HTTP requests)",
        st.requests as f64,
        "",
        Target::AtMost(3.0),
    );
    r.add(s, "bytes up", st.bytes_up as f64 / 1e3, "kB");
    r.add(s, "bytes down", st.bytes_down as f64 / 1e3, "kB");
    drop(proxy);
    server.stop().await?;
    Ok(r)
}
