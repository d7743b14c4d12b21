//! Reading the environment: one rule for every `FRONTEGG_*` variable.

/// The variable's value, trimmed; `Ok(None)` when it is unset or blank; `Err` with the reason
/// when it is not UTF-8.
pub(crate) fn var(name: &'static str) -> Result<Option<String>, &'static str> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err("is not valid UTF-8"),
    }
}
