//! Start-up options: `--data DIR` (or `JANGKAU_DATA`) chooses the data directory, so that
//! several isolated instances can run side by side (end-to-end tests); `--server URL` (or
//! `JANGKAU_SERVER`) prefills the server address on first run. Both flags win over the
//! environment. Other arguments are ignored (a launcher may add its own).

use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    pub data_dir: Option<PathBuf>,
    pub server: Option<String>,
}

impl LaunchOptions {
    /// From the process's arguments and environment.
    pub fn from_env() -> Self {
        Self::parse(
            std::env::args().skip(1),
            std::env::var_os("JANGKAU_DATA").map(PathBuf::from),
            std::env::var("JANGKAU_SERVER").ok(),
        )
    }

    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env_data: Option<PathBuf>,
        env_server: Option<String>,
    ) -> Self {
        let mut out = LaunchOptions {
            data_dir: env_data.filter(|p| !p.as_os_str().is_empty()),
            server: env_server.filter(|s| !s.trim().is_empty()),
        };
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (a.clone(), None),
            };
            match flag.as_str() {
                "--data" => {
                    if let Some(v) = inline.or_else(|| args.next()) {
                        out.data_dir = Some(PathBuf::from(v));
                    }
                }
                "--server" => {
                    if let Some(v) = inline.or_else(|| args.next()) {
                        out.server = Some(v.trim().to_string());
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_win_over_the_environment() {
        let o = LaunchOptions::parse(
            args(&["--data", "/tmp/a", "--server=http://127.0.0.1:8080", "--x"]),
            Some("/tmp/env".into()),
            Some("https://env".into()),
        );
        assert_eq!(o.data_dir, Some(PathBuf::from("/tmp/a")));
        assert_eq!(o.server.as_deref(), Some("http://127.0.0.1:8080"));
        let o = LaunchOptions::parse(args(&[]), Some("/tmp/env".into()), Some(" ".into()));
        assert_eq!(o.data_dir, Some(PathBuf::from("/tmp/env")));
        assert_eq!(o.server, None);
        assert_eq!(
            LaunchOptions::parse(args(&["--data"]), None, None),
            LaunchOptions::default()
        );
    }
}
