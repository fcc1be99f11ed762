//! `udo lc cloudinit`: the user-data script, byte for byte.

mod support;
use support::Test;

const EXAMPLE: &str = include_str!("../examples/udo.yml");

#[test]
fn example_matches_the_reviewed_golden_file() {
    let t = Test::new().config(EXAMPLE);
    let out = t.run(&["lc", "cloudinit", "dev.webapp"]);
    out.ok();
    let golden = include_str!("golden/dev.webapp.cloudinit.sh");
    assert_eq!(
        out.stdout, golden,
        "rendered user data changed; review and update tests/golden/"
    );
    assert!(!t.aws_was_touched(), "cloudinit needs no network");
}

#[test]
fn first_line_is_the_shebang_and_packages_appear_once() {
    let out = Test::new()
        .config(EXAMPLE)
        .run(&["lc", "cloudinit", "dev.worker"]);
    out.ok();
    assert!(out.stdout.starts_with("#!/bin/bash\n"));
    assert_eq!(out.stdout.matches("yum install -y").count(), 1);
    out.stdout_has("yum install -y myapp-base myapp-cfg-dev myapp-worker\n");
}

#[test]
fn legacy_variable_names_and_region_precedence() {
    let t = Test::new().config(EXAMPLE);
    t.run(&["lc", "cloudinit", "dev.webapp"])
        .ok()
        .stdout_has("export UDO_REGION=us-east-1\n")
        .stdout_has(
            "CLUSTER_NAME=\"$UDO_CLUSTER\" ROLE_NAME=\"$UDO_ROLE\" udo_region=\"$UDO_REGION\"",
        );
    t.run(&["--region", "eu-west-1", "lc", "cloudinit", "dev.webapp"])
        .ok()
        .stdout_has("export UDO_REGION=eu-west-1\n");

    let no_region = Test::new().config("app_name: a\nclusters:\n  dev:\n    roles:\n      web:\n");
    no_region
        .run(&["lc", "cloudinit", "dev.web"])
        .status(2)
        .stderr_has("no AWS region");
    let with_env = Test::new()
        .config("app_name: a\nclusters:\n  dev:\n    roles:\n      web:\n")
        .env("AWS_REGION", "ap-south-1");
    with_env
        .run(&["lc", "cloudinit", "dev.web"])
        .ok()
        .stdout_has("export UDO_REGION=ap-south-1\n");
    let with_profile = Test::new()
        .config("app_name: a\nclusters:\n  dev:\n    roles:\n      web:\n")
        .file("aws-config", "[profile work]\nregion = sa-east-1\n");
    let cfg = with_profile.path().join("aws-config");
    let with_profile = with_profile.env("AWS_CONFIG_FILE", cfg.to_str().unwrap());
    with_profile
        .run(&["--profile", "work", "lc", "cloudinit", "dev.web"])
        .ok()
        .stdout_has("export UDO_REGION=sa-east-1\n");
}

#[test]
fn values_are_quoted_for_the_shell() {
    let yaml = "app_name: a\nregion: us-east-1\npackages: ['pkg;rm', \"it's\"]\nclusters:\n  dev:\n    roles:\n      web:\n";
    Test::new()
        .config(yaml)
        .run(&["lc", "cloudinit", "dev.web"])
        .ok()
        .stdout_has(r"yum install -y 'pkg;rm' 'it'\''s'");
}

#[test]
fn optional_sections_are_left_out() {
    let out = Test::new()
        .config("app_name: a\nregion: us-east-1\nclusters:\n  dev:\n    roles:\n      web:\n")
        .run(&["lc", "cloudinit", "dev.web"]);
    out.ok()
        .stdout_lacks("yum install")
        .stdout_lacks("yum.repos.d")
        .stdout_lacks("rpm -U")
        .stdout_lacks("cloud_init_pre")
        .stdout_lacks("cloud_init_post")
        .stdout_has("yum update -y\n");
}
