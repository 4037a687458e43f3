//! Issue #12 item 1, the device's side: when a pull answer is over the limits the tablet
//! accepts (a server that cuts pages by count only), the tablet asks again for fewer
//! changes and goes on; and a server that cuts pages by bytes never sends such an answer.
//! A real server over each backend, real tablets over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use sync_protocol::EntityKind;

/// `n` characters of text that compresses badly (a note typed in full).
fn noisy(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + u8::try_from(x % 26).unwrap())
        })
        .collect()
}

/// Kader A writes 60 long notes and syncs; returns the tablet.
async fn sixty_long_notes(server: &Server) -> Device {
    let mut a = Device::enrol(server, "kader.mawar").await;
    let reg = a
        .store
        .register_household(
            &household("Yohanes Bria"),
            &[person("Maria Bria", "female", "1995-03-02")],
            &[],
        )
        .unwrap();
    for i in 0..60 {
        a.store
            .add_note(Some(reg.persons[0]), None, &noisy(i, 1_900))
            .unwrap();
    }
    let r = a.sync().await;
    assert_eq!(r.rejected, 0, "{r:?}");
    a
}

fn notes(d: &Device) -> usize {
    d.view()
        .records
        .values()
        .filter(|r| r.kind() == EntityKind::Note)
        .count()
}

async fn the_tablet_lowers_its_pull_limit_when_an_answer_is_too_large(backend: Backend) {
    // A server that cuts pages by count only (as before the byte limit), advertising a
    // 48 KiB limit on the wire: 500 of these notes are about 70 kB of zstd.
    let server = Server::start_configured(backend, false, |c| {
        c.pull_page_bytes = 64 << 20;
        c.limits.max_compressed = 48 * 1024;
    })
    .await;
    let a = sixty_long_notes(&server).await;
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    let r = b.sync().await;
    let lowered = r.pull_limit_lowered_to.expect("the limit was lowered");
    assert!(lowered < 500, "{r:?}");
    assert_eq!(notes(&b), 60, "{r:?}");
    assert_same("after the lowered pulls", &a.view(), &b.view());
    // The next run is up to date.
    let r = b.sync().await;
    assert!(r.up_to_date, "{r:?}");
    server.stop().await;
}

async fn a_server_cutting_by_bytes_needs_no_lowering(backend: Backend) {
    let server = Server::start_configured(backend, false, |c| {
        c.pull_page_bytes = 40 * 1024;
        c.limits.max_compressed = 48 * 1024;
    })
    .await;
    let a = sixty_long_notes(&server).await;
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    let r = b.sync().await;
    assert_eq!(r.pull_limit_lowered_to, None, "{r:?}");
    assert!(r.pull_requests >= 3, "pages cut by bytes: {r:?}");
    assert_eq!(notes(&b), 60);
    assert_same("after pages cut by bytes", &a.view(), &b.view());
    server.stop().await;
}

both_backends!(
    the_tablet_lowers_its_pull_limit_when_an_answer_is_too_large,
    a_server_cutting_by_bytes_needs_no_lowering,
);
