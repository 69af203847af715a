//! Attendance Services case management: the domain.
//!
//! Pure Rust, no AWS types. Modules are named in the seeds' words: the CA request ([`referral`]),
//! the [`case`], [`catchment`]s and providers, the access policy ([`access`]), and the [`ports`]
//! the adapters implement.

/// An enum of codes as the API spells them: `ALL`, `as_str`, `parse` and `list` (for messages),
/// written once for every list of codes the domain keeps.
macro_rules! codes {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v),+
        }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }
            /// The codes, comma separated (for error messages).
            pub fn list() -> String {
                [$($s),+].join(", ")
            }
        }
    };
}

pub mod access;
pub mod activity;
pub mod actor;
pub mod agencies;
pub mod audit;
pub mod barriers;
pub mod calendar;
pub mod case;
pub mod catchment;
pub mod cit;
pub mod csv;
pub mod dashboard;
pub mod details;
pub mod digest;
pub mod enrol;
pub mod escalations;
pub mod files;
#[cfg(test)]
mod fixtures;
pub mod fund;
pub mod ids;
pub mod initiatives;
pub mod intake;
pub mod lifecycle;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod notification;
pub mod outbox;
pub mod plan;
pub mod ports;
pub mod reassign;
pub mod referral;
pub mod schedule;
pub mod sensitive;
pub mod sla;
pub mod student;
pub mod text;
pub mod usecase;

pub use case::events;

use chrono::{DateTime, NaiveDate, Utc};

/// The New Zealand calendar date of an instant.
/// Saturates instead of panicking for instants within hours of chrono's limits.
pub fn nz_date(t: DateTime<Utc>) -> NaiveDate {
    use chrono::{Offset, TimeZone};
    let utc = t.naive_utc();
    let offset = chrono_tz::Pacific::Auckland.offset_from_utc_datetime(&utc).fix();
    match utc.checked_add_offset(offset) {
        Some(local) => local.date(),
        None if offset.local_minus_utc() >= 0 => NaiveDate::MAX,
        None => NaiveDate::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::{BTreeMap, BTreeSet};

    /// The domain's modules and the modules each one's production code names (`crate::x`); the
    /// case's own files (`case/`) count as `case`, as does `events`, which lives there.
    fn module_imports() -> BTreeMap<String, BTreeSet<String>> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for e in std::fs::read_dir(&src).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
            } else {
                files.push(p);
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in files.into_iter().filter(|p| p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs")) {
            let rel = p.strip_prefix(&src).unwrap();
            let module = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            let code = code.split("#[cfg(test)]\npub(crate) mod tests").next().unwrap_or("");
            let named = graph.entry(module.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for part in line.split("crate::").skip(1) {
                    let m: String = part.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    let m = if m == "events" { "case".to_string() } else { m };
                    if !m.is_empty() && m != module && m != "nz_date" {
                        named.insert(m);
                    }
                }
            }
        }
        graph
    }

    #[test]
    fn the_domain_modules_import_one_another_without_a_circle() {
        let graph = module_imports();
        assert!(graph.len() > 20 && graph["case"].contains("ids"), "the walk missed the modules: {graph:?}");
        // the case's types depend only on the leaves they are made of
        let leaves: BTreeSet<String> = ["actor", "audit", "catchment", "ids", "referral", "sla", "student"].map(String::from).into();
        assert!(graph["case"].is_subset(&leaves), "case names {:?}", graph["case"]);
        // depth-first: a module met again while it is still being visited closes a circle
        fn visit(m: &str, g: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
            if done.contains(m) {
                return;
            }
            if let Some(at) = path.iter().position(|p| p == m) {
                panic!("module circle: {} -> {m}", path[at..].join(" -> "));
            }
            path.push(m.to_string());
            for n in g.get(m).into_iter().flatten() {
                visit(n, g, path, done);
            }
            path.pop();
            done.insert(m.to_string());
        }
        let mut done = BTreeSet::new();
        for m in graph.keys() {
            visit(m, &graph, &mut Vec::new(), &mut done);
        }
    }

    #[test]
    fn nz_date_crosses_midnight_before_utc() {
        // 2026-11-24 12:30 UTC is 01:30 on the 25th in New Zealand (NZDT, +13).
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 12, 30, 0).unwrap();
        assert_eq!(nz_date(t), NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        // In winter (NZST, +12) 11:59 UTC is still before midnight.
        let t = Utc.with_ymd_and_hms(2026, 6, 10, 11, 59, 0).unwrap();
        assert_eq!(nz_date(t), NaiveDate::from_ymd_opt(2026, 6, 10).unwrap());
    }
}
