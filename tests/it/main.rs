//! Every integration test in one binary: one module per capability, sharing `support`. One
//! binary links once, where one per file relinked 23 times on every change.

mod support;

mod api_shapes;
mod bind;
mod cli;
mod clients_csp;
mod clients_faults;
mod clients_logs;
mod clients_rbac;
mod clients_tmc;
mod clients_token;
mod config_check;
mod fault_matrix;
mod hostile_input;
mod http_limits;
mod invite;
mod list_members;
mod revoke;
mod sandbox_config;
mod sandbox_control;
mod sandbox_csp;
mod sandbox_k8s;
mod sandbox_kube_rs;
mod sandbox_kubectl;
mod sandbox_tmc;
mod secret_scan;
mod tool_catalog;
mod transport_guard;
mod transport_shutdown;
mod transport_sse;
mod transport_streamable;
mod user_access;
mod write_policy;
