//! Deterministic reference data: 84 catchments (one provider each) over the Ministry's 10 regions,
//! 2,500 schools (170 with In-School Provision), and demo users for every role. Staff names are
//! obviously fictional; there is no student data here at all.
//!
//! `full()` is what the local environment loads; `minimal()` is a small subset with the same ids
//! for tests. The [`demo`] ids exist in both.

use cms_aws::{DynamoStore, ReferenceItem};
use cms_domain::actor::Role;
use cms_domain::catchment::{Catchment, Provider, ProviderKind, School};
use cms_domain::ids::{CatchmentId, ProviderId, RegionId, SchoolId, UserId};
use cms_domain::ports::StoreError;
use cms_domain::referral::UserRecord;

pub const CATCHMENTS: usize = 84;
pub const SCHOOLS: usize = 2500;
pub const ISP_SCHOOLS: usize = 170;
/// School numbers are `FIRST_SCHOOL ..= FIRST_SCHOOL + SCHOOLS - 1`.
pub const FIRST_SCHOOL: usize = 1001;

/// Ids that exist in both the full and the minimal seed.
pub mod demo {
    /// A school without In-School Provision, catchment C01 (provider P01), region tai-tokerau.
    pub const SCHOOL: &str = "1001";
    pub const SCHOOL_CATCHMENT: &str = "C01";
    pub const SCHOOL_PROVIDER: &str = "P01";
    pub const REGION: &str = "tai-tokerau";
    /// Another school in the same catchment (for "not your school" checks).
    pub const OTHER_SCHOOL: &str = "1085";
    /// A school with In-School Provision, catchment C08 (provider P08).
    pub const ISP_SCHOOL: &str = "1008";
    pub const ISP_SCHOOL_CATCHMENT: &str = "C08";
    pub const ISP_SCHOOL_PROVIDER: &str = "P08";
    pub const ISP_PROVIDER: &str = "ISP-1008";
    /// Another region than [`REGION`] (C08 is in Auckland).
    pub const OTHER_REGION: &str = "auckland";

    // school 1001
    pub const LEAD: &str = "lead-1001";
    pub const PRIMARY_CONTACT: &str = "contact-1001";
    pub const PRIMARY_CONTACT_2: &str = "contact2-1001";
    pub const OFFICE: &str = "office-1001";
    // school 1085
    pub const OTHER_LEAD: &str = "lead-1085";
    pub const OTHER_CONTACT: &str = "contact-1085";
    // ISP school 1008
    pub const ISP_LEAD: &str = "lead-1008";
    pub const ISP_CONTACT: &str = "contact-1008";
    pub const ISP_OFFICE: &str = "office-1008";
    // provider P01 (catchment of 1001 and 1085)
    pub const CASE_MANAGER: &str = "cm-p01";
    pub const PROVIDER_ADMIN: &str = "admin-p01";
    /// A second Case Manager of P01 (bulk reassignment moves cases between the two).
    pub const CASE_MANAGER_2: &str = "cm2-p01";
    // provider P08 (catchment of 1008)
    pub const OTHER_CASE_MANAGER: &str = "cm-p08";
    pub const OTHER_PROVIDER_ADMIN: &str = "admin-p08";
    // In-School Provision of 1008
    pub const ISP_CASE_MANAGER: &str = "cm-isp-1008";
    pub const ISP_PROVIDER_ADMIN: &str = "admin-isp-1008";
    // Ministry
    pub const CIT: &str = "cit-1";
    pub const REGIONAL: &str = "regional-tai-tokerau";
    pub const OTHER_REGIONAL: &str = "regional-auckland";
    pub const NATIONAL: &str = "national-1";
    pub const PROSECUTIONS: &str = "prosecutions-1";
    /// The org id Ministry users (other than regional) carry.
    pub const MINISTRY: &str = "ministry";
}

/// The Ministry of Education's ten regions: (id, name).
pub const REGIONS: [(&str, &str); 10] = [
    ("tai-tokerau", "Tai Tokerau"),
    ("auckland", "Auckland"),
    ("waikato", "Waikato"),
    ("bay-of-plenty-waiariki", "Bay of Plenty - Waiariki"),
    ("hawkes-bay-tairawhiti", "Hawke's Bay - Tairāwhiti"),
    ("taranaki-whanganui-manawatu", "Taranaki, Whanganui, Manawatū"),
    ("wellington", "Wellington"),
    ("nelson-marlborough-west-coast", "Nelson, Marlborough, West Coast"),
    ("canterbury-chatham-islands", "Canterbury, Chatham Islands"),
    ("otago-southland", "Otago, Southland"),
];

/// The 84 catchments, in id order (C01 = first), with their region (index into [`REGIONS`]).
const CATCHMENT_NAMES: [(&str, usize); CATCHMENTS] = [
    ("Kaitaia", 0),
    ("Kerikeri", 0),
    ("Kaikohe", 0),
    ("Whangārei South", 0),
    ("Dargaville", 0),
    ("Kaipara", 0),
    ("Rodney", 1),
    ("North Shore", 1),
    ("Waitākere", 1),
    ("Henderson", 1),
    ("Auckland Central", 1),
    ("Eastern Bays", 1),
    ("Mt Albert Lynfield", 1),
    ("Onehunga", 1),
    ("Ōtāhuhu", 1),
    ("Māngere", 1),
    ("Manurewa", 1),
    ("Papatoetoe", 1),
    ("Howick", 1),
    ("Papakura", 1),
    ("Pukekohe", 1),
    ("Waiheke", 1),
    ("Hamilton East", 2),
    ("Hamilton West", 2),
    ("Huntly", 2),
    ("Thames-Coromandel", 2),
    ("Te Awamutu", 2),
    ("Cambridge", 2),
    ("Matamata", 2),
    ("Morrinsville", 2),
    ("Tokoroa", 2),
    ("Taumarunui", 2),
    ("Tauranga", 3),
    ("Te Puke", 3),
    ("Katikati", 3),
    ("Whakatāne", 3),
    ("Ōpōtiki", 3),
    ("Kawerau", 3),
    ("Rotorua", 3),
    ("Taupō", 3),
    ("Gisborne", 4),
    ("Wairoa", 4),
    ("Napier", 4),
    ("Hastings", 4),
    ("Flaxmere", 4),
    ("Central Hawke's Bay", 4),
    ("Ruatōria", 4),
    ("New Plymouth", 5),
    ("Hāwera", 5),
    ("Stratford", 5),
    ("Whanganui", 5),
    ("Palmerston North", 5),
    ("Feilding", 5),
    ("Levin", 5),
    ("Dannevirke", 5),
    ("Taihape", 5),
    ("Wellington City", 6),
    ("Porirua", 6),
    ("Kāpiti", 6),
    ("Lower Hutt", 6),
    ("Upper Hutt", 6),
    ("Wainuiomata", 6),
    ("Tawa", 6),
    ("Masterton", 6),
    ("South Wairarapa", 6),
    ("Nelson", 7),
    ("Richmond", 7),
    ("Motueka", 7),
    ("Marlborough", 7),
    ("Greymouth", 7),
    ("Westport", 7),
    ("Christchurch North", 8),
    ("Christchurch East", 8),
    ("Christchurch South", 8),
    ("Rangiora", 8),
    ("Ashburton", 8),
    ("Timaru", 8),
    ("Kaikōura", 8),
    ("Chatham Islands", 8),
    ("Dunedin North", 9),
    ("Dunedin South", 9),
    ("Oamaru", 9),
    ("Queenstown", 9),
    ("Invercargill", 9),
];

const SCHOOL_WORDS: [&str; 31] = [
    "Hillcrest",
    "Riverside",
    "Parkvale",
    "Te Kōwhai",
    "Kōwhai Grove",
    "Harbourview",
    "Totara Park",
    "Rimu Street",
    "Pōhutukawa Bay",
    "Matai Road",
    "Kahikatea",
    "Seaview",
    "Highfield",
    "Greenmeadows",
    "Westbrook",
    "Eastgate",
    "Northcote",
    "Southridge",
    "Karaka",
    "Tūī Valley",
    "Kererū Hill",
    "Miro Park",
    "Rata Street",
    "Ngaio",
    "Manuka Heights",
    "Fernhill",
    "Ridgeway",
    "Lakeside",
    "Kauri Flats",
    "Puriri",
    "Tawa Grove",
];
const SCHOOL_KINDS: [&str; 7] =
    ["Primary School", "School", "Intermediate", "College", "Area School", "Te Kura Kaupapa Māori", "High School"];

/// Extra suburbs and towns served by a catchment (by catchment index), besides the catchment's own
/// name: the address → catchment lookup CIT uses to allocate NEN cases.
const EXTRA_LOCALITIES: [(usize, &[&str]); 8] = [
    (0, &["Ahipara", "Awanui", "Kaitāia East"]),
    (3, &["Whangārei", "Kamo", "Tikipunga", "Onerahi", "Maunu"]),
    (7, &["Takapuna", "Devonport", "Northcote", "Glenfield", "Birkenhead"]),
    (10, &["Ponsonby", "Grey Lynn", "Parnell", "Newmarket"]),
    (56, &["Karori", "Newtown", "Miramar", "Johnsonville"]),
    (71, &["Papanui", "Bishopdale", "Northwood"]),
    (12, &["Mount Roskill"]),
    (68, &["Blenheim"]),
];

/// The 2026 multi-agency forum pilot catchments (the guide: "Whangārei South, Mt Albert Lynfield,
/// Napier, Kāpiti, Porirua and Marlborough").
pub const FORUM_PILOTS: [&str; 6] = ["Whangārei South", "Mt Albert Lynfield", "Napier", "Kāpiti", "Porirua", "Marlborough"];

/// The localities of catchment `i`: its own name and any extra suburbs.
fn localities(i: usize) -> Vec<cms_domain::catchment::Locality> {
    let mut names = vec![CATCHMENT_NAMES[i].0];
    for (c, extra) in EXTRA_LOCALITIES {
        if c == i {
            names.extend_from_slice(extra);
        }
    }
    names
        .into_iter()
        .map(|n| cms_domain::catchment::Locality { name: n.to_string(), catchment_id: CatchmentId::parse(cid(i)).expect("valid id") })
        .collect()
}

fn cid(i: usize) -> String {
    format!("C{:02}", i + 1)
}
fn pid(i: usize) -> String {
    format!("P{:02}", i + 1)
}

fn catchment(i: usize) -> (Catchment, Provider) {
    let (name, region) = CATCHMENT_NAMES[i];
    let c = Catchment {
        id: CatchmentId::parse(cid(i)).expect("catchment id"),
        name: name.to_string(),
        region_id: RegionId::parse(REGIONS[region].0).expect("region id"),
        provider_id: ProviderId::parse(pid(i)).expect("provider id"),
        forum_pilot: FORUM_PILOTS.contains(&name),
    };
    let p = Provider {
        id: c.provider_id.clone(),
        name: format!("{name} Attendance Service"),
        kind: ProviderKind::Catchment,
        catchment_id: c.id.clone(),
        queue_email: format!("queue@{}.provider.example.nz", pid(i).to_lowercase()),
        // synthetic contract values, $350,000 to $800,000 a year
        contract_cents_per_year: Some((350_000 + (i as u64 % 10) * 50_000) * 100),
    };
    (c, p)
}

/// Index `n` (0-based) of a school: its catchment is `n % 84`; the ISP schools are `n % 14 == 7`
/// until 170 are chosen.
fn school(n: usize) -> (School, Option<Provider>) {
    let ci = n % CATCHMENTS;
    let id = (FIRST_SCHOOL + n).to_string();
    let has_isp = n % 14 == 7 && n / 14 < ISP_SCHOOLS;
    let (cname, region) = CATCHMENT_NAMES[ci];
    let round = n / CATCHMENTS;
    let name = format!("{} {} {}", cname, SCHOOL_WORDS[round % SCHOOL_WORDS.len()], SCHOOL_KINDS[(n / 3) % SCHOOL_KINDS.len()]);
    let isp = has_isp.then(|| Provider {
        id: ProviderId::parse(format!("ISP-{id}")).expect("isp id"),
        name: format!("{name} In-School Provision"),
        kind: ProviderKind::InSchoolProvision,
        catchment_id: CatchmentId::parse(cid(ci)).expect("catchment id"),
        queue_email: format!("attendance@school{id}.school.example.nz"),
        contract_cents_per_year: Some(120_000 * 100),
    });
    let s = School {
        id: SchoolId::parse(id).expect("school id"),
        name,
        catchment_id: CatchmentId::parse(cid(ci)).expect("catchment id"),
        region_id: RegionId::parse(REGIONS[region].0).expect("region id"),
        isp_provider_id: isp.as_ref().map(|p| p.id.clone()),
    };
    (s, isp)
}

fn user(id: &str, role: Role, org: &str, name: &str) -> UserRecord {
    let domain = match role.side() {
        cms_domain::actor::Side::School => format!("school{org}.school.example.nz"),
        cms_domain::actor::Side::Provider => format!("{}.provider.example.nz", org.to_lowercase()),
        cms_domain::actor::Side::Ministry => "ministry.example.govt.nz".to_string(),
    };
    UserRecord {
        id: UserId::parse(id).expect("user id"),
        role,
        org_id: org.to_string(),
        email: format!("{id}@{domain}"),
        display_name: name.to_string(),
    }
}

/// The demo users (the same in both seeds): every role at least once.
pub fn demo_users() -> Vec<UserRecord> {
    use demo::*;
    vec![
        user(LEAD, Role::AttendanceLead, SCHOOL, "Alex Example (Attendance Lead)"),
        user(PRIMARY_CONTACT, Role::SchoolPrimaryContact, SCHOOL, "Sam Sample (Primary Contact)"),
        user(PRIMARY_CONTACT_2, Role::SchoolPrimaryContact, SCHOOL, "Jo Placeholder (Primary Contact)"),
        user(OFFICE, Role::OfficeSupport, SCHOOL, "Pat Testcase (Office Support)"),
        user(OTHER_LEAD, Role::AttendanceLead, OTHER_SCHOOL, "Robin Fictional (Attendance Lead)"),
        user(OTHER_CONTACT, Role::SchoolPrimaryContact, OTHER_SCHOOL, "Chris Mockup (Primary Contact)"),
        user(ISP_LEAD, Role::AttendanceLead, ISP_SCHOOL, "Kiri Demo (Attendance Lead)"),
        user(ISP_CONTACT, Role::SchoolPrimaryContact, ISP_SCHOOL, "Tama Dummy (Primary Contact)"),
        user(ISP_OFFICE, Role::OfficeSupport, ISP_SCHOOL, "Mere Stand-in (Office Support)"),
        user(CASE_MANAGER, Role::CaseManager, SCHOOL_PROVIDER, "Casey Specimen (Case Manager)"),
        user(PROVIDER_ADMIN, Role::ProviderAdmin, SCHOOL_PROVIDER, "Morgan Mock (Provider Admin)"),
        user(CASE_MANAGER_2, Role::CaseManager, SCHOOL_PROVIDER, "Ari Placeholder (Case Manager)"),
        user(OTHER_CASE_MANAGER, Role::CaseManager, ISP_SCHOOL_PROVIDER, "Drew Notreal (Case Manager)"),
        user(OTHER_PROVIDER_ADMIN, Role::ProviderAdmin, ISP_SCHOOL_PROVIDER, "Lee Madeup (Provider Admin)"),
        user(ISP_CASE_MANAGER, Role::CaseManager, ISP_PROVIDER, "Hemi Trial (ISP Case Manager)"),
        user(ISP_PROVIDER_ADMIN, Role::ProviderAdmin, ISP_PROVIDER, "Ana Pretend (ISP Provider Admin)"),
        user(CIT, Role::Cit, MINISTRY, "Jordan Sampleton (CIT)"),
        user(REGIONAL, Role::Regional, REGION, "Taylor Example (Regional, Tai Tokerau)"),
        user(OTHER_REGIONAL, Role::Regional, OTHER_REGION, "Quinn Example (Regional, Auckland)"),
        user(NATIONAL, Role::National, MINISTRY, "Riley Example (National)"),
        user(PROSECUTIONS, Role::Prosecutions, MINISTRY, "Avery Example (Prosecutions)"),
    ]
}

/// All reference data: 84 catchments and providers, 2,500 schools, 170 ISPs, the demo users.
pub fn full() -> Vec<ReferenceItem> {
    let mut out = Vec::with_capacity(2 * CATCHMENTS + SCHOOLS + ISP_SCHOOLS + 32);
    for i in 0..CATCHMENTS {
        let (c, p) = catchment(i);
        out.push(ReferenceItem::Catchment(c));
        out.push(ReferenceItem::Provider(p));
        out.extend(localities(i).into_iter().map(ReferenceItem::Locality));
    }
    for n in 0..SCHOOLS {
        let (s, isp) = school(n);
        out.push(ReferenceItem::School(s));
        if let Some(p) = isp {
            out.push(ReferenceItem::Provider(p));
        }
    }
    out.extend(demo_users().into_iter().map(ReferenceItem::User));
    out
}

/// The demo schools (1001, 1085, 1008 with its ISP), their catchments and providers, the demo users.
pub fn minimal() -> Vec<ReferenceItem> {
    let mut out = Vec::new();
    for i in [0, 7] {
        let (c, p) = catchment(i);
        out.push(ReferenceItem::Catchment(c));
        out.push(ReferenceItem::Provider(p));
        out.extend(localities(i).into_iter().map(ReferenceItem::Locality));
    }
    for id in [demo::SCHOOL, demo::OTHER_SCHOOL, demo::ISP_SCHOOL] {
        let n: usize = id.parse::<usize>().expect("numeric") - FIRST_SCHOOL;
        let (s, isp) = school(n);
        out.push(ReferenceItem::School(s));
        if let Some(p) = isp {
            out.push(ReferenceItem::Provider(p));
        }
    }
    out.extend(demo_users().into_iter().map(ReferenceItem::User));
    out
}

pub async fn seed_full(store: &DynamoStore) -> Result<usize, StoreError> {
    let items = full();
    store.put_reference(&items).await?;
    Ok(items.len())
}

pub async fn seed_minimal(store: &DynamoStore) -> Result<usize, StoreError> {
    let items = minimal();
    store.put_reference(&items).await?;
    Ok(items.len())
}

/// A demo user by id.
pub fn demo_user(id: &str) -> Option<UserRecord> {
    demo_users().into_iter().find(|u| u.id.as_str() == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn full_seed_has_the_documented_shape() {
        let items = full();
        let mut schools = Vec::new();
        let mut catchments = HashMap::new();
        let mut providers = HashMap::new();
        let mut users = Vec::new();
        let mut localities = Vec::new();
        for it in &items {
            match it {
                ReferenceItem::School(s) => schools.push(s.clone()),
                ReferenceItem::Catchment(c) => {
                    catchments.insert(c.id.clone(), c.clone());
                }
                ReferenceItem::Provider(p) => {
                    assert!(providers.insert(p.id.clone(), p.clone()).is_none(), "duplicate provider {}", p.id);
                }
                ReferenceItem::User(u) => users.push(u.clone()),
                ReferenceItem::Locality(l) => localities.push(l.clone()),
            }
        }
        assert_eq!(catchments.len(), 84);
        // every catchment is reachable by at least its own name; every locality names a catchment
        assert!(localities.len() >= 84);
        assert!(localities.iter().all(|l| catchments.contains_key(&l.catchment_id)));
        let keys: BTreeSet<_> = localities.iter().map(|l| cms_domain::catchment::locality_key(&l.name)).collect();
        assert_eq!(keys.len(), localities.len(), "two localities share a lookup key");
        assert_eq!(schools.len(), 2500);
        assert_eq!(schools.iter().map(|s| &s.id).collect::<BTreeSet<_>>().len(), 2500);
        assert_eq!(schools.iter().filter(|s| s.has_isp()).count(), 170);
        let catchment_providers = providers.values().filter(|p| p.kind == ProviderKind::Catchment).count();
        assert_eq!(catchment_providers, 84);
        assert_eq!(providers.values().filter(|p| p.kind == ProviderKind::InSchoolProvision).count(), 170);
        let regions: BTreeSet<_> = catchments.values().map(|c| c.region_id.as_str().to_string()).collect();
        assert_eq!(regions.len(), 10);
        for s in &schools {
            let c = &catchments[&s.catchment_id];
            assert_eq!(s.region_id, c.region_id);
            assert!(providers.contains_key(&c.provider_id));
            if let Some(isp) = &s.isp_provider_id {
                assert_eq!(providers[isp].kind, ProviderKind::InSchoolProvision);
                assert_eq!(providers[isp].catchment_id, s.catchment_id);
            }
        }
        // every role has a demo user, and every user's org exists
        for r in Role::ALL {
            assert!(users.iter().any(|u| u.role == r), "no demo user for {r}");
        }
        for u in &users {
            let ok = match u.role.side() {
                cms_domain::actor::Side::School => schools.iter().any(|s| s.id.as_str() == u.org_id),
                cms_domain::actor::Side::Provider => providers.keys().any(|p| p.as_str() == u.org_id),
                cms_domain::actor::Side::Ministry => u.org_id == demo::MINISTRY || REGIONS.iter().any(|(id, _)| *id == u.org_id),
            };
            assert!(ok, "user {} has an unknown org", u.id);
        }
    }

    #[test]
    fn demo_ids_agree_with_the_data() {
        let (s, _) = school(demo::SCHOOL.parse::<usize>().unwrap() - FIRST_SCHOOL);
        assert!(!s.has_isp());
        assert_eq!(s.catchment_id.as_str(), demo::SCHOOL_CATCHMENT);
        assert_eq!(s.region_id.as_str(), demo::REGION);
        let (o, _) = school(demo::OTHER_SCHOOL.parse::<usize>().unwrap() - FIRST_SCHOOL);
        assert!(!o.has_isp());
        assert_eq!(o.catchment_id.as_str(), demo::SCHOOL_CATCHMENT);
        let (i, isp) = school(demo::ISP_SCHOOL.parse::<usize>().unwrap() - FIRST_SCHOOL);
        assert_eq!(i.isp_provider_id.as_ref().unwrap().as_str(), demo::ISP_PROVIDER);
        assert_eq!(isp.unwrap().id.as_str(), demo::ISP_PROVIDER);
        assert_eq!(i.catchment_id.as_str(), demo::ISP_SCHOOL_CATCHMENT);
        assert_eq!(i.region_id.as_str(), demo::OTHER_REGION);
        assert_eq!(catchment(7).0.provider_id.as_str(), demo::ISP_SCHOOL_PROVIDER);
        assert_eq!(catchment(0).0.provider_id.as_str(), demo::SCHOOL_PROVIDER);
        // the minimal seed is a subset of the full one
        let full_users: Vec<_> = demo_users();
        assert_eq!(minimal().iter().filter(|i| matches!(i, ReferenceItem::User(_))).count(), full_users.len());
    }
}
