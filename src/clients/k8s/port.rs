//! `K8sRbac` as the domain's `ClusterRbac` port: each call names its operation and target in
//! the error the domain sees.

use async_trait::async_trait;

use super::K8sRbac;
use crate::access::ports::{
    BackendResult, BindingRef, ClusterRbac, NewBinding, PolicyRule, RbacBinding, Subject,
    SubjectRemoval,
};

#[async_trait]
impl ClusterRbac for K8sRbac {
    fn clusters(&self) -> Vec<String> {
        self.clusters.iter().map(|c| c.name.clone()).collect()
    }

    async fn bindings(&self, cluster: &str) -> BackendResult<Vec<RbacBinding>> {
        K8sRbac::bindings(self, cluster)
            .await
            .map_err(|e| e.into_backend(format!("list bindings on '{cluster}'")))
    }

    async fn cluster_roles(&self, cluster: &str) -> BackendResult<Vec<String>> {
        K8sRbac::cluster_roles(self, cluster)
            .await
            .map_err(|e| e.into_backend(format!("list cluster roles on '{cluster}'")))
    }

    async fn cluster_role_rules(
        &self,
        cluster: &str,
        name: &str,
    ) -> BackendResult<Vec<PolicyRule>> {
        K8sRbac::cluster_role_rules(self, cluster, name)
            .await
            .map_err(|e| e.into_backend(format!("read ClusterRole '{name}' on '{cluster}'")))
    }

    async fn namespaces(&self, cluster: &str) -> BackendResult<Vec<String>> {
        K8sRbac::namespaces(self, cluster)
            .await
            .map_err(|e| e.into_backend(format!("list namespaces on '{cluster}'")))
    }

    async fn create_binding(&self, binding: NewBinding<'_>) -> BackendResult<()> {
        K8sRbac::create_binding(self, binding).await.map_err(|e| {
            e.into_backend(format!(
                "create {} on '{}'",
                describe(binding.namespace, binding.name),
                binding.cluster
            ))
        })
    }

    async fn remove_subject(
        &self,
        binding: BindingRef<'_>,
        subject: &Subject,
    ) -> BackendResult<SubjectRemoval> {
        let BindingRef {
            cluster,
            namespace,
            name,
        } = binding;
        K8sRbac::remove_subject(self, binding, subject)
            .await
            .map_err(|e| {
                e.into_backend(format!(
                    "remove '{}' from {} on '{cluster}'",
                    subject.name,
                    describe(namespace, name)
                ))
            })
    }
}

fn describe(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        None => format!("ClusterRoleBinding '{name}'"),
        Some(ns) => format!("RoleBinding '{ns}/{name}'"),
    }
}
