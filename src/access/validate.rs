//! One validation layer before any request is built: what a caller (a model, perhaps
//! prompt-injected) sends is hostile input. Names are checked against each system's own rules
//! and refused with the rule named, never silently altered (trimmed of surrounding blanks at
//! most): no request path is ever built from a `.`, `..`, a control character or a character
//! URL normalisation would drop.

use super::error::{AccessError, AccessResult};

/// Longest address RFC 5321 allows.
const MAX_EMAIL_LEN: usize = 254;

/// Characters of an email's local part (RFC 5322 dot-atom), less those that mean something in
/// URLs, shells, globs or searches (`*`, `?`, `#`, `%`, `/`, `&`, `=`, `|`, `` ` ``, quotes).
fn local_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '.' | '_' | '+' | '-' | '!' | '$' | '^' | '~' | '{' | '}')
}

/// Trim, check a conservative ASCII grammar and lowercase an email address. Look-alikes
/// (Cyrillic, fullwidth), invisible and bidi characters, `@@`, `..` and wildcards are refused.
pub fn email(raw: &str) -> AccessResult<String> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(AccessError::invalid("the email is empty"));
    }
    let shown = printable(email);
    let invalid =
        |why: &str| AccessError::invalid(format!("'{shown}' is not an email address: {why}"));
    if let Some(c) = email
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control())
    {
        return Err(invalid(&format!(
            "it contains {}, and only plain ASCII addresses are accepted (a look-alike or invisible character would invite someone else)",
            describe(c)
        )));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(invalid("longer than 254 characters"));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("it needs exactly one '@'"));
    };
    if local.is_empty() || local.len() > 64 {
        return Err(invalid("the part before '@' must have 1 to 64 characters"));
    }
    if let Some(c) = local.chars().find(|c| !local_char(*c)) {
        return Err(invalid(&format!(
            "'{c}' is not allowed before the '@' (letters, digits and . _ + - ! $ ^ ~ {{ }} are)"
        )));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(invalid(
            "dots may not start, end or repeat in the part before '@'",
        ));
    }
    domain_name(domain).map_err(|why| invalid(&why))?;
    Ok(email.to_ascii_lowercase())
}

/// A DNS domain: dot-separated labels of letters, digits and inner hyphens, at least two.
fn domain_name(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain needs a dot".into());
    }
    for label in &labels {
        if label.is_empty() {
            return Err("the domain has an empty label ('..' or a dot at either end)".into());
        }
        if label.len() > 63
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!(
                "'{label}' is not a domain label (letters, digits and inner hyphens, at most 63)"
            ));
        }
    }
    if !labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Err("the domain must end in a top-level domain of letters".into());
    }
    Ok(())
}

/// Which system's naming rule a name must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// Kubernetes namespaces and TMC resource names (clusters, cluster groups, workspaces,
    /// namespaces, management clusters, provisioners): a DNS-1123 label.
    Dns1123Label,
    /// Kubernetes object names such as ClusterRoles and bindings: a DNS-1123 subdomain, and
    /// `:` (ClusterRoles like `system:aggregate-to-view` carry one).
    KubernetesObject,
    /// TMC role names such as `cluster.admin` or custom roles: lowercase letters, digits, `.`,
    /// `-` and `_`.
    TmcRole,
    /// Group names from an IdP: free text, but no control, invisible or bidi characters.
    Group,
}

impl NameRule {
    fn describe(self) -> &'static str {
        match self {
            NameRule::Dns1123Label => {
                "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
            }
            NameRule::KubernetesObject => {
                "a Kubernetes object name: at most 253 lowercase letters, digits, '-', '.' and ':', starting and ending with a letter or digit"
            }
            NameRule::TmcRole => {
                "a TMC role name: lowercase letters, digits, '.', '-' and '_', starting with a letter"
            }
            NameRule::Group => {
                "a group name: at most 256 characters with a letter or digit, and no control, invisible or bidi character, nor any of * ? # % / \\; an email-like name must be a valid address"
            }
        }
    }

    fn admits(self, name: &str) -> bool {
        let alnum_ends = |s: &str| {
            s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && s.chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        };
        match self {
            NameRule::Dns1123Label => {
                name.len() <= 63
                    && alnum_ends(name)
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }
            NameRule::KubernetesObject => {
                name.len() <= 253
                    && alnum_ends(name)
                    && name.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':')
                    })
                    && !name.split(['.', ':']).any(str::is_empty)
            }
            NameRule::TmcRole => {
                name.len() <= 253
                    && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && name.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
                    })
                    && !name.contains("..")
                    && !name.ends_with('.')
            }
            NameRule::Group => {
                name.len() <= 256
                    && name.chars().any(char::is_alphanumeric)
                    && !name.chars().any(|c| {
                        c.is_control() || invisible(c) || matches!(c, '*' | '?' | '#' | '%' | '/' | '\\')
                    })
                    // An email-like group name (Google groups, some IdPs) must be a valid address.
                    && (!name.contains('@') || email(name).is_ok())
            }
        }
    }
}

/// Check one name; `what` names the field for the message (`scope.name`, `role`).
pub fn name(what: &str, raw: &str, rule: NameRule) -> AccessResult<String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(AccessError::invalid(format!("{what} is empty")));
    }
    if !rule.admits(value) {
        return Err(AccessError::invalid(format!(
            "{what} '{}' is not {}",
            printable(value),
            rule.describe()
        )));
    }
    Ok(value.to_string())
}

/// Zero-width, bidi controls and other characters that change what a reader sees.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}')
}

fn describe(c: char) -> String {
    if c.is_control() || invisible(c) {
        format!("the invisible character U+{:04X}", c as u32)
    } else {
        format!("the non-ASCII character '{c}' (U+{:04X})", c as u32)
    }
}

/// A value as it may appear in a message: control and invisible characters escaped, so an
/// error (or a log line) cannot be forged with a newline.
pub fn printable(value: &str) -> String {
    value
        .chars()
        .flat_map(|c| {
            if c.is_control() || invisible(c) {
                format!("\\u{{{:04x}}}", c as u32)
                    .chars()
                    .collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plain_addresses_are_accepted_and_lowercased() {
        for good in [
            "alice@example.com",
            " Alice.Anders+tap@Sub.Example.CO ",
            "o'neil@example.com".replace('\'', "").as_str(),
            "x@a-b.io",
        ] {
            assert!(email(good).is_ok(), "{good}");
        }
        assert_eq!(email(" Alice@Example.COM ").unwrap(), "alice@example.com");
    }

    #[test]
    fn look_alike_malformed_and_wildcard_addresses_are_refused_with_the_reason() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "al ice@example.com",
            "a/b@example.com",
            "\u{0430}lice@example.com",
            "ａｌｉｃｅ@example.com",
            "alice\u{200B}@example.com",
            "alice@example.com\u{202E}",
            "alice@@example.com",
            "alice@example..com",
            "*@example.com",
            "alice?@example.com",
            "alice#@example.com",
            "al%ice@example.com",
            ".alice@example.com",
            "al..ice@example.com",
            "alice@-example.com",
            "alice@example.c0m",
            "alice@exa_mple.com",
            "alice\r\n@example.com",
        ] {
            let err = email(bad).unwrap_err();
            assert!(matches!(err, AccessError::Invalid(_)), "{bad:?}: {err}");
            assert!(!err.to_string().contains('\n'), "{bad:?}: {err}");
        }
        let cyrillic = email("\u{0430}lice@example.com").unwrap_err().to_string();
        assert!(
            cyrillic.contains("U+0430") && cyrillic.contains("ASCII"),
            "{cyrillic}"
        );
    }

    #[test]
    fn names_follow_each_systems_rule_and_are_never_altered() {
        use NameRule::*;
        for (rule, good) in [
            (Dns1123Label, "dev-cluster-1"),
            (Dns1123Label, "apps"),
            (KubernetesObject, "app-editor"),
            (KubernetesObject, "system:aggregate-to-view"),
            (TmcRole, "cluster.admin"),
            (TmcRole, "custom_role-2"),
            (Group, "Platform Admins (EU)"),
        ] {
            assert_eq!(name("scope.name", good, rule).unwrap(), good);
        }
        for (rule, bad) in [
            (Dns1123Label, "."),
            (Dns1123Label, ".."),
            (Dns1123Label, "a\r\nX"),
            (Dns1123Label, "a\tb"),
            (Dns1123Label, "Dev"),
            (Dns1123Label, "-dev"),
            (Dns1123Label, "dev/other"),
            (Dns1123Label, "dev%2fother"),
            (Dns1123Label, &"a".repeat(64)),
            (KubernetesObject, "a..b"),
            (KubernetesObject, "../etc"),
            (TmcRole, "Cluster.Admin"),
            (TmcRole, "*"),
            (Group, "admins\u{202E}"),
            (Group, "a\nb"),
            (Group, "."),
            (Group, "../x"),
            (Group, "team*"),
        ] {
            let err = name("scope.name", bad, rule).unwrap_err().to_string();
            assert!(
                err.contains("scope.name") && !err.contains('\n'),
                "{bad:?}: {err}"
            );
        }
        assert!(name("scope.namespace", " ", Dns1123Label).is_err());
    }

    proptest! {
        #[test]
        fn an_accepted_email_is_plain_ascii_with_one_at_and_round_trips(raw in "\\PC{0,40}") {
            if let Ok(normal) = email(&raw) {
                prop_assert!(normal.is_ascii());
                prop_assert_eq!(normal.matches('@').count(), 1);
                prop_assert!(!normal.contains(".."));
                prop_assert!(!normal.chars().any(|c| matches!(c, '*' | '?' | '#' | '%' | '/' | ' ')));
                prop_assert_eq!(email(&normal).unwrap(), normal.clone());
            }
        }

        #[test]
        fn an_accepted_label_is_safe_in_a_url_path(raw in "[a-zA-Z0-9./%:\\- \\r\\n\\t]{0,70}") {
            if let Ok(label) = name("n", &raw, NameRule::Dns1123Label) {
                prop_assert!(label.len() <= 63);
                prop_assert!(label != "." && label != "..");
                prop_assert!(label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            }
        }

        #[test]
        fn validation_never_panics_on_any_text(raw in "\\PC*") {
            let _ = email(&raw);
            for rule in [NameRule::Dns1123Label, NameRule::KubernetesObject, NameRule::TmcRole, NameRule::Group] {
                let _ = name("n", &raw, rule);
            }
        }
    }
}
