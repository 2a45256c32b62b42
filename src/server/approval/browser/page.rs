//! The approval page's HTML: the plan, why it needs a human, a field to type the target back,
//! approve and decline. Plain HTML with inline style: it works without JavaScript and in a
//! text browser. Every value from the world is escaped.

use crate::access::approval::Round;

/// What a page shows, copied from the approval request when the page was made.
#[derive(Debug, Clone)]
pub struct Shown {
    pub tool: &'static str,
    pub target: String,
    pub summary: String,
    pub reason: String,
    pub round: Round,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;\
padding:0 1rem;color:#1b1b1b;line-height:1.45}h1{font-size:1.4rem}\
pre{background:#f4f4f4;border:1px solid #ddd;padding:.8rem;white-space:pre-wrap}\
.why{background:#fff4e5;border-left:4px solid #e69500;padding:.5rem .8rem}\
.changed{background:#fdecea;border-left:4px solid #d93025;padding:.5rem .8rem}\
label{display:block;margin:1rem 0 .3rem;font-weight:600}\
input[type=email],input[type=text]{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}\
button{margin:1rem .6rem 0 0;padding:.5rem 1.2rem;font-size:1rem}\
.approve{background:#1a7f37;color:#fff;border:0}.decline{background:#fff;border:1px solid #888}\
small{color:#555}";

/// The form page. `action` is the page's own path; `token` ties the post to this page.
pub fn form(shown: &Shown, action: &str, token: &str, expires_in_secs: u64) -> String {
    let changed = if shown.round == Round::PlanChanged {
        "<p class=\"changed\">The plan changed while it was waiting for approval: this is the \
         new plan. Nothing has changed yet.</p>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\">\
<title>Approve: {tool} for {target}</title><style>{STYLE}</style></head><body>\
<h1>tanzu-mcp asks you to approve a change</h1>{changed}\
<p>Tool <b>{tool}</b>, about <b>{target}</b>. This is the exact plan; nothing runs unless \
you approve it here.</p>\
<pre id=\"plan\">{summary}</pre>\
<p class=\"why\">This needs a human because {reason}.</p>\
<form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"token\" value=\"{token}\">\
<label for=\"email\">To approve exactly this plan, type {target}:</label>\
<input id=\"email\" name=\"email\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\">\
<button class=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
<button class=\"decline\" type=\"submit\" name=\"decision\" value=\"decline\">Decline</button>\
</form><p><small>This page works once and expires in {minutes} min. If the world changes \
before the plan runs, it does not run and a new page is opened.</small></p></body></html>",
        tool = escape(shown.tool),
        target = escape(&shown.target),
        summary = escape(&shown.summary),
        reason = escape(&shown.reason),
        action = escape(action),
        token = escape(token),
        minutes = expires_in_secs.div_ceil(60),
    )
}

/// A page saying how it ended, or why the page is no longer there.
pub fn message(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1><p id=\"outcome\">{text}</p>\
</body></html>",
        title = escape(title),
        text = escape(text),
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_what_it_shows() {
        let shown = Shown {
            tool: "revoke_all_access",
            target: "a@example.com".into(),
            summary: "<script>x</script>".into(),
            reason: "it is \"destructive\"".into(),
            round: Round::PlanChanged,
        };
        let html = form(&shown, "/approve/abc", "t0k", 300);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("&quot;destructive&quot;"));
        assert!(html.contains("The plan changed") && html.contains("expires in 5 min"));
    }
}
