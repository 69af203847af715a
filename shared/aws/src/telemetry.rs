//! Structured JSON logs. Log ids and counts, never a child's name, date of birth or address.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `RUST_LOG` as a list of `level` and `target=level` directives (template.yaml sets `info`); when
/// unset or not understood, `info`. A target filter rather than tracing-subscriber's EnvFilter,
/// whose span and field directives nothing here uses and whose regex engine is a good part of a
/// bootstrap (ADR 0018).
pub fn filter(rust_log: Option<&str>) -> Targets {
    rust_log.and_then(|v| v.parse::<Targets>().ok()).unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

pub fn init() {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref());
    let fmt = tracing_subscriber::fmt::layer().json().with_current_span(false).with_target(false).with_ansi(false);
    let _ = tracing_subscriber::registry().with(fmt).with(filter).try_init();
}

#[cfg(test)]
mod tests {
    use super::filter;
    use tracing::Level;

    #[test]
    fn rust_log_levels_and_targets() {
        let f = filter(Some("info"));
        assert!(f.would_enable("case_query", &Level::INFO));
        assert!(!f.would_enable("case_query", &Level::DEBUG));
        let f = filter(Some("warn,cms_aws=debug"));
        assert!(f.would_enable("cms_aws::dynamo", &Level::DEBUG));
        assert!(!f.would_enable("case_query", &Level::INFO));
        assert!(f.would_enable("case_query", &Level::WARN));
        // unset or not understood: info
        for v in [None, Some("not a level=at all=")] {
            let f = filter(v);
            assert!(f.would_enable("anything", &Level::INFO), "{v:?}");
            assert!(!f.would_enable("anything", &Level::DEBUG), "{v:?}");
        }
    }
}
