//! The merge rule: a role's effective settings from the top level, its cluster and itself.
//!
//! Lists concatenate in that order with duplicates removed (first occurrence kept), mappings
//! merge key by key, single values: the most specific wins. Every leaf keeps its origin so
//! `udo config show -v` can say where each value came from.

use super::schema::{self, Field, Kind};
use super::yaml::{Entry, Node, Span, Value};
use serde_json::json;

/// Which part of udo.yml a value was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Top,
    Cluster(String),
    Role(String, String),
}

impl Level {
    pub fn describe(&self) -> String {
        match self {
            Level::Top => "the top level".into(),
            Level::Cluster(c) => format!("cluster `{c}`"),
            Level::Role(c, r) => format!("role `{c}.{r}`"),
        }
    }

    pub fn short(&self) -> &'static str {
        match self {
            Level::Top => "top",
            Level::Cluster(_) => "cluster",
            Level::Role(..) => "role",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub level: Level,
    pub span: Span,
}

/// One merged single value with the place it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub text: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MValue {
    Scalar(Leaf),
    List(Vec<Leaf>),
    Map(Vec<(String, MValue)>),
}

/// Effective settings: an ordered mapping of canonical key to merged value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub entries: Vec<(String, MValue)>,
}

impl Settings {
    /// Merges one level's (already validated) mapping into these settings.
    pub fn merge_level(&mut self, entries: &[Entry], fields: &[Field], level: &Level) {
        merge_entries(&mut self.entries, entries, fields, level);
    }

    pub fn value(&self, path: &str) -> Option<&MValue> {
        let mut entries = &self.entries;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let (_, v) = entries.iter().find(|(k, _)| k == part)?;
            if parts.peek().is_none() {
                return Some(v);
            }
            match v {
                MValue::Map(inner) => entries = inner,
                _ => return None,
            }
        }
        None
    }

    pub fn leaf(&self, path: &str) -> Option<&Leaf> {
        match self.value(path)? {
            MValue::Scalar(leaf) => Some(leaf),
            _ => None,
        }
    }

    /// A single value as text (`None` when unset).
    pub fn str(&self, path: &str) -> Option<&str> {
        self.leaf(path).map(|l| l.text.as_str())
    }

    /// A list's items as text (empty when unset).
    pub fn list(&self, path: &str) -> Vec<&str> {
        match self.value(path) {
            Some(MValue::List(items)) => items.iter().map(|l| l.text.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn list_leaves(&self, path: &str) -> &[Leaf] {
        match self.value(path) {
            Some(MValue::List(items)) => items,
            _ => &[],
        }
    }

    /// A named list's entries (`schedule`, `scaling_policies`), merged by name, in order.
    pub fn named(&self, path: &str) -> Vec<Settings> {
        match self.value(path) {
            Some(MValue::Map(entries)) => entries
                .iter()
                .filter_map(|(_, v)| match v {
                    MValue::Map(e) => Some(Settings { entries: e.clone() }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A free mapping's pairs (tags), in order.
    pub fn pairs(&self, path: &str) -> Vec<(&str, &str)> {
        match self.value(path) {
            Some(MValue::Map(entries)) => entries
                .iter()
                .filter_map(|(k, v)| match v {
                    MValue::Scalar(l) => Some((k.as_str(), l.text.as_str())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn int(&self, path: &str) -> Option<i64> {
        self.str(path).and_then(|t| t.parse().ok())
    }

    pub fn bool(&self, path: &str) -> Option<bool> {
        self.str(path).and_then(schema::parse_bool)
    }

    /// The settings as JSON, typed by the schema (numbers as numbers, flags as booleans).
    pub fn to_json(&self, redact: &dyn Fn(&str) -> bool) -> serde_json::Value {
        entries_json(&self.entries, schema::FIELDS, "", redact)
    }

    /// Every leaf's dotted path and origin, in order.
    pub fn sources(&self) -> Vec<(String, &Origin)> {
        let mut out = Vec::new();
        collect_sources(&self.entries, "", &mut out);
        out
    }
}

fn merge_entries(
    acc: &mut Vec<(String, MValue)>,
    entries: &[Entry],
    fields: &[Field],
    level: &Level,
) {
    for entry in entries {
        let Some(field) = schema::lookup(fields, &entry.key) else {
            continue; // structural keys (clusters, roles, description) are not settings
        };
        let incoming = match to_mvalue(&entry.value, &field.kind, level) {
            Some(v) => v,
            None => continue, // null: not set at this level
        };
        match acc.iter_mut().find(|(k, _)| k == field.name) {
            None => acc.push((field.name.to_string(), incoming)),
            Some((_, existing)) => merge_value(existing, incoming),
        }
    }
}

fn merge_value(existing: &mut MValue, incoming: MValue) {
    match (existing, incoming) {
        (MValue::List(have), MValue::List(more)) => {
            for leaf in more {
                if !have.iter().any(|h| h.text == leaf.text) {
                    have.push(leaf);
                }
            }
        }
        (MValue::Map(have), MValue::Map(more)) => {
            for (k, v) in more {
                match have.iter_mut().find(|(hk, _)| *hk == k) {
                    Some((_, hv)) => merge_value(hv, v),
                    None => have.push((k, v)),
                }
            }
        }
        (slot, new) => *slot = new,
    }
}

fn to_mvalue(node: &Node, kind: &Kind, level: &Level) -> Option<MValue> {
    let leaf = |text: &str, span: Span| Leaf {
        text: text.to_string(),
        origin: Origin {
            level: level.clone(),
            span,
        },
    };
    match (&node.value, kind) {
        (Value::Null, _) => None,
        (Value::Scalar { text, .. }, _) => Some(MValue::Scalar(leaf(text, node.span))),
        // Named entries become a mapping of name to entry, so levels merge them by name.
        (Value::Seq(items), Kind::Named(fields)) => Some(MValue::Map(
            items
                .iter()
                .filter_map(|n| {
                    let entries = n.as_map()?;
                    let key = schema::named_key(fields);
                    let name = entries.iter().find(|e| e.key == key)?;
                    let Value::Scalar { text, .. } = &name.value.value else {
                        return None;
                    };
                    let mut out = Vec::new();
                    merge_entries(&mut out, entries, fields, level);
                    Some((text.clone(), MValue::Map(out)))
                })
                .collect(),
        )),
        (Value::Seq(items), _) => Some(MValue::List(
            items
                .iter()
                .filter_map(|n| match &n.value {
                    Value::Scalar { text, .. } => Some(leaf(text, n.span)),
                    _ => None,
                })
                .collect(),
        )),
        (Value::Map(entries), Kind::Record(fields)) => {
            let mut out = Vec::new();
            merge_entries(&mut out, entries, fields, level);
            Some(MValue::Map(out))
        }
        (Value::Map(entries), _) => Some(MValue::Map(
            entries
                .iter()
                .filter_map(|e| match &e.value.value {
                    Value::Scalar { text, .. } => {
                        Some((e.key.clone(), MValue::Scalar(leaf(text, e.value.span))))
                    }
                    _ => None,
                })
                .collect(),
        )),
    }
}

fn scalar_json(kind: &Kind, text: &str) -> serde_json::Value {
    match kind {
        Kind::Int { .. } => text.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(text)),
        Kind::Price => text.parse::<f64>().map(|n| json!(n)).unwrap_or(json!(text)),
        Kind::Bool => schema::parse_bool(text)
            .map(|b| json!(b))
            .unwrap_or(json!(text)),
        _ => json!(text),
    }
}

fn entries_json(
    entries: &[(String, MValue)],
    fields: &[Field],
    path: &str,
    redact: &dyn Fn(&str) -> bool,
) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (key, value) in entries {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let kind = schema::lookup(fields, key)
            .map(|f| &f.kind)
            .unwrap_or(&Kind::Text);
        let v = if redact(&full) {
            json!("<redacted>")
        } else {
            match (value, kind) {
                (MValue::Scalar(l), k) => scalar_json(k, &l.text),
                (MValue::List(items), Kind::List(inner)) => {
                    items.iter().map(|l| scalar_json(inner, &l.text)).collect()
                }
                (MValue::List(items), _) => items.iter().map(|l| json!(l.text)).collect(),
                (MValue::Map(inner), Kind::Record(sub)) => entries_json(inner, sub, &full, redact),
                (MValue::Map(inner), Kind::Named(sub)) => inner
                    .iter()
                    .map(|(name, entry)| match entry {
                        MValue::Map(e) => entries_json(e, sub, &format!("{full}.{name}"), redact),
                        _ => json!(null),
                    })
                    .collect(),
                (MValue::Map(inner), _) => entries_json(inner, &[], &full, redact),
            }
        };
        map.insert(key.clone(), v);
    }
    serde_json::Value::Object(map)
}

fn collect_sources<'a>(
    entries: &'a [(String, MValue)],
    path: &str,
    out: &mut Vec<(String, &'a Origin)>,
) {
    for (key, value) in entries {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            MValue::Scalar(l) => out.push((full, &l.origin)),
            MValue::List(items) => {
                for (i, l) in items.iter().enumerate() {
                    out.push((format!("{full}[{i}]"), &l.origin));
                }
            }
            MValue::Map(inner) => collect_sources(inner, &full, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;

    fn merged(levels: &[(&str, Level)]) -> Settings {
        let mut s = Settings::default();
        for (src, level) in levels {
            if let Some(node) = yaml::parse(src).unwrap() {
                s.merge_level(node.as_map().unwrap(), schema::FIELDS, level);
            }
        }
        s
    }

    fn three(top: &str, cluster: &str, role: &str) -> Settings {
        merged(&[
            (top, Level::Top),
            (cluster, Level::Cluster("dev".into())),
            (role, Level::Role("dev".into(), "web".into())),
        ])
    }

    #[test]
    fn lists_concatenate_in_order_without_duplicates() {
        let s = three(
            "packages: [base, common]",
            "packages: [dev-cfg, base]",
            "packages: [app, common, app]",
        );
        assert_eq!(s.list("packages"), vec!["base", "common", "dev-cfg", "app"]);
        // the first occurrence keeps its origin
        assert_eq!(s.list_leaves("packages")[0].origin.level, Level::Top);
        assert_eq!(
            s.list_leaves("packages")[3].origin.level,
            Level::Role("dev".into(), "web".into())
        );
    }

    #[test]
    fn scalars_most_specific_wins() {
        let s = three(
            "ami: ami-top\ninstance_type: t3.small",
            "ami: ami-cluster",
            "instance_type: m5.large",
        );
        assert_eq!(s.str("ami"), Some("ami-cluster"));
        assert_eq!(s.str("instance_type"), Some("m5.large"));
        assert_eq!(s.leaf("ami").unwrap().origin.span.line, 1);
    }

    #[test]
    fn maps_merge_key_by_key() {
        let s = three(
            "tags: {team: core, env: any}\nscale_policy: {min_size: 1, max_size: 4}",
            "tags: {env: dev}",
            "scale_policy: {max_size: 8, desired: 2}",
        );
        assert_eq!(s.pairs("tags"), vec![("team", "core"), ("env", "dev")]);
        assert_eq!(s.int("scale_policy.min_size"), Some(1));
        assert_eq!(s.int("scale_policy.max_size"), Some(8));
        assert_eq!(s.int("scale_policy.desired"), Some(2));
    }

    #[test]
    fn null_means_not_set_and_alias_is_canonical() {
        let s = three(
            "keypair_name: dev\ncloud_init: echo hi",
            "keypair_name:",
            "",
        );
        assert_eq!(s.str("keypair_name"), Some("dev"));
        assert_eq!(s.str("cloud_init_pre"), Some("echo hi"));
    }

    #[test]
    fn named_entries_merge_by_name() {
        let s = three(
            "schedule: [{name: night, recurrence: '0 20 * * *', desired: 0}]",
            "schedule:\n  - name: morning\n    recurrence: '0 8 * * *'\n    desired: 2",
            "schedule: [{name: night, desired: 1}]",
        );
        let e = s.named("schedule");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].str("name"), Some("night"));
        assert_eq!(e[0].str("recurrence"), Some("0 20 * * *"));
        assert_eq!(e[0].int("desired"), Some(1));
        assert_eq!(e[1].int("desired"), Some(2));
        let j = s.to_json(&|_| false);
        assert_eq!(j["schedule"][0]["desired"], 1);
        assert_eq!(j["schedule"][1]["name"], "morning");
    }

    #[test]
    fn json_is_typed_and_redacted() {
        let s = three(
            "slack: {url: 'https://hooks.example/secret', channel: '#ops'}\ndebug: 1\nspot_price: 0.05",
            "",
            "scale_policy: {min_size: 1}",
        );
        let j = s.to_json(&|p| p == "slack.url");
        assert_eq!(j["slack"]["url"], "<redacted>");
        assert_eq!(j["debug"], true);
        assert_eq!(j["spot_price"], 0.05);
        assert_eq!(j["scale_policy"]["min_size"], 1);
    }
}
