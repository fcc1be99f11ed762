//! Outdated instances and `udo asg rollout` against moto_server: what each instance was
//! launched from, the udo-driven rolling replacement (surge, health, terminate, restore), its
//! resumption after a kill, its rollback when a batch never becomes healthy, and `--native`
//! through the harness's instance refresh stand-in.

mod support;
use support::{Moto, Outcome, Test};

const YML: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
clusters:
  dev:
    subnets_cidr: [10.30.1.0/24, 10.30.2.0/24]
    roles:
      web:
        scale_policy: {min_size: 2, max_size: 4, desired: 4}
      worker:
        launch: configuration
        public: false
        scale_policy: {min_size: 1, max_size: 2, desired: 2}
";

fn setup() -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(YML).env("UDO_POLL_MS", "20");
    t.run(&["cluster", "create", "dev"]).ok();
    (moto, t)
}

fn count(out: &Outcome, op: &str) -> usize {
    out.ops().iter().filter(|o| *o == op).count()
}

/// The instances of `asg instances -o json` as (id, launch, outdated).
fn instances(t: &Test, target: &str) -> Vec<(String, String, bool)> {
    let j = t
        .run(&["asg", "instances", target, "-o", "json"])
        .ok()
        .json();
    j["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["launch"].as_str().unwrap().to_string(),
                i["outdated"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn status_outdated(t: &Test, group: &str) -> i64 {
    let j = t.run(&["status", "-o", "json"]).ok().json();
    j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .unwrap()["outdated"]
        .as_i64()
        .unwrap()
}

#[test]
fn updatelc_marks_running_instances_outdated_end_to_end() {
    let (_m, t) = setup();
    t.run(&["asg", "create", "dev.web"]).ok();
    assert!(
        instances(&t, "dev.web")
            .iter()
            .all(|(_, l, o)| l == "dev-web v1" && !o)
    );
    assert_eq!(status_outdated(&t, "dev-web"), 0);

    t.write(
        "udo.yml",
        &YML.replace("instance_type: t3.small", "instance_type: t3.large"),
    );
    t.run(&["asg", "updatelc", "dev.web"]).ok();
    let after = instances(&t, "dev.web");
    assert_eq!(after.len(), 4);
    assert!(
        after.iter().all(|(_, l, o)| l == "dev-web v1" && *o),
        "{after:?}"
    );
    t.run(&["asg", "instances", "dev.web"])
        .ok()
        .stdout_has("dev-web v1 (outdated)")
        .stdout_has("4 instance(s) run an outdated launch version");
    let st = t.run(&["-v", "status"]);
    st.ok();
    assert!(st.calls().len() <= 3, "{:?}", st.calls());
    assert_eq!(status_outdated(&t, "dev-web"), 4);
    // a new instance runs the new version and is not outdated
    t.run(&["asg", "scale", "dev.web", "5", "--yes"]).ok();
    let five = instances(&t, "dev.web");
    let fresh: Vec<_> = five.iter().filter(|(_, _, o)| !o).collect();
    assert_eq!(fresh.len(), 1, "{five:?}");
    assert_eq!(fresh[0].1, "dev-web v2");
    assert_eq!(status_outdated(&t, "dev-web"), 4);
}

#[test]
fn moving_between_configuration_and_template_outdates_the_other_kind() {
    let (_m, t) = setup();
    t.run(&["asg", "create", "dev.worker"]).ok();
    assert!(
        instances(&t, "dev.worker")
            .iter()
            .all(|(_, l, o)| l == "dev-worker" && !o)
    );
    // udo.yml no longer says `launch: configuration`: the group moves to a template
    t.write(
        "udo.yml",
        &YML.replace("        launch: configuration\n", ""),
    );
    t.run(&["asg", "updatelc", "dev.worker"])
        .ok()
        .stdout_has("Changed ASgroup dev-worker launch from dev-worker to dev-worker v1");
    let moved = instances(&t, "dev.worker");
    assert!(
        moved.iter().all(|(_, l, o)| l == "dev-worker" && *o),
        "{moved:?}"
    );
    assert_eq!(status_outdated(&t, "dev-worker"), 2);
}
