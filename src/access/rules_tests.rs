//! The domain's rules, tested against the in-memory fakes: listing each person exactly once,
//! the revocation plan and its idempotent execution, and the binding traps.

use std::collections::BTreeSet;

use super::Systems;
use super::bind::{Bind, BindOutcome, BindResult, BindTarget, Grantee};
use super::change::{ActionOutcome, ActionResult, Operation};
use super::error::{AccessError, AccessResult};
use super::fakes::{no_human, small_world};
use super::invite::InviteResult;
use super::invite::{InviteError, InviteOutcome};
use super::members::{MemberFilter, MemberStatus, list_members};
use super::person::{PersonStatus, user_access};
use super::ports::{Subject, TmcScope};
use super::revoke::{RevocationPlan, plan};

/// Run a plan's actions as the lifecycle does once a human approved it.
async fn execute(systems: &Systems, plan: &RevocationPlan) -> Vec<ActionResult> {
    super::fakes::run_directly(systems, &plan.actions).await
}

async fn bind_role(
    systems: &Systems,
    grantee: Grantee,
    role: &str,
    target: BindTarget,
) -> AccessResult<BindResult> {
    let change = Bind {
        grantee,
        role: role.to_string(),
        target,
        policy: Default::default(),
    };
    // Ordinary grants run without a human; these tests bind none that is not.
    super::bind::bind_role(systems, &change, &no_human())
        .await
        .map(|done| done.unwrap_or_else(|(shown, _)| panic!("not approved: {shown:?}")))
}

/// Bind `email` to `view` by a ClusterRoleBinding on tap-a, expecting an error.
async fn refused_on_tap_a(fake: &super::fakes::Fake, email: &str) -> AccessError {
    let target = BindTarget::Tap {
        cluster: "tap-a".into(),
        namespace: None,
    };
    bind_role(&fake.systems(), Grantee::User(email.into()), "view", target)
        .await
        .unwrap_err()
}

async fn invite(
    systems: &Systems,
    emails: &[String],
    org_role: Option<&str>,
) -> AccessResult<Vec<InviteResult>> {
    super::invite::invite(systems, emails, org_role, Default::default(), &no_human())
        .await
        .map(|report| report.results)
}

async fn list_all(fake: &super::fakes::Fake, filter: MemberFilter, limit: usize) -> Vec<String> {
    let systems = fake.systems();
    let mut emails = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let page = list_members(
            systems.directory.as_ref(),
            &filter,
            Some(limit),
            cursor.as_deref(),
        )
        .await
        .unwrap();
        assert!(page.members.len() <= limit);
        emails.extend(page.members.into_iter().map(|m| m.email));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return emails,
        }
    }
    panic!("listing did not end");
}

#[tokio::test]
async fn listing_returns_every_member_and_invitee_exactly_once_at_any_page_size() {
    let fake = small_world();
    for limit in [1, 7, 50, 200, 260, 261, 500] {
        let emails = list_all(&fake, MemberFilter::default(), limit).await;
        let unique: BTreeSet<_> = emails.iter().collect();
        assert_eq!(emails.len(), 261, "limit {limit}");
        assert_eq!(unique.len(), 261, "limit {limit}");
        assert_eq!(emails.last().unwrap(), "carol@example.com");
    }
}

#[tokio::test]
async fn listing_filters_by_status_and_query_across_pages() {
    let fake = small_world();
    let invited = list_all(
        &fake,
        MemberFilter {
            status: Some(MemberStatus::Invited),
            query: None,
        },
        10,
    )
    .await;
    assert_eq!(invited, vec!["carol@example.com"]);
    let query = MemberFilter {
        status: None,
        query: Some("USER2".into()),
    };
    let found = list_all(&fake, query, 3).await;
    assert_eq!(found.len(), 60, "user200..user259");
    assert!(found.iter().all(|e| e.starts_with("user2")));
}

#[tokio::test]
async fn a_cursor_for_other_filters_or_a_made_up_one_is_refused() {
    let fake = small_world();
    let systems = fake.systems();
    let page = list_members(
        systems.directory.as_ref(),
        &MemberFilter::default(),
        Some(5),
        None,
    )
    .await
    .unwrap();
    let other = MemberFilter {
        status: Some(MemberStatus::Active),
        query: None,
    };
    let err = list_members(
        systems.directory.as_ref(),
        &other,
        Some(5),
        page.next_cursor.as_deref(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AccessError::Invalid(_)), "{err}");
    let err = list_members(
        systems.directory.as_ref(),
        &MemberFilter::default(),
        Some(5),
        Some("bogus!"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AccessError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn user_access_sees_every_binding_and_warns_about_groups_and_near_misses() {
    let fake = small_world();
    let access = user_access(&fake.systems(), "ALICE@example.com")
        .await
        .unwrap();
    assert_eq!(access.status, PersonStatus::Active);
    assert_eq!(access.tmc.len(), 2);
    assert_eq!(access.tap.len(), 3);
    let shared = access
        .tap
        .iter()
        .find(|g| g.binding == "app-editors")
        .unwrap();
    assert_eq!(shared.other_subjects, 1);
    assert!(
        access
            .warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("'platform-admins'") && w.contains("'Platform-Admins'")),
        "{:?}",
        access.warnings
    );
}

#[tokio::test]
async fn a_removed_person_with_leftovers_is_reported_as_removed() {
    let fake = small_world();
    let access = user_access(&fake.systems(), "mallory@example.com")
        .await
        .unwrap();
    assert_eq!(access.status, PersonStatus::Removed);
    assert_eq!(access.tmc.len(), 1);
    assert!(
        access
            .warnings
            .iter()
            .any(|w| matches!(w, super::warning::Warning::Leftovers { .. })
                && w.to_string().contains("leftovers"))
    );
}

#[tokio::test]
async fn revocation_plan_orders_tmc_then_kubernetes_then_csp_and_keeps_shared_bindings() {
    let fake = small_world();
    let systems = fake.systems();
    let plan = plan(&systems, "alice@example.com", false).await.unwrap();
    let systems_in_order: Vec<_> = plan.actions.iter().map(|a| a.system.to_string()).collect();
    assert_eq!(
        systems_in_order,
        [
            "TMC",
            "TMC",
            "Kubernetes",
            "Kubernetes",
            "Kubernetes",
            "CSP"
        ]
    );
    assert!(matches!(
        plan.actions.last().unwrap().operation,
        Operation::CspRemoveMember { .. }
    ));
    let again = super::revoke::plan(&systems, "alice@example.com", false)
        .await
        .unwrap();
    assert_eq!(plan.digest, again.digest, "same world, same digest");

    let results = execute(&systems, &plan).await;
    assert!(
        results.iter().all(|r| r.outcome == ActionOutcome::Done),
        "{results:?}"
    );
    let world = fake.world();
    assert!(world.members.iter().all(|m| m.email != "alice@example.com"));
    let shared: Vec<_> = world
        .tap
        .iter()
        .filter(|b| b.name == "app-editors")
        .collect();
    assert_eq!(shared.len(), 2);
    assert!(
        shared
            .iter()
            .all(|b| b.subjects == vec![Subject::user("bob@example.com")])
    );
    assert!(!world.tap.iter().any(|b| b.name == "alice-admin"));
    let dev = TmcScope::Cluster {
        name: "dev".into(),
        management_cluster: "attached".into(),
        provisioner: "attached".into(),
    };
    assert_eq!(
        world.tmc[&dev][0].subjects,
        vec![Subject::user("mallory@example.com")]
    );
}

#[tokio::test]
async fn a_partial_failure_holds_back_csp_removal_and_a_rerun_finishes() {
    let fake = small_world();
    let systems = fake.systems();
    fake.world().failing.push("remove_subject:tap-b".into());
    let first = plan(&systems, "alice@example.com", false).await.unwrap();
    let results = execute(&systems, &first).await;
    assert!(results.iter().any(|r| r.outcome == ActionOutcome::Failed));
    assert_eq!(results.last().unwrap().outcome, ActionOutcome::Skipped);
    assert!(
        fake.world()
            .members
            .iter()
            .any(|m| m.email == "alice@example.com")
    );

    fake.world().failing.clear();
    let second = plan(&systems, "alice@example.com", false).await.unwrap();
    assert_eq!(
        second.actions.len(),
        2,
        "only tap-b and CSP remain: {:?}",
        second.actions
    );
    let results = execute(&systems, &second).await;
    assert!(results.iter().all(|r| r.succeeded()));
    let after = user_access(&systems, "alice@example.com").await.unwrap();
    assert!(!after.has_bindings());
    assert_eq!(
        after.status,
        PersonStatus::Unknown,
        "no member, no invitation, no binding left"
    );
}

#[tokio::test]
async fn keep_membership_removes_only_bindings() {
    let fake = small_world();
    let plan = plan(&fake.systems(), "alice@example.com", true)
        .await
        .unwrap();
    assert!(
        plan.actions
            .iter()
            .all(|a| !matches!(a.operation, Operation::CspRemoveMember { .. }))
    );
}

#[tokio::test]
async fn an_unreadable_cluster_refuses_to_plan_rather_than_miss_bindings() {
    let fake = small_world();
    fake.world().failing.push("bindings:tap-b".into());
    let err = plan(&fake.systems(), "alice@example.com", false)
        .await
        .unwrap_err();
    assert!(matches!(err, AccessError::Refused { .. }), "{err}");
}

#[tokio::test]
async fn binding_an_invited_user_is_refused_with_what_to_do() {
    let fake = small_world();
    let err = refused_on_tap_a(&fake, "carol@example.com").await;
    let AccessError::Refused { reason, fix } = err else {
        panic!("{err}")
    };
    assert!(reason.contains("not accepted"), "{reason}");
    assert!(fix.contains("accept"), "{fix}");
    assert!(!fake.world().calls.iter().any(|c| c == "create_binding"));
}

#[tokio::test]
async fn binding_twice_is_idempotent_and_unknown_roles_list_the_valid_ones() {
    let fake = small_world();
    let systems = fake.systems();
    let target = || BindTarget::Tap {
        cluster: "tap-a".into(),
        namespace: Some("dev-team".into()),
    };
    let bob_view = || {
        bind_role(
            &systems,
            Grantee::User("bob@example.com".into()),
            "view",
            target(),
        )
    };
    assert_eq!(bob_view().await.unwrap().outcome, BindOutcome::Bound);
    assert_eq!(bob_view().await.unwrap().outcome, BindOutcome::AlreadyBound);
    assert_eq!(
        fake.world()
            .tap
            .iter()
            .filter(|b| b.role_name == "view")
            .count(),
        1
    );

    let err = bind_role(
        &systems,
        Grantee::User("bob@example.com".into()),
        "god-mode",
        target(),
    )
    .await
    .unwrap_err();
    let AccessError::Refused { fix, .. } = err else {
        panic!("{err}")
    };
    assert!(fix.contains("app-editor") && fix.contains("view"), "{fix}");
}

#[tokio::test]
async fn a_group_differing_only_in_case_is_refused_with_the_exact_name() {
    let fake = small_world();
    let target = BindTarget::Tmc(TmcScope::Organization);
    let err = bind_role(
        &fake.systems(),
        Grantee::Group("platform-admins".into()),
        "organization.view",
        target,
    )
    .await
    .unwrap_err();
    let AccessError::Refused { fix, .. } = err else {
        panic!("{err}")
    };
    assert!(fix.contains("'Platform-Admins'"), "{fix}");
}

#[tokio::test]
async fn invite_reports_members_and_invitees_instead_of_inviting_again() {
    let fake = small_world();
    let emails = [
        "bob@example.com",
        "carol@example.com",
        "new@example.com",
        "not-an-email",
        "NEW@example.com",
    ]
    .map(String::from);
    let results = invite(&fake.systems(), &emails, None).await.unwrap();
    let outcomes: Vec<_> = results.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        outcomes[..3],
        [
            InviteOutcome::AlreadyMember,
            InviteOutcome::AlreadyInvited,
            InviteOutcome::Invited
        ]
    );
    assert!(matches!(
        outcomes[3],
        InviteOutcome::Error(InviteError::Invalid(_))
    ));
    assert_eq!(outcomes[4], InviteOutcome::Error(InviteError::ListedTwice));
    // On the wire: the strings the interface fixes.
    let wire: Vec<String> = outcomes.iter().map(ToString::to_string).collect();
    assert_eq!(wire[..3], ["already_member", "already_invited", "invited"]);
    assert!(wire[3].starts_with("error:") && wire[4].starts_with("error: listed twice"));
    let sent = fake
        .world()
        .invitations
        .iter()
        .filter(|i| i.email == "new@example.com")
        .count();
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn a_member_with_a_leftover_invitation_is_listed_once_and_loses_both() {
    let fake = small_world();
    fake.world().invitations.push(super::ports::Invitation {
        id: "inv-alice".into(),
        email: "alice@example.com".into(),
        status: super::ports::InvitationStatus::Available,
        org_roles: vec!["org_member".into()],
    });
    let emails = list_all(&fake, MemberFilter::default(), 100).await;
    assert_eq!(
        emails.iter().filter(|e| *e == "alice@example.com").count(),
        1
    );

    let systems = fake.systems();
    let plan = plan(&systems, "alice@example.com", false).await.unwrap();
    let csp: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.system.to_string() == "CSP")
        .map(|a| &a.operation)
        .collect();
    assert!(
        matches!(
            csp[..],
            [
                Operation::CspRevokeInvitation { .. },
                Operation::CspRemoveMember { .. }
            ]
        ),
        "{csp:?}"
    );
    execute(&systems, &plan).await;
    let world = fake.world();
    assert!(
        world
            .invitations
            .iter()
            .all(|i| i.email != "alice@example.com"
                || i.status != super::ports::InvitationStatus::Available)
    );
}

#[tokio::test]
async fn a_taken_binding_name_with_other_content_is_refused_not_reported_as_bound() {
    let fake = small_world();
    let name = super::bind::binding_name("view", &Subject::user("bob@example.com"));
    fake.world().tap.push(super::ports::RbacBinding {
        cluster: "tap-a".into(),
        namespace: None,
        name,
        role_kind: super::ports::RoleKind::ClusterRole,
        role_name: "edit".into(),
        subjects: vec![Subject::user("mallory@example.com")],
    });
    let err = refused_on_tap_a(&fake, "bob@example.com").await;
    assert!(matches!(err, AccessError::Refused { .. }), "{err}");
}

#[tokio::test]
async fn privileged_grants_wait_for_a_human_and_built_in_subjects_are_never_bound() {
    let fake = small_world();
    let systems = fake.systems();
    let change = |grantee, role: &str, target| Bind {
        grantee,
        role: role.to_string(),
        target,
        policy: Default::default(),
    };
    let org_admin = change(
        Grantee::User("bob@example.com".into()),
        "cluster.admin",
        BindTarget::Tmc(TmcScope::Cluster {
            name: "dev".into(),
            management_cluster: "attached".into(),
            provisioner: "attached".into(),
        }),
    );
    let held = super::bind::bind_role(&systems, &org_admin, &no_human())
        .await
        .unwrap();
    let Err((shown, super::change::Unapproved::CannotAsk(_))) = held else {
        panic!("{held:?}")
    };
    assert_eq!(shown.outcome, BindOutcome::ConfirmationRequired);
    assert!(shown.plan.is_some_and(|p| p.actions.len() == 1));
    assert!(
        !fake
            .world()
            .calls
            .iter()
            .any(|c| c.starts_with("add_binding"))
    );

    for subject in ["system:authenticated", "system:masters"] {
        let everyone = change(
            Grantee::Group(subject.into()),
            "view",
            BindTarget::Tap {
                cluster: "tap-a".into(),
                namespace: None,
            },
        );
        let err = super::bind::bind_role(&systems, &everyone, &no_human())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AccessError::Refused { reason, .. } if reason.contains("never made")),
            "{err}"
        );
    }
    assert!(
        !fake
            .world()
            .calls
            .iter()
            .any(|c| c.starts_with("create_binding"))
    );

    let owner = super::invite::invite(
        &systems,
        &["stranger@example.com".to_string()],
        Some("org_owner"),
        Default::default(),
        &no_human(),
    )
    .await
    .unwrap();
    assert!(owner.unapproved.is_some());
    assert!(matches!(
        owner.results[0].outcome,
        InviteOutcome::Error(InviteError::NotApproved(_))
    ));
    assert!(
        !fake
            .world()
            .invitations
            .iter()
            .any(|i| i.email == "stranger@example.com")
    );
}
