//! The CSP organization of a data set: members (the named people and generated ones),
//! invitations and groups.

use std::collections::HashMap;

use super::{ALICE, BOB, DEMO_MEMBERS, INVITED, LARGE_MEMBERS, MALLORY, OWNER, at_hour};
use crate::sandbox::DataSet;
use crate::sandbox::state::{CspGroup, CspOrg, IdGen, Invitation, InvitationStatus, Member};

pub(super) fn build_csp(data: DataSet, ids: &mut IdGen) -> CspOrg {
    let mut org = CspOrg::default();
    add_member(&mut org, OWNER, "Olivia", "Owner", "org_owner", ids);
    if data == DataSet::Empty {
        return org;
    }
    add_member(&mut org, ALICE, "Alice", "Anders", "org_member", ids);
    add_member(&mut org, BOB, "Bob", "Brown", "org_member", ids);
    let total = if data == DataSet::Large {
        LARGE_MEMBERS
    } else {
        DEMO_MEMBERS
    };
    for (first, last, email) in generated_people(total - org.members.len()) {
        add_member(&mut org, &email, &first, &last, "org_member", ids);
    }

    for (i, email) in INVITED.iter().enumerate() {
        org.invitations.push(Invitation {
            id: ids.uuid(),
            email: email.to_string(),
            org_roles: vec!["org_member".to_string()],
            status: InvitationStatus::Available,
            created: at_hour(1000 + i as i64),
        });
    }
    org.invitations.push(Invitation {
        id: ids.uuid(),
        email: MALLORY.to_string(),
        org_roles: vec!["org_member".to_string()],
        status: InvitationStatus::Redeemed,
        created: at_hour(10),
    });

    for (name, description, members) in [
        (
            "Platform-Admins",
            "Platform team: administers TMC and the TAP clusters",
            &[OWNER][..],
        ),
        (
            "tap-developers",
            "Application developers on TAP",
            &[ALICE, BOB][..],
        ),
        ("auditors", "Read-only access for audits", &[][..]),
    ] {
        org.groups.push(CspGroup {
            id: ids.uuid(),
            display_name: name.to_string(),
            description: description.to_string(),
            members: members.iter().map(|m| m.to_string()).collect(),
        });
    }
    org
}

fn add_member(org: &mut CspOrg, email: &str, first: &str, last: &str, role: &str, ids: &mut IdGen) {
    let hour = org.members.len() as i64;
    org.members.push(Member {
        user_id: format!("example.com:{}", ids.uuid()),
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: last.to_string(),
        org_roles: vec![role.to_string()],
        created: at_hour(hour),
    });
}

const FIRST_NAMES: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Priya",
    "Wei",
    "Fatima",
    "Mateo",
    "Yuki",
    "Olga",
    "Kwame",
    "Ingrid",
    "Rahul",
    "Sofia",
    "Lars",
    "Amara",
    "Diego",
    "Hana",
    "Omar",
    "Chloe",
    "Tomas",
    "Aisha",
    "Noah",
    "Elena",
];

const LAST_NAMES: [&str; 41] = [
    "Smith",
    "Johnson",
    "Williams",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Patel",
    "Kim",
    "Chen",
    "Silva",
    "Novak",
    "Okafor",
    "Larsen",
    "Tanaka",
    "Schmidt",
    "Rossi",
];

/// `count` people with realistic names and unique `first.last@example.com` addresses. The
/// first 1,640 (40 x 41) name pairs are all distinct; beyond that a pair repeats with a number
/// (`james.smith2@example.com`).
fn generated_people(count: usize) -> Vec<(String, String, String)> {
    let mut uses: HashMap<String, usize> = HashMap::new();
    let mut people = Vec::with_capacity(count);
    for i in 0..count {
        let (row, column) = (i / FIRST_NAMES.len(), i % FIRST_NAMES.len());
        let first = FIRST_NAMES[column];
        // For a fixed first name, `row + 3 * column` walks all 41 last names (41 is prime), so
        // consecutive members do not share a last name.
        let last = LAST_NAMES[(row + 3 * column) % LAST_NAMES.len()];
        let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
        let seen = uses.entry(base.clone()).or_default();
        *seen += 1;
        // A suffix has digits and no base has any, so suffixed addresses never clash.
        let local = if *seen == 1 {
            base
        } else {
            format!("{base}{seen}")
        };
        people.push((
            first.to_string(),
            last.to_string(),
            format!("{local}@example.com"),
        ));
    }
    people
}
