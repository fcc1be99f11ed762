//! AWS errors reach the user as one clear line: what udo was doing, AWS's code and message, the
//! HTTP status and the request id; network and credential problems get their own short message
//! naming the endpoint or profile and what to do. Never the SDK's debug dump, never a panic.

mod support;
use support::{Moto, Outcome, Test};

const CONFIG: &str = "app_name: shop\nregion: us-east-1\nclusters:\n  dev:\n    subnets_cidr: [127.0.1.0/24]\n    roles:\n      web:\n";

/// Nothing of the SDK's internals: the words of its debug dump.
#[track_caller]
fn no_dump(out: &Outcome) {
    for word in [
        "DispatchFailure",
        "ConnectorError",
        "hyper",
        "ServiceError",
        "Unhandled",
        "SdkBody",
        "raw: Response",
        "panicked",
    ] {
        out.stderr_lacks(word);
    }
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_unreachable_endpoint_is_named_with_what_to_do() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let t = Test::new().config(CONFIG).env("AWS_ENDPOINT_URL", &url);
    let out = t.run(&["cluster", "status", "dev"]);
    out.status(1)
        .stderr_has(&format!("could not reach AWS at {url}: connection refused"))
        .stderr_has("= help: check the address in --endpoint-url / AWS_ENDPOINT_URL");
    no_dump(&out);
    assert_eq!(out.stderr.lines().count(), 2, "{}", out.stderr);
}

#[test]
fn a_refused_connection_gives_up_within_a_short_budget_and_says_what_it_tried() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let t = Test::new().config(CONFIG).env("AWS_ENDPOINT_URL", &url);
    let started = std::time::Instant::now();
    let out = t.run(&["-v", "status"]);
    let took = started.elapsed();
    out.status(1).stderr_has(&format!(
        "could not reach AWS at {url}: connection refused ("
    ));
    no_dump(&out);
    // a few attempts, about two seconds: not the ten tries throttling gets
    assert!(
        took < std::time::Duration::from_secs(4),
        "took {took:?}\n{}",
        out.stderr
    );
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap();
    let tried = error.rsplit_once(" (").unwrap().1;
    let (attempts, rest) = tried.split_once(" attempts in ").expect(error);
    let attempts: u32 = attempts.parse().expect(error);
    assert!((2..=4).contains(&attempts), "{error}");
    let secs: f64 = rest.trim_end_matches(" s)").parse().expect(error);
    assert!(secs <= took.as_secs_f64() + 0.1 && secs < 3.0, "{error}");
    // the -v trace counts the same attempts
    let traced = format!("attempts={attempts} error");
    out.stderr_has(&traced);
}

/// A call AWS throttles once passes on its retry, and the -v trace line counts both attempts
/// and the time of the whole call, backoff included (the trace reads the retry's record).
#[test]
fn a_throttled_call_is_retried_and_traced_as_one_call_of_two_attempts() {
    let moto = Moto::start();
    moto.control(
        "fail",
        serde_json::json!({
            "action": "GetCallerIdentity",
            "status": 400,
            "times": 1,
            "body": "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>req-throttled</RequestId></ErrorResponse>",
        }),
    );
    let t = Test::with_moto(&moto).config(CONFIG);
    let out = t.run(&["-v", "whoami"]);
    out.ok();
    let traced: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("aws: STS GetCallerIdentity "))
        .collect();
    assert_eq!(traced.len(), 1, "{}", out.stderr);
    let line = traced[0];
    assert!(line.ends_with(" attempts=2 ok"), "{line}");
    let ms: u64 = line
        .split_whitespace()
        .nth(3)
        .and_then(|d| d.strip_suffix("ms"))
        .and_then(|d| d.parse().ok())
        .expect(line);
    // the SDK waits before retrying throttling: the call's time holds that wait
    assert!(ms > 0, "{line}");
}

/// A loopback port that takes connections and never answers (the kernel completes the
/// handshake for a listener that never accepts).
fn silent_port() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn timed_out_attempts_are_retried_a_few_times_and_said_so_on_a_terminal() {
    let (_listener, port) = silent_port();
    let url = format!("http://127.0.0.1:{port}");
    let t = Test::new()
        .config(CONFIG)
        .env("AWS_ENDPOINT_URL", &url)
        .env("UDO_ATTEMPT_TIMEOUT_MS", "400");
    // on a terminal: a note after each slow attempt, how often udo will try, then the end
    let out = t.run_tty(&["whoami"], "");
    out.status(1)
        .stdout_has(&format!(
            "note: STS GetCallerIdentity: no answer from AWS at {url} within 0.4 s; retrying (attempt 2 of at most 3)"
        ))
        .stdout_has("retrying (attempt 3 of at most 3)")
        .stdout_has(&format!("no answer from AWS at {url} in time (3 attempts in "));
    assert!(!out.stdout.contains("attempt 4"), "{}", out.stdout);
    // without a terminal: only the error
    let out = t.run(&["whoami"]);
    out.status(1)
        .stderr_has(&format!(
            "no answer from AWS at {url} in time (3 attempts in "
        ))
        .stderr_lacks("retrying");
    no_dump(&out);
}

#[test]
fn a_name_that_does_not_resolve_is_named() {
    // `.invalid` never resolves (RFC 2606): the lookup fails locally and no request is sent.
    let t = Test::new()
        .config(CONFIG)
        .env("AWS_ENDPOINT_URL", "http://aws.udo-test.invalid");
    let started = std::time::Instant::now();
    let out = t.run(&["whoami"]);
    out.status(1)
        .stderr_has("could not reach AWS at http://aws.udo-test.invalid")
        .stderr_has("its host name does not resolve (")
        .stderr_has(" attempts in ")
        .stderr_has("check the host name in --endpoint-url");
    // nothing there: the short budget, not ten tries
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    no_dump(&out);
}

#[test]
fn missing_credentials_say_how_to_sign_in() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto)
        .config(CONFIG)
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "");
    let out = t.run(&["whoami"]);
    out.status(1)
        .stderr_has("error: asking STS who we are: no AWS credentials found")
        .stderr_has("aws sso login")
        .stderr_has("AWS_ACCESS_KEY_ID");
    no_dump(&out);
}

/// A machine with no credentials at all: no keys in the environment, no profile, no AWS files
/// under an empty HOME, and no instance metadata to fall back on. The message is that none
/// were found and every way to give them, not the last place the SDK looked (IMDS); a lone
/// secret key in the environment is never echoed.
#[test]
fn no_credentials_anywhere_says_every_way_to_give_them() {
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let t = Test::with_moto(&moto)
        .config(CONFIG)
        .without("AWS_ACCESS_KEY_ID")
        .without("AWS_SECRET_ACCESS_KEY")
        .without("AWS_CONFIG_FILE")
        .without("AWS_SHARED_CREDENTIALS_FILE")
        .env("HOME", home.path().to_str().unwrap())
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for args in [&["whoami"][..], &["cluster", "status", "dev"]] {
        let out = t.run(args);
        out.status(1)
            .stderr_has(": no AWS credentials found\n")
            .stderr_has("= help: ")
            .stderr_has("--profile NAME")
            .stderr_has("AWS_PROFILE")
            .stderr_has("aws configure")
            .stderr_has("aws sso login")
            .stderr_has("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            .stderr_lacks("IMDS")
            .stderr_lacks("metadata");
        assert_eq!(out.stderr.lines().count(), 2, "{}", out.stderr);
        no_dump(&out);
    }
    // half a key pair is no credentials either, and its secret stays out of the message
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    let out = t
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", "token-udo-test-secret")
        .run(&["-v", "whoami"]);
    out.status(1)
        .stderr_has("no AWS credentials found")
        .stderr_lacks(secret)
        .stderr_lacks("token-udo-test-secret");
    no_dump(&out);
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "udo wrote nothing under HOME"
    );
}

#[test]
fn an_unknown_profile_is_named_before_any_call() {
    let t = Test::new()
        .config(CONFIG)
        .file("aws-config", "[profile dev]\nregion = us-east-1\n");
    let aws_config = t.path().join("aws-config");
    let t = t.env("AWS_CONFIG_FILE", aws_config.to_str().unwrap());
    let out = t.run(&["--profile", "prdo", "cluster", "status", "dev"]);
    out.status(1)
        .stderr_has("AWS profile `prdo` is not defined in")
        .stderr_has("aws-config")
        .stderr_has("aws configure list-profiles");
    no_dump(&out);
    // the same from udo.yml's `profile:` key
    t.write(
        "udo.yml",
        &CONFIG.replace("  dev:\n", "  dev:\n    profile: prdo\n"),
    );
    t.run(&["asg", "instances", "dev.web"])
        .status(1)
        .stderr_has("AWS profile `prdo` is not defined");
    assert!(!t.aws_was_touched(), "no AWS call with an unknown profile");
}

#[test]
fn an_aws_error_is_one_line_with_code_status_and_request_id() {
    let moto = Moto::start();
    moto.control(
        "fail",
        serde_json::json!({
            "action": "DescribeVpcs",
            "status": 403,
            "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.\nEncoded message: abc</Message></Error></Errors><RequestID>req-7f3a</RequestID></Response>",
        }),
    );
    let t = Test::with_moto(&moto).config(CONFIG);
    let out = t.run(&["cluster", "status", "dev"]);
    out.status(1);
    no_dump(&out);
    let line = out.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{line}");
    // what udo was doing, then AWS's code and message (its newline folded), status, request id
    assert!(line.starts_with("error: looking up "), "{line}");
    assert!(
        line.ends_with(": UnauthorizedOperation: You are not authorized to perform this operation. Encoded message: abc (HTTP 403, request id req-7f3a)"),
        "{line}"
    );
}

#[test]
fn an_answer_that_is_not_an_aws_error_is_still_one_line() {
    let moto = Moto::start();
    moto.control(
        "fail",
        serde_json::json!({
            "action": "DescribeAutoScalingGroups",
            "status": 400,
            "body": "<html><body>Bad gateway of some proxy</body></html>",
            "headers": {"x-amzn-RequestId": "req-proxy-1", "Content-Type": "text/html"},
        }),
    );
    let t = Test::with_moto(&moto).config(CONFIG);
    let out = t.run(&["asg", "instances", "dev.web"]);
    out.status(1)
        .stderr_has("HTTP 400")
        .stderr_has("request id req-proxy-1");
    no_dump(&out);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn an_expired_token_is_one_line() {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(CONFIG);
    let out = t.run(&["-v", "whoami"]);
    out.ok();
    moto.control(
        "fail",
        serde_json::json!({
            "action": "GetCallerIdentity",
            "status": 403,
            "body": "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>req-sts-9</RequestId></ErrorResponse>",
        }),
    );
    let out = t.run(&["whoami"]);
    out.status(1).stderr_has(
        "error: asking STS who we are: ExpiredToken: The security token included in the request is expired (HTTP 403, request id req-sts-9)",
    );
    no_dump(&out);
}

#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    // An SSO profile whose cached token expired: the SDK refuses before any request.
    let t = Test::new()
        .config(CONFIG)
        .file(
            "aws-config",
            "[profile sso]\nsso_session = udo\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n\n[sso-session udo]\nsso_start_url = https://udo-test.awsapps.invalid/start\nsso_region = us-east-1\n",
        )
        // ~/.aws/sso/cache/<sha1 of the session name `udo`>.json (HOME is the test directory)
        .file(
            ".aws/sso/cache/cceebf4930900a141398b2621d92514390352861.json",
            r#"{"accessToken": "expired", "expiresAt": "2020-01-01T00:00:00Z"}"#,
        );
    let aws_config = t.path().join("aws-config");
    let t = t.env("AWS_CONFIG_FILE", aws_config.to_str().unwrap());
    let out = t.run(&["--profile", "sso", "whoami"]);
    out.status(1)
        .stderr_has(
            "error: asking STS who we are: the AWS SSO session for profile `sso` has expired",
        )
        .stderr_has("= help: run `aws sso login`");
    no_dump(&out);
    assert!(!t.aws_was_touched());
}

#[test]
fn a_profile_without_credentials_is_named() {
    let t = Test::new()
        .config(CONFIG)
        .file("aws-config", "[profile dev]\nregion = us-east-1\n");
    let aws_config = t.path().join("aws-config");
    let t = t.env("AWS_CONFIG_FILE", aws_config.to_str().unwrap());
    // the environment's keys do not stand in for the named profile's
    let out = t.run(&["--profile", "dev", "whoami"]);
    out.status(1)
        .stderr_has("error: asking STS who we are: no AWS credentials found for profile `dev`")
        .stderr_has("aws configure --profile NAME");
    no_dump(&out);
    assert!(!t.aws_was_touched());
}

/// A reader that stops early (`udo lc cloudinit dev.webapp | head -1`) closes udo's stdout: udo
/// ends quietly, with no panic report, instead of crashing on the failed print.
#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/udo.yml");
    for _ in 0..3 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_udo"))
            .args(["--config", config, "lc", "cloudinit", "dev.webapp"])
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("udo starts");
        // Close the reading end before udo has printed anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("udo ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "a panic was reported: {stderr}"
        );
        assert!(!stderr.contains("Broken pipe"), "{stderr}");
        assert_eq!(out.status.code(), Some(0), "{stderr}");
    }
}
