//! The reference-data import (issue 17): schools, catchments, providers (with their contract
//! value), localities and users — the Delegated Authoriser's role assignments from Education
//! Sector Logon — from five CSV files (docs/reference-data.md), into the table.
//!
//! Every row of every file is checked first, and every problem reported at once as
//! `file:line column: problem`; only when there is none is anything written. The writes are
//! unconditional puts of the records as they are (`put_reference`): importing the same files
//! again writes the same items, and a run that stopped half-way is finished by running it again.
//! A user's email preference is kept beside the user record (`USER#<id> / PREFS`), so an import
//! never resets it.

use cms_aws::{DynamoStore, ReferenceItem};
use cms_domain::actor::{Role, Side};
use cms_domain::catchment::{Catchment, Locality, Provider, ProviderKind, School};
use cms_domain::ids::{CatchmentId, ProviderId, RegionId, SchoolId, UserId};
use cms_domain::referral::UserRecord;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The files, by name, and their columns (a header row naming them, in any order).
pub const FILES: [(&str, &[&str]); 5] = [
    ("catchments.csv", &["id", "name", "region_id", "provider_id", "forum_pilot"]),
    ("providers.csv", &["id", "name", "kind", "catchment_id", "queue_email", "contract_dollars_per_year"]),
    ("schools.csv", &["id", "name", "catchment_id", "region_id", "isp_provider_id"]),
    ("localities.csv", &["name", "catchment_id"]),
    ("users.csv", &["id", "role", "org_id", "email", "display_name"]),
];

/// The organisation id every national Ministry user (CIT, national, prosecutions) belongs to.
pub const MINISTRY: &str = "ministry";

/// One problem with one cell (or row, or file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: String,
    /// The line in the file (1 is the header); 0 for the file as a whole.
    pub line: usize,
    pub column: String,
    pub problem: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column.as_str()) {
            (0, _) => write!(f, "{}: {}", self.file, self.problem),
            (l, "") => write!(f, "{}:{l}: {}", self.file, self.problem),
            (l, c) => write!(f, "{}:{l} {c}: {}", self.file, self.problem),
        }
    }
}

/// The rows of one file: each a map from column to its (trimmed) text, with its line.
struct Rows {
    rows: Vec<(usize, BTreeMap<String, String>)>,
}

impl Rows {
    fn read(file: &'static str, columns: &[&str], text: &str, problems: &mut Vec<Problem>) -> Rows {
        let mut out = Rows { rows: Vec::new() };
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
            Err(e) => {
                problems.push(Problem {
                    file: file.into(),
                    line: 1,
                    column: String::new(),
                    problem: format!("the header cannot be read: {e}"),
                });
                return out;
            }
        };
        for c in columns {
            if !header.iter().any(|h| h == c) {
                problems.push(Problem {
                    file: file.into(),
                    line: 1,
                    column: c.to_string(),
                    problem: "this column is missing from the header".into(),
                });
            }
        }
        for h in &header {
            if !columns.contains(&h.as_str()) {
                problems.push(Problem {
                    file: file.into(),
                    line: 1,
                    column: h.clone(),
                    problem: format!("not a column of {file} (its columns: {})", columns.join(", ")),
                });
            }
        }
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            match record {
                Ok(r) => out.rows.push((line, header.iter().cloned().zip(r.iter().map(|v| v.trim().to_string())).collect())),
                Err(e) => problems.push(Problem {
                    file: file.into(),
                    line,
                    column: String::new(),
                    problem: format!("the row cannot be read: {e}"),
                }),
            }
        }
        out
    }
}

/// Checks one row's cells, collecting each problem once.
struct Cells<'a> {
    file: &'static str,
    line: usize,
    row: &'a BTreeMap<String, String>,
    problems: &'a mut Vec<Problem>,
}

impl Cells<'_> {
    fn bad(&mut self, column: &str, problem: impl Into<String>) {
        self.problems.push(Problem { file: self.file.into(), line: self.line, column: column.into(), problem: problem.into() });
    }
    fn opt(&self, column: &str) -> Option<String> {
        self.row.get(column).filter(|v| !v.is_empty()).cloned()
    }
    fn text(&mut self, column: &str) -> String {
        match self.opt(column) {
            Some(v) if v.chars().any(char::is_control) => {
                self.bad(column, "contains a control character");
                String::new()
            }
            Some(v) => v,
            None => {
                self.bad(column, "is required");
                String::new()
            }
        }
    }
    fn id<T>(&mut self, column: &str, parse: fn(String) -> Result<T, cms_domain::ids::InvalidId>) -> Option<T> {
        let v = self.text(column);
        if v.is_empty() {
            return None;
        }
        match parse(v.clone()) {
            Ok(id) => Some(id),
            Err(_) => {
                self.bad(column, format!("{v:?} is not a valid id (letters, digits, '-' and '_')"));
                None
            }
        }
    }
    fn email(&mut self, column: &str) -> String {
        let v = self.text(column);
        let ok = v.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
            && !v.contains(char::is_whitespace);
        if !v.is_empty() && !ok {
            self.bad(column, format!("{v:?} is not an email address"));
        }
        v
    }
}

/// Parse and check the five files (their texts, by file name); the records to write, or every
/// problem.
pub fn parse(texts: &BTreeMap<String, String>) -> Result<Vec<ReferenceItem>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut rows: BTreeMap<&str, Rows> = BTreeMap::new();
    for (file, columns) in FILES {
        match texts.get(file) {
            Some(t) => {
                rows.insert(file, Rows::read(file, columns, t, &mut problems));
            }
            None => problems.push(Problem { file: file.into(), line: 0, column: String::new(), problem: "the file is missing".into() }),
        }
    }
    let take = |rows: &mut BTreeMap<&str, Rows>, f: &'static str| rows.remove(f).unwrap_or(Rows { rows: Vec::new() });

    let mut catchments = Vec::new();
    for (line, row) in &take(&mut rows, "catchments.csv").rows {
        let mut c = Cells { file: "catchments.csv", line: *line, row, problems: &mut problems };
        let (id, name, region, provider) =
            (c.id("id", CatchmentId::parse), c.text("name"), c.id("region_id", RegionId::parse), c.id("provider_id", ProviderId::parse));
        let pilot = match c.opt("forum_pilot").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("no") | Some("false") => false,
            Some("yes") | Some("true") => true,
            Some(v) => {
                c.bad("forum_pilot", format!("{v:?}: yes or no"));
                false
            }
        };
        if let (Some(id), Some(region_id), Some(provider_id)) = (id, region, provider) {
            catchments.push((*line, Catchment { id, name, region_id, provider_id, forum_pilot: pilot }));
        }
    }
    let mut providers = Vec::new();
    for (line, row) in &take(&mut rows, "providers.csv").rows {
        let mut c = Cells { file: "providers.csv", line: *line, row, problems: &mut problems };
        let (id, name) = (c.id("id", ProviderId::parse), c.text("name"));
        let kind = match c.text("kind").as_str() {
            "catchment" => Some(ProviderKind::Catchment),
            "in_school_provision" => Some(ProviderKind::InSchoolProvision),
            "" => None,
            v => {
                c.bad("kind", format!("{v:?}: catchment or in_school_provision"));
                None
            }
        };
        let catchment = c.id("catchment_id", CatchmentId::parse);
        let queue_email = c.email("queue_email");
        let contract = match c.opt("contract_dollars_per_year") {
            None => None,
            Some(v) => match dollars_to_cents(&v) {
                Some(cents) => Some(cents),
                None => {
                    c.bad("contract_dollars_per_year", format!("{v:?} is not an amount in dollars (e.g. 350000 or 350000.00)"));
                    None
                }
            },
        };
        if let (Some(id), Some(kind), Some(catchment_id)) = (id, kind, catchment) {
            providers.push((*line, Provider { id, name, kind, catchment_id, queue_email, contract_cents_per_year: contract }));
        }
    }
    let mut schools = Vec::new();
    for (line, row) in &take(&mut rows, "schools.csv").rows {
        let mut c = Cells { file: "schools.csv", line: *line, row, problems: &mut problems };
        let (id, name, catchment, region) =
            (c.id("id", SchoolId::parse), c.text("name"), c.id("catchment_id", CatchmentId::parse), c.id("region_id", RegionId::parse));
        let isp = match c.opt("isp_provider_id") {
            None => None,
            Some(_) => c.id("isp_provider_id", ProviderId::parse),
        };
        if let (Some(id), Some(catchment_id), Some(region_id)) = (id, catchment, region) {
            schools.push((*line, School { id, name, catchment_id, region_id, isp_provider_id: isp }));
        }
    }
    let mut localities = Vec::new();
    for (line, row) in &take(&mut rows, "localities.csv").rows {
        let mut c = Cells { file: "localities.csv", line: *line, row, problems: &mut problems };
        let (name, catchment) = (c.text("name"), c.id("catchment_id", CatchmentId::parse));
        if let Some(catchment_id) = catchment {
            localities.push((*line, Locality { name, catchment_id }));
        }
    }
    let mut users = Vec::new();
    for (line, row) in &take(&mut rows, "users.csv").rows {
        let mut c = Cells { file: "users.csv", line: *line, row, problems: &mut problems };
        let id = c.id("id", UserId::parse);
        let role_text = c.text("role");
        let role = Role::parse(&role_text);
        if role.is_none() && !role_text.is_empty() {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            c.bad("role", format!("{role_text:?} is not a role ({})", all.join(", ")));
        }
        let (org_id, email, display_name) = (c.text("org_id"), c.email("email"), c.text("display_name"));
        if let (Some(id), Some(role)) = (id, role) {
            users.push((*line, UserRecord { id, role, org_id, email, display_name }));
        }
    }

    // each id once, and every reference to something in the files
    let unique = |file: &str, ids: Vec<(usize, String)>, problems: &mut Vec<Problem>| -> BTreeSet<String> {
        let mut seen = BTreeMap::new();
        for (line, id) in ids {
            if let Some(first) = seen.insert(id.clone(), line) {
                problems.push(Problem { file: file.into(), line, column: "id".into(), problem: format!("{id:?} is also on line {first}") });
            }
        }
        seen.into_keys().collect()
    };
    let catchment_ids = unique("catchments.csv", catchments.iter().map(|(l, c)| (*l, c.id.to_string())).collect(), &mut problems);
    let provider_ids = unique("providers.csv", providers.iter().map(|(l, p)| (*l, p.id.to_string())).collect(), &mut problems);
    let school_ids = unique("schools.csv", schools.iter().map(|(l, s)| (*l, s.id.to_string())).collect(), &mut problems);
    unique("users.csv", users.iter().map(|(l, u)| (*l, u.id.to_string())).collect(), &mut problems);
    let region_ids: BTreeSet<String> = catchments.iter().map(|(_, c)| c.region_id.to_string()).collect();
    let region_of: BTreeMap<String, String> = catchments.iter().map(|(_, c)| (c.id.to_string(), c.region_id.to_string())).collect();
    let isp_ids: BTreeSet<String> =
        providers.iter().filter(|(_, p)| p.kind == ProviderKind::InSchoolProvision).map(|(_, p)| p.id.to_string()).collect();
    let mut refer = |file: &str, line: usize, column: &str, id: &str, known: &BTreeSet<String>, what: &str| {
        if !known.contains(id) {
            problems.push(Problem {
                file: file.into(),
                line,
                column: column.into(),
                problem: format!("{id:?} is not a {what} in {}", what_file(what)),
            });
        }
    };
    for (l, c) in &catchments {
        refer("catchments.csv", *l, "provider_id", c.provider_id.as_str(), &provider_ids, "provider");
    }
    for (l, p) in &providers {
        refer("providers.csv", *l, "catchment_id", p.catchment_id.as_str(), &catchment_ids, "catchment");
    }
    for (l, s) in &schools {
        refer("schools.csv", *l, "catchment_id", s.catchment_id.as_str(), &catchment_ids, "catchment");
        if let Some(isp) = &s.isp_provider_id {
            refer("schools.csv", *l, "isp_provider_id", isp.as_str(), &isp_ids, "in_school_provision provider");
        }
    }
    for (l, s) in &schools {
        if let Some(r) = region_of.get(s.catchment_id.as_str()) {
            if r != s.region_id.as_str() {
                problems.push(Problem {
                    file: "schools.csv".into(),
                    line: *l,
                    column: "region_id".into(),
                    problem: format!("{:?} is not the region of its catchment {} ({r:?})", s.region_id.as_str(), s.catchment_id),
                });
            }
        }
    }
    for (l, loc) in &localities {
        if !catchment_ids.contains(loc.catchment_id.as_str()) {
            problems.push(Problem {
                file: "localities.csv".into(),
                line: *l,
                column: "catchment_id".into(),
                problem: format!("{:?} is not a catchment in catchments.csv", loc.catchment_id.as_str()),
            });
        }
    }
    let ministry: BTreeSet<String> = [MINISTRY.to_string()].into();
    for (l, u) in &users {
        let (known, what) = match (u.role.side(), u.role) {
            (Side::School, _) => (&school_ids, "school"),
            (Side::Provider, _) => (&provider_ids, "provider"),
            (Side::Ministry, Role::Regional) => (&region_ids, "region"),
            (Side::Ministry, _) => (&ministry, "ministry organisation"),
        };
        if !known.contains(&u.org_id) {
            let hint =
                if what == "ministry organisation" { format!(" (national Ministry users belong to {MINISTRY:?})") } else { String::new() };
            problems.push(Problem {
                file: "users.csv".into(),
                line: *l,
                column: "org_id".into(),
                problem: format!("{:?} is not a {what} in the files{hint}", u.org_id),
            });
        }
    }
    if !problems.is_empty() {
        problems.sort();
        problems.dedup();
        return Err(problems);
    }
    let mut items = Vec::new();
    items.extend(catchments.into_iter().map(|(_, c)| ReferenceItem::Catchment(c)));
    items.extend(providers.into_iter().map(|(_, p)| ReferenceItem::Provider(p)));
    items.extend(schools.into_iter().map(|(_, s)| ReferenceItem::School(s)));
    items.extend(localities.into_iter().map(|(_, l)| ReferenceItem::Locality(l)));
    items.extend(users.into_iter().map(|(_, u)| ReferenceItem::User(u)));
    Ok(items)
}

fn what_file(what: &str) -> &'static str {
    match what {
        "catchment" => "catchments.csv",
        "school" => "schools.csv",
        _ => "providers.csv",
    }
}

/// "350000", "350,000.50" → cents; anything else (negative, more than two decimals) → `None`.
fn dollars_to_cents(v: &str) -> Option<u64> {
    let v = v.replace(',', "");
    let (whole, frac) = v.split_once('.').unwrap_or((&v, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse::<u64>().ok()? };
    whole.parse::<u64>().ok()?.checked_mul(100)?.checked_add(cents)
}

/// The files of a folder (each of [`FILES`] that exists).
pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (file, _) in FILES {
        let path = dir.join(file);
        if path.exists() {
            out.insert(file.to_string(), std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
    }
    Ok(out)
}

/// Check a folder's files and, when there is no problem, write them: how many records.
pub async fn import_dir(store: &DynamoStore, dir: &Path) -> Result<Result<usize, Vec<Problem>>, String> {
    let items = match parse(&read_dir(dir)?) {
        Ok(items) => items,
        Err(problems) => return Ok(Err(problems)),
    };
    store.put_reference(&items).await.map_err(|e| format!("writing: {e} (nothing is lost: run the import again to finish it)"))?;
    Ok(Ok(items.len()))
}

/// Reference data as the five files (the demo files are the minimal seed written this way).
pub fn to_files(items: &[ReferenceItem]) -> BTreeMap<String, String> {
    let mut w: BTreeMap<&str, csv::Writer<Vec<u8>>> = FILES
        .iter()
        .map(|(f, cols)| {
            let mut wr = csv::Writer::from_writer(Vec::new());
            let _ = wr.write_record(*cols);
            (*f, wr)
        })
        .collect();
    let mut put = |f: &str, rec: Vec<String>| {
        if let Some(wr) = w.get_mut(f) {
            let _ = wr.write_record(&rec);
        }
    };
    for it in items {
        match it {
            ReferenceItem::Catchment(c) => put(
                "catchments.csv",
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    c.region_id.to_string(),
                    c.provider_id.to_string(),
                    if c.forum_pilot { "yes" } else { "no" }.into(),
                ],
            ),
            ReferenceItem::Provider(p) => put(
                "providers.csv",
                vec![
                    p.id.to_string(),
                    p.name.clone(),
                    match p.kind {
                        ProviderKind::Catchment => "catchment".into(),
                        ProviderKind::InSchoolProvision => "in_school_provision".into(),
                    },
                    p.catchment_id.to_string(),
                    p.queue_email.clone(),
                    p.contract_cents_per_year.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default(),
                ],
            ),
            ReferenceItem::School(s) => put(
                "schools.csv",
                vec![
                    s.id.to_string(),
                    s.name.clone(),
                    s.catchment_id.to_string(),
                    s.region_id.to_string(),
                    s.isp_provider_id.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                ],
            ),
            ReferenceItem::Locality(l) => put("localities.csv", vec![l.name.clone(), l.catchment_id.to_string()]),
            ReferenceItem::User(u) => {
                put("users.csv", vec![u.id.to_string(), u.role.as_str().into(), u.org_id.clone(), u.email.clone(), u.display_name.clone()])
            }
        }
    }
    w.into_iter().map(|(f, wr)| (f.to_string(), String::from_utf8(wr.into_inner().unwrap_or_default()).unwrap_or_default())).collect()
}

/// Where the demo files are kept in the repository.
pub fn demo_dir() -> std::path::PathBuf {
    crate::template::repo_root().join("infra/reference/demo")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> BTreeMap<String, String> {
        to_files(&crate::seed::minimal())
    }

    #[test]
    fn the_demo_files_are_the_minimal_seed_and_import_as_it() {
        let files = read_dir(&demo_dir()).expect("infra/reference/demo");
        assert_eq!(
            files,
            demo(),
            "infra/reference/demo differs from the seed: run `cargo run -p cms-local --bin import-reference -- --write-demo`"
        );
        let items = parse(&files).expect("the demo files have no problem");
        assert_eq!(format!("{:?}", items.len()), format!("{:?}", crate::seed::minimal().len()));
        // the same records as the seed (in the files' order)
        let mut a: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        let mut b: Vec<String> = crate::seed::minimal().iter().map(|i| format!("{i:?}")).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn every_problem_is_reported_with_its_file_line_and_column() {
        let mut files = demo();
        let users = files.get_mut("users.csv").unwrap();
        users.push_str("new-1,teacher,1001,new@school.example.nz,New Person\n");
        users.push_str("new-2,attendance_lead,9999,not-an-email,Other Person\n");
        users.push_str("lead-1001,attendance_lead,1001,lead@school.example.nz,Twice\n");
        let schools = files.get_mut("schools.csv").unwrap();
        schools.push_str("2001,New School,NOPE,tai-tokerau,\n");
        let providers = files.get_mut("providers.csv").unwrap();
        providers.push_str("P99,New Provider,catchment,C01,queue@p99.example.nz,-5\n");
        files.remove("localities.csv");
        let problems = parse(&files).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let has = |needle: &str| assert!(text.iter().any(|t| t.contains(needle)), "{needle:?} not in {text:#?}");
        has("localities.csv: the file is missing");
        has("role: \"teacher\" is not a role");
        has("org_id: \"9999\" is not a school in the files");
        has("email: \"not-an-email\" is not an email address");
        has("id: \"lead-1001\" is also on line");
        has("catchment_id: \"NOPE\" is not a catchment in catchments.csv");
        has("contract_dollars_per_year: \"-5\" is not an amount in dollars");
        assert!(text.iter().all(|t| t.contains(".csv")), "{text:?}");
        // a wrong or missing column is named
        let mut files = demo();
        let c = files.get_mut("catchments.csv").unwrap();
        *c = c.replacen("region_id", "region", 1);
        let text: Vec<String> = parse(&files).unwrap_err().iter().map(|p| p.to_string()).collect();
        assert!(text.iter().any(|t| t == "catchments.csv:1 region_id: this column is missing from the header"), "{text:?}");
    }

    #[test]
    fn contract_values_are_dollars_to_the_cent() {
        assert_eq!(dollars_to_cents("350000"), Some(35_000_000));
        assert_eq!(dollars_to_cents("350,000.5"), Some(35_000_050));
        assert_eq!(dollars_to_cents("12.34"), Some(1234));
        for bad in ["", "-1", "1.234", "1e6", "$5", "1.2.3"] {
            assert_eq!(dollars_to_cents(bad), None, "{bad}");
        }
    }
}
