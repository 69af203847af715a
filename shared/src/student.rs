//! The student and their whānau: values that are parsed once and cannot be invalid afterwards.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

/// A person's name as written (trimmed, inner whitespace collapsed, 1..=120 characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        // one Unicode form (NFC): "Whānau" typed with a combining macron is the same name
        let collapsed = crate::text::nfc(s).split_whitespace().collect::<Vec<_>>().join(" ");
        if !crate::text::has_visible(&collapsed) {
            return Err("enter a name");
        }
        if collapsed.chars().count() > 120 {
            return Err("must be 120 characters or fewer");
        }
        if collapsed.chars().any(|c| c.is_control() || c.is_ascii_digit()) {
            return Err("must not contain digits or control characters");
        }
        Ok(Self(collapsed))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Case- and accent-insensitive form used to recognise the same student again.
    pub fn normalised(&self) -> String {
        self.0
            .nfkd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric() || *c == ' ')
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
impl TryFrom<String> for PersonName {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.0
    }
}

/// Does a student's name contain every word searched for (each the start of a word of the name),
/// ignoring case and macrons: "wha" finds "Whānau Example", "ex wha" too; "nau" does not.
pub fn name_matches(name: &PersonName, query: &PersonName) -> bool {
    let n = name.normalised();
    let words: Vec<&str> = n.split(' ').collect();
    query.normalised().split(' ').filter(|w| !w.is_empty()).all(|q| words.iter().any(|w| w.starts_with(q)))
}

/// Parse a calendar date written exactly `YYYY-MM-DD` (four-digit year, two-digit month and day,
/// nothing before or after): `2026-1-1`, `+2026-11-20` and ` 2026-11-20` are refused, so one date
/// has one spelling everywhere it is stored or compared.
pub fn parse_date(s: &str) -> Result<NaiveDate, &'static str> {
    let b = s.as_bytes();
    let shaped = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err("must be a date written as YYYY-MM-DD with a four-digit year and two-digit month and day, for example 2015-03-21");
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| "is not a real date: check the day and the month (YYYY-MM-DD, for example 2015-03-21)")
}

/// Whole years between `dob` and `on` (birthdays on 29 February count on 1 March in common years).
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - dob.year();
    let birthday_passed = (on.month(), on.day()) >= (dob.month(), dob.day());
    if !birthday_passed {
        years -= 1;
    }
    years
}

/// The date a child born on `dob` turns `years` old (29 February → 1 March in a common year).
pub fn birthday(dob: NaiveDate, years: i32) -> NaiveDate {
    let y = dob.year() + years;
    NaiveDate::from_ymd_opt(y, dob.month(), dob.day()).unwrap_or_else(|| NaiveDate::from_ymd_opt(y, 3, 1).expect("1 March exists"))
}

/// A student's date of birth: a real date, not in the future, for a child of school age
/// (under 22 on the day it is checked; the service has no upper age limit but a date of
/// birth older than that is a typing mistake).
pub fn parse_date_of_birth(s: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let dob = parse_date(s)?;
    if dob > today {
        return Err("cannot be in the future");
    }
    let age = age_on(dob, today);
    if age < 4 {
        return Err("the student must be at least 4 years old");
    }
    if age > 21 {
        return Err("the student must be under 22 years old; check the year");
    }
    Ok(dob)
}

/// National Student Number: 1 to 10 ASCII digits and nothing else (no spaces, signs or
/// separators: a request and ENROL must name a student the same way). Leading zeros are
/// normalised, not refused: the NSN is a number and systems show it zero-padded to ten digits or
/// not, so `0123456789` and `123456789` are the same student (one key, one active case). All
/// zeros is not an NSN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nsn(String);

impl Nsn {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be the National Student Number: 1 to 10 digits, with no spaces or other characters");
        }
        let digits = s.trim_start_matches('0');
        if digits.is_empty() {
            return Err("must be the National Student Number: it cannot be all zeros");
        }
        Ok(Self(digits.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Nsn {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Nsn> for String {
    fn from(n: Nsn) -> String {
        n.0
    }
}

/// NZ year level: 0 (new entrant) to 13.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct YearLevel(u8);

impl YearLevel {
    pub fn parse(n: i64) -> Result<Self, &'static str> {
        if (0..=13).contains(&n) {
            Ok(Self(n as u8))
        } else {
            Err("must be a year level from 0 (new entrant) to 13")
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
}
impl TryFrom<i64> for YearLevel {
    type Error = &'static str;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        Self::parse(n)
    }
}
impl From<YearLevel> for i64 {
    fn from(y: YearLevel) -> i64 {
        y.0 as i64
    }
}

/// A phone number: digits with optional leading +, spaces, dashes and brackets; 7 to 15 digits.
pub fn parse_phone(s: &str) -> Result<String, &'static str> {
    let t = s.trim();
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    let ok_chars = t.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -()".contains(c) || (c == '+' && i == 0));
    if !ok_chars || !(7..=15).contains(&digits) {
        return Err("must be a phone number of 7 to 15 digits, for example 021 123 4567");
    }
    Ok(t.to_string())
}

/// An email address: one '@', something before it, a dot in the domain, no spaces.
pub fn parse_email(s: &str) -> Result<String, &'static str> {
    let t = s.trim();
    let err = "must be an email address such as name@example.co.nz";
    let (local, domain) = t.split_once('@').ok_or(err)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || t.chars().any(char::is_whitespace)
        || t.len() > 254
    {
        return Err(err);
    }
    Ok(t.to_string())
}

/// An opaque key derived from who a student is, for the indexes and the one-active-case item:
/// a keyed HMAC-SHA256 (secret in Secrets Manager), so nobody without the secret can compute the key
/// of a known NSN or name and test whether the child has a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StudentKey(String);

impl StudentKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The keyed digest that turns identities into [`StudentKey`]s. Built once per cold start from
/// the secret; the secret never leaves it.
#[derive(Clone)]
pub struct StudentKeys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for StudentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StudentKeys(..)")
    }
}

impl StudentKeys {
    /// `None` for an empty secret: a key without a secret would be enumerable again.
    pub fn new(secret: &[u8]) -> Option<Self> {
        (!secret.is_empty()).then(|| StudentKeys { secret: secret.to_vec() })
    }
    fn digest(&self, s: &str) -> StudentKey {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(s.as_bytes());
        StudentKey(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
    }
    /// The key of the student's identity: their NSN.
    pub fn nsn(&self, nsn: &Nsn) -> StudentKey {
        self.digest(&format!("nsn:{}", nsn.as_str()))
    }
    /// The key of a *candidate* match: normalised name and date of birth (never an identity).
    pub fn name_dob(&self, name: &PersonName, dob: NaiveDate) -> StudentKey {
        self.digest(&format!("name:{}|dob:{}", name.normalised(), dob))
    }
    /// A student as a request or a NEN names them.
    pub fn identify(&self, nsn: &Nsn, name: &PersonName, dob: NaiveDate) -> StudentIdentity {
        StudentIdentity { nsn: Some(nsn.clone()), nsn_key: Some(self.nsn(nsn)), name_key: Some(self.name_dob(name, dob)) }
    }
    /// Candidates by name and date of birth only (a search without the NSN).
    pub fn name_dob_only(&self, name: &PersonName, dob: NaiveDate) -> StudentIdentity {
        StudentIdentity { nsn: None, nsn_key: None, name_key: Some(self.name_dob(name, dob)) }
    }
    /// A student known only by NSN (an ENROL enrolment report).
    pub fn nsn_only(&self, nsn: &Nsn) -> StudentIdentity {
        StudentIdentity { nsn: Some(nsn.clone()), nsn_key: Some(self.nsn(nsn)), name_key: None }
    }
}

/// How a case's student compares with the student a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudentMatch {
    /// The same NSN: the same student.
    Same,
    /// Name and date of birth agree but the NSNs do not (or one is unknown): perhaps the same
    /// student; a person must confirm. Never reopens or converts a case.
    Candidate,
    Different,
}

/// The keys a student can be found under: the NSN's (their identity) and the name + date of
/// birth's (candidates only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentIdentity {
    pub nsn: Option<Nsn>,
    pub nsn_key: Option<StudentKey>,
    /// `None` when only the NSN is known (an ENROL enrolment report).
    pub name_key: Option<StudentKey>,
}

impl StudentIdentity {
    /// Is a case's student this student? Only the NSN decides; an agreeing name and date of birth
    /// make a candidate (`case_name_key` is the case's stored name key).
    pub fn compare(&self, case_nsn: Option<&Nsn>, case_name_key: Option<&StudentKey>) -> StudentMatch {
        match (&self.nsn, case_nsn) {
            (Some(a), Some(b)) if a == b => StudentMatch::Same,
            _ if self.name_key.is_some() && self.name_key.as_ref() == case_name_key => StudentMatch::Candidate,
            _ => StudentMatch::Different,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_search_matches_word_starts_ignoring_case_and_macrons() {
        let n = |s: &str| PersonName::parse(s).unwrap();
        let child = n("Whānau Example-Test");
        assert!(name_matches(&child, &n("wha")));
        assert!(name_matches(&child, &n("WHĀNAU")));
        assert!(name_matches(&child, &n("ex wha")));
        assert!(!name_matches(&child, &n("nau")), "the middle of a word is not a match");
        assert!(!name_matches(&child, &n("wha smith")), "every word must match");
    }
    use proptest::prelude::*;
    use sha2::Digest;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn names_are_collapsed_and_checked() {
        assert_eq!(PersonName::parse("  Aroha   Ngata ").unwrap().as_str(), "Aroha Ngata");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("R2D2").is_err());
        assert_eq!(PersonName::parse("Mere TĀNE").unwrap().normalised(), "mere tane");
    }

    #[test]
    fn dates_have_one_spelling() {
        assert_eq!(parse_date("2026-11-20"), Ok(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()));
        for s in ["2026-1-1", "+2026-11-20", " 2026-11-20", "2026-11-20 ", "02026-11-20", "2026-11-2", "2026/11/20", "２０２６-11-20", ""]
        {
            let e = parse_date(s).expect_err(s);
            assert!(e.contains("YYYY-MM-DD"), "{s}: {e}");
        }
        assert!(parse_date("2026-02-30").unwrap_err().contains("not a real date"));
    }

    #[test]
    fn nsns_are_digits_only_and_leading_zeros_normalised() {
        assert_eq!(Nsn::parse("0123456789").unwrap(), Nsn::parse("123456789").unwrap());
        assert_eq!(Nsn::parse("0123456789").unwrap().as_str(), "123456789");
        for s in [" 123456789", "123456789 ", "\t123", "+123", "-123", "12 345", "１２３", "0", "0000000000", "12345678901", ""] {
            assert!(Nsn::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn names_are_nfc_and_visible() {
        let composed = PersonName::parse("Whānau Testname").unwrap();
        let decomposed = PersonName::parse("Wha\u{0304}nau Testname").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "Whānau Testname");
        assert!(PersonName::parse("\u{200B}\u{200D}").is_err());
    }

    #[test]
    fn dates_of_birth() {
        let today = d("2026-11-24");
        assert!(parse_date_of_birth("2015-02-30", today).is_err());
        assert!(parse_date_of_birth("24/11/2015", today).is_err());
        assert!(parse_date_of_birth("2027-01-01", today).is_err());
        assert!(parse_date_of_birth("2024-01-01", today).is_err());
        assert!(parse_date_of_birth("1990-01-01", today).is_err());
        assert!(parse_date_of_birth("2015-03-21", today).is_ok());
    }

    #[test]
    fn leap_day_birthdays() {
        let dob = d("2020-02-29");
        assert_eq!(birthday(dob, 6), d("2026-03-01"));
        assert_eq!(birthday(dob, 8), d("2028-02-29"));
        assert_eq!(age_on(dob, d("2026-02-28")), 5);
        assert_eq!(age_on(dob, d("2026-03-01")), 6);
    }

    #[test]
    fn contacts() {
        assert!(parse_phone("021 123 4567").is_ok());
        assert!(parse_phone("+64 (9) 555-1234").is_ok());
        assert!(parse_phone("12ab").is_err());
        assert!(parse_email("kaiako@school.nz").is_ok());
        assert!(parse_email("no-at.nz").is_err());
        assert!(parse_email("a@b").is_err());
    }

    fn keys() -> StudentKeys {
        StudentKeys::new(b"test-secret").unwrap()
    }

    #[test]
    fn student_keys_are_keyed_stable_and_opaque() {
        let n = PersonName::parse("Aroha Ngata").unwrap();
        let n2 = PersonName::parse("aroha  NGATA").unwrap();
        let dob = d("2015-03-21");
        assert_eq!(keys().name_dob(&n, dob), keys().name_dob(&n2, dob));
        assert!(!keys().name_dob(&n, dob).as_str().contains("aroha"));
        let nsn = Nsn::parse("0012345").unwrap();
        assert_eq!(keys().nsn(&nsn), keys().nsn(&Nsn::parse("12345").unwrap()));
        // without the secret the key cannot be computed: a plain SHA-256 of the same text differs,
        // and so does the key under another secret
        let plain: String = Sha256::digest(b"nsn:12345").iter().map(|b| format!("{b:02x}")).collect();
        assert_ne!(keys().nsn(&nsn).as_str(), plain);
        assert_ne!(keys().nsn(&nsn), StudentKeys::new(b"other").unwrap().nsn(&nsn));
        assert!(StudentKeys::new(b"").is_none(), "an empty secret is refused");
    }

    #[test]
    fn only_the_nsn_identifies_a_student() {
        let n = PersonName::parse("Aroha Ngata").unwrap();
        let dob = d("2015-03-21");
        let nsn = Nsn::parse("123").unwrap();
        let id = keys().identify(&nsn, &n, dob);
        let other_name = keys().name_dob(&PersonName::parse("Someone Else").unwrap(), dob);
        let same_name = keys().name_dob(&n, dob);
        assert_eq!(id.compare(Some(&nsn), Some(&other_name)), StudentMatch::Same, "same NSN, name spelt differently");
        assert_eq!(
            id.compare(Some(&Nsn::parse("456").unwrap()), Some(&same_name)),
            StudentMatch::Candidate,
            "name and DOB agree, NSN differs"
        );
        assert_eq!(id.compare(None, Some(&same_name)), StudentMatch::Candidate, "no NSN on the case: a candidate only");
        assert_eq!(id.compare(Some(&Nsn::parse("456").unwrap()), Some(&other_name)), StudentMatch::Different);
        let only = keys().nsn_only(&nsn);
        assert_eq!(only.compare(Some(&nsn), None), StudentMatch::Same);
        assert_eq!(only.compare(None, Some(&same_name)), StudentMatch::Different, "without a name there are no candidates");
    }

    proptest! {
        #[test]
        fn age_increases_by_one_on_each_birthday(y in 2000i32..2022, m in 1u32..=12, dd in 1u32..=28, n in 1i32..20) {
            let dob = NaiveDate::from_ymd_opt(y, m, dd).unwrap();
            let b = birthday(dob, n);
            prop_assert_eq!(age_on(dob, b), n);
            prop_assert_eq!(age_on(dob, b.pred_opt().unwrap()), n - 1);
        }

        #[test]
        fn phone_parser_never_panics(s in ".{0,40}") {
            let _ = parse_phone(&s);
            let _ = parse_email(&s);
            let _ = PersonName::parse(&s);
        }
    }
}
