//! `udo lc …` against moto_server: launch templates by default, launch configurations for
//! legacy roles; create, no-op, new version, show, list, destroy.

mod support;
use support::{Moto, Test};

const LC: &str = "\
app_name: shop
region: us-east-1
ami: ami-12c6146b
instance_type: t3.small
packages: [base]
tags: {team: core}
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24]
    roles:
      web:
        spot_price: 0.05
        iam_profile: web-profile
        keypair_name: deploy
        scale_policy: {min_size: 0, max_size: 2, desired: 0}
      old:
        launch: configuration
        public: false
        tenancy: default
";

#[test]
fn template_create_is_idempotent_and_changes_make_versions() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    let out = t.run(&["-v", "lc", "create", "dev.web"]);
    out.ok()
        .stdout_has("Created launch template dev-web (lt-")
        .stdout_has("version 1");
    assert_eq!(out.writes(), vec!["CreateLaunchTemplate"]);

    let again = t.run(&["-v", "lc", "create", "dev.web"]);
    again.ok().stdout_has("matches udo.yml; nothing to do");
    assert!(again.writes().is_empty());
    assert_eq!(again.calls().len(), 1);

    t.run(&["lc", "show", "dev.web"])
        .ok()
        .stdout_has("in sync: dev-web matches udo.yml");

    t.write(
        "udo.yml",
        &LC.replace("instance_type: t3.small", "instance_type: t3.large")
            .replace("packages: [base]", "packages: [base, extra]"),
    );
    let show = t.run(&["lc", "show", "dev.web"]);
    show.ok()
        .stdout_has("differs: 2 fields differ")
        .stdout_has("-yum install -y base\n")
        .stdout_has("+yum install -y base extra\n");
    let j = t.run(&["lc", "show", "dev.web", "-o", "json"]).ok().json();
    assert_eq!(j["state"], "differs");
    assert_eq!(j["differences"][0]["field"], "instance type");
    assert_eq!(j["differences"][0]["live"], "t3.small");
    assert_eq!(j["differences"][0]["desired"], "t3.large");

    let dry = t.run(&["-v", "--dry-run", "lc", "create", "dev.web"]);
    dry.ok().stdout_has("create version 2");
    assert!(dry.writes().is_empty());

    let v2 = t.run(&["-v", "lc", "create", "dev.web"]);
    v2.ok()
        .stdout_has("Created launch template dev-web version 2");
    assert_eq!(
        v2.writes(),
        vec!["CreateLaunchTemplateVersion", "ModifyLaunchTemplate"]
    );
    t.run(&["lc", "show", "dev.web"])
        .ok()
        .stdout_has("version 2")
        .stdout_has("in sync");
}

#[test]
fn template_carries_the_role_settings() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["lc", "create", "dev.web"]).ok();
    let j = t.run(&["lc", "show", "dev.web", "-o", "json"]).ok().json();
    assert_eq!(
        j["in_sync"], true,
        "spot price, profile, key pair and tags read back equal: {j}"
    );
}

#[test]
fn configuration_create_then_explain_updatelc() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["lc", "create", "dev.old"])
        .ok()
        .stdout_has("Created launch configuration dev-old");
    t.run(&["lc", "create", "dev.old"])
        .ok()
        .stdout_has("matches udo.yml; nothing to do");
    t.write(
        "udo.yml",
        &LC.replace("instance_type: t3.small", "instance_type: t3.micro"),
    );
    let out = t.run(&["-v", "lc", "create", "dev.old"]);
    out.ok()
        .stdout_has("differs from udo.yml")
        .stdout_has("udo asg updatelc dev.old")
        .stdout_has("dev-old-v2");
    assert!(out.writes().is_empty());
    // an exact-name lookup: one call for all of dev-old, dev-old-v2 … dev-old-v50
    assert_eq!(out.ops(), vec!["DescribeLaunchConfigurations"]);
}

#[test]
fn list_shows_templates_configurations_and_users() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["lc", "create", "dev.web"]).ok();
    t.run(&["lc", "create", "dev.old"]).ok();
    let j = t.run(&["lc", "list", "-o", "json"]).ok().json();
    let names: Vec<&str> = j["launch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["dev-web", "dev-old"]);
    assert_eq!(j["launch"][0]["latest_version"], 1);
    assert_eq!(j["launch"][1]["version"], 1);
    t.run(&["lc", "list"])
        .ok()
        .stdout_has("dev-web")
        .stdout_has("configuration");
}

#[test]
fn destroy_deletes_and_is_refused_while_in_use() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    let refused = t.run(&["-v", "lc", "destroy", "dev.web", "--yes"]);
    refused
        .status(1)
        .stderr_has("autoscaling group dev-web uses launch template");
    assert!(refused.writes().is_empty());

    t.run(&["lc", "create", "dev.old"]).ok();
    t.run(&["lc", "destroy", "dev.old"])
        .status(1)
        .stderr_has("--yes");
    t.run(&["lc", "destroy", "dev.old", "--yes"])
        .ok()
        .stdout_has("Deleted launch configuration dev-old");
    t.run(&["lc", "destroy", "dev.old", "--yes"])
        .ok()
        .stdout_has("nothing to delete");
}

#[test]
fn missing_required_keys_are_config_errors() {
    let t = Test::new().config("app_name: a\nregion: us-east-1\ninstance_type: t3.small\nclusters:\n  bare:\n    roles:\n      web:\n");
    t.run(&["lc", "create", "bare.web"])
        .status(2)
        .stderr_has("role `bare.web` has no `ami`")
        .stderr_has("udo.yml:7:7");
    assert!(!t.aws_was_touched());
}

#[test]
fn show_of_a_missing_template() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["lc", "show", "dev.web"])
        .ok()
        .stdout_has("does not exist");
    assert_eq!(
        t.run(&["lc", "show", "dev.web", "-o", "json"]).ok().json()["exists"],
        false
    );
}

#[test]
fn destructive_commands_ask_on_a_terminal() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["lc", "create", "dev.old"]).ok();
    let no = t.run_tty(&["lc", "destroy", "dev.old"], "n\n");
    no.status(1)
        .stdout_has("Apply these changes? [y/N]")
        .stdout_has("cancelled; nothing was changed");
    t.run(&["lc", "list"]).ok().stdout_has("dev-old");
    let yes = t.run_tty(&["lc", "destroy", "dev.old"], "y\n");
    yes.ok()
        .stdout_has("Apply these changes? [y/N]")
        .stdout_has("Deleted launch configuration dev-old");
    t.run(&["lc", "list"]).ok().stdout_lacks("dev-old");
}

#[test]
fn destroy_shows_a_deletion_with_the_delete_sign() {
    // `asg destroy` always showed `- delete launch configuration …`; `lc destroy` showed the
    // same step as a change (`~`). One typed step, one sign.
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(LC);
    t.run(&["lc", "create", "dev.old"]).ok();
    t.run(&["lc", "destroy", "dev.old", "--dry-run"])
        .ok()
        .stdout_has("dev.old:\n  - delete launch configuration dev-old\n  (+ create, ~ change, - delete)\nDry run: nothing was changed.\n");
    t.run(&["lc", "list"]).ok().stdout_has("dev-old");
}
