//! udo.yml handling through the real binary: validation errors are located, exit 2 and never
//! touch AWS; `config show` merges and explains; targets resolve as users type them.

mod support;
use support::Test;

const GOOD: &str = "\
app_name: shop
region: us-east-1
packages: [base]
clusters:
  dev:
    packages: [dev-cfg]
    roles:
      web:
        instance_type: t3.small
        packages: [web, base]
        scale_policy: {min_size: 1, max_size: 3, desired: 2}
      worker:
        instance_type: t3.large
  qa:
    # nothing here yet
  solo:
    roles:
      api:
# what every role needs to launch (validate checks it); kept last so line numbers above hold
ami: ami-12c6146b
instance_type: t3.micro
";

/// Runs a command that must fail on the configuration: exit 2, located error, no AWS.
#[track_caller]
fn bad(yaml: &str, args: &[&str], expect: &[&str]) {
    let t = Test::new().config(yaml);
    let out = t.run(args);
    out.status(2).stderr_has("udo.yml:");
    for e in expect {
        out.stderr_has(e);
    }
    assert!(
        !t.aws_was_touched(),
        "a configuration error must not reach AWS"
    );
}

#[test]
fn valid_file_validates() {
    Test::new()
        .config(GOOD)
        .run(&["validate"])
        .ok()
        .stdout_has("is valid: 3 clusters, 3 roles (dev.web, dev.worker, solo.api)");
}

#[test]
fn validate_json_has_a_stable_shape() {
    let out = Test::new()
        .config(GOOD)
        .run(&["validate", "--output", "json"]);
    let j = out.ok().json();
    assert_eq!(j["valid"], true);
    assert_eq!(j["clusters"][0]["name"], "dev");
    assert_eq!(
        j["clusters"][0]["roles"],
        serde_json::json!(["web", "worker"])
    );
    assert_eq!(j["clusters"][1]["roles"], serde_json::json!([]));
}

#[test]
fn the_example_file_validates() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/udo.yml")).unwrap();
    Test::new().config(&example).run(&["validate"]).ok();
}

#[test]
fn malformed_yaml_is_located() {
    bad(
        "app_name: x\nclusters:\n  dev: [unclosed\n",
        &["validate"],
        &["invalid YAML", "udo.yml:"],
    );
}

#[test]
fn unknown_key_suggests_the_near_miss() {
    bad(
        "app_name: x\nclusters:\n  dev:\n    roles:\n      web:\n        instance_typ: t3.small\n",
        &["validate"],
        &[
            "unknown key `instance_typ` in role `dev.web`",
            "udo.yml:6:9",
            "did you mean `instance_type` (EC2 instance type)?",
        ],
    );
}

#[test]
fn unknown_key_inside_a_mapping_key() {
    bad(
        "app_name: x\nscale_policy: {min: 1}\nclusters:\n  dev:\n",
        &["validate"],
        &[
            "unknown key `min` in `scale_policy`",
            "udo.yml:2:16",
            "min_size",
        ],
    );
}

#[test]
fn wrong_kind_at_one_level_names_both_places() {
    bad(
        "app_name: x\npackages: [base]\nclusters:\n  dev:\n    roles:\n      web:\n        packages: web\n",
        &["validate"],
        &[
            "`packages` must be a list",
            "role `dev.web` has a single value",
            "udo.yml:7:19",
            "`packages` is a list in the top level",
            "udo.yml:2:11",
        ],
    );
}

#[test]
fn impossible_sizes() {
    bad(
        "app_name: x\nscale_policy: {min_size: 3}\nclusters:\n  dev:\n    roles:\n      web:\n        scale_policy: {max_size: 2}\n",
        &["validate"],
        &[
            "min_size 3 is greater than max_size 2",
            "udo.yml:7:34",
            "min_size is set in the top level",
        ],
    );
    bad(
        "app_name: x\nclusters:\n  dev:\n    roles:\n      web:\n        scale_policy: {min_size: 1, max_size: 2, desired: 5}\n",
        &["validate"],
        &["desired 5 is greater than max_size 2"],
    );
    bad(
        "app_name: x\nclusters:\n  dev:\n    roles:\n      web:\n        scale_policy: {min_size: -1}\n",
        &["validate"],
        &["out of range"],
    );
}

#[test]
fn bad_cidr_zone_region_and_types() {
    bad(
        "app_name: x\nsubnets_cidr: [10.0.0.1/24]\nclusters:\n  dev:\n",
        &["validate"],
        &["host bits set", "udo.yml:2:16"],
    );
    bad(
        "app_name: x\navailability_zones: [us-east-1]\nclusters:\n  dev:\n",
        &["validate"],
        &["availability zone"],
    );
    bad(
        "app_name: x\nregion: useast\nclusters:\n  dev:\n",
        &["validate"],
        &["not a region name"],
    );
    bad(
        "app_name: x\nspot_price: cheap\nclusters:\n  dev:\n",
        &["validate"],
        &["not a positive number"],
    );
    bad(
        "app_name: x\ntenancy: shared\nclusters:\n  dev:\n",
        &["validate"],
        &["one of default, dedicated"],
    );
}

#[test]
fn duplicate_keys() {
    bad(
        "app_name: x\nami: ami-1\nami: ami-2\nclusters:\n  dev:\n",
        &["validate"],
        &[
            "duplicate key `ami`",
            "udo.yml:3:1",
            "first defined here",
            "udo.yml:2:1",
        ],
    );
}

#[test]
fn names_must_work_in_aws_and_be_unique() {
    bad(
        "app_name: x\nclusters:\n  'dev env':\n",
        &["validate"],
        &["cluster name `dev env` cannot be used"],
    );
    bad(
        "app_name: x\nclusters:\n  a-b:\n    roles: {c: }\n  a:\n    roles: {b-c: }\n",
        &["validate"],
        &["would both be named `a-b-c`"],
    );
}

#[test]
fn cluster_keys_only_under_clusters() {
    bad(
        "app_name: x\nvpc_cidr: 10.0.0.0/16\nclusters:\n  dev:\n",
        &["validate"],
        &["`vpc_cidr` is a cluster setting"],
    );
}

#[test]
fn whole_file_problems_are_errors_not_panics() {
    bad("", &["validate"], &["the file is empty"]);
    bad("- just\n- a list\n", &["validate"], &["must be a mapping"]);
    bad("app_name: x\n", &["validate"], &["no `clusters:` mapping"]);
    bad(
        "app_name: x\nclusters: [dev]\n",
        &["validate"],
        &["`clusters` must be a mapping"],
    );
    bad(
        "app_name: x\nclusters:\n  dev:\n    roles:\n      web: 5\n",
        &["validate"],
        &["must be a mapping of settings"],
    );
    bad(
        "clusters:\n  dev:\n    roles:\n      web:\n",
        &["validate"],
        &["has no `app_name`"],
    );

    let t = Test::new();
    std::fs::write(t.path().join("udo.yml"), b"app_name: caf\xe9\nclusters:\n").unwrap();
    t.run(&["validate"])
        .status(2)
        .stderr_has("not valid UTF-8")
        .stderr_has("udo.yml:1:");

    let huge = format!(
        "app_name: x\nclusters:\n  dev:\n{}",
        "    # padding\n".repeat(400_000)
    );
    Test::new()
        .config(&huge)
        .run(&["validate"])
        .status(2)
        .stderr_has("bytes");

    let deep = format!("app_name: x\nclusters: {}", "[".repeat(5000));
    Test::new()
        .config(&deep)
        .run(&["validate"])
        .status(2)
        .stderr_has("udo.yml:");
}

#[test]
fn errors_are_all_reported_at_once() {
    let t = Test::new().config(
        "app_name: x\namii: 1\nclusters:\n  dev:\n    roles:\n      web:\n        tenancy: x\n",
    );
    t.run(&["validate"])
        .status(2)
        .stderr_has("unknown key `amii`")
        .stderr_has("`x` is not one of default")
        .stderr_has("2 configuration errors");
}

#[test]
fn every_command_checks_the_config_before_aws() {
    let t =
        Test::new().config("app_name: x\nbogus: 1\nclusters:\n  dev:\n    roles:\n      web:\n");
    for args in [
        &["whoami"][..],
        &["lc", "cloudinit", "dev.web"],
        &["config", "show", "dev.web"],
    ] {
        t.run(args).status(2).stderr_has("unknown key `bogus`");
    }
    assert!(!t.aws_was_touched());
}

#[test]
fn targets_resolve_like_the_old_tool() {
    let t = Test::new().config(GOOD);
    t.run(&["config", "show", "solo"])
        .ok()
        .stdout_has("solo.api");
    t.run(&["config", "show", "dev"])
        .status(2)
        .stderr_has("cluster `dev` has 2 roles")
        .stderr_has("`dev.web`, `dev.worker`");
    t.run(&["config", "show", "dev.wbe"])
        .status(2)
        .stderr_has("did you mean `dev.web`?")
        .stderr_has("udo.yml:5:3");
    t.run(&["config", "show", "dve.web"])
        .status(2)
        .stderr_has("no cluster `dve`")
        .stderr_has("did you mean `dev`?");
    t.run(&["config", "show", "qa"])
        .status(2)
        .stderr_has("cluster `qa` has no roles yet");
    t.run(&["config", "show", "dev.*"])
        .status(2)
        .stderr_has("names every role");
    assert!(!t.aws_was_touched());
}

#[test]
fn config_show_merges_and_explains() {
    let t = Test::new().config(GOOD);
    let out = t.run(&["config", "show", "dev.web"]);
    out.ok()
        .stdout_has("packages:\n  - base\n  - dev-cfg\n  - web\n")
        .stdout_has("instance_type: t3.small")
        .stdout_lacks("# the top level");
    t.run(&["-v", "config", "show", "dev.web"])
        .ok()
        .stdout_has("  - base  # the top level, line 3")
        .stdout_has("  - dev-cfg  # cluster `dev`, line 6")
        .stdout_has("instance_type: t3.small  # role `dev.web`, line 9");
}

#[test]
fn config_show_json() {
    let t = Test::new().config(&GOOD.replace(
        "region: us-east-1",
        "region: us-east-1\nslack: {url: 'https://hooks.example/T0/SECRET'}",
    ));
    let out = t.run(&["config", "show", "dev.web", "-o", "json"]);
    let j = out.ok().stdout_lacks("SECRET").json();
    assert_eq!(j["group"], "dev-web");
    assert_eq!(
        j["settings"]["packages"],
        serde_json::json!(["base", "dev-cfg", "web"])
    );
    assert_eq!(j["settings"]["scale_policy"]["desired"], 2);
    assert_eq!(j["sources"]["packages[1]"]["level"], "cluster");
    assert_eq!(j["sources"]["packages[1]"]["line"], 7);
    assert_eq!(j["settings"]["slack"]["url"], "<redacted>");
}

#[test]
fn config_is_found_in_parent_directories_or_by_flag_or_env() {
    let t = Test::new().config(GOOD).file("sub/deeper/.keep", "");
    let deeper = t.path().join("sub/deeper");
    t.run_in(&deeper, &["validate"])
        .ok()
        .stdout_has("udo.yml is valid");

    let other = Test::new().file("conf/other.yml", GOOD);
    let path = other.path().join("conf/other.yml");
    other
        .run(&["--config", path.to_str().unwrap(), "validate"])
        .ok()
        .stdout_has("other.yml is valid");
    let other = other.env("UDO_CONFIG", path.to_str().unwrap());
    other
        .run(&["validate"])
        .ok()
        .stdout_has("other.yml is valid");

    let none = Test::new();
    none.run(&["validate"])
        .status(2)
        .stderr_has("no udo.yml in")
        .stderr_has("--config");
}

#[test]
fn version_and_completions_need_no_config() {
    let t = Test::new();
    t.run(&["version"])
        .ok()
        .stdout_has(concat!("udo ", env!("CARGO_PKG_VERSION")));
    t.run(&["completions", "bash"]).ok().stdout_has("_udo()");
    t.run(&["completions", "zsh"])
        .ok()
        .stdout_has("#compdef udo");
    t.run(&["completions", "fish"])
        .ok()
        .stdout_has("complete -c udo");
}

#[test]
fn bad_command_lines_exit_2() {
    let t = Test::new().config(GOOD);
    t.run(&["lc", "cloudinit"]).status(2);
    t.run(&["frobnicate"]).status(2);
    t.run(&["--output", "yaml", "validate"]).status(2);
}

#[test]
fn secrets_never_appear_in_errors() {
    let secret = "https://hooks.slack.example/services/T0/B0/SECRETTOKEN";
    let yaml = format!(
        "app_name: x\nslack:\n  url: '{secret} with space'\nclusters:\n  dev:\n    roles:\n      web:\n        slack: {{url: '{secret}2', channel: 5}}\n        bogus: 1\n"
    );
    let out = Test::new().config(&yaml).run(&["validate"]);
    out.status(2)
        .stderr_has("slack.url")
        .stderr_has("<redacted>")
        .stderr_has("unknown key `bogus`");
    assert!(!out.stderr.contains("SECRETTOKEN"), "{}", out.stderr);
}

#[test]
fn unknown_targets_are_usage_errors_naming_what_exists() {
    let t = Test::new().config(GOOD);
    let out = t.run(&["status", "nope"]);
    out.status(2)
        .stderr_has("error: udo.yml has no cluster `nope`")
        .stderr_has("`dev` (`dev.web`, `dev.worker`), `qa` (no roles yet), `solo` (`solo.api`)")
        .stderr_lacks("configuration error");
    let out = t.run(&["asg", "instances", "dev.nope"]);
    out.status(2)
        .stderr_has("error: cluster `dev` has no role `nope`")
        .stderr_has("`dev.web`, `dev.worker`")
        .stderr_lacks("configuration error");
    t.run(&["status", "dev.web"])
        .status(2)
        .stderr_has("this command takes a cluster name, such as `dev`");
    assert!(!t.aws_was_touched());
}

#[test]
fn a_missing_udo_yml_says_where_udo_looked_and_how_to_start() {
    let t = Test::new();
    let out = t.run(&["status"]);
    out.status(2)
        .stderr_has(&format!(
            "found no udo.yml in {} or any of its parent directories",
            t.path().display()
        ))
        .stderr_has("cp examples/udo.yml .")
        .stderr_has("--config")
        .stderr_lacks("configuration error");
    let out = t.run(&["--config", "nowhere.yml", "status"]);
    out.status(2)
        .stderr_has("nowhere.yml does not exist")
        .stderr_lacks("configuration error");
    assert!(!t.aws_was_touched());
}

#[test]
fn validate_json_prints_only_the_json_document() {
    // no udo.yml at all
    let t = Test::new();
    let out = t.run(&["validate", "-o", "json"]);
    out.status(2);
    assert_eq!(out.stderr, "", "nothing but the JSON document");
    let j = out.json();
    assert_eq!(j["valid"], false);
    assert!(j["path"].is_null());
    assert!(
        j["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("found no udo.yml in")
    );
    // a file that does not parse as udo.yml
    let t = Test::new().config("app_name: shop\nbogus: 1\nclusters:\n");
    let out = t.run(&["validate", "-o", "json"]);
    out.status(2);
    assert_eq!(out.stderr, "", "nothing but the JSON document");
    assert_eq!(out.json()["errors"][0]["line"], 2);
    // a file whose roles lack what launching needs
    let t = Test::new().config("app_name: shop\nclusters:\n  dev:\n    roles:\n      web:\n");
    let out = t.run(&["validate", "-o", "json"]);
    out.status(2);
    assert_eq!(out.stderr, "", "nothing but the JSON document");
    assert_eq!(out.json()["valid"], false);
    // text output still explains on stderr
    t.run(&["validate"])
        .status(2)
        .stderr_has("configuration error");
}
