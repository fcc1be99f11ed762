//! What a role's instances are launched with, as udo's own type: built from udo.yml, read back
//! from a launch template version or launch configuration, and compared field by field.
//!
//! One type for both launch kinds keeps `lc show`, `lc create` and `asg updatelc` on one diff.

use crate::cloudinit;
use crate::config::Role;
use crate::config::diag::Diagnostic;

/// Launch templates (the default) or legacy launch configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchKind {
    Template,
    Configuration,
}

impl LaunchKind {
    pub fn of(role: &Role) -> LaunchKind {
        match role.settings.str("launch") {
            Some("configuration") => LaunchKind::Configuration,
            _ => LaunchKind::Template,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            LaunchKind::Template => "launch template",
            LaunchKind::Configuration => "launch configuration",
        }
    }
}

/// The settings an instance is launched with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaunchSpec {
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub key_name: Option<String>,
    pub iam_profile: Option<String>,
    pub security_groups: Vec<String>,
    pub user_data: String,
    pub tenancy: Option<String>,
    pub spot_price: Option<String>,
    pub public: bool,
    /// Tags put on instances and volumes (templates only; groups tag instances too).
    pub tags: Vec<(String, String)>,
}

/// One field that differs between the live launch settings and udo.yml's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    pub field: &'static str,
    pub live: String,
    pub desired: String,
}

/// The tags udo puts on everything it creates for a role.
pub fn role_tags(role: &Role) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = role
        .settings
        .pairs("tags")
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("cluster", role.cluster.clone()),
        ("role", role.name.clone()),
        ("Name", role.group_name()),
        ("udo:app", role.app_name().to_string()),
        ("udo:cluster", role.cluster.clone()),
        ("udo:role", role.name.clone()),
    ] {
        tags.retain(|(have, _)| have != k);
        tags.push((k.to_string(), v));
    }
    tags
}

impl LaunchSpec {
    /// Everything in a role's settings that stops a launch, each located as the commands
    /// report it: a missing `ami` or `instance_type`, a security group name where an id is
    /// needed. `validate` reports them all; `desired` stops at the first.
    pub fn problems(role: &Role) -> Vec<Diagnostic> {
        let s = &role.settings;
        let mut out = Vec::new();
        for key in ["ami", "instance_type"] {
            if s.str(key).is_none() {
                out.push(
                    Diagnostic::at(
                        role.span,
                        format!("role `{}` has no `{key}`", role.target()),
                    )
                    .help(format!(
                        "set `{key}` for the role, its cluster or at the top level"
                    )),
                );
            }
        }
        let public = s.bool("public").unwrap_or(true);
        if LaunchKind::of(role) == LaunchKind::Template && public {
            for leaf in s.list_leaves("security_groups") {
                if !leaf.text.starts_with("sg-") {
                    out.push(Diagnostic::at(leaf.origin.span, format!("security group `{}` is a name, but launch templates with public addresses need group ids", leaf.text))
                        .help("use the group's id (sg-…), or `public: false`"));
                }
            }
        }
        out
    }

    /// The spec udo.yml asks for. Fails (a configuration error) when a required key is missing.
    pub fn desired(role: &Role, region: &str) -> Result<LaunchSpec, Diagnostic> {
        if let Some(first) = LaunchSpec::problems(role).into_iter().next() {
            return Err(first);
        }
        let s = &role.settings;
        let public = s.bool("public").unwrap_or(true);
        let kind = LaunchKind::of(role);
        let security_groups: Vec<String> = s
            .list("security_groups")
            .into_iter()
            .map(String::from)
            .collect();
        Ok(LaunchSpec {
            image_id: s.str("ami").map(String::from),
            instance_type: s.str("instance_type").map(String::from),
            key_name: s.str("keypair_name").map(String::from),
            iam_profile: s.str("iam_profile").map(String::from),
            security_groups,
            user_data: cloudinit::render(role, region),
            tenancy: s.str("tenancy").map(String::from),
            spot_price: s.str("spot_price").map(normalize_price),
            public,
            tags: match kind {
                LaunchKind::Template => role_tags(role),
                LaunchKind::Configuration => Vec::new(),
            },
        })
    }

    /// The settings as (field, shown value) pairs in a fixed order: the one list that
    /// `diff`, `lc show` and `asg updatelc` all present.
    pub fn fields(&self) -> [(&'static str, String); 10] {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "(none)".into());
        let mut tags = self.tags.clone();
        tags.sort();
        [
            ("image", opt(&self.image_id)),
            ("instance type", opt(&self.instance_type)),
            ("key pair", opt(&self.key_name)),
            ("IAM instance profile", opt(&self.iam_profile)),
            ("security groups", list(&self.security_groups)),
            (
                "tenancy",
                self.tenancy.clone().unwrap_or_else(|| "default".into()),
            ),
            ("spot price", opt(&self.spot_price)),
            ("public address", self.public.to_string()),
            ("instance tags", pairs(&tags)),
            ("user data", format!("{} bytes", self.user_data.len())),
        ]
    }

    /// Fields that differ, in a fixed order. User data is compared by content (its shown
    /// value is only a size), and shown by `user_data_diff`.
    pub fn diff(&self, desired: &LaunchSpec) -> Vec<FieldDiff> {
        self.fields()
            .into_iter()
            .zip(desired.fields())
            .filter(|((field, live), (_, want))| {
                live != want || (*field == "user data" && self.user_data != desired.user_data)
            })
            .map(|((field, live), (_, desired))| FieldDiff {
                field,
                live,
                desired,
            })
            .collect()
    }
}

/// A unified diff of two user-data scripts, empty when they are equal.
pub fn user_data_diff(live: &str, desired: &str) -> String {
    if live == desired {
        return String::new();
    }
    similar::TextDiff::from_lines(live, desired)
        .unified_diff()
        .context_radius(2)
        .header("live", "udo.yml")
        .to_string()
}

/// Prices compare as numbers: AWS may echo `0.050000` for `0.05`.
pub fn normalize_price(p: &str) -> String {
    match p.parse::<f64>() {
        Ok(v) => {
            let s = format!("{v:.6}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        Err(_) => p.to_string(),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

fn pairs(items: &[(String, String)]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_normalize() {
        assert_eq!(normalize_price("0.05"), "0.05");
        assert_eq!(normalize_price("0.050000"), "0.05");
        assert_eq!(normalize_price("1"), "1");
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let a = LaunchSpec {
            image_id: Some("ami-1".into()),
            instance_type: Some("t3.small".into()),
            user_data: "#!/bin/bash\necho a\n".into(),
            public: true,
            ..Default::default()
        };
        let mut b = a.clone();
        assert!(a.diff(&b).is_empty());
        b.instance_type = Some("t3.large".into());
        b.user_data = "#!/bin/bash\necho b\n".into();
        let d = a.diff(&b);
        assert_eq!(
            d.iter().map(|f| f.field).collect::<Vec<_>>(),
            vec!["instance type", "user data"]
        );
        let ud = user_data_diff(&a.user_data, &b.user_data);
        assert!(ud.contains("-echo a\n+echo b\n"), "{ud}");
    }
}
