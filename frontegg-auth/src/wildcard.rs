//! Frontegg's wildcard permissions: the one rule every permission check of this crate uses.

/// Whether a granted permission grants a required key: equal, or, with `wildcards`, a pattern in
/// which each `*` stands for one or more characters, anchored at both ends (the rule of
/// Frontegg's entitlements engine).
///
/// ```
/// use frontegg_auth::requirement::permission_grants;
/// assert!(permission_grants("fe.secure.*", "fe.secure.read.users", true));
/// assert!(permission_grants("fe.*", "fe.billing.read", true));
/// assert!(!permission_grants("fe.secure.*", "fe.secure.", true));
/// assert!(!permission_grants("fe.billing.reads", "fe.billing.read", true));
/// assert!(!permission_grants("fe.*", "fe.billing.read", false));
/// ```
pub fn permission_grants(granted: &str, required: &str, wildcards: bool) -> bool {
    if !wildcards || !granted.contains('*') {
        return granted == required;
    }
    // Written by hand: glob crates treat `*` as zero or more characters, Frontegg as one or more.
    let mut parts = granted.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = required.strip_prefix(first) else {
        return false;
    };
    let mut parts = parts.peekable();
    while let Some(part) = parts.next() {
        // The star before `part` takes at least one character.
        let mut chars = rest.chars();
        if chars.next().is_none() {
            return false;
        }
        rest = chars.as_str();
        if parts.peek().is_none() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::permission_grants as g;

    #[test]
    fn wildcard_rule_of_the_entitlements_engine() {
        assert!(g("fe.secure.*", "fe.secure.read.users", true));
        assert!(g("fe.secure.*", "fe.secure.x", true));
        assert!(!g("fe.secure.*", "fe.secure.", true));
        assert!(!g("fe.secure.*", "fe.secure", true));
        assert!(!g("fe.secure.*", "xfe.secure.read", true));
        assert!(g("*", "anything", true));
        assert!(!g("*", "", true));
        assert!(g("a.*.c", "a.b.c", true));
        assert!(g("a.*.c", "a.b.x.c", true));
        assert!(!g("a.*.c", "a..c", true));
        assert!(g("a**", "abc", true));
        assert!(!g("a**", "ab", true));
        assert!(g("*.read", "reports.read", true));
        assert!(!g("*.read", "reports.read.all", true));
        assert!(g("é.*", "é.ü", true));
        assert!(g("reports.read", "reports.read", true));
        assert!(!g("fe.billing.reads", "fe.billing.read", true));
        assert!(!g("reports.*", "reports.read", false));
        assert!(g("reports.*", "reports.*", false));
    }
}
