//! kube-rs against the sandbox through the written kubeconfig: the path the Kubernetes client
//! of tanzu-mcp takes (HTTPS with the sandbox CA, bearer token, paging, conflicts).

use crate::support::common;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tanzu_mcp::sandbox::DataSet;

async fn client_for(kubeconfig: &std::path::Path, context: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("the kubeconfig parses");
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("a config for the context");
    kube::Client::try_from(config).expect("a client")
}

#[tokio::test]
async fn kube_rs_lists_pages_and_sees_conflicts_through_the_kubeconfig() {
    let (sandbox, _) = common::start_sandbox(DataSet::Demo).await;
    let (dir, _) = common::write_config(&sandbox);
    let client = client_for(&dir.path().join("kubeconfig"), "tap-prod").await;

    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(2);
    loop {
        let page = bindings.list(&params).await.expect("a page");
        names.extend(page.items.iter().filter_map(|b| b.metadata.name.clone()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert!(names.contains(&"legacy-admins".to_string()), "{names:?}");
    assert_eq!(names.len(), 7);

    let mut editors = bindings.get("app-editors").await.expect("app-editors");
    let stale = editors.clone();
    editors.subjects = editors.subjects.map(|s| s.into_iter().take(1).collect());
    bindings
        .replace("app-editors", &PostParams::default(), &editors)
        .await
        .expect("the first writer wins");
    let lost = bindings
        .replace("app-editors", &PostParams::default(), &stale)
        .await
        .expect_err("the stale writer loses");
    match lost {
        kube::Error::Api(status) => assert_eq!(status.code, 409),
        other => panic!("expected a 409 Status, got {other:?}"),
    }

    let dev_team: Api<RoleBinding> = Api::namespaced(
        client_for(&dir.path().join("kubeconfig"), "tap-dev").await,
        "dev-team",
    );
    let alice_admin = dev_team
        .get("alice-admin")
        .await
        .expect("alice-admin on tap-dev");
    assert_eq!(alice_admin.role_ref.name, "admin");
}
