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
    /// Instance metadata service options; `None` when the live settings name none (AWS then
    /// answers IMDSv1 requests too). udo.yml always asks for some: IMDSv2 by default.
    pub metadata: Option<Metadata>,
    /// The root volume; `None` when the live settings map none (the AMI's own, usually not
    /// encrypted). udo.yml always asks for one: encrypted gp3 by default.
    pub root_volume: Option<Volume>,
    /// Extra EBS volumes, by device. Read back from AWS, the root volume's mapping is here too
    /// until [`LaunchSpec::aligned`] tells it apart (its device name comes from the AMI).
    pub volumes: Vec<Volume>,
}

/// Instance metadata service options (`metadata:` in udo.yml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// IMDSv2 session tokens required: an instance's credentials cannot be read through a
    /// request forgery that IMDSv1 allows.
    pub tokens_required: bool,
    /// How many network hops a metadata reply may travel: 1 keeps it on the instance; 2
    /// lets containers on the instance (behind a bridge) reach it.
    pub hop_limit: i64,
    /// The instance's tags readable through the metadata service.
    pub instance_tags: bool,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            tokens_required: true,
            hop_limit: 1,
            instance_tags: false,
        }
    }
}

impl Metadata {
    fn describe(m: &Option<Metadata>) -> String {
        match m {
            None => "not set: IMDSv1 allowed".into(),
            Some(m) => format!(
                "IMDSv2 {}, hop limit {}, tags {}",
                if m.tokens_required {
                    "required"
                } else {
                    "optional (IMDSv1 allowed)"
                },
                m.hop_limit,
                if m.instance_tags { "on" } else { "off" }
            ),
        }
    }
}

/// One EBS volume of the launch settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Volume {
    /// The device name. For the root volume, `None` in udo.yml's settings (the AMI names its
    /// root device); never shown or compared for the root.
    pub device: Option<String>,
    /// GiB; `None`: the AMI's (snapshot's) size.
    pub size: Option<i64>,
    /// gp3, gp2, io2, io1, st1, sc1; `None`: AWS's choice (live settings only).
    pub kind: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: bool,
    pub kms_key: Option<String>,
    /// Extra volumes only (udo sends it for each); the root volume is always deleted with its
    /// instance.
    pub delete_on_termination: Option<bool>,
}

impl Volume {
    /// One line for tables and diffs: `gp3, 100 GiB, 3000 IOPS, encrypted, deleted on
    /// termination`.
    pub fn describe(&self) -> String {
        let mut parts = vec![
            self.kind.clone().unwrap_or_else(|| "the AMI's type".into()),
            self.size
                .map_or("the AMI's size".to_string(), |s| format!("{s} GiB")),
        ];
        if let Some(i) = self.iops {
            parts.push(format!("{i} IOPS"));
        }
        if let Some(t) = self.throughput {
            parts.push(format!("{t} MiB/s"));
        }
        parts.push(match (&self.encrypted, &self.kms_key) {
            (true, Some(k)) => format!("encrypted with {k}"),
            (true, None) => "encrypted".into(),
            (false, _) => "not encrypted".into(),
        });
        match self.delete_on_termination {
            Some(false) => parts.push("kept after termination".into()),
            Some(true) if self.device.is_some() => parts.push("deleted on termination".into()),
            _ => {}
        }
        parts.join(", ")
    }
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
            if s.str(key).is_none()
                && (key != "instance_type" || s.list("instance_types").is_empty())
            {
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
            instance_type: instance_types(role).into_iter().next(),
            key_name: s.str("keypair_name").map(String::from),
            iam_profile: s.str("iam_profile").map(String::from),
            security_groups,
            user_data: cloudinit::render(role, region),
            tenancy: s.str("tenancy").map(String::from),
            // A template role's spot price goes to the group's instances distribution (a
            // template asking for spot cannot serve a mixed instances policy).
            spot_price: match kind {
                LaunchKind::Configuration => s.str("spot_price").map(normalize_price),
                LaunchKind::Template => None,
            },
            public,
            tags: match kind {
                LaunchKind::Template => role_tags(role),
                LaunchKind::Configuration => Vec::new(),
            },
            metadata: Some(desired_metadata(role)),
            root_volume: Some(desired_root(role)),
            volumes: desired_volumes(role),
        })
    }

    /// The live settings with the root volume told apart from the extra ones: AWS keeps every
    /// mapping under its device name, and the root's name comes from the AMI, so the root is
    /// the mapping whose device udo.yml's `volumes` do not name (the first such, when a volume
    /// was dropped: udo writes the root first). Settings from udo.yml come back unchanged.
    pub fn aligned(&self, desired: &LaunchSpec) -> LaunchSpec {
        let mut out = self.clone();
        if out.root_volume.is_some() {
            return out;
        }
        let named = |v: &Volume| {
            desired
                .volumes
                .iter()
                .any(|d| d.device.is_some() && d.device == v.device)
        };
        let unnamed: Vec<usize> = (0..out.volumes.len())
            .filter(|&i| !named(&out.volumes[i]))
            .collect();
        // One unnamed mapping is the root; of several (udo.yml dropped a volume), the first
        // one, as udo writes the root first.
        let root = match unnamed[..] {
            [i] => Some(i),
            [0, ..] => Some(0),
            _ => None,
        };
        if let Some(i) = root {
            // keeps its device name: not shown, not compared, but a new version for the same
            // AMI can reuse it (`with_root_device_of`)
            let mut root = out.volumes.remove(i);
            root.delete_on_termination = None;
            out.root_volume = Some(root);
        }
        out
    }

    /// udo.yml's settings with the root device named as the live version names it, when that
    /// version is for the same AMI: a new version then needs no DescribeImages to learn it.
    pub fn with_root_device_of(mut self, live: Option<&LaunchSpec>) -> LaunchSpec {
        let Some(live) = live.filter(|l| l.image_id == self.image_id) else {
            return self;
        };
        let device = live.aligned(&self).root_volume.and_then(|r| r.device);
        if let Some(root) = &mut self.root_volume
            && root.device.is_none()
        {
            root.device = device;
        }
        self
    }

    /// The settings as (field, shown value) pairs in a fixed order: the one list that
    /// `diff`, `lc show` and `asg updatelc` all present.
    pub fn fields(&self) -> [(&'static str, String); 13] {
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
            ("instance metadata", Metadata::describe(&self.metadata)),
            (
                "root volume",
                self.root_volume
                    .as_ref()
                    .map_or("(the AMI's: not encrypted by udo)".into(), Volume::describe),
            ),
            (
                "volumes",
                if self.volumes.is_empty() {
                    "(none)".into()
                } else {
                    self.volumes
                        .iter()
                        .map(|v| {
                            format!("{}: {}", v.device.as_deref().unwrap_or("?"), v.describe())
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ),
            ("user data", format!("{} bytes", self.user_data.len())),
        ]
    }

    /// Fields that differ, in a fixed order. User data is compared by content (its shown
    /// value is only a size), and shown by `user_data_diff`.
    pub fn diff(&self, desired: &LaunchSpec) -> Vec<FieldDiff> {
        self.aligned(desired)
            .fields()
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

/// The role's instance types, the primary first: `instance_types` when it is set at a level at
/// least as specific as `instance_type` (a role's list wins over the top level's single type),
/// else `instance_type` alone.
pub fn instance_types(role: &Role) -> Vec<String> {
    let s = &role.settings;
    let rank = |l: &crate::config::merge::Level| match l {
        crate::config::merge::Level::Top => 0,
        crate::config::merge::Level::Cluster(_) => 1,
        crate::config::merge::Level::Role(..) => 2,
    };
    let list = s.list_leaves("instance_types");
    let list_rank = list.iter().map(|l| rank(&l.origin.level)).max();
    match (s.leaf("instance_type"), list_rank) {
        (Some(one), Some(r)) if rank(&one.origin.level) > r => vec![one.text.clone()],
        (_, Some(_)) => list.iter().map(|l| l.text.clone()).collect(),
        (Some(one), None) => vec![one.text.clone()],
        (None, None) => Vec::new(),
    }
}

/// How a group spreads over instance types and purchase options: AWS's mixed instances
/// policy over the role's launch template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMix {
    /// The overrides, in priority order; the first is the template's own type.
    pub types: Vec<String>,
    pub on_demand_base: i64,
    /// Percent of the capacity above the base that is on demand (the rest is spot).
    pub on_demand_percent: i64,
    pub allocation: String,
    /// Highest spot price; `None`: the on-demand price (AWS's default).
    pub max_price: Option<String>,
}

impl InstanceMix {
    /// The mix udo.yml asks for, `None` for a plain one-type on-demand group: template roles
    /// with several `instance_types`, with `spot`, or with the legacy `spot_price` (all spot at
    /// most that price). Configuration roles have no mix (they keep `spot_price` in the
    /// configuration).
    pub fn desired(role: &Role) -> Option<InstanceMix> {
        if LaunchKind::of(role) == LaunchKind::Configuration {
            return None;
        }
        let s = &role.settings;
        let types = instance_types(role);
        let spot = s.value("spot").is_some();
        let legacy = s.str("spot_price").map(normalize_price);
        if types.len() < 2 && !spot && legacy.is_none() {
            return None;
        }
        let spot_used = spot || legacy.is_some();
        Some(InstanceMix {
            types,
            on_demand_base: s.int("spot.on_demand_base").unwrap_or(0),
            on_demand_percent: s.int("spot.on_demand_percent").unwrap_or(if spot_used {
                0
            } else {
                100
            }),
            allocation: s
                .str("spot.allocation")
                .unwrap_or("price-capacity-optimized")
                .to_string(),
            max_price: s.str("spot.max_price").map(normalize_price).or(legacy),
        })
    }

    /// Whether any of the group's instances may be spot.
    pub fn uses_spot(&self) -> bool {
        self.on_demand_percent < 100
    }

    /// One line: `t3.small, t3.large; 1 on demand, then 25% on demand, spot
    /// price-capacity-optimized at most 0.05`.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{}; {} on demand, then {}% on demand",
            self.types.join(", "),
            self.on_demand_base,
            self.on_demand_percent
        );
        if self.uses_spot() {
            out.push_str(&format!(", spot {}", self.allocation));
            out.push_str(&match &self.max_price {
                Some(p) => format!(" at most {p}"),
                None => " at most the on-demand price".into(),
            });
        }
        out
    }

    /// `describe` for an optional mix: a plain group is on demand, one type.
    pub fn describe_opt(mix: &Option<InstanceMix>) -> String {
        match mix {
            Some(m) => m.describe(),
            None => "(one type, on demand)".into(),
        }
    }
}

fn desired_metadata(role: &Role) -> Metadata {
    let s = &role.settings;
    Metadata {
        tokens_required: s.str("metadata.tokens") != Some("optional"),
        hop_limit: s.int("metadata.hop_limit").unwrap_or(1),
        instance_tags: s.bool("metadata.instance_tags").unwrap_or(false),
    }
}

/// `root_volume`, defaults filled in: gp3, encrypted, the AMI's size.
fn desired_root(role: &Role) -> Volume {
    let s = &role.settings;
    Volume {
        device: None,
        size: s.int("root_volume.size"),
        kind: Some(s.str("root_volume.type").unwrap_or("gp3").to_string()),
        iops: s.int("root_volume.iops"),
        throughput: s.int("root_volume.throughput"),
        encrypted: s.bool("root_volume.encrypted").unwrap_or(true),
        kms_key: s.str("root_volume.kms_key").map(String::from),
        delete_on_termination: None,
    }
}

fn desired_volumes(role: &Role) -> Vec<Volume> {
    role.settings
        .named("volumes")
        .iter()
        .map(|v| Volume {
            device: v.str("device").map(String::from),
            size: v.int("size"),
            kind: Some(v.str("type").unwrap_or("gp3").to_string()),
            iops: v.int("iops"),
            throughput: v.int("throughput"),
            encrypted: v.bool("encrypted").unwrap_or(true),
            kms_key: v.str("kms_key").map(String::from),
            delete_on_termination: Some(v.bool("delete_on_termination").unwrap_or(true)),
        })
        .collect()
}

/// Sizes (GiB) and IOPS each EBS volume type allows, from the EBS volume types reference:
/// (min size, max size, IOPS range if it takes IOPS, max IOPS per GiB, takes throughput).
fn volume_limits(kind: &str) -> (i64, i64, Option<(i64, i64)>, i64, bool) {
    match kind {
        "gp3" => (1, 65_536, Some((3_000, 80_000)), 500, true),
        "io2" => (4, 65_536, Some((100, 256_000)), 1_000, false),
        "io1" => (4, 16_384, Some((100, 64_000)), 50, false),
        "gp2" => (1, 16_384, None, 0, false),
        _ => (125, 16_384, None, 0, false), // st1, sc1
    }
}

/// The volume settings of a role that AWS would refuse, each at its place in udo.yml: IOPS
/// only for io1, io2 and gp3 and within their ranges, throughput only for gp3, sizes within
/// the type's limits, a device for every extra volume, and what launch configurations lack.
pub fn check_role(role: &Role) -> Vec<Diagnostic> {
    let s = &role.settings;
    let mut out = Vec::new();
    let kind = LaunchKind::of(role);
    let mut volumes: Vec<(String, crate::config::merge::Settings)> = Vec::new();
    if let Some(crate::config::merge::MValue::Map(e)) = s.value("root_volume") {
        volumes.push((
            "root_volume".into(),
            crate::config::merge::Settings { entries: e.clone() },
        ));
    }
    for v in s.named("volumes") {
        let name = format!("volumes[{}]", v.str("device").unwrap_or("?"));
        volumes.push((name, v));
    }
    for (path, v) in &volumes {
        let at = |key: &str| v.leaf(key).map_or(role.span, |l| l.origin.span);
        let ty = v.str("type").unwrap_or("gp3");
        let (min, max, iops, per_gib, throughput) = volume_limits(ty);
        if path != "root_volume" && v.int("size").is_none() {
            out.push(
                Diagnostic::at(
                    at("device"),
                    format!("`{path}` of `{}` has no `size`", role.target()),
                )
                .help("give the volume's size in GiB: `size: 100`"),
            );
        }
        if let Some(size) = v.int("size")
            && !(min..=max).contains(&size)
        {
            out.push(
                Diagnostic::at(
                    at("size"),
                    format!("`{path}.size` {size} GiB is outside what {ty} volumes allow ({min}–{max} GiB)"),
                )
                .help(format!("pick a size from {min} to {max}, or another `type`")),
            );
        }
        match (v.int("iops"), iops) {
            (Some(_), None) => out.push(
                Diagnostic::at(
                    at("iops"),
                    format!("`{path}.iops` is set, but {ty} volumes take no provisioned IOPS"),
                )
                .help("IOPS apply to io1, io2 and gp3 volumes; remove `iops` or change `type`"),
            ),
            (Some(n), Some((lo, hi))) if !(lo..=hi).contains(&n) => out.push(
                Diagnostic::at(
                    at("iops"),
                    format!("`{path}.iops` {n} is outside what {ty} volumes allow ({lo}–{hi})"),
                )
                .help(format!("pick IOPS from {lo} to {hi}")),
            ),
            (Some(n), Some(_)) => {
                if let Some(size) = v.int("size")
                    && n > size * per_gib
                {
                    out.push(
                        Diagnostic::at(
                            at("iops"),
                            format!("`{path}.iops` {n} is more than {ty} allows for {size} GiB ({per_gib} IOPS per GiB: at most {})", size * per_gib),
                        )
                        .help("lower `iops` or raise `size`"),
                    );
                }
            }
            (None, Some(_)) if ty.starts_with("io") => out.push(
                Diagnostic::at(at("type"), format!("`{path}` is {ty}, which needs `iops`"))
                    .help("provisioned IOPS volumes need `iops: N`"),
            ),
            _ => {}
        }
        if let Some(t) = v.int("throughput") {
            if !throughput {
                out.push(
                    Diagnostic::at(
                        at("throughput"),
                        format!(
                            "`{path}.throughput` is set, but only gp3 volumes take a throughput"
                        ),
                    )
                    .help("remove `throughput`, or use `type: gp3`"),
                );
            } else if t * 4 > v.int("iops").unwrap_or(3_000) {
                out.push(
                    Diagnostic::at(
                        at("throughput"),
                        format!("`{path}.throughput` {t} MiB/s needs at least {} IOPS (gp3 allows 0.25 MiB/s per IOPS)", t * 4),
                    )
                    .help("raise `iops` or lower `throughput`"),
                );
            }
        }
        if v.str("kms_key").is_some() && v.bool("encrypted") == Some(false) {
            out.push(
                Diagnostic::at(
                    at("kms_key"),
                    format!("`{path}.kms_key` is set on a volume with `encrypted: false`"),
                )
                .help("a KMS key encrypts the volume: remove `encrypted: false` or the key"),
            );
        }
        if kind == LaunchKind::Configuration && v.str("kms_key").is_some() {
            out.push(
                Diagnostic::at(
                    at("kms_key"),
                    format!("`{path}.kms_key` needs a launch template; launch configurations encrypt with the account's default key only"),
                )
                .help("remove `launch: configuration`, or the key"),
            );
        }
    }
    let leaf_at = |key: &str| s.leaf(key).map_or(role.span, |l| l.origin.span);
    if kind == LaunchKind::Configuration {
        if s.list("instance_types").len() > 1 {
            out.push(
                Diagnostic::at(
                    s.list_leaves("instance_types")[0].origin.span,
                    format!("`instance_types` of `{}` needs a launch template; a launch configuration has one instance type", role.target()),
                )
                .help("remove `launch: configuration`, or list one type in `instance_type`"),
            );
        }
        if let Some(crate::config::merge::MValue::Map(e)) = s.value("spot")
            && let Some((_, v)) = e.first()
        {
            let span = match v {
                crate::config::merge::MValue::Scalar(l) => l.origin.span,
                _ => role.span,
            };
            out.push(
                Diagnostic::at(
                    span,
                    format!("`spot` of `{}` needs a launch template (a mixed instances policy); launch configurations take `spot_price` only", role.target()),
                )
                .help("remove `launch: configuration`, or use `spot_price`"),
            );
        }
    }
    if let Some(n) = s.int("max_instance_lifetime")
        && n != 0
        && n < 86_400
    {
        out.push(
            Diagnostic::at(
                leaf_at("max_instance_lifetime"),
                format!("`max_instance_lifetime` {n} is too short: AWS takes 0 (no limit) or 86400 (one day) to 31536000 seconds"),
            )
            .help("use at least 86400, or 0 for no limit"),
        );
    }
    match (
        s.int("instance_maintenance.min_healthy"),
        s.int("instance_maintenance.max_healthy"),
    ) {
        (Some(lo), Some(hi)) if hi - lo > 100 => out.push(
            Diagnostic::at(
                leaf_at("instance_maintenance.max_healthy"),
                format!("`instance_maintenance`: max_healthy {hi} is more than 100 above min_healthy {lo}, which AWS refuses"),
            )
            .help("keep max_healthy - min_healthy at most 100"),
        ),
        (Some(_), None) | (None, Some(_)) => out.push(
            Diagnostic::at(
                s.leaf("instance_maintenance.min_healthy")
                    .or(s.leaf("instance_maintenance.max_healthy"))
                    .map_or(role.span, |l| l.origin.span),
                "`instance_maintenance` needs both `min_healthy` and `max_healthy`",
            )
            .help("e.g. `instance_maintenance: {min_healthy: 90, max_healthy: 120}`"),
        ),
        _ => {}
    }
    if s.value("drain").is_some() && s.str("drain.command").is_none() {
        out.push(
            Diagnostic::at(
                leaf_at("drain.timeout"),
                format!("`drain` of `{}` has no `command`", role.target()),
            )
            .help("give the shell that lets an instance finish its work, e.g. `command: systemctl stop app`"),
        );
    }
    if kind == LaunchKind::Configuration
        && s.bool("metadata.instance_tags") == Some(true)
        && let Some(l) = s.leaf("metadata.instance_tags")
    {
        out.push(
            Diagnostic::at(
                l.origin.span,
                "`metadata.instance_tags` needs a launch template; launch configurations cannot expose instance tags",
            )
            .help("remove `launch: configuration`, or `instance_tags`"),
        );
    }
    out
}

/// `validate`'s warnings for a role: settings AWS accepts but that weaken it.
pub fn warnings(role: &Role) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(l) = role.settings.leaf("metadata.tokens")
        && l.text == "optional"
    {
        out.push(
            Diagnostic::at(
                l.origin.span,
                format!(
                    "`{}` allows IMDSv1 (`metadata.tokens: optional`): a request forgery on the instance can read its credentials",
                    role.target()
                ),
            )
            .help("use `tokens: required` once the instance's software speaks IMDSv2 (AWS SDKs and CLIs released since 2019 do)"),
        );
    }
    out
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

    fn role(yaml: &str) -> crate::config::Config {
        crate::config::parse(std::path::Path::new("udo.yml"), yaml.into()).unwrap()
    }

    #[test]
    fn the_live_root_volume_is_the_mapping_udo_yml_does_not_name() {
        let cfg = role(
            "app_name: a\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    subnets: [s-1]\n    roles:\n      web:\n        volumes: [{device: /dev/sdf, size: 10}]\n",
        );
        let want = LaunchSpec::desired(&cfg.clusters[0].roles[0], "us-east-1").unwrap();
        let vol = |d: &str| Volume {
            device: Some(d.into()),
            kind: Some("gp3".into()),
            encrypted: true,
            ..Default::default()
        };
        let mut live = want.clone();
        live.root_volume = None;
        let mut extra = vol("/dev/sdf");
        extra.size = Some(10);
        extra.delete_on_termination = Some(true);
        live.volumes = vec![vol("/dev/xvda"), extra.clone()];
        assert!(live.diff(&want).is_empty(), "{:?}", live.diff(&want));
        // the root's device is kept (for the next version of the same AMI), never compared
        let hinted = want.clone().with_root_device_of(Some(&live));
        assert_eq!(
            hinted
                .root_volume
                .as_ref()
                .and_then(|r| r.device.as_deref()),
            Some("/dev/xvda")
        );
        let mut other_ami = want.clone();
        other_ami.image_id = Some("ami-2".into());
        let not_hinted = other_ami.with_root_device_of(Some(&live));
        assert_eq!(not_hinted.root_volume.unwrap().device, None);
        // a dropped volume: the first unnamed mapping is the root, the other differs
        live.volumes.insert(1, vol("/dev/sdg"));
        let d: Vec<&str> = live.diff(&want).iter().map(|f| f.field).collect();
        assert_eq!(d, vec!["volumes"]);
        // no mapping at all: the root differs, and says why
        live.volumes = vec![extra];
        let d = live.diff(&want);
        assert_eq!(d[0].field, "root volume");
        assert_eq!(d[0].live, "(the AMI's: not encrypted by udo)");
        assert_eq!(d[0].desired, "gp3, the AMI's size, encrypted");
    }

    #[test]
    fn instance_types_follow_the_most_specific_level() {
        let cfg = role(
            "app_name: a\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    subnets: [s-1]\n    roles:\n      web:\n        instance_types: [m6i.large, m5.large]\n      one:\n      back:\n        instance_type: c6i.large\n    instance_types: [m7i.large]\n",
        );
        let types = |i: usize| instance_types(&cfg.clusters[0].roles[i]);
        assert_eq!(types(0), vec!["m7i.large", "m6i.large", "m5.large"]);
        assert_eq!(types(1), vec!["m7i.large"]);
        assert_eq!(types(2), vec!["c6i.large"]);
        let web = LaunchSpec::desired(&cfg.clusters[0].roles[0], "us-east-1").unwrap();
        assert_eq!(web.instance_type.as_deref(), Some("m7i.large"));
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
