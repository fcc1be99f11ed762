//! `udo deploy …` against moto_server: GitHub and S3 revisions, setup, waiting, failures,
//! hooks, stop, suspend/resume and `CLUSTER.*`. The stand-in CodeDeploy agents of
//! tests/support/moto_plus.py (`codedeploy_agent`) move deployments as a test tells them.

mod support;
use serde_json::json;
use std::io::{Read, Write};
use support::{Moto, Outcome, Test};

const SHA: &str = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";

const BASE: &str = "\
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
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    roles:
      web:
        deployment_group: dev-webapp
        scale_policy: {min_size: 1, max_size: 2, desired: 1}
        post_deploy_hook:
          - echo \"one $UDO_APP $UDO_CLUSTER $UDO_ROLE $UDO_DEPLOYMENT_ID $UDO_REVISION\"
          - \"echo 'two: quoted   spaces kept'\"
      worker:
        deployment_group: dev-worker
        scale_policy: {min_size: 1, max_size: 2, desired: 1}
";

fn count(out: &Outcome, op: &str) -> usize {
    out.ops().iter().filter(|o| *o == op).count()
}

fn agent(moto: &Moto, group: &str, body: serde_json::Value) {
    let mut body = body;
    body["group"] = json!(group);
    moto.control("codedeploy_agent", body);
}

/// The deployment id udo printed ("Deployment ID created" or "Deployment ID to …").
fn deployment_id(out: &Outcome) -> String {
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("Deployment ") && (l.contains(" created") || l.contains(" to ")))
        .unwrap_or_else(|| panic!("no deployment id in\n{text}"));
    line.split("Deployment ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// One raw S3 request to moto (bucket set-up and checks udo does not do itself).
fn s3(moto: &Moto, method: &str, path: &str) -> String {
    let addr = moto.endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "S3 {method} {path}: {out}");
    out
}

fn with_moto(config: &str) -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto)
        .config(config)
        .env("UDO_POLL_MS", "50");
    (moto, t)
}

/// `with_moto`, and the cluster's groups with their instances: CodeDeploy fails a deployment
/// to a group with none (see `a_deployment_to_a_group_without_instances_says_to_scale_it`).
fn with_instances(config: &str) -> (Moto, Test) {
    let (m, t) = with_moto(config);
    t.run(&["--no-notify", "cluster", "create", "dev"]).ok();
    t.run(&["--no-notify", "asg", "create", "dev.*"]).ok();
    (m, t)
}

/// Ends a deployment as its agents would (AWS runs one deployment per group at a time).
fn finish(m: &Moto, out: &Outcome) {
    m.control(
        "codedeploy_move",
        json!({"id": deployment_id(out), "status": "Succeeded"}),
    );
}

#[test]
fn github_deploy_sets_up_once_then_takes_two_calls() {
    let (m, t) = with_instances(BASE);
    let first = t.run(&["-v", "deploy", "dev.web", SHA, "--no-wait"]);
    first
        .ok()
        .stdout_has("Created CodeDeploy application Shop")
        .stdout_has("Created deployment group dev-webapp for ASgroup dev-web")
        .stdout_has("Deploying 1a2b3c4d5e to dev-webapp")
        .stdout_has("udo deploy status");
    assert_eq!(count(&first, "CreateDeployment"), 1);
    finish(&m, &first);

    let again = t.run(&["-v", "deploy", "dev.web", SHA, "--no-wait"]);
    again.ok().stdout_has("Deploying 1a2b3c4d5e to dev-webapp");
    assert_eq!(
        again.ops(),
        vec!["GetDeploymentGroup", "CreateDeployment"],
        "a deploy with everything in place"
    );
    let id = deployment_id(&again);
    let j = t.run(&["deploy", "status", &id, "-o", "json"]).ok().json();
    assert_eq!(j["revision"], format!("acme/shop@{SHA}"));
    assert_eq!(j["group"], "dev-webapp");
    assert_eq!(j["status"], "Created");
}

#[test]
fn bad_revisions_exit_2_with_no_aws_call() {
    let t = Test::new()
        .config(&BASE.replace(
            "github: {repo: acme/shop}",
            "github: {repo: acme/shop}\n  s3: {bucket: builds}",
        ))
        .file("nospec/index.html", "hi");
    for (rev, says) in [
        ("nospec", "appspec.yml"),
        ("build.txt", "neither a local directory"),
    ] {
        t.run(&["deploy", "dev.web", rev])
            .status(2)
            .stderr_has(says);
    }
    let gh = Test::new().config(BASE);
    for rev in ["1a2b3c4", "main"] {
        gh.run(&["deploy", "dev.web", rev])
            .status(2)
            .stderr_has("CodeDeploy needs all 40 hex characters");
    }
    gh.run(&["deploy", "nosuchgroup", SHA]).status(2);
    gh.run(&["deploy", "dev.web"]).status(2);
    assert!(!t.aws_was_touched() && !gh.aws_was_touched());
}

#[test]
fn s3_bundles_are_uploaded_once_and_deployed_with_their_etag() {
    let config = BASE.replace(
        "github: {repo: acme/shop}",
        "s3: {bucket: builds, prefix: shop/releases}",
    );
    let (m, t) = with_moto(&config);
    let t = t
        .file("app/appspec.yml", "version: 0.0\nos: linux\n")
        .file("app/scripts/start.sh", "#!/bin/sh\ntrue\n");
    s3(&m, "PUT", "/builds");
    t.run(&["deploy", "setup", "dev.web"]).ok();

    let first = t.run(&["-v", "deploy", "dev.web", "app", "--no-wait"]);
    first
        .ok()
        .stdout_has("Uploaded ")
        .stdout_has("to s3://builds/shop/releases/shop-");
    assert_eq!(count(&first, "PutObject"), 1);
    assert!(first.calls().len() <= 4, "{:?}", first.calls());
    finish(&m, &first);

    let second = t.run(&["-v", "deploy", "dev.web", "app", "--no-wait"]);
    second
        .ok()
        .stderr_has("already holds this bundle; not uploading");
    assert_eq!(count(&second, "PutObject"), 0);
    assert_eq!(
        second.ops(),
        vec!["HeadObject", "GetDeploymentGroup", "CreateDeployment"]
    );

    let id = deployment_id(&second);
    let j = t.run(&["deploy", "status", &id, "-o", "json"]).ok().json();
    let key = j["revision"]
        .as_str()
        .unwrap()
        .trim_start_matches("s3://builds/")
        .to_string();
    assert!(key.starts_with("shop/releases/shop-") && key.ends_with(".zip"));
    let head = s3(&m, "HEAD", &format!("/builds/{key}"));
    let etag = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("etag:")
                .then(|| l[5..].trim().trim_matches('"').to_string())
        })
        .unwrap();
    assert_eq!(
        j["etag"], etag,
        "the deployment names the uploaded object's ETag"
    );

    // The key itself deploys as an existing object: three calls.
    finish(&m, &second);
    let by_key = t.run(&["-v", "deploy", "dev.web", &key, "--no-wait"]);
    by_key.ok();
    assert_eq!(by_key.calls().len(), 3, "{:?}", by_key.calls());
}

#[test]
fn setup_is_idempotent_and_fixes_differences() {
    let (_m, t) = with_moto(BASE);
    t.run(&["deploy", "setup", "dev.web"])
        .ok()
        .stdout_has("Created deployment group dev-webapp");
    let again = t.run(&["-v", "deploy", "setup", "dev.web"]);
    again.ok().stdout_has("matches udo.yml; no change");
    assert!(again.writes().is_empty(), "{:?}", again.ops());

    t.write(
        "udo.yml",
        &BASE.replace(
            "  service_role:",
            "  config: CodeDeployDefault.AllAtOnce\n  service_role:",
        ),
    );
    t.run(&["deploy", "setup", "dev.web", "--dry-run"])
        .ok()
        .stdout_has(
            "deployment config CodeDeployDefault.OneAtATime -> CodeDeployDefault.AllAtOnce",
        );
    t.run(&["deploy", "setup", "dev.web"])
        .ok()
        .stdout_has("Updated deployment group dev-webapp");
    let third = t.run(&["-v", "deploy", "setup", "dev.web"]);
    third.ok().stdout_has("no change");
    assert!(third.writes().is_empty());
}

#[test]
fn success_runs_the_hooks_in_order_with_their_environment() {
    let (m, t) = with_instances(BASE);
    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    let out = t.run(&["-v", "deploy", "dev.web", SHA]);
    out.ok().stdout_has("succeeded in");
    let id = deployment_id(&out);
    let one = format!("[hook 1] one Shop dev web {id} {SHA}");
    let two = "[hook 2] two: quoted   spaces kept";
    out.stdout_has(&one).stdout_has(two);
    assert!(out.stdout.find(&one) < out.stdout.find(two));
    // one call per poll: create, then Created -> InProgress -> Succeeded
    assert_eq!(count(&out, "GetDeployment"), 2, "{:?}", out.ops());

    let skipped = t.run(&["deploy", "dev.web", SHA, "--skip-hooks"]);
    skipped.ok().stdout_lacks("[hook 1]");
}

#[test]
fn a_failing_hook_stops_the_rest_and_fails_the_command() {
    let config = BASE.replace(
        "          - \"echo 'two: quoted   spaces kept'\"",
        "          - exit 3\n          - echo never",
    );
    let (m, t) = with_instances(&config);
    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    t.run(&["deploy", "dev.web", SHA])
        .status(1)
        .stdout_has("[hook 1] one")
        .stdout_lacks("never")
        .stderr_has("post-deploy hook 2 (`exit 3`) failed with exit status 3");
}

#[test]
fn failures_are_explained_per_instance() {
    let (m, t) = with_instances(BASE);
    agent(
        &m,
        "dev-webapp",
        json!({"outcome": "Failed", "failures": [
            {"instance": "i-0abc", "event": "AfterInstall", "message": "scripts/migrate.sh exited 2"}
        ]}),
    );
    let out = t.run(&["deploy", "dev.web", SHA]);
    out.status(1)
        .stdout_has("failed after")
        .stdout_lacks("[hook")
        .stderr_has("HEALTH_CONSTRAINTS")
        .stderr_has(
            "instance i-0abc: lifecycle event AfterInstall failed: scripts/migrate.sh exited 2",
        );
    let id = deployment_id(&out);
    let j = t.run(&["deploy", "status", &id, "-o", "json"]).ok().json();
    assert_eq!(j["status"], "Failed");
    assert_eq!(j["instances"]["failed"], 1);
    assert!(j["failures"][1].as_str().unwrap().contains("i-0abc"));
}

#[test]
fn timeout_names_the_deployment_and_how_to_follow_it() {
    let (m, t) = with_instances(BASE);
    agent(&m, "dev-webapp", json!({"outcome": "Never"}));
    let out = t.run(&["deploy", "dev.web", SHA, "--timeout", "1"]);
    out.status(1).stderr_has("gave up waiting after");
    let id = deployment_id(&out);
    out.stderr_has(&format!("udo deploy status {id}"));
}

#[test]
fn stop_asks_then_stops_the_active_deployment() {
    let (_m, t) = with_moto(BASE);
    let out = t.run(&["deploy", "dev.web", SHA, "--no-wait"]);
    let id = deployment_id(&out);
    t.run(&["deploy", "stop", "dev.web"])
        .status(1)
        .stderr_has("Re-run with --yes");
    t.run(&["deploy", "stop", "dev.web", "--yes", "--rollback"])
        .ok()
        .stdout_has(&format!(
            "Stopped deployment {id} of dev-webapp (rolling back)"
        ));
    let j = t.run(&["deploy", "status", &id, "-o", "json"]).ok().json();
    assert_eq!(j["status"], "Stopped");
    t.run(&["deploy", "stop", "dev.web", "--yes"])
        .ok()
        .stdout_has("No active deployment");
}

fn suspended(t: &Test) -> serde_json::Value {
    let j = t
        .run(&["asg", "policies", "dev.web", "-o", "json"])
        .ok()
        .json();
    j["suspended"].clone()
}

/// Tags a group as another run of udo (or an older udo) left it.
fn tag_group(m: &Moto, group: &str, key: &str, value: &str) {
    m.call(
        "autoscaling",
        &[
            ("Action", "CreateOrUpdateTags"),
            ("Version", "2011-01-01"),
            ("Tags.member.1.ResourceId", group),
            ("Tags.member.1.ResourceType", "auto-scaling-group"),
            ("Tags.member.1.Key", key),
            ("Tags.member.1.Value", value),
            ("Tags.member.1.PropagateAtLaunch", "false"),
        ],
    );
}

#[test]
fn a_deploy_killed_while_scaling_was_suspended_is_finished_by_the_next() {
    let config = BASE.replace(
        "  service_role:",
        "  suspend_scaling: true\n  service_role:",
    );
    let (m, t) = with_moto(&config);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    // What a deploy killed outright leaves: its processes suspended, and their record.
    t.run(&["asg", "suspend", "dev.web", "Launch", "AZRebalance"])
        .ok();
    tag_group(&m, "dev-web", "udo:deploy-suspended", "Launch");
    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    t.run(&["deploy", "dev.web", SHA, "--skip-hooks"])
        .ok()
        .stdout_has("Resumed scaling processes of ASgroup dev-web");
    // udo's Launch is resumed with the rest; someone else's AZRebalance stays
    assert_eq!(suspended(&t), json!(["AZRebalance"]));
    let xml = m.call(
        "autoscaling",
        &[
            ("Action", "DescribeAutoScalingGroups"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupNames.member.1", "dev-web"),
        ],
    );
    assert!(!xml.contains("udo:deploy-suspended"), "the record is gone");
}

#[test]
fn scaling_is_suspended_for_the_deploy_and_resumed_on_success_and_failure() {
    let config = BASE.replace(
        "  service_role:",
        "  suspend_scaling: true\n  service_role:",
    );
    let (m, t) = with_moto(&config);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    t.run(&["asg", "suspend", "dev.web", "AZRebalance"]).ok();

    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    t.run(&["deploy", "dev.web", SHA, "--skip-hooks"])
        .ok()
        .stdout_has("Suspended scaling processes of ASgroup dev-web")
        .stdout_has("Resumed scaling processes of ASgroup dev-web");
    assert_eq!(
        suspended(&t),
        json!(["AZRebalance"]),
        "someone else's suspension stays"
    );

    agent(&m, "dev-webapp", json!({"outcome": "Failed"}));
    t.run(&["deploy", "dev.web", SHA])
        .status(1)
        .stdout_has("Resumed scaling processes of ASgroup dev-web");
    assert_eq!(suspended(&t), json!(["AZRebalance"]));

    agent(&m, "dev-webapp", json!({"outcome": "Never"}));
    t.run(&["deploy", "dev.web", SHA, "--timeout", "1"])
        .status(1)
        .stdout_has("Resumed scaling processes");
    assert_eq!(suspended(&t), json!(["AZRebalance"]));
}

#[test]
fn cluster_star_deploys_every_role_and_reports_the_failing_one() {
    let (m, t) = with_instances(BASE);
    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    agent(&m, "dev-worker", json!({"outcome": "Failed"}));
    let out = t.run(&["deploy", "dev.*", SHA, "--skip-hooks"]);
    out.status(1)
        .stdout_has("[dev.web] Deployment ")
        .stdout_has("to dev-webapp succeeded")
        .stdout_has("[dev.worker] Deployment ")
        .stderr_has("[dev.worker] error: deployment ")
        .stderr_has("1 of 2 roles succeeded; failed: dev.worker");
}

#[test]
fn the_old_command_lines_work() {
    let (m, t) = with_instances(BASE);
    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    let out = t.run(&["deploy", "create", "dev-webapp", SHA, "--skip-hooks"]);
    out.ok().stdout_has("succeeded in");
    let id = deployment_id(&out);

    let last = t.run(&["deploy", "last"]);
    last.ok()
        .stdout_has("dev-webapp")
        .stdout_has(&id)
        .stdout_has("Succeeded")
        .stdout_has("dev-worker");
    let j = t
        .run(&["deploy", "last", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["groups"][0]["deployment"]["id"], id.as_str());
    assert_eq!(j["groups"][0]["deployment"]["status"], "Succeeded");

    t.run(&["deploy", "list", "deployments"])
        .ok()
        .stdout_has(&id);
    t.run(&["deploy", "list", "apps"]).ok().stdout_has("Shop");
    t.run(&["deploy", "list", "groups", "-o", "json"])
        .ok()
        .stdout_has("dev-webapp");
    t.run(&["deploy", "list", "configs"])
        .ok()
        .stdout_has("CodeDeployDefault.OneAtATime");
    t.run(&["deploy", "list", "post"])
        .ok()
        .stdout_has("dev.web  1");
}

#[test]
fn ctrl_c_while_waiting_resumes_scaling_and_names_the_deployment() {
    use std::io::BufRead;
    let config = BASE.replace(
        "  service_role:",
        "  suspend_scaling: true\n  service_role:",
    );
    let (m, t) = with_moto(&config);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    agent(&m, "dev-webapp", json!({"outcome": "Never"}));

    let mut child = t.spawn(&["deploy", "dev.web", SHA]);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Wait until udo polls the deployment (its processes are suspended by then).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let line = rx
            .recv_timeout(deadline - std::time::Instant::now())
            .expect("udo never started waiting");
        if line.contains(" pending, ") {
            break;
        }
    }
    assert_ne!(
        suspended(&t),
        json!([]),
        "processes are suspended while deploying"
    );
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Resumed scaling processes of ASgroup dev-web"),
        "{stdout}"
    );
    assert!(stderr.contains("interrupted; deployment "), "{stderr}");
    assert!(stderr.contains("udo deploy status "), "{stderr}");
    assert_eq!(
        suspended(&t),
        json!([]),
        "every process udo suspended is resumed"
    );
}

#[test]
fn status_explains_a_deployment_that_failed_while_nobody_waited() {
    let (m, t) = with_moto(BASE);
    let out = t.run(&["deploy", "dev.web", SHA, "--no-wait"]);
    out.ok();
    let id = deployment_id(&out);
    m.control(
        "codedeploy_move",
        json!({"id": id, "status": "Failed", "failures": [
            {"instance": "i-0def", "event": "ValidateService", "message": "health check failed"}
        ]}),
    );
    t.run(&["deploy", "status", &id])
        .ok()
        .stdout_has("status      Failed")
        .stdout_has("instance i-0def: lifecycle event ValidateService failed: health check failed");
    t.run(&["deploy", "last", "dev.web"])
        .ok()
        .stdout_has(&id)
        .stdout_has("Failed");
}

#[test]
fn a_deployment_to_a_group_without_instances_says_to_scale_it() {
    let (m, t) = with_moto(BASE);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok();
    t.run(&["asg", "scale", "dev.web", "0", "--yes"]).ok();
    // whatever the agents would do: with no instance there is nothing for them to do
    agent(&m, "dev-webapp", json!({"outcome": "Succeeded"}));
    let out = t.run(&["deploy", "dev.web", SHA]);
    out.status(1)
        .stdout_lacks("succeeded")
        .stdout_lacks("[hook")
        .stderr_has("autoscaling group dev-web has no instances")
        .stderr_has("scale it first (`udo asg scale dev.web N`)")
        .stderr_has("NO_INSTANCES");
    let id = deployment_id(&out);
    let j = t.run(&["deploy", "status", &id, "-o", "json"]).ok().json();
    assert_eq!(j["status"], "Failed");

    // scaled, the same deployment works
    t.run(&["asg", "scale", "dev.web", "1", "--yes"]).ok();
    t.run(&["deploy", "dev.web", SHA, "--skip-hooks"])
        .ok()
        .stdout_has("succeeded in");
}

#[test]
fn setup_keeps_autoscaling_groups_attached_by_others() {
    // dev.worker shares dev.web's deployment group: setting it up adds its group and keeps
    // dev-web, as it would keep one attached by hand.
    let config = BASE.replace(
        "        deployment_group: dev-worker\n",
        "        deployment_group: dev-webapp\n",
    );
    let (m, t) = with_moto(&config);
    t.run(&["deploy", "setup", "dev.web"])
        .ok()
        .stdout_has("Created deployment group dev-webapp for ASgroup dev-web");
    let out = t.run(&["deploy", "setup", "dev.worker"]);
    out.ok()
        .stdout_has("autoscaling groups [dev-web] -> [dev-web, dev-worker]")
        .stderr_has(
            "deployment group dev-webapp also deploys to dev-web (not from udo.yml); udo keeps it",
        );
    let g = m.codedeploy(
        "GetDeploymentGroup",
        json!({"applicationName": "Shop", "deploymentGroupName": "dev-webapp"}),
    );
    let names: Vec<&str> = g["deploymentGroupInfo"]["autoScalingGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["dev-web", "dev-worker"]);
    // both roles now find the group as they want it
    for target in ["dev.web", "dev.worker"] {
        let again = t.run(&["-v", "deploy", "setup", target]);
        again.ok().stdout_has("no change");
        assert!(again.writes().is_empty(), "{:?}", again.ops());
    }
}
