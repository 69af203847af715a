//! The reference data's five CSV files (issue 17): schools, catchments, providers (with their
//! contract value), localities and users — the Delegated Authoriser's role assignments from
//! Education Sector Logon — checked ([`parse`]) and synchronised into the table ([`sync`]), by the
//! `import-reference` command (infra/local) and the scheduled `sync-reference` function alike
//! (docs/reference-data.md).
//!
//! Every row of every file is checked first, and every problem reported at once as
//! `file:line column: problem`; only when there is none is anything written. The writes are
//! unconditional puts of the records as they are (`put_reference`): importing the same files
//! again writes the same items, and a run that stopped half-way is finished by running it again.
//! A user's email preference is kept beside the user record (`USER#<id> / PREFS`), so an import
//! never resets it. The users file is the whole list of role assignments: a user on record who is
//! no longer in it has lost their role, and is removed ([`sync`]).

use crate::{DynamoStore, ReferenceItem};
use cms_domain::actor::{Role, Side};
use cms_domain::catchment::{Catchment, Locality, Provider, ProviderKind, School};
use cms_domain::ids::{CatchmentId, ProviderId, RegionId, SchoolId, UserId};
use cms_domain::ports::StoreError;
use cms_domain::referral::UserRecord;
use std::collections::{BTreeMap, BTreeSet};

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

/// A users file that would remove more than a fifth of the users on record (and more than
/// [`MASS_REVOCATION_FLOOR`] of them) is taken for a truncated or wrong file, not for a fifth of
/// the sector losing their roles overnight: refused, unless the run says it is meant.
pub const MASS_REVOCATION_FLOOR: usize = 10;

fn mass_revocation(revoking: usize, on_record: usize) -> bool {
    revoking > MASS_REVOCATION_FLOOR && revoking * 5 > on_record
}

/// How a [`sync`] may go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Check only: report what would be written and removed, write nothing.
    pub dry_run: bool,
    /// Remove the users missing from users.csv even when they are many ([`MASS_REVOCATION_FLOOR`]).
    pub allow_mass_revocation: bool,
}

/// What a [`sync`] did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Synced {
    /// Records written (every record of the files).
    pub records: usize,
    /// Users on record before the sync.
    pub users_on_record: usize,
    /// Users on record who are not in users.csv (their role assignment ended): removed, with
    /// their email preference. Staff ids, never a child's.
    pub revoked: Vec<UserId>,
    pub dry_run: bool,
}

impl Synced {
    /// The report's text: one line.
    pub fn summary(&self) -> String {
        let verb = if self.dry_run { "would be" } else { "were" };
        let mut out = format!(
            "{} records {verb} written; {} of the {} users on record {verb} removed (no longer in users.csv)",
            self.records,
            self.revoked.len(),
            self.users_on_record
        );
        if !self.revoked.is_empty() {
            out.push_str(": ");
            out.push_str(&self.revoked.iter().map(|u| u.to_string()).collect::<Vec<_>>().join(", "));
        }
        out
    }
}

/// The problems' report: one line each, then what happened.
pub fn report(problems: &[Problem]) -> String {
    let mut out: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    out.push(format!("{} problem(s); nothing was written", problems.len()));
    out.join("\n")
}

/// Synchronise the table with the five files: check them ([`parse`]); when there is no problem,
/// write every record, then remove the users on record who are not in users.csv (their role
/// assignment ended). Schools, catchments, providers and localities missing from the files are
/// kept: cases name them. Safe to run again at any point: the puts are idempotent and a removal
/// that did not happen is found again.
pub async fn sync(
    store: &DynamoStore,
    texts: &BTreeMap<String, String>,
    options: SyncOptions,
) -> Result<Result<Synced, Vec<Problem>>, StoreError> {
    let items = match parse(texts) {
        Ok(items) => items,
        Err(problems) => return Ok(Err(problems)),
    };
    let on_file: BTreeSet<&UserId> = items
        .iter()
        .filter_map(|i| match i {
            ReferenceItem::User(u) => Some(&u.id),
            _ => None,
        })
        .collect();
    let on_record = store.user_ids().await?;
    let revoked: Vec<UserId> = on_record.iter().filter(|id| !on_file.contains(id)).cloned().collect();
    if !options.allow_mass_revocation && mass_revocation(revoked.len(), on_record.len()) {
        return Ok(Err(vec![Problem {
            file: "users.csv".into(),
            line: 0,
            column: String::new(),
            problem: format!(
                "{} of the {} users on record are not in the file, and would lose their access: if the file is complete and \
                 they have all lost their roles, run again allowing a mass revocation (import-reference --allow-mass-revocation)",
                revoked.len(),
                on_record.len()
            ),
        }]));
    }
    let synced = Synced { records: items.len(), users_on_record: on_record.len(), revoked, dry_run: options.dry_run };
    if !options.dry_run {
        store.put_reference(&items).await?;
        store.revoke_users(&synced.revoked).await?;
    }
    Ok(Ok(synced))
}

/// The reference files' bucket: the five files under [`CURRENT`], each sync's report under
/// [`REPORTS`] (`latest.txt` and one per run).
#[derive(Debug, Clone)]
pub struct S3ReferenceFiles {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// Where the files to sync are kept in the bucket.
pub const CURRENT: &str = "current/";
/// Where each sync's report is written.
pub const REPORTS: &str = "reports/";

impl S3ReferenceFiles {
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> S3ReferenceFiles {
        S3ReferenceFiles { client: crate::s3::client(sdk), bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Each of the [`FILES`] under [`CURRENT`] that exists (one `GetObject` each).
    pub async fn files(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut out = BTreeMap::new();
        for (file, _) in FILES {
            if let Some(text) = self.text(&format!("{CURRENT}{file}")).await? {
                out.insert(file.to_string(), text);
            }
        }
        Ok(out)
    }

    /// Write a run's report as `reports/latest.txt` and `reports/<at>.txt`.
    pub async fn report(&self, at: chrono::DateTime<chrono::Utc>, text: &str) -> Result<(), StoreError> {
        let stamp = at.format("%Y-%m-%dT%H-%M-%SZ");
        for key in [format!("{REPORTS}latest.txt"), format!("{REPORTS}{stamp}.txt")] {
            self.put(&key, text).await?;
        }
        Ok(())
    }

    /// Put a file under [`CURRENT`] (tests, and an operator's upload by hand).
    pub async fn put_file(&self, file: &str, text: &str) -> Result<(), StoreError> {
        self.put(&format!("{CURRENT}{file}"), text).await
    }

    async fn put(&self, key: &str, text: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/plain; charset=utf-8")
            .body(text.as_bytes().to_vec().into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::s3::s3_error(&format!("put {key}"), e))
    }

    /// A text object of the bucket, if it exists (a file that is not UTF-8 is kept, as text, for
    /// its problem to be reported).
    pub async fn text(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => {
                let bytes = o.body.collect().await.map_err(|e| StoreError::Unavailable(format!("{key}: {e}")))?.into_bytes();
                Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(crate::s3::s3_error(&format!("get {key}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_values_are_dollars_to_the_cent() {
        assert_eq!(dollars_to_cents("350000"), Some(35_000_000));
        assert_eq!(dollars_to_cents("350,000.5"), Some(35_000_050));
        assert_eq!(dollars_to_cents("12.34"), Some(1234));
        for bad in ["", "-1", "1.234", "1e6", "$5", "1.2.3"] {
            assert_eq!(dollars_to_cents(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_fifth_of_the_users_and_more_than_ten_is_a_mass_revocation() {
        assert!(!mass_revocation(0, 0));
        assert!(!mass_revocation(10, 10), "ten are never refused");
        assert!(mass_revocation(11, 11));
        assert!(mass_revocation(21, 100));
        assert!(!mass_revocation(20, 100), "a fifth exactly is not more than a fifth");
        assert!(!mass_revocation(199, 1000));
        assert!(mass_revocation(201, 1000));
    }
}
