//! Secrets kept out of udo.yml: a webhook URL may be written as `${NAME}` (or contain it) and is
//! taken from the environment, so the file can live in git. An unset variable is a located
//! configuration error, found when udo.yml is loaded, before any AWS call.

/// Settings whose values may refer to environment variables (webhooks, which are secrets): the
/// Slack URL and each entry of `notify`.
pub const FROM_ENV: &[&str] = &["slack.url", "notify"];

pub fn takes_env(path: &str) -> bool {
    FROM_ENV.contains(&path)
}

/// Replaces every `${NAME}` with the variable's value, read through `lookup`. Fails naming the
/// first variable that is unset (or empty), or a `${` that is not a well-formed reference.
pub fn expand_with(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Missing> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(Missing::Malformed);
        };
        let name = &after[..end];
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Missing::Malformed);
        }
        match lookup(name).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(&v),
            None => return Err(Missing::Unset(name.to_string())),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `expand_with` over the process environment: what webhook senders call to get the URL, at
/// delivery, so the expanded secret lives only in the request and never in printed settings.
pub fn expand(text: &str) -> Result<String, Missing> {
    expand_with(text, |n| std::env::var(n).ok())
}

/// Why a value could not be expanded.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    Unset(String),
    Malformed,
}

/// Checks a value at load time: the message and help of a configuration error, if any.
pub fn check(path: &str, text: &str) -> Option<(String, String)> {
    match expand_with(text, |n| std::env::var(n).ok()) {
        Ok(_) => None,
        Err(Missing::Unset(name)) => Some((
            format!("`{path}` uses ${{{name}}}, which is not set in the environment"),
            format!("export {name}=… before running udo (it is a secret: keep it out of udo.yml)"),
        )),
        Err(Missing::Malformed) => Some((
            format!("`{path}` has a `${{` that is not a variable reference"),
            "write `${NAME}` with NAME made of letters, digits and `_`".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "HOOK").then(|| "https://hooks.example/T0/x".to_string())
    }

    #[test]
    fn references_expand() {
        assert_eq!(
            expand_with("${HOOK}", env).unwrap(),
            "https://hooks.example/T0/x"
        );
        assert_eq!(
            expand_with("a/${HOOK}/b", env).unwrap(),
            "a/https://hooks.example/T0/x/b"
        );
        assert_eq!(expand_with("https://plain", env).unwrap(), "https://plain");
    }

    #[test]
    fn unset_and_malformed_references_fail() {
        assert_eq!(
            expand_with("${NOPE}", env),
            Err(Missing::Unset("NOPE".into()))
        );
        assert_eq!(expand_with("${HOOK", env), Err(Missing::Malformed));
        assert_eq!(expand_with("${1X}", env), Err(Missing::Malformed));
    }
}
