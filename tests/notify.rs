//! Chat notifications: every change a command prints is posted once per command and role to the
//! role's Slack webhook and its `notify` URLs, received here by a local listener on 127.0.0.1.

mod support;
use serde_json::json;
use support::webhook::{Webhook, dead_url};
use support::{Moto, Test};

const SHA: &str = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";

fn config(slack: &str, notify: &str) -> String {
    format!(
        "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
deploy:
  application: Shop
  github: {{repo: acme/shop}}
  service_role: arn:aws:iam::123456789012:role/codedeploy
slack:
  url: '{slack}'
  username: UdoBot
  channel: '#deploys'
  icon_emoji: ':robot_face:'
clusters:
  dev:
    subnets_cidr: [10.20.1.0/24, 10.20.2.0/24]
    notify: ['{notify}']
    roles:
      web:
        deployment_group: dev-webapp
        scale_policy: {{min_size: 1, max_size: 2, desired: 1}}
      worker:
        scale_policy: {{min_size: 1, max_size: 2, desired: 1}}
"
    )
}

#[test]
fn a_deploy_posts_one_message_per_role_with_its_events() {
    let hook = Webhook::start();
    let moto = Moto::start();
    let t = Test::with_moto(&moto)
        .config(&config(
            &hook.url("/slack/T0/SECRET"),
            &hook.url("/json/SECRET2"),
        ))
        .env("UDO_POLL_MS", "50");
    // a group with an instance to deploy to (CodeDeploy fails a deployment to none)
    t.run(&["--no-notify", "cluster", "create", "dev"]).ok();
    t.run(&["--no-notify", "asg", "create", "dev.web"]).ok();
    moto.control(
        "codedeploy_agent",
        json!({"group": "dev-webapp", "outcome": "Succeeded"}),
    );
    let out = t.run(&["-v", "deploy", "dev.web", SHA]);
    out.ok();
    for secret in ["SECRET", &hook.base] {
        out.stdout_lacks(secret).stderr_lacks(secret);
    }

    let slack = hook.posts_to("/slack/T0/SECRET");
    assert_eq!(
        slack.len(),
        1,
        "one message per command and role: {slack:?}"
    );
    let body = &slack[0].body;
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("udo deploy dev.web:"), "{text}");
    assert!(
        text.contains("Deploying 1a2b3c4d5e to dev-webapp"),
        "{text}"
    );
    assert!(text.contains("to dev-webapp succeeded in"), "{text}");
    assert_eq!(body["channel"], "#deploys");
    assert_eq!(body["username"], "UdoBot");
    assert_eq!(body["icon_emoji"], ":robot_face:");

    let generic = hook.posts_to("/json/SECRET2");
    assert_eq!(generic.len(), 1);
    let g = &generic[0].body;
    assert_eq!(g["cluster"], "dev");
    assert_eq!(g["role"], "web");
    assert_eq!(g["command"], "deploy");
    assert_eq!(g["text"], body["text"]);
    let events: Vec<&str> = g["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(events.contains(&"Deploying 1a2b3c4d5e to dev-webapp"));
    assert!(events.contains(&"Created deployment group dev-webapp for ASgroup dev-web"));
}

#[test]
fn batch_changes_post_per_role_and_read_commands_post_nothing() {
    let hook = Webhook::start();
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&config(&hook.url("/slack"), &hook.url("/json")));
    t.run(&["cluster", "create", "dev"]).ok();
    let cluster_posts = hook.posts_to("/slack");
    assert_eq!(cluster_posts.len(), 1);
    assert!(
        cluster_posts[0].body["text"]
            .as_str()
            .unwrap()
            .starts_with("udo cluster create dev:")
    );

    t.run(&["asg", "create", "dev.*"]).ok();
    let json_posts = hook.posts_to("/json");
    let roles: Vec<&str> = json_posts[1..]
        .iter()
        .map(|p| p.body["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles.len(), 2, "{json_posts:?}");
    assert!(roles.contains(&"web") && roles.contains(&"worker"));
    let web = json_posts.iter().find(|p| p.body["role"] == "web").unwrap();
    assert!(
        web.body["text"]
            .as_str()
            .unwrap()
            .contains("Created ASgroup dev-web")
    );

    let before = hook.posts().len();
    t.run(&["status"]).ok();
    t.run(&["deploy", "last"]).ok();
    t.run(&["asg", "create", "dev.web"]).ok(); // already matches: no change, no post
    assert_eq!(
        hook.posts().len(),
        before,
        "read commands and no-ops post nothing"
    );

    t.run(&["asg", "scale", "dev.web", "2", "--no-notify"]).ok();
    assert_eq!(hook.posts().len(), before, "--no-notify posts nothing");
}

#[test]
fn a_dead_webhook_only_warns_and_never_shows_its_url() {
    let dead = dead_url();
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(&config(&dead, &dead));
    let out = t.run(&["-v", "deploy", "dev.web", SHA, "--no-wait"]);
    out.ok()
        .stdout_has("Deploying 1a2b3c4d5e to dev-webapp")
        .stderr_has("warning: could not notify the Slack webhook of dev.web (could not connect, after 2 attempts)")
        .stderr_has("warning: could not notify notify webhook #1 of dev.web");
    let port = dead.split(':').nth(2).unwrap().split('/').next().unwrap();
    out.stdout_lacks(port)
        .stderr_lacks(port)
        .stderr_lacks("/dead");

    t.run(&["config", "show", "dev.web"])
        .ok()
        .stdout_lacks(port)
        .stdout_has("<redacted>");
    let j = t
        .run(&["config", "show", "dev.web", "-o", "json"])
        .ok()
        .json();
    assert_eq!(j["settings"]["notify"], "<redacted>");
    assert_eq!(j["settings"]["slack"]["url"], "<redacted>");
}

#[test]
fn notify_urls_are_masked_in_configuration_errors() {
    let t = Test::new().config(
        "app_name: x\nnotify: ['https://a.example/ONE']\nclusters:\n  dev:\n    notify: ['https://b.example/TWO', 'bad url']\n    roles:\n      web:\n        notify: {url: 'https://c.example/THREE'}\n",
    );
    let out = t.run(&["validate"]);
    out.status(2).stderr_has("notify");
    for secret in ["ONE", "TWO", "THREE"] {
        out.stderr_lacks(secret);
    }
    assert!(!t.aws_was_touched());
}

#[test]
fn a_known_account_is_named_in_the_message() {
    let hook = Webhook::start();
    let moto = Moto::start();
    // `account_id` makes udo ask STS before its first write, so it knows the account it acts in
    let yaml = config(&hook.url("/slack"), &hook.url("/json")).replace(
        "app_name: shop\n",
        "app_name: shop\naccount_id: '123456789012'\n",
    );
    let t = Test::with_moto(&moto).config(&yaml);
    let out = t.run(&["-v", "cluster", "create", "dev"]);
    out.ok();
    assert_eq!(
        out.calls()
            .iter()
            .filter(|c| c.as_str() == "STS GetCallerIdentity")
            .count(),
        1,
        "{:?}",
        out.calls()
    );
    let slack = hook.posts_to("/slack");
    assert_eq!(slack.len(), 1);
    let text = slack[0].body["text"].as_str().unwrap();
    assert!(text.ends_with("\n(AWS account 123456789012)"), "{text}");
    assert_eq!(hook.posts_to("/json")[0].body["account"], "123456789012");

    // without account_id udo makes no STS call, and so names no account
    let t = Test::with_moto(&moto).config(&config(&hook.url("/slack2"), &hook.url("/json2")));
    t.run(&["asg", "create", "dev.web"]).ok();
    let text = hook.posts_to("/slack2")[0].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!text.contains("AWS account"), "{text}");
    assert!(hook.posts_to("/json2")[0].body["account"].is_null());
}

#[test]
fn webhook_urls_written_as_env_references_are_expanded_at_delivery() {
    let hook = Webhook::start();
    let moto = Moto::start();
    // the listener's address is only in the environment; udo.yml holds the references
    let yaml = config(
        "${UDO_TEST_SLACK}",
        "${UDO_TEST_BASE}/json/${UDO_TEST_TOKEN}",
    );
    let t = Test::with_moto(&moto)
        .config(&yaml)
        .env("UDO_TEST_SLACK", &hook.url("/slack/T0/SECRET"))
        .env("UDO_TEST_BASE", &hook.base)
        .env("UDO_TEST_TOKEN", "SECRET2");
    let out = t.run(&["-v", "cluster", "create", "dev"]);
    out.ok();
    for secret in ["SECRET", &hook.base] {
        out.stdout_lacks(secret).stderr_lacks(secret);
    }
    out.stderr_lacks("could not notify");
    let slack = hook.posts_to("/slack/T0/SECRET");
    assert_eq!(slack.len(), 1, "{:?}", hook.posts());
    assert!(
        slack[0].body["text"]
            .as_str()
            .unwrap()
            .starts_with("udo cluster create dev:")
    );
    let generic = hook.posts_to("/json/SECRET2");
    assert_eq!(generic.len(), 1, "{:?}", hook.posts());
    assert_eq!(generic[0].body["cluster"], "dev");

    // never printed expanded
    for args in [
        &["config", "show", "dev.web"][..],
        &["config", "show", "-v", "dev.web", "-o", "json"][..],
    ] {
        let out = t.run(args);
        out.ok();
        for secret in ["SECRET", &hook.base] {
            out.stdout_lacks(secret).stderr_lacks(secret);
        }
    }
    // an unset reference in `notify` is a located configuration error, before any AWS call
    let t = Test::new()
        .config(&yaml)
        .env("UDO_TEST_SLACK", "http://127.0.0.1:1/x");
    t.run(&["validate"])
        .status(2)
        .stderr_has("`notify` uses ${UDO_TEST_BASE}, which is not set");
    assert!(!t.aws_was_touched());
}
