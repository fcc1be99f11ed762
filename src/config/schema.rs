//! What udo.yml may contain: every key, where it may appear, and what kind of value it takes.
//!
//! The schema is data, not code, so validation, "did you mean" suggestions and the README's
//! reference all come from one list.

/// The kind of value a key takes.
#[derive(Debug)]
pub enum Kind {
    /// Any single value, kept as text (tag values may be numbers: `'workers': 10`).
    Text,
    /// A name usable in AWS resource names: letters, digits, `-`, `_`.
    Name,
    /// A whole number in a range.
    Int { min: i64, max: i64 },
    /// A positive decimal number (spot prices).
    Price,
    /// true/false (also yes/no, on/off, 1/0, as the old YAML 1.1 loader read them).
    Bool,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// An IPv4 network in CIDR notation.
    Cidr,
    /// An AWS region name such as `us-west-2`.
    Region,
    /// An availability zone name such as `us-west-2a`.
    Zone,
    /// A single-line value with no spaces (URLs, ids).
    Word,
    /// Shell code, any text.
    Shell,
    /// A list of values of one kind.
    List(&'static Kind),
    /// A mapping with a fixed set of keys.
    Record(&'static [Field]),
    /// A mapping with free keys and values of one kind.
    Dict(&'static Kind),
    /// An SSH jump host: `user@host[:port]` (see `syntax::Bastion`).
    SshHost,
    /// A positive decimal number (policy targets).
    Number,
    /// A cron expression (5 fields: minute hour day-of-month month day-of-week).
    Cron,
    /// An IANA time zone name such as `Europe/Berlin`.
    TimeZone,
    /// A list of mappings with a fixed set of keys, each identified by its first field (`name`
    /// for schedules and scaling policies, `device` for volumes); levels merge entries with the
    /// same identifier key by key.
    Named(&'static [Field]),
    /// A 12-digit AWS account id.
    AccountId,
}

impl Kind {
    /// The kind in words, for error messages.
    pub fn describe(&self) -> String {
        match self {
            Kind::Text => "a single value".into(),
            Kind::Name => "a name (letters, digits, `-` and `_`)".into(),
            Kind::Int { min, max } if *max == i64::MAX => {
                format!("a whole number of at least {min}")
            }
            Kind::Int { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Price => "a positive number such as 0.05".into(),
            Kind::Bool => "true or false".into(),
            Kind::Choice(words) => format!("one of {}", words.join(", ")),
            Kind::Cidr => "an IPv4 CIDR block such as 10.0.1.0/24".into(),
            Kind::Region => "a region name such as us-west-2".into(),
            Kind::Zone => "an availability zone name such as us-west-2a".into(),
            Kind::Word => "a single value with no spaces".into(),
            Kind::Shell => "shell commands (a string; use `|` for several lines)".into(),
            Kind::List(inner) => format!("a list, each item {}", inner.describe()),
            Kind::Record(_) | Kind::Dict(_) => "a mapping".into(),
            Kind::SshHost => "a jump host such as ec2-user@bastion.example.com:22".into(),
            Kind::Number => "a positive number such as 60".into(),
            Kind::Cron => "a cron expression such as `0 8 * * MON-FRI`".into(),
            Kind::TimeZone => "an IANA time zone name such as Europe/Berlin".into(),
            Kind::Named(fields) => {
                format!("a list of mappings, each with a `{}`", named_key(fields))
            }
            Kind::AccountId => "a 12-digit AWS account id".into(),
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Kind::List(_) | Kind::Named(_))
    }

    pub fn is_map(&self) -> bool {
        matches!(self, Kind::Record(_) | Kind::Dict(_))
    }
}

/// Where in the file a key may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// At the top level, under a cluster, or under a role (merged).
    Anywhere,
    /// Under a cluster only (it describes the cluster's network).
    Cluster,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub scope: Scope,
    /// Another name that means the same key (`cloud_init` for `cloud_init_pre`).
    pub alias: Option<&'static str>,
    pub doc: &'static str,
}

const fn field(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        scope: Scope::Anywhere,
        alias: None,
        doc,
    }
}

const SIZE: Kind = Kind::Int {
    min: 0,
    max: 10_000,
};

pub const REPO_FIELDS: &[Field] = &[field(
    "plugin_url",
    Kind::Word,
    "URL of the yum S3-IAM plugin RPM, installed before the app repo is used",
)];

pub const SCALE_FIELDS: &[Field] = &[
    field("min_size", SIZE, "smallest number of instances"),
    field("max_size", SIZE, "largest number of instances"),
    field("desired", SIZE, "number of instances to run"),
];

pub const HEALTH_FIELDS: &[Field] = &[
    field(
        "type",
        Kind::Choice(&["EC2", "ELB"]),
        "EC2 or ELB health checks",
    ),
    field(
        "grace_period",
        Kind::Int { min: 0, max: 7200 },
        "seconds after launch before health checks count",
    ),
];

pub const GITHUB_FIELDS: &[Field] = &[field(
    "repo",
    Kind::Word,
    "owner/name of the GitHub repository",
)];

pub const S3_FIELDS: &[Field] = &[
    field("bucket", Kind::Word, "S3 bucket holding deployment bundles"),
    field("prefix", Kind::Word, "key prefix of uploaded bundles"),
];

pub const DEPLOY_FIELDS: &[Field] = &[
    field("application", Kind::Text, "CodeDeploy application name"),
    field(
        "github",
        Kind::Record(GITHUB_FIELDS),
        "GitHub revision source",
    ),
    field("s3", Kind::Record(S3_FIELDS), "S3 revision source"),
    field(
        "service_role",
        Kind::Word,
        "ARN of the IAM role CodeDeploy acts as",
    ),
    field(
        "config",
        Kind::Word,
        "deployment configuration, e.g. CodeDeployDefault.OneAtATime",
    ),
    field(
        "auto_rollback",
        Kind::Bool,
        "roll back automatically when a deployment fails",
    ),
    field(
        "suspend_scaling",
        Kind::Bool,
        "suspend the group's scaling processes while deploying",
    ),
];

pub const SLACK_FIELDS: &[Field] = &[
    field(
        "url",
        Kind::Word,
        "incoming webhook URL (a secret: never printed)",
    ),
    field("username", Kind::Text, "name the messages are posted as"),
    field("channel", Kind::Text, "channel to post in"),
    field("icon_emoji", Kind::Text, "emoji used as the poster's icon"),
];

pub const SSH_FIELDS: &[Field] = &[
    field(
        "user",
        Kind::Word,
        "user udo exec and udo ssh log in as (default ec2-user)",
    ),
    field(
        "port",
        Kind::Int { min: 1, max: 65535 },
        "SSH port of the instances (default 22)",
    ),
    field(
        "identity_file",
        Kind::Text,
        "private key file passed to ssh with -i",
    ),
    field(
        "bastion",
        Kind::SshHost,
        "jump host user@host[:port]; host may be CLUSTER.ROLE",
    ),
    field(
        "options",
        Kind::List(&Kind::Text),
        "extra ssh -o options such as `ServerAliveInterval=30`",
    ),
];

/// `udo exec`'s back ends: OpenSSH from this machine, or AWS Systems Manager Run Command.
pub const EXEC_VIAS: &[&str] = &["ssh", "ssm"];

pub const EXEC_FIELDS: &[Field] = &[field(
    "via",
    Kind::Choice(EXEC_VIAS),
    "how udo exec reaches instances: ssh (default) or ssm (Run Command); --via overrides",
)];

pub const SSM_FIELDS: &[Field] = &[
    field(
        "output_bucket",
        Kind::Word,
        "S3 bucket Run Command writes each host's whole output to (udo exec --via ssm)",
    ),
    field(
        "output_prefix",
        Kind::Word,
        "key prefix of that output in the bucket",
    ),
];

pub const SCHEDULE_FIELDS: &[Field] = &[
    field(
        "name",
        Kind::Name,
        "the action's name; udo names it `udo-NAME` in AWS",
    ),
    field(
        "recurrence",
        Kind::Cron,
        "when it runs: cron (minute hour day-of-month month day-of-week)",
    ),
    field("min_size", SIZE, "new smallest number of instances"),
    field("max_size", SIZE, "new largest number of instances"),
    field("desired", SIZE, "new number of instances to run"),
    field(
        "time_zone",
        Kind::TimeZone,
        "IANA time zone the recurrence is read in (default UTC)",
    ),
];

/// The metrics a target tracking policy can follow, as udo.yml names them.
pub const METRICS: &[&str] = &["cpu", "alb_requests", "network_in", "network_out"];

pub const POLICY_FIELDS: &[Field] = &[
    field(
        "name",
        Kind::Name,
        "the policy's name; udo names it `udo-NAME` in AWS",
    ),
    field("metric", Kind::Choice(METRICS), "the metric to track"),
    field("target", Kind::Number, "the metric's target value"),
    field(
        "warmup",
        Kind::Int {
            min: 0,
            max: 86_400,
        },
        "seconds before a new instance's metrics count",
    ),
    field(
        "disable_scale_in",
        Kind::Bool,
        "never remove instances (default false)",
    ),
];

/// The key that identifies an entry of a named list: its first field.
pub fn named_key(fields: &[Field]) -> &'static str {
    fields.first().map_or("name", |f| f.name)
}

pub const METADATA_FIELDS: &[Field] = &[
    field(
        "tokens",
        Kind::Choice(&["required", "optional"]),
        "IMDSv2 session tokens: required (default) or optional (IMDSv1 allowed)",
    ),
    field(
        "hop_limit",
        Kind::Int { min: 1, max: 64 },
        "network hops a metadata reply may travel (default 1; 2 for containers)",
    ),
    field(
        "instance_tags",
        Kind::Bool,
        "instance tags readable in the metadata service (default false)",
    ),
];

/// EBS volume types udo.yml may name.
pub const VOLUME_TYPES: &[&str] = &["gp3", "gp2", "io2", "io1", "st1", "sc1"];

const GIB: Kind = Kind::Int {
    min: 1,
    max: 65_536,
};
const IOPS: Kind = Kind::Int {
    min: 100,
    max: 256_000,
};
const THROUGHPUT: Kind = Kind::Int {
    min: 125,
    max: 2_000,
};

pub const ROOT_VOLUME_FIELDS: &[Field] = &[
    field("size", GIB, "GiB (default: the AMI's size)"),
    field(
        "type",
        Kind::Choice(VOLUME_TYPES),
        "EBS volume type (default gp3)",
    ),
    field("iops", IOPS, "provisioned IOPS (io1, io2, gp3)"),
    field("throughput", THROUGHPUT, "MiB/s (gp3 only)"),
    field("encrypted", Kind::Bool, "encrypt the volume (default true)"),
    field(
        "kms_key",
        Kind::Word,
        "KMS key id or ARN (default: the account's EBS key)",
    ),
];

pub const VOLUME_FIELDS: &[Field] = &[
    field(
        "device",
        Kind::Word,
        "device name such as /dev/sdf; required",
    ),
    field("size", GIB, "GiB; required"),
    field(
        "type",
        Kind::Choice(VOLUME_TYPES),
        "EBS volume type (default gp3)",
    ),
    field("iops", IOPS, "provisioned IOPS (io1, io2, gp3)"),
    field("throughput", THROUGHPUT, "MiB/s (gp3 only)"),
    field("encrypted", Kind::Bool, "encrypt the volume (default true)"),
    field(
        "kms_key",
        Kind::Word,
        "KMS key id or ARN (default: the account's EBS key)",
    ),
    field(
        "delete_on_termination",
        Kind::Bool,
        "delete the volume with its instance (default true)",
    ),
];

/// Spot allocation strategies, as udo.yml and AWS name them.
pub const SPOT_ALLOCATIONS: &[&str] = &[
    "price-capacity-optimized",
    "capacity-optimized",
    "lowest-price",
];

pub const SPOT_FIELDS: &[Field] = &[
    field(
        "on_demand_base",
        Kind::Int {
            min: 0,
            max: 10_000,
        },
        "instances that are always on demand (default 0)",
    ),
    field(
        "on_demand_percent",
        Kind::Int { min: 0, max: 100 },
        "percentage on demand above the base (default 0: all spot)",
    ),
    field(
        "allocation",
        Kind::Choice(SPOT_ALLOCATIONS),
        "spot allocation strategy (default price-capacity-optimized)",
    ),
    field(
        "max_price",
        Kind::Price,
        "highest spot price per hour (default: the on-demand price)",
    ),
];

/// Termination policies AWS knows (custom Lambda policies are given by ARN, not supported).
pub const TERMINATION_POLICIES: &[&str] = &[
    "Default",
    "AllocationStrategy",
    "OldestLaunchTemplate",
    "OldestLaunchConfiguration",
    "ClosestToNextInstanceHour",
    "NewestInstance",
    "OldestInstance",
];

pub const MAINTENANCE_FIELDS: &[Field] = &[
    field(
        "min_healthy",
        Kind::Int { min: 0, max: 100 },
        "percent of desired capacity kept healthy while replacing",
    ),
    field(
        "max_healthy",
        Kind::Int { min: 100, max: 200 },
        "percent of desired capacity the group may grow to while replacing",
    ),
];

pub const DRAIN_FIELDS: &[Field] = &[
    field(
        "timeout",
        Kind::Int { min: 30, max: 7200 },
        "seconds an instance may drain before it is terminated anyway (default 300)",
    ),
    field(
        "command",
        Kind::Shell,
        "shell run on the instance when it is told to terminate; required",
    ),
];

/// How `udo asg rollout` replaces a role's instances (issue 18).
pub const ROLLOUT_FIELDS: &[Field] = &[
    field(
        "strategy",
        Kind::Choice(&["surge", "bluegreen"]),
        "surge (replace instances inside the group, the default) or bluegreen (a new group per release)",
    ),
    field(
        "keep_previous",
        Kind::Int { min: 0, max: 10 },
        "disabled groups kept warm for `udo asg rollback` (default 1); older ones are deleted",
    ),
    field(
        "scale_down_after",
        Kind::Int {
            min: 1,
            max: 525_600,
        },
        "minutes after which a disabled group is scaled to 0 by the next release or rollback (default: never)",
    ),
];

/// Every key a udo.yml may hold below `clusters` as well as at the top level.
pub const FIELDS: &[Field] = &[
    field(
        "app_name",
        Kind::Name,
        "your application's name; prefixes repo files and tags",
    ),
    field("region", Kind::Region, "AWS region"),
    field(
        "availability_zones",
        Kind::List(&Kind::Zone),
        "availability zones, in order",
    ),
    field("ami", Kind::Word, "AMI id for instances"),
    field("instance_type", Kind::Word, "EC2 instance type"),
    field("keypair_name", Kind::Text, "EC2 key pair for SSH"),
    field(
        "iam_profile",
        Kind::Text,
        "IAM instance profile name or ARN",
    ),
    field(
        "security_groups",
        Kind::List(&Kind::Word),
        "security group ids or names",
    ),
    field(
        "subnets_cidr",
        Kind::List(&Kind::Cidr),
        "subnet CIDR blocks",
    ),
    field(
        "subnets",
        Kind::List(&Kind::Word),
        "subnet ids, used as they are",
    ),
    field(
        "tenancy",
        Kind::Choice(&["default", "dedicated"]),
        "instance tenancy",
    ),
    field(
        "spot_price",
        Kind::Price,
        "maximum spot price; on-demand when absent",
    ),
    field(
        "packages",
        Kind::List(&Kind::Word),
        "yum packages to install",
    ),
    field(
        "repo",
        Kind::Record(REPO_FIELDS),
        "private yum repository access",
    ),
    field(
        "repo_url",
        Kind::Word,
        "base URL of the application's yum repository",
    ),
    Field {
        name: "cloud_init_pre",
        kind: Kind::Shell,
        scope: Scope::Anywhere,
        alias: Some("cloud_init"),
        doc: "shell run before packages are installed",
    },
    field(
        "cloud_init_extra",
        Kind::Shell,
        "shell run after packages are installed",
    ),
    field("cloud_init_post", Kind::Shell, "shell run last"),
    field(
        "tags",
        Kind::Dict(&Kind::Text),
        "tags for groups and instances",
    ),
    field(
        "elbs",
        Kind::List(&Kind::Word),
        "classic load balancer names",
    ),
    field(
        "target_groups",
        Kind::List(&Kind::Word),
        "ALB/NLB target group names or ARNs",
    ),
    field(
        "health_check",
        Kind::Record(HEALTH_FIELDS),
        "group health check",
    ),
    field("scale_policy", Kind::Record(SCALE_FIELDS), "group sizes"),
    field(
        "launch",
        Kind::Choice(&["template", "configuration"]),
        "launch template (default) or legacy launch configuration",
    ),
    field(
        "public",
        Kind::Bool,
        "give instances public addresses (default true)",
    ),
    field(
        "deployment_group",
        Kind::Text,
        "CodeDeploy deployment group of a role",
    ),
    field(
        "post_deploy_hook",
        Kind::List(&Kind::Shell),
        "shell commands run after a deploy",
    ),
    field("deploy", Kind::Record(DEPLOY_FIELDS), "CodeDeploy settings"),
    field("slack", Kind::Record(SLACK_FIELDS), "Slack notifications"),
    field(
        "ssh",
        Kind::Record(SSH_FIELDS),
        "how udo exec and udo ssh connect",
    ),
    field(
        "exec",
        Kind::Record(EXEC_FIELDS),
        "how udo exec runs commands (its back end)",
    ),
    field(
        "ssm",
        Kind::Record(SSM_FIELDS),
        "AWS Systems Manager settings of udo exec --via ssm",
    ),
    field(
        "debug",
        Kind::Bool,
        "trace every AWS call, as -v does (0 or 1)",
    ),
    field(
        "notify",
        Kind::List(&Kind::Word),
        "further webhook URLs that get every change as JSON (secrets: never printed)",
    ),
    field(
        "schedule",
        Kind::Named(SCHEDULE_FIELDS),
        "scheduled scaling actions (`udo-NAME`)",
    ),
    field(
        "scaling_policies",
        Kind::Named(POLICY_FIELDS),
        "target tracking scaling policies (`udo-NAME`)",
    ),
    field(
        "metadata",
        Kind::Record(METADATA_FIELDS),
        "instance metadata service options (IMDSv2 required by default)",
    ),
    field(
        "root_volume",
        Kind::Record(ROOT_VOLUME_FIELDS),
        "the root EBS volume (default: encrypted gp3 of the AMI's size)",
    ),
    field(
        "volumes",
        Kind::Named(VOLUME_FIELDS),
        "extra EBS volumes, each identified by its `device`",
    ),
    field(
        "instance_types",
        Kind::List(&Kind::Word),
        "instance types of a mixed group; the first is the primary",
    ),
    field(
        "spot",
        Kind::Record(SPOT_FIELDS),
        "spot instances of a mixed group",
    ),
    field(
        "capacity_rebalance",
        Kind::Bool,
        "replace spot instances at risk of interruption (default true with spot)",
    ),
    field(
        "termination_policies",
        Kind::List(&Kind::Choice(TERMINATION_POLICIES)),
        "which instances the group terminates first when scaling in",
    ),
    field(
        "max_instance_lifetime",
        Kind::Int {
            min: 0,
            max: 31_536_000,
        },
        "seconds an instance may run before it is replaced (0: no limit; else at least 86400)",
    ),
    field(
        "instance_maintenance",
        Kind::Record(MAINTENANCE_FIELDS),
        "healthy percentage bounds while instances are replaced",
    ),
    field(
        "drain",
        Kind::Record(DRAIN_FIELDS),
        "let instances finish their work before they terminate (a lifecycle hook)",
    ),
    field(
        "rollout",
        Kind::Record(ROLLOUT_FIELDS),
        "how `udo asg rollout` replaces instances: surge or blue/green releases",
    ),
    field(
        "account_id",
        Kind::AccountId,
        "the AWS account udo must act on; writes are refused in any other",
    ),
    field(
        "profile",
        Kind::Word,
        "AWS profile (from ~/.aws/config) the role's cluster uses",
    ),
    Field {
        name: "vpc_cidr",
        kind: Kind::Cidr,
        scope: Scope::Cluster,
        alias: None,
        doc: "the cluster VPC's CIDR; default: the /16 holding all its subnets_cidr",
    },
];

/// Keys that only make sense at one structural level.
pub const TOP_ONLY: &[&str] = &["clusters"];
pub const CLUSTER_ONLY: &[&str] = &["description", "roles"];

/// Looks a key up by its name or alias, returning the field and its canonical name.
pub fn lookup<'a>(fields: &'a [Field], key: &str) -> Option<&'a Field> {
    fields
        .iter()
        .find(|f| f.name == key || f.alias == Some(key))
}

/// Checks a scalar's text against a leaf kind. Returns a reason on failure.
pub fn check_scalar(kind: &Kind, text: &str) -> Result<(), String> {
    match kind {
        Kind::Text | Kind::Shell => Ok(()),
        Kind::Name => {
            if !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                Ok(())
            } else {
                Err(format!(
                    "`{text}` is not a usable name: use letters, digits, `-` and `_` only"
                ))
            }
        }
        Kind::Int { min, max } => match text.parse::<i64>() {
            Ok(n) if n >= *min && n <= *max => Ok(()),
            Ok(n) => Err(format!("{n} is out of range: expected {}", kind.describe())),
            Err(_) => Err(format!("`{text}` is not a whole number")),
        },
        Kind::Price => match text.parse::<f64>() {
            Ok(p) if p > 0.0 && p.is_finite() => Ok(()),
            _ => Err(format!("`{text}` is not a positive number")),
        },
        Kind::Bool => parse_bool(text)
            .map(|_| ())
            .ok_or_else(|| format!("`{text}` is not true or false")),
        Kind::Choice(words) => {
            if words.contains(&text) {
                Ok(())
            } else {
                Err(format!("`{text}` is not {}", kind.describe()))
            }
        }
        Kind::Cidr => parse_cidr(text).map(|_| ()),
        Kind::Region => {
            if is_region(text) {
                Ok(())
            } else {
                Err(format!("`{text}` is not a region name such as us-west-2"))
            }
        }
        Kind::Zone => {
            let ok = text.len() > 2
                && text.ends_with(|c: char| c.is_ascii_lowercase())
                && is_region_like(&text[..text.len() - 1]);
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "`{text}` is not an availability zone name such as us-west-2a"
                ))
            }
        }
        Kind::Word => {
            if text.is_empty() || text.chars().any(char::is_whitespace) {
                Err(format!("`{text}` must be one value with no spaces"))
            } else {
                Ok(())
            }
        }
        Kind::Number => match text.parse::<f64>() {
            Ok(p) if p > 0.0 && p.is_finite() => Ok(()),
            _ => Err(format!("`{text}` is not a positive number")),
        },
        Kind::Cron => super::syntax::check_cron(text),
        Kind::TimeZone => super::syntax::check_time_zone(text),
        Kind::SshHost => super::syntax::Bastion::parse(text).map(|_| ()),
        Kind::List(_) | Kind::Record(_) | Kind::Dict(_) | Kind::Named(_) => {
            Err("expected a collection".into())
        }
        Kind::AccountId => {
            if text.len() == 12 && text.chars().all(|c| c.is_ascii_digit()) {
                Ok(())
            } else {
                Err(format!(
                    "`{text}` is not a 12-digit AWS account id (quote it if it starts with 0)"
                ))
            }
        }
    }
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn is_region(text: &str) -> bool {
    // e.g. us-west-2, eu-central-1, us-gov-west-1, ap-southeast-4
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// A zone minus its final letter: a region, or a local/wavelength zone such as us-west-2-lax-1.
fn is_region_like(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && text.split('-').count() >= 3
        && text.chars().any(|c| c.is_ascii_digit())
}

/// An IPv4 network: address and prefix length, with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && (other.addr & self.mask()) == self.addr
    }

    pub fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    /// The network of the given prefix length that holds this one.
    pub fn widen(&self, prefix: u8) -> Cidr {
        let c = Cidr {
            addr: 0,
            prefix: prefix.min(self.prefix),
        };
        Cidr {
            addr: self.addr & c.mask(),
            prefix: c.prefix,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", std::net::Ipv4Addr::from(self.addr), self.prefix)
    }
}

pub fn parse_cidr(text: &str) -> Result<Cidr, String> {
    let bad = || format!("`{text}` is not an IPv4 CIDR block such as 10.0.1.0/24");
    let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
    let addr: std::net::Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    if prefix > 32 {
        return Err(bad());
    }
    let cidr = Cidr {
        addr: u32::from(addr),
        prefix,
    };
    if cidr.addr & !cidr.mask() != 0 {
        return Err(format!(
            "`{text}` has host bits set; the network is {}",
            Cidr {
                addr: cidr.addr & cidr.mask(),
                prefix
            }
        ));
    }
    Ok(cidr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert!(parse_cidr("10.0.1.0/24").is_ok());
        assert!(parse_cidr("10.0.1.5/24").unwrap_err().contains("host bits"));
        assert!(parse_cidr("10.0.1.0/33").is_err());
        assert!(parse_cidr("10.0.1.0").is_err());
        assert!(parse_cidr("300.0.1.0/8").is_err());
        let a = parse_cidr("10.1.0.0/24").unwrap();
        assert_eq!(a.widen(16).to_string(), "10.1.0.0/16");
        assert!(a.widen(16).contains(&a));
        assert!(!parse_cidr("10.2.0.0/16").unwrap().contains(&a));
    }

    #[test]
    fn regions_and_zones() {
        assert!(check_scalar(&Kind::Region, "us-west-2").is_ok());
        assert!(check_scalar(&Kind::Region, "us-gov-west-1").is_ok());
        assert!(check_scalar(&Kind::Region, "uswest2").is_err());
        assert!(check_scalar(&Kind::Zone, "us-west-2a").is_ok());
        assert!(check_scalar(&Kind::Zone, "us-west-2-lax-1a").is_ok());
        assert!(check_scalar(&Kind::Zone, "us-west-2").is_err());
        assert!(check_scalar(&Kind::Zone, "US-WEST-2A").is_err());
    }

    #[test]
    fn scalars() {
        assert!(check_scalar(&SIZE, "3").is_ok());
        assert!(check_scalar(&SIZE, "-1").is_err());
        assert!(check_scalar(&SIZE, "three").is_err());
        assert!(check_scalar(&Kind::Price, "0.05").is_ok());
        assert!(check_scalar(&Kind::Price, "0").is_err());
        assert!(check_scalar(&Kind::Bool, "yes").is_ok());
        assert!(check_scalar(&Kind::Name, "my app").is_err());
        assert!(check_scalar(&Kind::Word, "a b").is_err());
    }
}
