//! Times the PIN's Argon2id derivation at several costs (docs/SECURITY.md, "The PIN's offline
//! cost"): `cargo run -p field-core --example kdf_cost [MiB,t ...]` (argon2 is optimised in
//! every profile). Best and mean of 5 runs each, one lane, as the keyring derives.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cases: Vec<(u32, u32)> = if args.is_empty() {
        vec![(19, 2), (64, 3), (128, 3)]
    } else {
        args.iter()
            .filter_map(|a| {
                let (m, t) = a.split_once(',')?;
                Some((m.parse().ok()?, t.parse().ok()?))
            })
            .collect()
    };
    for (m_mib, t) in cases {
        let params = match argon2::Params::new(m_mib * 1024, t, 1, Some(32)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{m_mib} MiB, t = {t}: {e}");
                continue;
            }
        };
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        let (mut best, mut sum) = (f64::MAX, 0.0);
        for _ in 0..5 {
            let start = Instant::now();
            if let Err(e) = argon.hash_password_into(b"258046", b"0123456789abcdef", &mut out) {
                eprintln!("{m_mib} MiB, t = {t}: {e}");
                break;
            }
            let s = start.elapsed().as_secs_f64();
            best = best.min(s);
            sum += s;
        }
        println!(
            "{m_mib:>4} MiB, t = {t}: best {:.0} ms, mean {:.0} ms",
            best * 1e3,
            sum / 5.0 * 1e3
        );
    }
}
