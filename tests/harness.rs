//! Proves the AWS test harness: udo reaches moto_server through the real SDK over HTTP.

mod support;
use support::{Moto, Test};

const CONFIG: &str =
    "app_name: shop\nregion: us-east-1\nclusters:\n  dev:\n    roles:\n      web:\n";

#[test]
fn whoami_talks_to_moto_through_the_sdk() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(CONFIG);
    let out = t.run(&["-v", "whoami"]);
    out.ok()
        .stdout_has("account   123456789012")
        .stdout_has("region    us-east-1")
        .stdout_has(&moto.endpoint);
    assert_eq!(out.calls(), vec!["STS GetCallerIdentity"]);
    // the trace never shows credentials
    out.stderr_lacks("testing-secret-key");
    let j = t.run(&["whoami", "-o", "json"]).ok().json();
    assert_eq!(j["account"], "123456789012");
}

#[test]
fn unreachable_endpoint_is_a_clear_failure() {
    // A port nobody listens on, on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Test::new()
        .config(CONFIG)
        .env("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}"));
    t.run(&["whoami"])
        .status(1)
        .stderr_has("could not reach AWS")
        .stderr_lacks("panicked");
}

#[test]
fn the_launcher_serves_its_control_routes() {
    let moto = Moto::start();
    assert_eq!(moto.control("ping", serde_json::json!({}))["ok"], true);
}
