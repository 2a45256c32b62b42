//! Criterion benchmarks of the in-process parts a destructive call pays for besides the network:
//! the plan digest (canonical JSON and SHA-256 of a 60-step revocation), input validation
//! (emails and names, hostile ones included) and sealing and opening a confirmation token.
//!
//! `cargo bench --bench in_process`; `.ci/bench-smoke` runs each once (`-- --test`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tanzu_mcp::access::change::plan::{ChangePlan, Operation, Step};
use tanzu_mcp::access::ports::{Subject, TmcScope};
use tanzu_mcp::access::revoke::Revocation;
use tanzu_mcp::access::validate::{self, NameRule};
use tanzu_mcp::server::approval::nonces::InMemoryNonces;
use tanzu_mcp::server::approval::sealed::{Binding, Purpose, Sealer};

/// What revoking alice on `--data large` plans: TMC grants and a binding on each of 50 clusters.
fn steps() -> Vec<Step> {
    let alice = Subject::user("alice@example.com");
    let mut steps: Vec<Step> = (0..10)
        .map(|i| Step {
            target: format!("workspace team-{i} role workspace.edit"),
            effect: "remove USER alice@example.com from role workspace.edit".into(),
            operation: Operation::TmcRemoveSubject {
                scope: TmcScope::Workspace {
                    name: format!("team-{i}"),
                },
                role: "workspace.edit".into(),
                subject: alice.clone(),
            },
        })
        .collect();
    steps.extend((1..=50).map(|i| Step {
        target: format!("TAP cluster tap-{i:03} ClusterRoleBinding app-editors"),
        effect: "remove User alice@example.com from it; 1 other subject keeps app-editor".into(),
        operation: Operation::TapRemoveSubject {
            cluster: format!("tap-{i:03}"),
            namespace: None,
            binding: "app-editors".into(),
            subject: alice.clone(),
        },
    }));
    steps
}

fn plan_digest(c: &mut Criterion) {
    c.bench_function("plan digest, 60 steps", |b| {
        b.iter_batched(
            steps,
            |steps| {
                let about = Revocation {
                    email: "alice@example.com".into(),
                    keep_membership: true,
                };
                black_box(ChangePlan::new(about, steps, Vec::new()).digest)
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

fn validation(c: &mut Criterion) {
    let emails = [
        "alice@example.com",
        "James.Smith2@Example.COM",
        "аlice@example.com", // Cyrillic а: refused
        "a@@b.c",
        "zero\u{200b}width@example.com",
    ];
    c.bench_function("validate 5 emails", |b| {
        b.iter(|| {
            for email in emails {
                let _ = black_box(validate::email(black_box(email)));
            }
        })
    });
    let names = [
        ("namespace", "dev-team", NameRule::Dns1123Label),
        (
            "role",
            "system:aggregate-to-view",
            NameRule::KubernetesObject,
        ),
        ("role", "cluster.admin", NameRule::TmcRole),
        ("namespace", "Dev_Team", NameRule::Dns1123Label),
    ];
    c.bench_function("validate 4 names", |b| {
        b.iter(|| {
            for (what, name, rule) in names {
                let _ = black_box(validate::name(what, black_box(name), rule));
            }
        })
    });
}

fn sealing(c: &mut Criterion) {
    let sealer = Sealer::new(Arc::new(InMemoryNonces::default()));
    let binding = Binding {
        tool: "revoke_all_access",
        arguments: r#"{"email":"alice@example.com","keep_membership":true}"#,
        credential: None,
    };
    let digest = "5f0c8a4b1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e";
    let ttl = Duration::from_secs(300);
    c.bench_function("seal a confirmation token", |b| {
        b.iter(|| black_box(sealer.seal(Purpose::Token, binding, digest, ttl)))
    });
    c.bench_function("seal and open a confirmation token", |b| {
        b.iter(|| {
            let token = sealer.seal(Purpose::Token, binding, digest, ttl);
            black_box(sealer.open(&token, Purpose::Token, binding).is_ok())
        })
    });
}

criterion_group!(benches, plan_digest, validation, sealing);
criterion_main!(benches);
