//! `many-devices`: N tablets (two kader per posyandu, each at their own table) record a
//! posyandu day each and then all sync at once; then all sync again, which brings each the
//! other table's records. Throughput and the spread of sync times.
//!
//! The tablets' databases are in `/dev/shm`: fifty simulated tablets sharing one disk would
//! measure that disk's fsync queue, not the server or the protocol.

use super::{Options, blocking, enrol};
use crate::sim::device::{SimDevice, SyncTiming};
use crate::sim::report::{Report, percentile};
use crate::sim::server::SimServer;
use crate::sim::village::Village;
use crate::sim::{Result, SimError};
use field_core::sync::SyncReport;
use std::time::{Duration, Instant};
use sync_protocol::Role;

type Synced = (SimDevice, SyncReport, SyncTiming);

/// Every tablet syncs at once; returns them with their reports, and the wall time.
async fn sync_all(devs: Vec<SimDevice>) -> Result<(Vec<Synced>, Duration)> {
    let started = Instant::now();
    let tasks: Vec<_> = devs
        .into_iter()
        .map(|mut d| {
            tokio::spawn(async move {
                let (rep, t) = d.sync().await?;
                Ok::<Synced, SimError>((d, rep, t))
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(
            t.await
                .map_err(|e| SimError::Check(format!("sync task: {e}")))??,
        );
    }
    Ok((out, started.elapsed()))
}

fn rows(r: &mut Report, s: &str, round: &[Synced], wall: Duration) {
    let sent: u64 = round.iter().map(|x| x.1.sent).sum();
    let received: u64 = round.iter().map(|x| x.1.received).sum();
    let times: Vec<Duration> = round.iter().map(|x| x.2.total).collect();
    r.add(s, "records pushed", sent as f64, "");
    r.add(s, "records pulled", received as f64, "");
    r.secs(s, "wall time, all tablets at once", wall, None);
    r.add(
        s,
        "throughput (pushed + pulled)",
        (sent + received) as f64 / wall.as_secs_f64(),
        "records/s",
    );
    r.secs(s, "one sync, p50", percentile(times.clone(), 0.5), None);
    r.secs(s, "one sync, p99", percentile(times, 0.99), None);
}

pub async fn many_devices(o: &Options) -> Result<Report> {
    let n = o.devices.max(2);
    let pairs = n.div_ceil(2);
    let server = SimServer::start(o.backend).await?;
    let url = server.url();
    let codes = server.add_posyandu(1, pairs).await?;
    let setup = Instant::now();

    // Two tablets per posyandu; the first registers the families and syncs, the second
    // pulls them.
    let mut tasks = Vec::new();
    for (p, code) in codes.iter().enumerate() {
        let ua = format!("sim.k{p}a");
        let ub = format!("sim.k{p}b");
        server.add_user(&ua, Role::Kader, code).await?;
        server.add_user(&ub, Role::Kader, code).await?;
        let mut a = enrol(&server, &url, &o.spec(&ua, false)).await?;
        let b = if 2 * p + 1 < n {
            Some(enrol(&server, &url, &o.spec(&ub, false)).await?)
        } else {
            None
        };
        let mut village = Village::new(code, o.seed + p as u64);
        let children = o.day_children * if b.is_some() { 2 } else { 1 };
        tasks.push(tokio::spawn(async move {
            let (mut a, village) = blocking(move || {
                let today = a.store.today()?;
                let from = today
                    .checked_sub_months(chrono::Months::new(59))
                    .ok_or_else(|| SimError::Check("date out of range".into()))?;
                village.register_children(&mut a.store, children, from, today)?;
                Ok((a, village))
            })
            .await?;
            a.sync().await?;
            let mut out = vec![(a, village.for_another_tablet(p as u64 + 7))];
            if let Some(mut b) = b {
                b.sync().await?;
                out.push((b, village));
            }
            // The day: each tablet takes half of the children, all of whom come.
            let halves = out.len();
            let mut devs = Vec::new();
            for (k, (mut d, mut v)) in out.into_iter().enumerate() {
                devs.push(
                    blocking(move || {
                        let today = d.store.today()?;
                        let all = v.under_five(today);
                        let which: Vec<usize> = all
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| i % halves == k)
                            .map(|(_, c)| *c)
                            .collect();
                        v.posyandu_day(&mut d.store, today, &which, 100, u64::MAX)?;
                        Ok(d)
                    })
                    .await?,
                );
            }
            Ok::<Vec<SimDevice>, SimError>(devs)
        }));
    }
    let mut devs = Vec::new();
    for t in tasks {
        devs.extend(
            t.await
                .map_err(|e| SimError::Check(format!("setup task: {e}")))??,
        );
    }
    let waiting: u64 = devs.iter().map(|d| d.pending().unwrap_or(0)).sum();
    let mut r = Report::default();
    r.note(format!(
        "{} tablets on {pairs} posyandu set up in {:.1} s; {waiting} changes waiting \
         ({:.0} per tablet)",
        devs.len(),
        setup.elapsed().as_secs_f64(),
        waiting as f64 / devs.len() as f64
    ));

    let (round1, wall1) = sync_all(devs).await?;
    let sent: u64 = round1.iter().map(|x| x.1.sent).sum();
    if sent != waiting {
        return Err(SimError::Check(format!("pushed {sent} of {waiting}")));
    }
    rows(&mut r, "many-devices, first sync", &round1, wall1);
    let devs = round1.into_iter().map(|x| x.0).collect();
    let (round2, wall2) = sync_all(devs).await?;
    rows(&mut r, "many-devices, second sync", &round2, wall2);
    server.stop().await?;
    Ok(r)
}
