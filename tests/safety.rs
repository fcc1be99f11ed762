//! Acting on the right account: `account_id` checked once per process before the first write
//! (refused, naming both accounts) and warned about on reads; `profile` per cluster with
//! `--profile` overriding it; webhook secrets taken from the environment.

mod support;
use support::{Moto, Test};

/// moto's account for credentials it did not issue.
const DEFAULT_ACCOUNT: &str = "123456789012";
const PROD_ACCOUNT: &str = "222233334444";

fn config(dev_account: &str) -> String {
    format!(
        "\
app_name: shop
region: us-east-1
ami: ami-12c6146b
instance_type: t3.small
clusters:
  dev:
    account_id: '{dev_account}'
    subnets_cidr: [127.0.1.0/24]
    roles:
      web:
        scale_policy: {{min_size: 0, max_size: 1, desired: 0}}
      worker:
        scale_policy: {{min_size: 0, max_size: 1, desired: 0}}
"
    )
}

#[test]
fn a_write_on_the_wrong_account_is_refused_before_any_write() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&config("111111111111"));
    let out = t.run(&["-v", "cluster", "create", "dev"]);
    out.status(1)
        .stderr_has("cluster `dev` belongs to AWS account 111111111111")
        .stderr_has(&format!("are for account {DEFAULT_ACCOUNT}"))
        .stderr_has("nothing was changed")
        .stderr_has("account_id, cluster `dev` line 7")
        .stderr_has("= help: sign in to account 111111111111");
    assert!(out.writes().is_empty(), "{:?}", out.calls());
    assert_eq!(out.calls(), vec!["STS GetCallerIdentity"]);

    // every write command, a batch included, refuses the same way
    for args in [
        &["-v", "asg", "create", "dev.*"][..],
        &["-v", "lc", "create", "dev.web"],
        &["-v", "asg", "scale", "dev.web", "1"],
        &["-v", "--yes", "cluster", "destroy", "dev"],
    ] {
        let out = t.run(args);
        out.status(1)
            .stderr_has("belongs to AWS account 111111111111");
        assert!(out.writes().is_empty(), "{args:?}: {:?}", out.calls());
    }
    // nothing was made
    t.run(&["cluster", "list", "-o", "json"]).ok();
    let status = t
        .run(&["cluster", "status", "dev", "-o", "json"])
        .ok()
        .json();
    assert!(status["vpc"].is_null(), "{status}");
}

#[test]
fn reads_on_the_wrong_account_warn_and_go_on() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&config("111111111111"));
    let out = t.run(&["status"]);
    out.ok()
        .stderr_has("warning: role `dev.web` belongs to AWS account 111111111111")
        .stdout_has("dev-web");
    assert_eq!(
        out.stderr.matches("warning:").count(),
        1,
        "one warning per account, not per role: {}",
        out.stderr
    );
    // --dry-run changes nothing, so it warns too
    t.run(&["cluster", "create", "dev", "--dry-run"])
        .ok()
        .stderr_has("warning: cluster `dev` belongs to AWS account 111111111111")
        .stdout_has("Dry run: nothing was changed.");
}

#[test]
fn the_right_account_is_checked_once_per_process() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&config(DEFAULT_ACCOUNT));
    let out = t.run(&["-v", "cluster", "create", "dev"]);
    out.ok().stdout_has("Created VPC");
    let sts = |o: &support::Outcome| {
        o.calls()
            .iter()
            .filter(|c| *c == "STS GetCallerIdentity")
            .count()
    };
    assert_eq!(sts(&out), 1);
    let out = t.run(&["-v", "asg", "create", "dev.*"]);
    out.ok().stdout_has("Created ASgroup dev-web");
    assert_eq!(sts(&out), 1, "one STS call for the whole batch");
    // without account_id, no STS call at all
    t.write(
        "udo.yml",
        &config(DEFAULT_ACCOUNT).replace("    account_id: '123456789012'\n", ""),
    );
    let out = t.run(&["-v", "asg", "instances", "dev.web"]);
    out.ok();
    assert_eq!(sts(&out), 0, "{:?}", out.calls());
}

#[test]
fn whoami_shows_expected_and_actual_accounts() {
    let moto = Moto::start();
    let yaml = config("111111111111").replace(
        "region: us-east-1\n",
        &format!("region: us-east-1\naccount_id: '{DEFAULT_ACCOUNT}'\n"),
    );
    let t = Test::with_moto(&moto).config(&yaml);
    let out = t.run(&["whoami"]);
    out.ok()
        .stdout_has(&format!("expected  {DEFAULT_ACCOUNT} (matches)"))
        .stdout_has("cluster dev")
        .stdout_has("111111111111 (DIFFERENT");
    let j = t.run(&["whoami", "-o", "json"]).ok().json();
    assert_eq!(j["account"], DEFAULT_ACCOUNT);
    assert_eq!(j["expected_account"], DEFAULT_ACCOUNT);
    assert_eq!(j["account_matches"], true);
    assert_eq!(j["scopes"][0]["scope"], "cluster dev");
    assert_eq!(j["scopes"][0]["expected_account"], "111111111111");
    assert_eq!(j["scopes"][0]["account"], DEFAULT_ACCOUNT);
    assert_eq!(j["scopes"][0]["account_matches"], false);
}

#[test]
fn account_ids_are_checked_as_values() {
    let t = Test::new().config(&config("12345"));
    t.run(&["validate"])
        .status(2)
        .stderr_has("`12345` is not a 12-digit AWS account id")
        .stderr_has("udo.yml:7:17");
    assert!(!t.aws_was_touched());
}

/// Credentials of another account, issued by moto's STS (AssumeRole into PROD_ACCOUNT).
fn prod_credentials(moto: &Moto) -> (String, String, String) {
    let reply = moto.call(
        "sts",
        &[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", &format!("arn:aws:iam::{PROD_ACCOUNT}:role/udo")),
            ("RoleSessionName", "udo-test"),
        ],
    );
    let field = |tag: &str| {
        let start = reply.find(&format!("<{tag}>")).expect(tag) + tag.len() + 2;
        let end = reply[start..].find('<').unwrap() + start;
        reply[start..end].to_string()
    };
    (
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    )
}

/// dev in the default account, prod in another through `profile: prod`, in one udo.yml.
fn two_accounts(moto: &Moto) -> Test {
    let (key, secret, token) = prod_credentials(moto);
    let yaml = format!(
        "\
app_name: shop
region: us-east-1
ami: ami-12c6146b
instance_type: t3.small
clusters:
  dev:
    account_id: '{DEFAULT_ACCOUNT}'
    subnets_cidr: [127.0.1.0/24]
    roles:
      web:
  prod:
    profile: prod
    account_id: '{PROD_ACCOUNT}'
    subnets_cidr: [127.0.2.0/24]
    roles:
      web:
"
    );
    let t = Test::with_moto(moto).config(&yaml).file(
        "aws-config",
        &format!(
            "[profile prod]\nregion = us-east-1\naws_access_key_id = {key}\naws_secret_access_key = {secret}\naws_session_token = {token}\n"
        ),
    );
    let path = t.path().join("aws-config");
    t.env("AWS_CONFIG_FILE", path.to_str().unwrap())
}

#[test]
fn each_cluster_acts_with_its_own_profile() {
    let moto = Moto::start();
    let t = two_accounts(&moto);
    // prod's profile wins over the keys in the environment (the default account's)
    t.run(&["cluster", "create", "prod"])
        .ok()
        .stdout_has("Created VPC");
    t.run(&["cluster", "create", "dev"])
        .ok()
        .stdout_has("Created VPC");
    // each VPC lives in its own account: the two clusters do not see each other's
    let prod = t
        .run(&["cluster", "status", "prod", "-o", "json"])
        .ok()
        .json();
    let dev = t
        .run(&["cluster", "status", "dev", "-o", "json"])
        .ok()
        .json();
    assert!(prod["vpc"]["id"].is_string(), "{prod}");
    assert!(dev["vpc"]["id"].is_string(), "{dev}");
    assert_ne!(prod["vpc"]["id"], dev["vpc"]["id"]);
    // seen through prod's account (a read: a warning), dev's network is not there
    let seen_from_prod = t.run(&[
        "--profile",
        "prod",
        "cluster",
        "status",
        "dev",
        "-o",
        "json",
    ]);
    seen_from_prod
        .ok()
        .stderr_has("warning: cluster `dev` belongs to AWS account");
    assert!(
        seen_from_prod.json()["vpc"].is_null(),
        "{}",
        seen_from_prod.stdout
    );
    let whoami = t.run(&["whoami", "-o", "json"]).ok().json();
    let prod_scope = whoami["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "cluster prod")
        .cloned()
        .unwrap();
    assert_eq!(prod_scope["profile"], "prod");
    assert_eq!(prod_scope["account"], PROD_ACCOUNT);
    assert_eq!(prod_scope["account_matches"], true);

    // --profile overrides udo.yml's: dev with prod's profile is the wrong account
    let out = t.run(&[
        "-v",
        "--profile",
        "prod",
        "cluster",
        "destroy",
        "dev",
        "--yes",
    ]);
    out.status(1)
        .stderr_has(&format!(
            "cluster `dev` belongs to AWS account {DEFAULT_ACCOUNT}"
        ))
        .stderr_has(&format!(
            "the credentials of profile `prod` are for account {PROD_ACCOUNT}"
        ));
    assert!(out.writes().is_empty(), "{:?}", out.calls());
}

#[test]
fn webhook_urls_come_from_the_environment() {
    let yaml = "app_name: shop\nslack:\n  url: ${UDO_TEST_SLACK_URL}\n  channel: ops\nclusters:\n  dev:\n    roles:\n      web:\n        ami: ami-1\n        instance_type: t3.small\n";
    let t = Test::new().config(yaml);
    t.run(&["config", "show", "dev.web"])
        .status(2)
        .stderr_has("`slack.url` uses ${UDO_TEST_SLACK_URL}, which is not set")
        .stderr_has("udo.yml:3:8")
        .stderr_has("export UDO_TEST_SLACK_URL");
    let secret = "https://hooks.slack.example/services/T0/B0/SECRETTOKEN";
    let t = t.env("UDO_TEST_SLACK_URL", secret);
    t.run(&["validate"]).ok();
    let out = t.run(&["config", "show", "dev.web", "-o", "json"]);
    out.ok().stdout_lacks("SECRETTOKEN");
    assert_eq!(out.json()["settings"]["slack"]["url"], "<redacted>");
    assert!(!t.aws_was_touched());
}

// --- What a new user tripped over --------------------------------------------------------

#[test]
fn validate_reports_what_every_role_needs_to_launch() {
    let yaml = "\
app_name: shop
region: us-east-1
instance_type: t3.small
clusters:
  dev:
    roles:
      web:
        security_groups: [sg-0123, web-sg]
      worker:
        ami: ami-12c6146b
  qa:
";
    let t = Test::new().config(yaml);
    let out = t.run(&["validate"]);
    out.status(2)
        .stderr_has("error: role `dev.web` has no `ami`")
        .stderr_has("udo.yml:7:7")
        .stderr_has("security group `web-sg` is a name")
        .stderr_has("udo.yml:8:36")
        .stderr_has("2 configuration errors")
        .stdout_lacks("is valid");
    // the same location as the command that would refuse it
    t.run(&["asg", "create", "dev.web"])
        .status(2)
        .stderr_has("role `dev.web` has no `ami`")
        .stderr_has("udo.yml:7:7");
    assert!(!t.aws_was_touched());
}

#[test]
fn validate_json_reports_errors_for_ci_and_editors() {
    let t = Test::new().config(
        "app_name: shop\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    roles:\n      web:\n        instance_typo: t3.large\n",
    );
    let out = t.run(&["validate", "--output", "json"]);
    let j = out.status(2).json();
    assert_eq!(j["valid"], false);
    let e = &j["errors"][0];
    assert!(e["file"].as_str().unwrap().ends_with("udo.yml"), "{j}");
    assert_eq!(e["line"], 8);
    assert_eq!(e["column"], 9);
    assert_eq!(
        e["message"],
        "unknown key `instance_typo` in role `dev.web`"
    );
    assert_eq!(
        e["help"],
        "did you mean `instance_type` (EC2 instance type)?"
    );
    assert_eq!(j["errors"].as_array().unwrap().len(), 1);

    // launch problems, and a file that is not there, in the same shape
    t.write(
        "udo.yml",
        "app_name: shop\nclusters:\n  dev:\n    roles:\n      web:\n",
    );
    let j = t.run(&["validate", "-o", "json"]).status(2).json();
    assert_eq!(j["errors"].as_array().unwrap().len(), 2, "{j}");
    assert_eq!(j["errors"][0]["message"], "role `dev.web` has no `ami`");
    assert_eq!(j["errors"][0]["line"], 5);
    let empty = Test::new();
    let j = empty.run(&["validate", "-o", "json"]).status(2).json();
    assert_eq!(j["valid"], false);
    assert!(j["errors"][0]["line"].is_null());

    // and a valid file
    t.write(
        "udo.yml",
        "app_name: shop\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    roles:\n      web:\n",
    );
    assert_eq!(
        t.run(&["validate", "-o", "json"]).ok().json()["valid"],
        true
    );
}

#[test]
fn carets_underline_the_whole_value() {
    let out = Test::new()
        .config("app_name: my app\nclusters:\n  dev:\n")
        .run(&["validate"]);
    out.status(2)
        .stderr_has("1 | app_name: my app\n  |           ^^^^^^\n");
}

#[test]
fn cluster_destroy_refusal_quotes_the_batch_target() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&config(DEFAULT_ACCOUNT));
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    t.run(&["cluster", "destroy", "dev", "--yes"])
        .status(1)
        .stderr_has("(`udo asg destroy 'dev.*'`)");
}

// --- Moving from the old tool -------------------------------------------------------------

const OLD: &str = "\
app_name: shop
region: us-east-1
ami: ami-12c6146b
instance_type: t3.small
availability_zones: [us-east-1a]
clusters:
  dev:
    roles:
      webapp:
        scale_policy: {min_size: 0, max_size: 1, desired: 0}
";

/// What the old tool left: launch configuration `dev-webapp` and group `dev-webapp` on it, no
/// udo tags.
fn old_tool_group(moto: &Moto) {
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateLaunchConfiguration"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationName", "dev-webapp"),
            ("ImageId", "ami-12c6146b"),
            ("InstanceType", "t3.small"),
        ],
    );
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateAutoScalingGroup"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "dev-webapp"),
            ("LaunchConfigurationName", "dev-webapp"),
            ("MinSize", "0"),
            ("MaxSize", "1"),
            ("DesiredCapacity", "0"),
            ("AvailabilityZones.member.1", "us-east-1a"),
        ],
    );
}

#[test]
fn lc_show_says_the_group_runs_on_a_configuration() {
    let moto = Moto::start();
    old_tool_group(&moto);
    let t = Test::with_moto(&moto).config(OLD);
    let out = t.run(&["lc", "show", "dev.webapp"]);
    out.ok()
        .stdout_has(
            "Group dev-webapp runs on launch configuration dev-webapp, not on a launch template",
        )
        .stdout_has("`udo asg updatelc dev.webapp` moves it to launch template dev-webapp")
        .stdout_has("`launch: configuration` for the role keeps it as it is")
        .stdout_lacks("lc create");
    let j = t
        .run(&["lc", "show", "dev.webapp", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["exists"], false);
    assert_eq!(j["group_launch"], "dev-webapp");
    assert_eq!(j["apply"], "udo asg updatelc dev.webapp");
}

#[test]
fn updatelc_moves_an_old_group_to_a_template_and_deletes_its_configuration() {
    let moto = Moto::start();
    old_tool_group(&moto);
    let t = Test::with_moto(&moto).config(OLD);
    let dry = t.run(&["-v", "--dry-run", "asg", "updatelc", "dev.webapp"]);
    dry.ok()
        .stdout_has("create launch template dev-webapp")
        .stdout_has("delete unused launch configuration dev-webapp");
    assert!(dry.writes().is_empty(), "{:?}", dry.ops());

    let out = t.run(&["-v", "asg", "updatelc", "dev.webapp"]);
    out.ok()
        .stdout_has("Created launch template dev-webapp")
        .stdout_has("Changed ASgroup dev-webapp launch from dev-webapp to dev-webapp v1")
        .stdout_has("Deleted launch configuration dev-webapp");
    let ops = out.ops();
    let switch = ops
        .iter()
        .position(|o| o == "UpdateAutoScalingGroup")
        .unwrap();
    let delete = ops
        .iter()
        .position(|o| o == "DeleteLaunchConfiguration")
        .unwrap();
    assert!(
        switch < delete,
        "the configuration goes only after the switch: {ops:?}"
    );
    t.run(&["lc", "list"]).ok().stdout_lacks("configuration");

    // now on the template: a difference is applied by updatelc, which moves the group too
    t.write(
        "udo.yml",
        &OLD.replace("instance_type: t3.small", "instance_type: t3.large"),
    );
    t.run(&["lc", "show", "dev.webapp"])
        .ok()
        .stdout_has("(`udo asg updatelc dev.webapp` applies the change)")
        .stdout_lacks("runs on launch configuration");
    let again = t.run(&["-v", "asg", "updatelc", "dev.webapp"]);
    again
        .ok()
        .stdout_has("Created launch template dev-webapp version 2");
    assert!(
        !again
            .ops()
            .contains(&"DescribeLaunchConfigurations".to_string()),
        "no configuration lookup once the group is on a template: {:?}",
        again.ops()
    );
}

#[test]
fn asg_destroy_removes_the_roles_configurations_too() {
    let moto = Moto::start();
    old_tool_group(&moto);
    let t = Test::with_moto(&moto).config(OLD);
    t.run(&["asg", "updatelc", "dev.webapp"]).ok();
    // as if an earlier switch was interrupted before it deleted the old configuration
    moto.call(
        "autoscaling",
        &[
            ("Action", "CreateLaunchConfiguration"),
            ("Version", "2011-01-01"),
            ("LaunchConfigurationName", "dev-webapp"),
            ("ImageId", "ami-12c6146b"),
            ("InstanceType", "t3.small"),
        ],
    );
    let out = t.run(&["asg", "destroy", "dev.webapp", "--yes"]);
    out.ok()
        .stdout_has("delete launch template dev-webapp")
        .stdout_has("delete launch configuration dev-webapp")
        .stdout_has("Deleted ASgroup dev-webapp")
        .stdout_has("Deleted launch template dev-webapp")
        .stdout_has("Deleted launch configuration dev-webapp");
    let list = t.run(&["lc", "list", "-o", "json"]).ok().json();
    assert!(
        !list.to_string().contains("dev-webapp"),
        "nothing of the role is left: {list}"
    );
}
