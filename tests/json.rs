//! The JSON documents of `-o json` against the real binary: every command the README lists as
//! printing JSON prints one document whose keys are the reviewed ones in tests/golden/json/
//! (a change to a shape is a reviewed diff: re-run with `UDO_BLESS=1`), and the keys the README
//! spells out are asserted here by name.

mod support;
use serde_json::{Value, json};
use support::{Moto, Test};

const SHA: &str = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";

const YML: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
deploy:
  application: Shop
  github: {repo: acme/shop}
  service_role: arn:aws:iam::123456789012:role/codedeploy
clusters:
  dev:
    description: Development
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    roles:
      web:
        deployment_group: dev-webapp
        scale_policy: {min_size: 1, max_size: 2, desired: 1}
        schedule:
          - {name: night, recurrence: '0 20 * * *', desired: 0}
        scaling_policies:
          - {name: cpu, metric: cpu, target: 60}
        post_deploy_hook: [echo done]
";

/// The key paths of a document in order, each once: `.groups[].cluster`.
fn shape(v: &Value) -> Vec<String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{path}.{k}");
                    if !out.contains(&p) {
                        out.push(p.clone());
                    }
                    walk(x, &p, out);
                }
            }
            Value::Array(items) => {
                for x in items {
                    walk(x, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// The document's shape is the reviewed one in tests/golden/json/NAME.keys.
fn matches_golden(name: &str, doc: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/json")
        .join(format!("{name}.keys"));
    let got = shape(doc).join("\n") + "\n";
    if std::env::var_os("UDO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UDO_BLESS=1 writes it)", path.display()));
    assert_eq!(
        got,
        golden,
        "the shape of `{name}` changed; review it and update {} (UDO_BLESS=1)",
        path.display()
    );
}

/// Every key the README names is in the object.
fn has_keys(v: &Value, keys: &[&str]) {
    let m = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    for k in keys {
        assert!(m.contains_key(*k), "no `{k}` in {v}");
    }
}

/// Runs a read command with `-o json`: exit 0 and one JSON document on stdout.
fn doc(t: &Test, args: &[&str]) -> Value {
    let mut all = vec!["-o", "json"];
    all.extend(args);
    t.run(&all).ok().json()
}

fn setup() -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(YML).env("UDO_POLL_MS", "20");
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    (moto, t)
}

#[test]
fn every_read_command_prints_its_documented_shape() {
    let (moto, t) = setup();

    let v = doc(&t, &["validate"]);
    assert_eq!(v["valid"], true);
    matches_golden("validate", &v);

    let v = doc(&t, &["config", "show", "dev.web"]);
    has_keys(
        &v,
        &["target", "cluster", "role", "group", "settings", "sources"],
    );
    matches_golden("config-show", &v["sources"]["app_name"]);

    let v = doc(&t, &["whoami"]);
    has_keys(&v, &["account", "arn", "region", "endpoint"]);
    matches_golden("whoami", &v);

    matches_golden("lc-show", &doc(&t, &["lc", "show", "dev.web"]));
    matches_golden("lc-list", &doc(&t, &["lc", "list"]));
    matches_golden("cluster-list", &doc(&t, &["cluster", "list"]));
    matches_golden("cluster-status", &doc(&t, &["cluster", "status", "dev"]));
    matches_golden("status", &doc(&t, &["status"]));
    matches_golden("asg-instances", &doc(&t, &["asg", "instances", "dev.web"]));
    matches_golden(
        "asg-instances-batch",
        &doc(&t, &["asg", "instances", "dev.*"]),
    );
    matches_golden("asg-randomip", &doc(&t, &["asg", "randomip", "dev.web"]));
    matches_golden("asg-scale", &doc(&t, &["asg", "scale", "dev.web"]));
    let v = doc(&t, &["asg", "policies", "dev.web"]);
    assert_eq!(v["policies"][0]["source"], "udo.yml");
    assert_eq!(v["scheduled_actions"][0]["source"], "udo.yml");
    matches_golden("asg-policies", &v);

    // plan: `differences`, then per cluster `network`, `missing_subnets` and per role `exists`,
    // `differs`, `launch`, `launch_details`, `group_changes`, `schedules`, `policies`,
    // `outdated`, `destructive`
    t.write("udo.yml", &YML.replace("desired: 0}", "desired: 1}"));
    let v = doc(&t, &["plan"]);
    assert_eq!(v["differences"], true);
    has_keys(
        &v["clusters"][0],
        &["cluster", "network", "missing_subnets", "roles"],
    );
    has_keys(
        &v["clusters"][0]["roles"][0],
        &[
            "exists",
            "differs",
            "launch",
            "launch_details",
            "group_changes",
            "schedules",
            "policies",
            "outdated",
            "destructive",
        ],
    );
    assert_eq!(
        v["clusters"][0]["roles"][0]["schedules"][0]["change"],
        "change"
    );
    matches_golden("plan", &v);
    t.write("udo.yml", YML);

    // deployments
    moto.control(
        "codedeploy_agent",
        json!({"group": "dev-webapp", "outcome": "Succeeded"}),
    );
    t.run(&["deploy", "dev.web", SHA, "--skip-hooks"]).ok();
    let v = doc(&t, &["deploy", "last"]);
    let id = v["groups"][0]["deployment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    matches_golden("deploy-last", &v);
    let v = doc(&t, &["deploy", "status", &id]);
    assert_eq!(v["status"], "Succeeded");
    matches_golden("deploy-status", &v);
    for what in ["apps", "groups", "deployments", "configs", "post"] {
        matches_golden(
            &format!("deploy-list-{what}"),
            &doc(&t, &["deploy", "list", what]),
        );
    }
    let out = t.run(&["deploy", "dev.web", SHA, "--no-wait"]);
    out.ok();
    let v = doc(&t, &["deploy", "stop", "dev.web", "--yes"]);
    has_keys(&v["stopped"][0], &["group", "id", "rollback"]);
    matches_golden("deploy-stop", &v);
}

#[test]
fn an_invalid_udo_yml_is_described_as_the_readme_says() {
    // `{"valid": false, "errors": [{"file", "line", "column", "message", "help", "notes"}…]}`,
    // exit 2
    let t = Test::new().config("app_name: shop\nclusterz: {}\n");
    let out = t.run(&["validate", "-o", "json"]);
    out.status(2);
    let v = out.json();
    assert_eq!(v["valid"], false);
    has_keys(
        &v["errors"][0],
        &["file", "line", "column", "message", "help", "notes"],
    );
    matches_golden("validate-invalid", &v);
}

#[test]
fn exec_describes_its_hosts_and_summary_as_the_readme_says() {
    // `target`, `command`, `hosts` (…) and `summary` (the counts and the slowest host): with
    // `--outdated` and nothing outdated, the document comes without connecting anywhere.
    let (_moto, t) = setup();
    let v = doc(&t, &["exec", "dev.web", "--outdated", "--", "true"]);
    has_keys(&v, &["target", "command", "hosts", "summary"]);
    has_keys(
        &v["summary"],
        &[
            "hosts",
            "succeeded",
            "failed",
            "timed_out",
            "unreachable",
            "skipped",
            "slowest",
        ],
    );
    assert_eq!(v["hosts"], json!([]));
    matches_golden("exec", &v);
}
