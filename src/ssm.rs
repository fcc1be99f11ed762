//! Run Command as pure logic, for `udo exec --via ssm`: what AWS's invocation statuses mean for
//! a host, how the agent's plugin output is laid out (and where AWS cut it), where the whole
//! output lands in S3, and how udo's concurrency flags become MaxConcurrency and MaxErrors
//! over one or several SendCommand calls.

use crate::fleet::Status;

/// GetCommandInvocation's StandardOutputContent holds the first this many characters.
pub const STDOUT_MAX: usize = 24_000;
/// GetCommandInvocation's StandardErrorContent holds the first this many characters.
pub const STDERR_MAX: usize = 8_000;

/// What the SSM agent puts between stdout and stderr in the plugin output.
const ERROR_TITLE: &str = "\n----------ERROR-------\n";
/// What the agent appends where it cut stdout, and stderr.
const OUTPUT_CUT: &str = "\n---Output truncated---";
const ERROR_CUT: &str = "\n---Error truncated----";

/// A plugin output (at most 2,500 characters in ListCommandInvocations) taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub stdout: String,
    pub stderr: String,
    /// The agent cut it (at 2,500 characters in all): the whole text must be read elsewhere.
    pub cut: bool,
}

/// Takes the agent's plugin output (`stdout`, the error title, `stderr`) apart.
pub fn split_output(output: &str) -> Split {
    let cut = output.contains(OUTPUT_CUT) || output.contains(ERROR_CUT);
    let (out, err) = match output.split_once(ERROR_TITLE) {
        Some((o, e)) => (o, e),
        None => (output, ""),
    };
    Split {
        stdout: out.replace(OUTPUT_CUT, ""),
        stderr: err.replace(ERROR_CUT, ""),
        cut,
    }
}

/// Whether GetCommandInvocation's text may itself have been cut at its limits.
pub fn may_be_cut(stdout: &str, stderr: &str) -> bool {
    stdout.chars().count() >= STDOUT_MAX || stderr.chars().count() >= STDERR_MAX
}

/// Where Run Command writes a host's whole `stream` (`stdout` or `stderr`) in the output bucket.
pub fn s3_key(prefix: Option<&str>, command: &str, instance: &str, stream: &str) -> String {
    let base = format!("{command}/{instance}/awsrunShellScript/0.awsrunShellScript/{stream}");
    match prefix
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}/{base}"),
        None => base,
    }
}

/// Why a host whose agent is missing or offline cannot run the command.
pub fn unregistered_reason(ping: Option<&str>) -> String {
    let why = "it needs an instance profile with SSM permissions (e.g. AmazonSSMManagedInstanceCore), a running SSM agent, and a route to the SSM endpoints";
    match ping {
        None => format!("no SSM agent is registered for it (DescribeInstanceInformation): {why}"),
        Some(p) => format!("its SSM agent is {p}, not Online: {why}"),
    }
}

/// A host's status from its invocation, `None` while AWS has not finished with it.
/// `started`: the plugin had begun to run (to tell a cancelled run from a cancelled wait).
pub fn classify(status: &str, details: &str, code: i32, started: bool) -> Option<Status> {
    Some(match (status, details) {
        ("Success", _) => Status::Succeeded,
        ("Failed", "Undeliverable") => Status::Unreachable(
            "Run Command could not deliver the command (Undeliverable): the instance is not running or not responding".into(),
        ),
        ("Failed", _) => Status::Failed(code),
        ("TimedOut", "Delivery Timed Out") => Status::Unreachable(
            "its SSM agent never picked the command up (Delivery Timed Out)".into(),
        ),
        ("TimedOut", _) => Status::TimedOut,
        ("Cancelled", "Terminated") => Status::NotRun(
            "AWS stopped sending the command after too many failures (MaxErrors)".into(),
        ),
        ("Cancelled", _) if started => Status::Cancelled,
        ("Cancelled", _) => Status::NotRun("the run was cancelled before its turn".into()),
        _ => return None,
    })
}

/// MaxConcurrency for commands of these sizes sent at once, sharing `parallel` hosts at a time:
/// each gets at least one and none more than its size. `None` when there are more commands than
/// `parallel` allows at once (they then go one after the other, each with `parallel`).
pub fn split_concurrency(parallel: usize, sizes: &[usize]) -> Option<Vec<usize>> {
    if sizes.len() > parallel.max(1) {
        return None;
    }
    let mut given = vec![1usize; sizes.len()];
    let mut left = parallel.max(1) - sizes.len();
    while left > 0 {
        let mut moved = false;
        for (g, s) in given.iter_mut().zip(sizes) {
            if left > 0 && *g < *s {
                *g += 1;
                left -= 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    Some(given)
}

/// SendCommand's delivery timeout: long enough for every wave of `hosts` at `concurrency` to
/// have its turn at `execution_timeout` each, within AWS's bounds (30 s to 30 days).
pub fn delivery_timeout(hosts: usize, concurrency: usize, execution_timeout: u64) -> u64 {
    let waves = hosts.div_ceil(concurrency.max(1)) as u64;
    let (min, max) = crate::aws::ssm::DELIVERY_TIMEOUT_RANGE;
    waves.saturating_mul(execution_timeout).clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_output_comes_apart_and_cuts_are_seen() {
        assert_eq!(
            split_output("hello\n"),
            Split {
                stdout: "hello\n".into(),
                stderr: String::new(),
                cut: false
            }
        );
        let both = split_output("out\n\n----------ERROR-------\nerr\n");
        assert_eq!(
            (both.stdout.as_str(), both.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert!(!both.cut);
        let cut = split_output("xxxx\n---Output truncated---\n----------ERROR-------\nbad\n");
        assert!(cut.cut);
        assert_eq!(cut.stdout, "xxxx");
        assert_eq!(cut.stderr, "bad\n");
        assert!(split_output("\n----------ERROR-------\nyyy\n---Error truncated----").cut);
    }

    #[test]
    fn statuses_mean_what_aws_documents() {
        assert_eq!(
            classify("Success", "Success", 0, true),
            Some(Status::Succeeded)
        );
        assert_eq!(
            classify("Failed", "Failed", 3, true),
            Some(Status::Failed(3))
        );
        assert!(matches!(
            classify("Failed", "Undeliverable", -1, false),
            Some(Status::Unreachable(_))
        ));
        assert_eq!(
            classify("TimedOut", "Execution Timed Out", -1, true),
            Some(Status::TimedOut)
        );
        assert!(matches!(
            classify("TimedOut", "Delivery Timed Out", -1, false),
            Some(Status::Unreachable(_))
        ));
        assert!(matches!(
            classify("Cancelled", "Terminated", -1, false),
            Some(Status::NotRun(_))
        ));
        assert_eq!(
            classify("Cancelled", "Cancelled", -1, true),
            Some(Status::Cancelled)
        );
        assert!(matches!(
            classify("Cancelled", "Cancelled", -1, false),
            Some(Status::NotRun(_))
        ));
        for pending in ["Pending", "InProgress", "Delayed", "Cancelling"] {
            assert_eq!(classify(pending, pending, -1, false), None);
        }
    }

    #[test]
    fn output_keys_follow_run_commands_layout() {
        assert_eq!(
            s3_key(Some("udo/"), "c-1", "i-1", "stdout"),
            "udo/c-1/i-1/awsrunShellScript/0.awsrunShellScript/stdout"
        );
        assert_eq!(
            s3_key(None, "c-1", "i-1", "stderr"),
            "c-1/i-1/awsrunShellScript/0.awsrunShellScript/stderr"
        );
    }

    #[test]
    fn parallel_is_shared_between_commands_sent_at_once() {
        assert_eq!(split_concurrency(20, &[50, 50, 20]), Some(vec![7, 7, 6]));
        assert_eq!(split_concurrency(20, &[3, 50]), Some(vec![3, 17]));
        assert_eq!(split_concurrency(100, &[3, 2]), Some(vec![3, 2]));
        assert_eq!(split_concurrency(2, &[50, 50, 50]), None);
        assert_eq!(delivery_timeout(3, 20, 1), 30);
        assert_eq!(delivery_timeout(100, 10, 600), 6000);
        assert_eq!(delivery_timeout(1, 1, 172_800 * 100), 2_592_000);
    }
}
