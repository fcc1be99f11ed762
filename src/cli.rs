//! The command line: global options and the command tree, documented where they are defined.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "udo",
    version,
    about = "Unemployed DevOps: run your app's AWS autoscaling infrastructure from one udo.yml",
    propagate_version = true,
    disable_version_flag = false
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after the command. Each command's `--help` lists its
/// own options first and these after, under their own heading.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// udo.yml to use [default: ./udo.yml, else the nearest parent directory's]
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "UDO_CONFIG",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// AWS region; wins over `region` in udo.yml and the AWS environment
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config and ~/.aws/credentials
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send AWS requests here instead of AWS (a local emulator); AWS_ENDPOINT_URL works too
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Output format of read commands
    #[arg(
        long,
        short = 'o',
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value_t = OutputFormat::Text
    )]
    pub output: OutputFormat,
    /// Answer yes to confirmations (needed for destructive commands without a terminal)
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Show what would change and change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Trace every AWS call (service, operation, duration, attempts) on stderr; -v also shows
    /// where each setting came from in `config show`
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Post no chat notifications (`slack`, `notify`) for this run
    #[arg(
        long,
        global = true,
        env = "UDO_NO_NOTIFY",
        hide_env_values = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_notify: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The commands, in the order `udo --help` lists them: the everyday ones first (check, look,
/// change, watch), then the lower-level families, then the one-offs.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check udo.yml and report every problem with its line and column
    Validate,
    /// Show everything udo.yml would change (read-only; safe in CI)
    Plan {
        /// CLUSTER, CLUSTER.ROLE or CLUSTER.* [default: every role in udo.yml]
        scope: Option<String>,
        /// Exit 3 when anything differs, 0 when nothing does
        #[arg(long)]
        exit_code: bool,
    },
    /// Make the changes `plan` shows: networks, launch settings, groups, schedules and policies
    Apply {
        /// CLUSTER, CLUSTER.ROLE or CLUSTER.* [default: every role in udo.yml]
        scope: Option<String>,
        /// Then replace outdated instances (`asg rollout`)
        #[arg(long)]
        rollout: bool,
    },
    /// One table over every role's group (or one cluster's)
    Status {
        /// Only this cluster
        cluster: Option<String>,
    },
    /// Autoscaling groups: create, update, roll out, scale, inspect, destroy
    #[command(subcommand)]
    Asg(AsgCmd),
    /// CodeDeploy: `udo deploy TARGET REVISION` deploys and waits; see the subcommands
    Deploy(DeployArgs),
    /// Run COMMAND on every InService instance of the group(s), over SSH or SSM Run Command
    Exec(ExecArgs),
    /// An SSH session (or one command) on a random InService instance, or INSTANCE
    Ssh(SshArgs),
    /// Cluster networks: VPC, subnets and internet access
    #[command(subcommand)]
    Cluster(ClusterCmd),
    /// Launch templates and launch configurations, and their cloud-init scripts
    #[command(subcommand)]
    Lc(LcCmd),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The AWS account, identity, region and endpoint udo would act on
    Whoami,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print udo's version
    Version,
}

/// `udo exec`'s back ends.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Ssh,
    Ssm,
}

impl Via {
    pub fn word(self) -> &'static str {
        match self {
            Via::Ssh => "ssh",
            Via::Ssm => "ssm",
        }
    }
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
    pub target: String,
    /// Hosts to run on at a time
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        conflicts_with = "rolling"
    )]
    pub parallel: usize,
    /// Run N hosts at a time in order and stop at the first failure (N defaults to 1)
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "1")]
    pub rolling: Option<usize>,
    /// With --rolling: how many hosts may fail before the run stops
    #[arg(long, value_name = "K", default_value_t = 0, requires = "rolling")]
    pub max_failures: usize,
    /// With --rolling: seconds to wait between batches
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0.0,
        requires = "rolling"
    )]
    pub pause: f64,
    /// Connect to private addresses even where instances have public ones
    #[arg(long)]
    pub private: bool,
    /// Only one random InService instance
    #[arg(long, conflicts_with = "instances")]
    pub one: bool,
    /// Only instances not on the group's current launch template version or configuration
    #[arg(long)]
    pub outdated: bool,
    /// Only these instances (ids of the group's instances, comma-separated)
    #[arg(long, value_name = "ID,ID", value_delimiter = ',')]
    pub instances: Vec<String>,
    /// Seconds each host may run; then its command is ended and counted as timed out
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
    /// How to reach the instances: ssh (OpenSSH from this machine) or ssm (AWS Systems Manager
    /// Run Command); default: the role's `exec.via` in udo.yml, else ssh
    #[arg(long, value_enum, value_name = "ssh|ssm", hide_possible_values = true)]
    pub via: Option<Via>,
    /// The command to run, after `--` (run by the login shell, as ssh runs it)
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SshArgs {
    /// CLUSTER.ROLE (or CLUSTER when it has one role)
    pub target: String,
    /// An instance id, or its number in `udo asg instances` (1 is the first); default: a random
    /// InService instance
    pub instance: Option<String>,
    /// Connect to the private address even where the instance has a public one
    #[arg(long)]
    pub private: bool,
    /// A command to run instead of a login shell, after `--`
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// A role's effective settings after merging top level, cluster and role
    Show {
        /// CLUSTER.ROLE (or CLUSTER when it has one role)
        target: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum LcCmd {
    /// Print the user-data script udo puts into the role's launch template or configuration
    Cloudinit {
        /// CLUSTER.ROLE (or CLUSTER when it has one role)
        target: String,
    },
    /// Create the role's launch template (or configuration); a new template version when it differs
    Create {
        /// CLUSTER.ROLE
        target: String,
    },
    /// Compare the live launch template or configuration with udo.yml, field by field
    Show {
        /// CLUSTER.ROLE
        target: String,
    },
    /// udo-managed launch templates and configurations, and the groups using them
    List,
    /// Delete the role's launch template (or configurations); refused while its group uses it
    Destroy {
        /// CLUSTER.ROLE
        target: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClusterCmd {
    /// Create what is missing of the cluster's VPC, subnets and internet access
    Create {
        /// Cluster name
        cluster: String,
    },
    /// One cluster's VPC, subnets (with free addresses) and groups
    Status {
        /// Cluster name
        cluster: String,
    },
    /// Every cluster in udo.yml with its VPC, subnets, roles and groups
    List,
    /// Remove the cluster's udo-created network; refused while any of its groups exists
    Destroy {
        /// Cluster name
        cluster: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AsgCmd {
    /// Create the group, and its launch template or configuration if missing
    Create {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
    },
    /// Apply udo.yml changes to a running group: new launch version, sizes, subnets, balancers, tags
    Updatelc {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
        /// Then replace the outdated instances (as `asg rollout` does)
        #[arg(long)]
        rollout: bool,
    },
    /// Replace the outdated instances without dropping below the group's capacity
    Rollout {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
        /// Instances per batch: N, or P% of the desired capacity [default: 1 or 25%, whichever is larger]
        #[arg(long, value_name = "N|P%")]
        batch: Option<String>,
        /// Replace every instance, not only the outdated ones
        #[arg(long)]
        all: bool,
        /// Seconds to wait for each batch to be InService and healthy before rolling it back
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
        /// Hand the rollout to AWS instance refresh (launch templates only) and follow it
        #[arg(long)]
        native: bool,
        /// surge: replace instances inside the group; bluegreen: a new group per release,
        /// the old one kept disabled for `asg rollback` [default: the role's rollout.strategy, else surge]
        #[arg(long, value_parser = ["surge", "bluegreen"])]
        strategy: Option<String>,
    },
    /// Switch back to a disabled blue/green group (the one disabled last, or --to vN)
    Rollback {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
        /// The release to go back to, as `status` shows it (v0 is the group CLUSTER-ROLE)
        #[arg(long, value_name = "vN")]
        to: Option<String>,
        /// Seconds to wait for its instances to be InService and healthy before disabling it again
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
    },
    /// Show sizes, or set the desired capacity to N (raising the maximum when N is above it)
    Scale {
        /// CLUSTER.ROLE
        target: String,
        /// New desired capacity; above the group's maximum, the maximum is raised to N too
        n: Option<u32>,
        /// Wait until N instances are InService
        #[arg(long)]
        wait: bool,
        /// Seconds to wait with --wait
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
    },
    /// The group's instances: zone, instance type (spot ones marked), state, health, launch version (outdated ones marked), addresses, age
    Instances {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
        /// Every group of the role (blue/green releases: active, releasing, disabled), not
        /// only the active one
        #[arg(long)]
        all_groups: bool,
    },
    /// The public IP of a random InService instance
    Randomip {
        /// CLUSTER.ROLE
        target: String,
        /// Print the private IP instead
        #[arg(long)]
        private: bool,
    },
    /// The group's scaling policies, scheduled actions and suspended processes
    Policies {
        /// CLUSTER.ROLE
        target: String,
    },
    /// Suspend scaling processes (all when none are named)
    Suspend {
        /// CLUSTER.ROLE
        target: String,
        /// Launch, Terminate, AddToLoadBalancer, AlarmNotification, AZRebalance, HealthCheck, InstanceRefresh, ReplaceUnhealthy, ScheduledActions
        processes: Vec<String>,
    },
    /// Resume scaling processes (all when none are named)
    Resume {
        /// CLUSTER.ROLE
        target: String,
        /// Processes to resume
        processes: Vec<String>,
    },
    /// Scale the group to 0, wait for its instances to go, delete it and its launch settings
    Destroy {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
        /// Seconds to wait for instances to terminate
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
    },
    /// Destroy, then create again from udo.yml: a brute-force reprovision
    Reload {
        /// CLUSTER.ROLE, CLUSTER, or CLUSTER.* for every role
        target: String,
        /// Seconds to wait for instances to terminate
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        timeout: u64,
    },
}

/// `udo deploy TARGET REVISION` (the old tool's form) or `udo deploy SUBCOMMAND`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub command: Option<DeployCmd>,
    #[command(flatten)]
    pub create: DeployCreate,
}

#[derive(Args, Debug, Clone)]
pub struct DeployCreate {
    /// CLUSTER.ROLE, CLUSTER.* (every role with a deployment group) or a deployment group name
    pub target: Option<String>,
    /// A full GitHub commit id, an S3 key, or a local directory / .zip / .tar / .tgz to upload
    pub revision: Option<String>,
    /// Return once the deployment is created (prints its id)
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for the deployment to finish
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,
    /// Do not run the post_deploy_hook commands after a successful deployment
    #[arg(long)]
    pub skip_hooks: bool,
}

#[derive(Subcommand, Debug)]
pub enum DeployCmd {
    /// Deploy REVISION with CodeDeploy and wait for the result; then run the post-deploy hooks
    Create(DeployCreate),
    /// Make the CodeDeploy application and deployment group match udo.yml
    Setup {
        /// CLUSTER.ROLE, CLUSTER.* or a deployment group name
        target: String,
    },
    /// The latest deployment per group: id, status, revision, creator, times, instance counts
    Last {
        /// CLUSTER.ROLE, CLUSTER.* or a deployment group name
        target: Option<String>,
    },
    /// One deployment: status, instance counts, and why it failed
    Status {
        /// Deployment id (d-XXXXXXXXX)
        id: String,
    },
    /// Stop the group's active deployment
    Stop {
        /// CLUSTER.ROLE, CLUSTER.* or a deployment group name
        target: Option<String>,
        /// Ask CodeDeploy to roll the instances back to the last good revision
        #[arg(long)]
        rollback: bool,
    },
    /// CodeDeploy applications, deployment groups, deployments or configurations, or the post-deploy hooks per role
    List {
        #[arg(value_enum)]
        what: DeployList,
    },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployList {
    Apps,
    Groups,
    Deployments,
    Configs,
    Post,
}
