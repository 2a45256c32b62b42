//! The MCP prompts: the guide's workflows as step-by-step instructions a client can offer its
//! user (onboarding a developer, offboarding a person, granting a group, an access review).
//! Each names the tools in order and says where a human approves.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{PromptMessage, Role};
use rmcp::{prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::TanzuMcp;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct OnboardArgs {
    /// The developer's email address.
    pub email: String,
    /// The TAP cluster to give them (for example `tap-dev`); list_clusters shows them all.
    #[serde(default)]
    pub tap_cluster: Option<String>,
    /// The namespace on that cluster, for a RoleBinding; omit for a ClusterRoleBinding.
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EmailArgs {
    /// The person's email address.
    pub email: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GrantGroupArgs {
    /// The group's name as the IdP pushes it to CSP (case matters).
    pub group: String,
    /// The role to grant (a TMC role or a TAP ClusterRole), if already known.
    #[serde(default)]
    pub role: Option<String>,
}

fn user(text: String) -> Vec<PromptMessage> {
    vec![PromptMessage::new_text(Role::User, text)]
}

#[prompt_router(router = "prompts_router", vis = "pub(crate)")]
impl TanzuMcp {
    /// Onboard a developer: invite, wait for acceptance, bind a role on a TAP cluster, verify.
    #[prompt(name = "onboard_developer")]
    pub fn onboard_developer(
        &self,
        Parameters(args): Parameters<OnboardArgs>,
    ) -> Vec<PromptMessage> {
        let cluster = args
            .tap_cluster
            .map(|c| format!("TAP cluster '{c}'"))
            .unwrap_or_else(|| "the TAP cluster they need (ask me if unsure)".into());
        let namespace = args
            .namespace
            .map(|ns| format!(", namespace '{ns}' (a RoleBinding)"))
            .unwrap_or_default();
        user(format!(
            "Onboard the developer {email} onto {cluster}{namespace}.\n\
             1. Call list_clusters (with `cluster` to see its namespaces) and pick a ClusterRole that \
             fits a developer, such as app-editor; use only names it lists.\n\
             2. Call get_user_access for {email} to see whether they are already a member, invited, \
             or hold access.\n\
             3. Call provision_user with email {email}, the role and scope {{kind: \"tap_cluster\", \
             name, namespace?}}, and wait_seconds up to 45. It invites if needed, waits for \
             acceptance, binds and verifies. If it comes back `pending`, tell me what is left (they \
             must accept the invitation email) and call the same provision_user again later: it \
             finishes the job without binding twice.\n\
             4. Call get_user_access again and show me the new grant.\n\
             Privileged roles (admin, cluster-admin, roles that grant RBAC writes) need my approval \
             in the client; do not pick one unless I asked for it.",
            email = args.email
        ))
    }

    /// Offboard a person: remove every TMC and TAP binding and the CSP membership, then check
    /// that nothing is left.
    #[prompt(name = "offboard_person")]
    pub fn offboard_person(&self, Parameters(args): Parameters<EmailArgs>) -> Vec<PromptMessage> {
        user(format!(
            "Offboard {email}.\n\
             1. Call get_user_access for {email} and show me what they hold: CSP membership or \
             invitation, every TMC role, every TAP binding, and the warnings (access through groups \
             is owned by the IdP and is not removed here; tell me which groups).\n\
             2. Call revoke_all_access with email {email}. Nothing changes until I approve the exact \
             plan in my client (I type the email back); you cannot approve it for me. Shared \
             bindings keep their other subjects.\n\
             3. If the status is `partial`, show me what failed and call revoke_all_access again to \
             finish; if it is `plan_changed`, show me the new plan.\n\
             4. Call get_user_access again and confirm the status is REMOVED with no grants left.",
            email = args.email
        ))
    }

    /// Grant a role to a group, with its exact CSP name.
    #[prompt(name = "grant_group")]
    pub fn grant_group(&self, Parameters(args): Parameters<GrantGroupArgs>) -> Vec<PromptMessage> {
        let role = args
            .role
            .map(|r| format!("the role '{r}'"))
            .unwrap_or_else(|| "a role I will choose from list_clusters".into());
        user(format!(
            "Grant the group '{group}' {role}.\n\
             1. Call list_clusters and agree the scope and role with me, using only names it lists \
             (TMC roles for TMC scopes, ClusterRoles for TAP clusters).\n\
             2. Call bind_role with group '{group}', the role and the scope. Group names are compared \
             exactly: if it is refused because the CSP group differs in case, use the exact name it \
             gives. Group grants at organization scope and admin roles need my approval in the \
             client.\n\
             3. Call list_role_bindings at that scope and show me the group's row.",
            group = args.group
        ))
    }

    /// Review access across the whole org and fix what is wrong, one approved call at a time.
    #[prompt(name = "access_review")]
    pub fn access_review(&self) -> Vec<PromptMessage> {
        user(
            "Review who has access across the org.\n\
             1. Call audit_access. Show me the summary by kind, then each finding: not_a_member \
             (leftovers of people removed from CSP), invited_with_bindings, group_near_miss, \
             unknown_group, and unreadable (places that could not be read: the review is incomplete \
             there, say so).\n\
             2. For each finding I agree to fix, make exactly the calls in its `fix` (or `fix_all`, \
             revoke_all_access, to remove all of one person's leftovers at once), in order. \
             Destructive calls wait for my approval in the client; never try to approve them \
             yourself.\n\
             3. Call audit_access again and show me what remains."
                .to_string(),
        )
    }
}
