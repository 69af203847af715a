//! Issue 7: every role × every route, against the emulator, with the expected status for each
//! cell — including another school's, another provider's and another region's users — and zero
//! leaks: a refused caller changes nothing and learns nothing (lists, case views and timelines never
//! carry health information).

use cms_tests::{complete_form, demo, nen_notification, open_case, post_form, Reply, TestEnv};
use serde_json::json;
use std::collections::BTreeMap;

/// Everyone the seed knows.
const USERS: [&str; 20] = [
    demo::LEAD,
    demo::PRIMARY_CONTACT,
    demo::PRIMARY_CONTACT_2,
    demo::OFFICE,
    demo::OTHER_LEAD,
    demo::OTHER_CONTACT,
    demo::ISP_LEAD,
    demo::ISP_CONTACT,
    demo::ISP_OFFICE,
    demo::CASE_MANAGER,
    demo::PROVIDER_ADMIN,
    demo::OTHER_CASE_MANAGER,
    demo::OTHER_PROVIDER_ADMIN,
    demo::ISP_CASE_MANAGER,
    demo::ISP_PROVIDER_ADMIN,
    demo::CIT,
    demo::REGIONAL,
    demo::OTHER_REGIONAL,
    demo::NATIONAL,
    demo::PROSECUTIONS,
];

/// How each user relates to the reference case: a CA case of school 1001 (region tai-tokerau),
/// primary contact `contact-1001`, open with provider P01.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rel {
    SchoolStaff,
    PrimaryContact,
    Provider,
    Cit,
    Oversight,
    Prosecutions,
    None,
}

fn rel(user: &str) -> Rel {
    match user {
        demo::LEAD | demo::OFFICE => Rel::SchoolStaff,
        demo::PRIMARY_CONTACT => Rel::PrimaryContact,
        demo::CASE_MANAGER | demo::PROVIDER_ADMIN => Rel::Provider,
        demo::CIT => Rel::Cit,
        demo::NATIONAL | demo::REGIONAL => Rel::Oversight,
        demo::PROSECUTIONS => Rel::Prosecutions,
        _ => Rel::None,
    }
}

fn school_of(user: &str) -> Option<&'static str> {
    match user {
        demo::LEAD | demo::PRIMARY_CONTACT | demo::PRIMARY_CONTACT_2 | demo::OFFICE => Some(demo::SCHOOL),
        demo::OTHER_LEAD | demo::OTHER_CONTACT => Some(demo::OTHER_SCHOOL),
        demo::ISP_LEAD | demo::ISP_CONTACT | demo::ISP_OFFICE => Some(demo::ISP_SCHOOL),
        _ => None,
    }
}

async fn nen_case(env: &TestEnv, n: usize) -> String {
    env.nen_case(&nen_notification(&format!("matrix-nen-{n}"), &format!("77{n:05}"), "Nen Testchild")).await
}

/// A name part for the n-th user (names cannot contain digits).
fn tag(n: usize) -> String {
    let a = (b'a' + (n / 26) as u8) as char;
    let b = (b'a' + (n % 26) as u8) as char;
    format!("Q{a}{b}")
}

fn expect_case_route(user: &str, allowed: bool, ok: u16) -> u16 {
    match (rel(user), allowed) {
        (Rel::None, _) => 404,
        (_, true) => ok,
        (_, false) => 403,
    }
}

#[tokio::test]
async fn every_role_on_every_route() {
    let env = TestEnv::new("matrix").await;
    let case = open_case(&env, "Matrix Testchild").await;
    // a health note and a safety note on the reference case (provider staff)
    let h = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case}/health"), Some(json!({"text": "HEALTH-SECRET asthma"}))).await;
    assert_eq!(h.status, 201, "{:?}", h.body);
    let s = env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{case}/safety-notes"), Some(json!({"text": "SAFETY-SECRET dog"}))).await;
    assert_eq!(s.status, 201, "{:?}", s.body);
    // a confirmed file shared with the school
    let up = env
        .call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{case}/files"),
            Some(json!({"fileName": "plan.pdf", "contentType": "application/pdf", "size": 12, "shared": true})),
        )
        .await;
    assert!(up.status == 200 || up.status == 201, "{:?}", up.body);
    let file_id = up.body["fileId"].as_str().expect("file id").to_string();
    assert_eq!(post_form(&up.body["upload"], b"%PDF-1.4 abc".to_vec(), "application/pdf").await / 100, 2, "S3 accepted the form");
    env.drain().await;
    // the school refers the reference case for prosecution, so the Prosecutions team has it (it
    // sees only the cases referred to it); the team's cells below are on a referred case
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    let referral = env
        .call(demo::LEAD, "POST", &format!("/cases/{case}/escalations"), Some(json!({"kind": "prosecution_referral", "on": today})))
        .await;
    assert_eq!(referral.status, 201, "{:?}", referral.body);
    let referral = referral.body["id"].as_str().unwrap().to_string();
    // a draft of school 1001
    let draft = env.call(demo::LEAD, "POST", "/referrals", Some(json!({}))).await.body["id"].as_str().unwrap().to_string();

    let before_version = env.call(demo::NATIONAL, "GET", &format!("/cases/{case}"), None).await.body["version"].clone();
    let mut table: BTreeMap<(String, String), (u16, u16)> = BTreeMap::new();
    let mut check = |route: &str, user: &str, got: &Reply, want: u16| {
        table.insert((route.to_string(), user.to_string()), (want, got.status));
    };

    for (n, user) in USERS.iter().copied().enumerate() {
        let r = rel(user);
        let school = school_of(user);
        let school_role = school.is_some();
        let c = |p: &str| format!("/cases/{case}{p}");

        // who am I: everyone signed in
        let got = env.call(user, "GET", "/me", None).await;
        check("GET /me", user, &got, 200);
        assert_eq!(got.body["userId"], user, "{:?}", got.body);
        assert_eq!(got.body["can"]["makeRequests"], json!(school_role), "{user}");
        // how case emails arrive: for those they are addressed to (Primary Contact material and
        // Case Managers), each for themselves
        let emailed = matches!(
            user,
            demo::LEAD
                | demo::PRIMARY_CONTACT
                | demo::PRIMARY_CONTACT_2
                | demo::OTHER_LEAD
                | demo::OTHER_CONTACT
                | demo::ISP_LEAD
                | demo::ISP_CONTACT
                | demo::CASE_MANAGER
                | demo::OTHER_CASE_MANAGER
                | demo::ISP_CASE_MANAGER
        );
        assert_eq!(got.body["can"]["chooseEmailDigest"], json!(emailed), "{user}");
        assert_eq!(got.body.get("emailPreference").is_some(), emailed, "{user}: {:?}", got.body);
        let got = env.call(user, "PUT", "/me/email-preference", Some(json!({"emailPreference": "each_update"}))).await;
        check("PUT /me/email-preference", user, &got, if emailed { 200 } else { 403 });

        // ---- the directory: everyone signed in; staff lists only for the organisation's own
        // people, the providers that serve the school and the Ministry
        let ministry = matches!(r, Rel::Cit | Rel::Oversight | Rel::Prosecutions) || user == demo::OTHER_REGIONAL;
        let got = env.call(user, "GET", &format!("/schools/{}", demo::SCHOOL), None).await;
        check("GET /schools/{id}", user, &got, 200);
        let serves_1001 = matches!(user, demo::CASE_MANAGER | demo::PROVIDER_ADMIN);
        assert_eq!(got.body.get("staff").is_some(), school == Some(demo::SCHOOL) || serves_1001 || ministry, "{user}: school staff list");
        let got = env.call(user, "GET", "/providers", None).await;
        check("GET /providers", user, &got, 200);
        let got = env.call(user, "GET", &format!("/providers/{}", demo::SCHOOL_PROVIDER), None).await;
        check("GET /providers/{id}", user, &got, 200);
        assert_eq!(got.body.get("staff").is_some(), serves_1001 || ministry, "{user}: provider staff list");
        // initiatives: recorded by the provider's staff; seen by them, the national team, the
        // provider's regional office and the staff of the schools involved (1001 here)
        let body =
            json!({"title": format!("Matrix initiative {}", tag(n)), "purpose": "Matrix", "schoolIds": [demo::SCHOOL], "startsOn": today});
        let got = env.call(user, "POST", &format!("/providers/{}/initiatives", demo::SCHOOL_PROVIDER), Some(body)).await;
        check("POST /providers/{id}/initiatives", user, &got, if serves_1001 { 201 } else { 403 });
        let initiative = got.body["id"].as_str().unwrap_or("01JNOSUCHINITIATIVE").to_string();
        let got = env
            .call(
                user,
                "PUT",
                &format!("/providers/{}/initiatives/{initiative}", demo::SCHOOL_PROVIDER),
                Some(json!({"outcome": "Matrix outcome", "version": 1})),
            )
            .await;
        check("PUT /providers/{id}/initiatives/{initiativeId}", user, &got, if serves_1001 { 200 } else { 403 });
        let got = env.call(user, "GET", &format!("/providers/{}/initiatives", demo::SCHOOL_PROVIDER), None).await;
        let lists = serves_1001
            || matches!(
                user,
                demo::NATIONAL | demo::REGIONAL | demo::LEAD | demo::OFFICE | demo::OTHER_LEAD | demo::ISP_LEAD | demo::ISP_OFFICE
            );
        check("GET /providers/{id}/initiatives", user, &got, if lists { 200 } else { 404 });
        if got.status == 200 && !(serves_1001 || matches!(user, demo::NATIONAL | demo::REGIONAL | demo::LEAD | demo::OFFICE)) {
            assert_eq!(got.body["items"], json!([]), "{user}: another school's staff see none of these");
        }
        // bulk reassignment: the provider's admins only (from a Case Manager with no cases, so
        // the reference case stays where it is)
        let body = json!({"fromUserId": "cm-gone-p01", "toUserId": demo::CASE_MANAGER, "reason": "Left the provider"});
        let got = env.call(user, "POST", &format!("/providers/{}/reassignments", demo::SCHOOL_PROVIDER), Some(body)).await;
        check("POST /providers/{id}/reassignments", user, &got, if user == demo::PROVIDER_ADMIN { 200 } else { 403 });
        // the provider's Unmet Basic Needs Fund: its staff, its regional office, the national team
        let got = env.call(user, "GET", &format!("/providers/{}/fund", demo::SCHOOL_PROVIDER), None).await;
        let sees_fund = serves_1001 || matches!(user, demo::REGIONAL | demo::NATIONAL);
        check("GET /providers/{id}/fund", user, &got, if sees_fund { 200 } else { 404 });
        assert!(got.status != 200 || got.body["capCents"].as_u64().is_some_and(|c| c > 0), "{user}: {:?}", got.body);

        // the list as CSV: everyone signed in, their own list (issue 16)
        let got = env.call(user, "GET", "/exports/cases", None).await;
        check("GET /exports/cases", user, &got, 200);
        let csv = got.body.as_str().unwrap_or_default();
        assert_eq!(csv.contains("Matrix Testchild"), r != Rel::None, "{user}: export leak or omission");
        assert!(!csv.contains("HEALTH-SECRET") && !csv.contains("SAFETY-SECRET"), "{user}: sensitive text in the export");

        // dashboards (issue 16): a school's for its Attendance Lead and Office Support, its
        // Primary Contacts (their cases), its region's team and the national team; a provider's
        // for its staff, its region's team and the national team; a region's for its team and
        // the national team; the nation's for the national team
        let got = env.call(user, "GET", &format!("/dashboards/schools/{}", demo::SCHOOL), None).await;
        let sees = school == Some(demo::SCHOOL) || matches!(user, demo::REGIONAL | demo::NATIONAL);
        check("GET /dashboards/schools/{id}", user, &got, if sees { 200 } else { 404 });
        if matches!(user, demo::PRIMARY_CONTACT | demo::PRIMARY_CONTACT_2) {
            assert_eq!(got.body["scope"]["kind"], "primary_contact", "{user}: their cases only");
        }
        let got = env.call(user, "GET", &format!("/dashboards/providers/{}", demo::SCHOOL_PROVIDER), None).await;
        check(
            "GET /dashboards/providers/{id}",
            user,
            &got,
            if serves_1001 || matches!(user, demo::REGIONAL | demo::NATIONAL) { 200 } else { 404 },
        );
        let got = env.call(user, "GET", &format!("/dashboards/regions/{}", demo::REGION), None).await;
        check("GET /dashboards/regions/{id}", user, &got, if matches!(user, demo::REGIONAL | demo::NATIONAL) { 200 } else { 404 });
        let got = env.call(user, "GET", "/dashboards/national", None).await;
        check("GET /dashboards/national", user, &got, if user == demo::NATIONAL { 200 } else { 404 });
        assert!(!got.body.to_string().contains("Matrix Testchild"), "{user}: a dashboard names no child");

        // ---- reads of the reference case
        let got = env.call(user, "GET", &c(""), None).await;
        check("GET /cases/{id}", user, &got, expect_case_route(user, true, 200));
        if got.status == 200 {
            let text = got.body.to_string();
            assert!(!text.contains("HEALTH-SECRET") && !text.contains("SAFETY-SECRET"), "{user}: sensitive text in the case view");
            let warn = matches!(r, Rel::SchoolStaff | Rel::PrimaryContact | Rel::Provider | Rel::Cit | Rel::Prosecutions);
            assert_eq!(got.body["safetyWarning"], json!(warn), "{user}: safety warning");
        }
        let got = env.call(user, "GET", "/cases?limit=100", None).await;
        check("GET /cases", user, &got, 200);
        let listed = got.body["items"].as_array().unwrap().iter().any(|x| x["id"] == case.as_str());
        assert_eq!(listed, r != Rel::None, "{user}: list leak or omission");
        assert!(
            !got.body.to_string().contains("HEALTH-SECRET") && !got.body.to_string().contains("SAFETY-SECRET"),
            "{user}: sensitive text in a list"
        );
        let got = env.call(user, "GET", &c("/timeline"), None).await;
        check("GET /cases/{id}/timeline", user, &got, expect_case_route(user, true, 200));
        assert!(!got.body.to_string().contains("HEALTH-SECRET"), "{user}: health in the timeline");
        let got = env.call(user, "GET", &c("/audit"), None).await;
        check("GET /cases/{id}/audit", user, &got, expect_case_route(user, r == Rel::Oversight, 200));
        let got = env.call(user, "GET", &c("/sensitive"), None).await;
        let sens = matches!(r, Rel::SchoolStaff | Rel::PrimaryContact | Rel::Provider | Rel::Cit | Rel::Prosecutions);
        check("GET /cases/{id}/sensitive", user, &got, expect_case_route(user, sens, 200));
        if got.status == 200 {
            let sees_health = matches!(r, Rel::Provider | Rel::Cit | Rel::Prosecutions);
            assert_eq!(got.body.get("health").is_some(), sees_health, "{user}: health visibility");
            assert_eq!(got.body.to_string().contains("HEALTH-SECRET"), sees_health, "{user}");
        }
        let got = env.call(user, "GET", &c(&format!("/files/{file_id}")), None).await;
        check("GET /cases/{id}/files/{fileId}", user, &got, expect_case_route(user, true, 200));
        let got = env.call(user, "GET", &c("/allocation"), None).await;
        check("GET /cases/{id}/allocation", user, &got, if r == Rel::Cit { 200 } else { 403 });

        // ---- writes: refused callers act on the reference case; allowed ones on a fresh case
        let fresh = |allowed: bool| allowed && r != Rel::None;
        let status_ok = r == Rel::Provider;
        let target = if fresh(status_ok) { open_case(&env, &format!("Status {}", tag(n))).await } else { case.clone() };
        if fresh(status_ok) {
            env.consult(&target, "transition").await;
        }
        let v = env.call(demo::NATIONAL, "GET", &format!("/cases/{target}"), None).await.body["version"].clone();
        let got = env.call(user, "POST", &format!("/cases/{target}/status"), Some(json!({"action": "transition", "version": v}))).await;
        check("POST /cases/{id}/status", user, &got, expect_case_route(user, status_ok, 200));

        // keeping the case current: the contacts (school staff on the case and the provider) on the
        // reference case; the School Primary Contact (Attendance Lead or provider) on a fresh one
        let v = env.call(demo::NATIONAL, "GET", &c(""), None).await.body["version"].clone();
        let contacts = json!({
            "whanau": [{"name": "Matrix Caregiver", "phone": "021 555 0101"}],
            "homeAddress": {"street": format!("{} Matrix Road", n + 1), "town": "Whangārei"},
            "version": v,
        });
        let got = env.call(user, "PUT", &c("/contacts"), Some(contacts)).await;
        check(
            "PUT /cases/{id}/contacts",
            user,
            &got,
            expect_case_route(user, matches!(r, Rel::SchoolStaff | Rel::PrimaryContact | Rel::Provider), 200),
        );
        let pc_ok = user == demo::LEAD || r == Rel::Provider;
        let target = if fresh(pc_ok) { open_case(&env, &format!("Contact {}", tag(n))).await } else { case.clone() };
        let v = env.call(demo::NATIONAL, "GET", &format!("/cases/{target}"), None).await.body["version"].clone();
        let got = env
            .call(user, "POST", &format!("/cases/{target}/primary-contact"), Some(json!({"userId": demo::PRIMARY_CONTACT_2, "version": v})))
            .await;
        check("POST /cases/{id}/primary-contact", user, &got, expect_case_route(user, pc_ok, 200));

        let got = env.call(user, "POST", &c("/comments"), Some(json!({"text": "matrix comment", "shared": true}))).await;
        check("POST /cases/{id}/comments", user, &got, expect_case_route(user, true, 201));
        let got = env
            .call(user, "POST", &c("/activities"), Some(json!({"type": "phone_call", "date": cms_domain::nz_date(chrono::Utc::now()).to_string(), "attendees": ["Case Manager"]})))
            .await;
        check("POST /cases/{id}/activities", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        // barriers: the case's provider staff (each its own "other" barrier, so none is a repeat)
        let got =
            env.call(user, "POST", &c("/barriers"), Some(json!({"kind": "other", "detail": format!("Matrix barrier {}", tag(n))}))).await;
        check("POST /cases/{id}/barriers", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        let barrier = got.body["id"].as_str().unwrap_or("01JNOSUCHBARRIER").to_string();
        let got = env.call(user, "PUT", &c(&format!("/barriers/{barrier}")), Some(json!({"state": "being_addressed"}))).await;
        check("PUT /cases/{id}/barriers/{barrierId}", user, &got, expect_case_route(user, r == Rel::Provider, 200));
        // consultations: the case's provider staff (about the section 19 referral they then make)
        let got = env.call(user, "POST", &c("/consultations"), Some(json!({"about": "section_19", "heldOn": today}))).await;
        check("POST /cases/{id}/consultations", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        // a section 19 referral: the provider, and the school's Attendance Lead and Primary Contact
        let escalates = matches!(r, Rel::Provider | Rel::SchoolStaff | Rel::PrimaryContact) && user != demo::OFFICE;
        let got = env.call(user, "POST", &c("/escalations"), Some(json!({"kind": "section_19", "on": today}))).await;
        check("POST /cases/{id}/escalations", user, &got, expect_case_route(user, escalates, 201));
        // its outcome, by the side that made it; the Prosecutions team decides on the referral
        let (target, body) = match got.body["id"].as_str().filter(|_| got.status == 201) {
            Some(own) => (own.to_string(), json!({"outcome": "Matrix outcome"})),
            None => (referral.clone(), json!({"decision": "accepted"})),
        };
        let got = env.call(user, "PUT", &c(&format!("/escalations/{target}")), Some(body)).await;
        check("PUT /cases/{id}/escalations/{escalationId}", user, &got, expect_case_route(user, escalates || r == Rel::Prosecutions, 200));
        // agencies engaged: the case's provider staff (each a distinct "other" agency)
        let got = env
            .call(
                user,
                "POST",
                &c("/agencies"),
                Some(json!({"agency": "other", "detail": format!("Matrix agency {}", tag(n)), "since": today})),
            )
            .await;
        check("POST /cases/{id}/agencies", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        // agency checks: asked by the provider or CIT, answered by CIT (on the check it asked)
        let asks = matches!(r, Rel::Provider | Rel::Cit);
        let got = env.call(user, "POST", &c("/agency-checks"), Some(json!({"agency": "police", "question": "AGENCY-CHECK-SECRET"}))).await;
        check("POST /cases/{id}/agency-checks", user, &got, expect_case_route(user, asks, 201));
        let check_id = got.body["id"].as_str().unwrap_or("01JNOSUCHCHECK").to_string();
        let got = env.call(user, "PUT", &c(&format!("/agency-checks/{check_id}")), Some(json!({"result": "AGENCY-RESULT-SECRET"}))).await;
        check("PUT /cases/{id}/agency-checks/{checkId}", user, &got, expect_case_route(user, r == Rel::Cit, 200));
        // the support plan: the case's provider staff
        let got = env.call(user, "POST", &c("/plan/items"), Some(json!({"kind": "goal", "text": format!("Matrix goal {}", tag(n))}))).await;
        check("POST /cases/{id}/plan/items", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        let item = got.body["id"].as_str().unwrap_or("01JNOSUCHITEM").to_string();
        let got = env.call(user, "PUT", &c(&format!("/plan/items/{item}")), Some(json!({"state": "done"}))).await;
        check("PUT /cases/{id}/plan/items/{itemId}", user, &got, expect_case_route(user, r == Rel::Provider, 200));
        let got = env.call(user, "POST", &c("/plan/reviews"), Some(json!({"heldOn": today, "note": "Matrix review"}))).await;
        check("POST /cases/{id}/plan/reviews", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        // the Unmet Basic Needs Fund: the case's provider staff spend and refund
        let got = env
            .call(
                user,
                "POST",
                &c("/fund-spends"),
                Some(json!({"category": "other", "amountCents": 100, "on": today, "note": "FUND-NOTE-SECRET"})),
            )
            .await;
        check("POST /cases/{id}/fund-spends", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        let spend_id = got.body["id"].as_str().unwrap_or("01JNOSUCHSPEND").to_string();
        let got =
            env.call(user, "POST", &c(&format!("/fund-spends/{spend_id}/refunds")), Some(json!({"amountCents": 40, "on": today}))).await;
        check("POST /cases/{id}/fund-spends/{spendId}/refunds", user, &got, expect_case_route(user, r == Rel::Provider, 201));
        let got =
            env.call(user, "POST", &c("/files"), Some(json!({"fileName": "a.pdf", "contentType": "application/pdf", "size": 10}))).await;
        check("POST /cases/{id}/files", user, &got, expect_case_route(user, true, 201));
        let got = env.call(user, "POST", &c("/safety-notes"), Some(json!({"text": "note"}))).await;
        check(
            "POST /cases/{id}/safety-notes",
            user,
            &got,
            expect_case_route(user, matches!(r, Rel::SchoolStaff | Rel::PrimaryContact | Rel::Provider), 201),
        );
        let got = env.call(user, "POST", &c("/health"), Some(json!({"text": "note"}))).await;
        check("POST /cases/{id}/health", user, &got, expect_case_route(user, r == Rel::Provider, 201));

        // possible duplicates: the case's provider staff and CIT decide (the reference case is not
        // flagged, so those allowed get 409); others who see the case 403, the rest 404
        let got = env.call(user, "POST", &c("/possible-duplicate"), Some(json!({"sameStudent": false}))).await;
        check("POST /cases/{id}/possible-duplicate", user, &got, expect_case_route(user, matches!(r, Rel::Provider | Rel::Cit), 409));

        // CIT operations: everyone but CIT is refused (403) before anything is read
        let nen = if r == Rel::Cit { nen_case(&env, n * 10).await } else { case.clone() };
        let got = env.call(user, "POST", &format!("/cases/{nen}/allocation"), Some(json!({}))).await;
        check("POST /cases/{id}/allocation", user, &got, if r == Rel::Cit { 200 } else { 403 });
        let nen2 = if r == Rel::Cit { nen_case(&env, n * 10 + 1).await } else { case.clone() };
        let got = env.call(user, "POST", &format!("/cases/{nen2}/close"), Some(json!({"reason": "matrix"}))).await;
        check("POST /cases/{id}/close", user, &got, if r == Rel::Cit { 200 } else { 403 });
        let moving = if r == Rel::Cit { open_case(&env, "Transfer Testchild").await } else { case.clone() };
        let got = env
            .call(
                user,
                "POST",
                &format!("/cases/{moving}/transfer"),
                Some(json!({"providerId": demo::ISP_SCHOOL_PROVIDER, "reason": "matrix"})),
            )
            .await;
        check("POST /cases/{id}/transfer", user, &got, if r == Rel::Cit { 200 } else { 403 });

        // ---- requests for support: school staff of the draft's school; other schools: not found
        let got = env.call(user, "GET", "/referrals", None).await;
        check("GET /referrals", user, &got, if school_role { 200 } else { 403 });
        let got = env.call(user, "GET", &format!("/referrals/{draft}"), None).await;
        // the Attendance Lead's draft names no one: a School Primary Contact sees only the requests
        // they started or are named on (issue 10, observation 6)
        let want = match school {
            Some(demo::SCHOOL) if matches!(user, demo::PRIMARY_CONTACT | demo::PRIMARY_CONTACT_2) => 404,
            Some(demo::SCHOOL) => 200,
            Some(_) => 404,
            None => 403,
        };
        check("GET /referrals/{id}", user, &got, want);
        let v = env.call(demo::LEAD, "GET", &format!("/referrals/{draft}"), None).await.body["version"].clone();
        let got = env.call(user, "PUT", &format!("/referrals/{draft}"), Some(json!({"version": v, "reason": "edited"}))).await;
        check("PUT /referrals/{id}", user, &got, want);
        let own = if school == Some(demo::SCHOOL) {
            let mut f = complete_form(demo::PRIMARY_CONTACT);
            f["student"]["fullName"] = json!(format!("Submit {}", tag(n)));
            f["student"]["nsn"] = json!(cms_tests::nsn_for(&format!("Submit {}", tag(n)), "2014-05-01"));
            let d = env.call(user, "POST", "/referrals", Some(f)).await;
            d.body["id"].as_str().unwrap_or_else(|| panic!("{user}: draft not created: {d:?}")).to_string()
        } else {
            draft.clone()
        };
        let got = env.call(user, "POST", &format!("/referrals/{own}/submit"), None).await;
        check(
            "POST /referrals/{id}/submit",
            user,
            &got,
            match school {
                Some(demo::SCHOOL) => 201,
                Some(_) => 404,
                None => 403,
            },
        );
        let got = env.call(user, "POST", "/referrals", Some(json!({}))).await;
        check("POST /referrals", user, &got, if school_role { 201 } else { 403 });
        // discarding a draft: the Attendance Lead's own (a fresh one each time), as for reading it
        let doomed = env.call(demo::LEAD, "POST", "/referrals", Some(json!({}))).await.body["id"].as_str().unwrap().to_string();
        let got = env.call(user, "DELETE", &format!("/referrals/{doomed}"), None).await;
        let want = match school {
            Some(demo::SCHOOL) if matches!(user, demo::PRIMARY_CONTACT | demo::PRIMARY_CONTACT_2) => 404,
            Some(demo::SCHOOL) => 204,
            Some(_) => 404,
            None => 403,
        };
        check("DELETE /referrals/{id}", user, &got, want);

        // ENROL's webhook takes no portal token: a user's token does not get past the signature
        let claims = env.claims_of(user);
        let got = env
            .call_with_claims(
                Some(claims),
                "POST",
                "/enrol/events",
                Some(json!({"id": "x", "type": "student_enrolled", "data": {}}).to_string()),
            )
            .await;
        check("POST /enrol/events", user, &got, 401);
    }

    // the whole table, then the cells that differ
    let wrong: Vec<String> = table
        .iter()
        .filter(|(_, (want, got))| want != got)
        .map(|((route, user), (want, got))| format!("{route} as {user}: expected {want}, got {got}"))
        .collect();
    assert!(wrong.is_empty(), "{} of {} cells differ:\n{}", wrong.len(), table.len(), wrong.join("\n"));
    assert_eq!(table.len(), USERS.len() * 54, "every route × every user was checked");
    // the barriers the provider recorded are the provider's and the Ministry's to see
    let as_provider = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case}"), None).await;
    assert!(as_provider.body["barriers"].as_array().is_some_and(|b| !b.is_empty()), "{:?}", as_provider.body);
    // two spends of 100 cents (Case Manager, provider admin), each refunded 40: the refused
    // callers moved nothing
    assert_eq!(as_provider.body["fundSpends"].as_array().map(Vec::len), Some(2), "{:?}", as_provider.body);
    let fund = env.call(demo::PROVIDER_ADMIN, "GET", &format!("/providers/{}/fund", demo::SCHOOL_PROVIDER), None).await;
    assert_eq!(fund.body["spentCents"], 120, "{:?}", fund.body);
    for school_user in [demo::LEAD, demo::PRIMARY_CONTACT, demo::OFFICE] {
        let seen = env.call(school_user, "GET", &format!("/cases/{case}"), None).await;
        assert_eq!(seen.status, 200);
        assert!(seen.body.get("barriers").is_none() && !seen.body.to_string().contains("Matrix barrier"), "{school_user}: {:?}", seen.body);
        assert!(seen.body.get("fundSpends").is_none() && !seen.body.to_string().contains("FUND-NOTE-SECRET"), "{school_user}: fund spends");
        let tl = env.call(school_user, "GET", &format!("/cases/{case}/timeline?limit=100"), None).await;
        assert!(!tl.body.to_string().contains("barrier_recorded"), "{school_user}: a barrier on the school's timeline");
        assert!(!tl.body.to_string().contains("fund_spent"), "{school_user}: a fund spend on the school's timeline");
    }

    // agency checks are CIT's and the provider's only: no one else reads them on the case or the timeline
    for user in USERS {
        let text = format!(
            "{}{}",
            env.call(user, "GET", &format!("/cases/{case}"), None).await.body,
            env.call(user, "GET", &format!("/cases/{case}/timeline?limit=100"), None).await.body
        );
        let sees = matches!(rel(user), Rel::Provider | Rel::Cit);
        assert_eq!(text.contains("AGENCY-CHECK-SECRET"), sees, "{user}: agency checks");
        assert_eq!(text.contains("agency_check_requested"), sees, "{user}: agency check entries");
    }

    // the Prosecutions team's decision is on the case; the school sees the decision, not the words
    let seen = env.call(demo::LEAD, "GET", &format!("/cases/{case}"), None).await;
    let decided = seen.body["escalations"].as_array().unwrap().iter().find(|e| e["id"] == referral.as_str()).cloned().unwrap_or_default();
    assert_eq!(decided["decision"], "accepted", "{:?}", seen.body);
    // and a case not referred for prosecution is not the Prosecutions team's: not found, not listed
    let unreferred = open_case(&env, "Unreferred Testchild").await;
    assert_eq!(env.call(demo::PROSECUTIONS, "GET", &format!("/cases/{unreferred}"), None).await.status, 404);
    assert_eq!(env.call(demo::PROSECUTIONS, "GET", &format!("/cases/{unreferred}/timeline"), None).await.status, 404);
    let queue = env.call(demo::PROSECUTIONS, "GET", "/cases?limit=100", None).await;
    let ids: Vec<&str> = queue.body["items"].as_array().unwrap().iter().filter_map(|x| x["id"].as_str()).collect();
    assert_eq!(ids, vec![case.as_str()], "the Prosecutions team's list is its queue of referred cases");

    // refused callers changed nothing on the reference case except the allowed ones' additions
    let after = env.call(demo::NATIONAL, "GET", &format!("/cases/{case}"), None).await;
    assert_eq!(after.body["status"], "open", "the reference case's status was changed by someone");
    assert!(after.body["version"].as_u64() > before_version.as_u64());
}
