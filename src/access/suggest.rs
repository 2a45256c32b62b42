//! "Did you mean ...?": an unknown name (cluster, cluster group, workspace, namespace, role,
//! TAP cluster) is refused with the valid names closest to it and a pointer to
//! `list_clusters`, so a model corrects a typo in one step instead of guessing again.

use super::error::AccessError;

/// At most this many close matches are offered.
const MAX_SUGGESTIONS: usize = 3;

/// Up to this many valid names are listed in full; beyond, only the close ones.
const MAX_LISTED: usize = 20;

/// The candidates closest to `name`, best first: equal when case is ignored, then those
/// within a small edit distance (a third of the name's length, at least 2), then those that
/// contain it or that it contains.
pub fn close_matches<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted = name.to_lowercase();
    let budget = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != name)
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = edit_distance(&wanted, &lower);
            let contains = !wanted.is_empty()
                && wanted.len() >= 3
                && (lower.contains(&wanted) || wanted.contains(&lower));
            if distance <= budget {
                Some((distance, candidate))
            } else if contains {
                Some((budget + 1, candidate))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// A refusal of an unknown name: "there is no TMC cluster named 'dev-cluster1'", fixed by "did you
/// mean dev-cluster-1?" when something is close, and always pointing at `list_clusters`.
pub fn unknown_name<'a>(
    what: &str,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> AccessError {
    let mut candidates: Vec<&str> = candidates.into_iter().collect();
    candidates.sort_unstable();
    let close = close_matches(name, candidates.iter().copied());
    let mut fix = Vec::new();
    if !close.is_empty() {
        fix.push(format!("did you mean {}?", or_list(&close)));
    }
    if candidates.is_empty() {
        fix.push("there is none".to_string());
    } else if candidates.len() <= MAX_LISTED {
        fix.push(format!("valid: {}", candidates.join(", ")));
    }
    fix.push("list_clusters lists every valid name".to_string());
    let fix = fix.join("; ");
    // The name is the model's: escaped, so the message cannot carry a forged line.
    let name = super::validate::printable(name);
    AccessError::refused(format!("there is no {what} named '{name}'"), fix)
}

/// "a", "a or b", "a, b or c".
fn or_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Levenshtein distance over characters, in O(len) memory.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_real_name_first() {
        let clusters = ["dev-cluster-1", "dev-cluster-2", "prod-cluster-1"];
        assert_eq!(close_matches("dev-cluster1", clusters)[0], "dev-cluster-1");
        assert_eq!(close_matches("Dev-Cluster-2", clusters)[0], "dev-cluster-2");
        assert_eq!(close_matches("prod", clusters), vec!["prod-cluster-1"]);
        assert!(close_matches("staging", clusters).is_empty());
    }

    #[test]
    fn a_hostile_unknown_name_is_escaped_in_the_refusal() {
        let text =
            unknown_name("TMC or TAP cluster", "dev\r\nINFO forged\u{202e}", ["dev"]).to_string();
        assert!(!text.contains('\n') && !text.contains('\r') && !text.contains('\u{202e}'));
        assert!(
            text.contains("dev\\u{000d}\\u{000a}INFO forged\\u{202e}"),
            "{text}"
        );
    }

    #[test]
    fn the_refusal_says_did_you_mean_and_points_at_list_clusters() {
        let error = unknown_name("TMC cluster", "dev-cluster1", ["dev-cluster-1", "other"]);
        let text = error.to_string();
        assert!(
            text.contains("no TMC cluster named 'dev-cluster1'")
                && text.contains("did you mean dev-cluster-1?")
                && text.contains("list_clusters"),
            "{text}"
        );
        let none = unknown_name("workspace", "zzz", ["team-a", "team-b"]).to_string();
        assert!(
            none.contains("valid: team-a, team-b") && none.contains("list_clusters"),
            "{none}"
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
