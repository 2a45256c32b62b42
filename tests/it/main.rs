//! Every integration test in one binary: one module per capability, sharing `support`. One
//! binary links once, where one per file relinked 23 times on every change.

mod support;

mod api_shapes;
mod bind;
mod bind_twin_clusters;
mod browser_approval;
mod change_role;
mod check_token_org;
mod cli;
mod client_configs;
mod clients_csp;
mod clients_faults;
mod clients_logs;
mod clients_rbac;
mod clients_tmc;
mod clients_token;
mod config_check;
mod fixture_shapes;
mod group_membership;
mod hostile_input;
mod invite;
mod list_members;
mod model_errors;
mod packaging;
mod provision_user;
mod result_size;
mod revoke;
mod sandbox_config;
mod sandbox_control;
mod sandbox_csp;
mod sandbox_drift;
mod sandbox_k8s;
mod sandbox_kube_rs;
mod sandbox_kubectl;
mod sandbox_tmc;
mod tmc_own_policy;
mod tool_catalog;
mod transport_guard;
mod transport_shutdown;
mod transport_sse;
mod transport_streamable;
mod unbind_role;
mod user_access;
mod write_policy;
