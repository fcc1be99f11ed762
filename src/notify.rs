//! Chat notifications: the second sink of `Events`. After a command has run, its changes are
//! posted once per role: to the role's `slack` incoming webhook (with channel, username and icon)
//! and as JSON to each URL of its `notify` list.
//!
//! Webhook URLs are secrets: no message, warning or error here ever contains one. Delivery is
//! best effort: a 5-second timeout and one retry, then a warning on stderr; it never fails the
//! command.

use crate::config::Config;
use crate::config::merge::Settings;
use crate::documents;
use crate::events::Event;
use serde_json::Value;
use std::time::Duration;

/// What ran: the command's words (`asg create`) and its target, read from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Label {
    pub command: String,
    pub target: Option<String>,
}

impl Label {
    /// Reads the subcommand chain and the `target` (or `cluster`) argument.
    pub fn from_matches(m: &clap::ArgMatches) -> Label {
        let mut words = Vec::new();
        let mut m = m;
        while let Some((name, sub)) = m.subcommand() {
            words.push(name.to_string());
            m = sub;
        }
        let arg = |id: &str| {
            m.try_get_one::<String>(id)
                .ok()
                .flatten()
                .map(String::to_string)
        };
        Label {
            command: words.join(" "),
            target: arg("target").or_else(|| arg("cluster")),
        }
    }
}

/// One message: the events of one role (or cluster) of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub cluster: Option<String>,
    pub role: Option<String>,
    pub events: Vec<String>,
}

impl Message {
    pub fn text(&self, command: &str) -> String {
        let place = match (&self.cluster, &self.role) {
            (Some(c), Some(r)) => format!(" {c}.{r}"),
            (Some(c), None) => format!(" {c}"),
            _ => String::new(),
        };
        let mut text = format!("udo {command}{place}:");
        for e in &self.events {
            text.push('\n');
            text.push_str(e);
        }
        text
    }
}

/// Groups a command's events by the role they concern, in first-seen order.
pub fn group(config: &Config, label: &Label, events: &[Event]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    for e in events {
        let (cluster, role) = scope_of(config, label, e);
        match out
            .iter_mut()
            .find(|m| m.cluster == cluster && m.role == role)
        {
            Some(m) => m.events.push(e.message.clone()),
            None => out.push(Message {
                cluster,
                role,
                events: vec![e.message.clone()],
            }),
        }
    }
    out
}

/// The cluster and role an event concerns: its own scope, else the `[cluster.role] ` prefix of a batch
/// or the command's target.
fn scope_of(config: &Config, label: &Label, e: &Event) -> (Option<String>, Option<String>) {
    if let Some((c, r)) = &e.scope {
        return (Some(c.clone()), Some(r.clone()));
    }
    let Some(target) = &label.target else {
        return (None, None);
    };
    let (cluster, named) = match target.split_once('.') {
        Some((c, r)) => (c, Some(r).filter(|r| *r != "*")),
        None => (target.as_str(), None),
    };
    let Some(c) = config.cluster(cluster) else {
        return (None, None);
    };
    // A batch prefixes its lines `[cluster.role] ` (engine/batch.rs).
    let from_prefix = e
        .prefix
        .trim()
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .map(|p| p.split_once('.').map_or(p, |(_, role)| role));
    let role = from_prefix.or(named).or_else(|| {
        // `asg create dev` on a one-role cluster acts on that role; `cluster …` on the cluster.
        (c.roles.len() == 1 && !label.command.starts_with("cluster"))
            .then(|| c.roles[0].name.as_str())
    });
    match role.filter(|r| c.roles.iter().any(|x| x.name == *r)) {
        Some(r) => (Some(c.name.clone()), Some(r.to_string())),
        None => (Some(c.name.clone()), None),
    }
}

fn settings_of<'a>(config: &'a Config, m: &Message) -> &'a Settings {
    let cluster = m.cluster.as_deref().and_then(|c| config.cluster(c));
    match (cluster, &m.role) {
        (Some(c), Some(r)) => c
            .roles
            .iter()
            .find(|x| &x.name == r)
            .map_or(&c.settings, |x| &x.settings),
        (Some(c), None) => &c.settings,
        _ => &config.top,
    }
}

/// One post to make: where (secret), what, and how to name it in a warning (never the URL).
#[derive(Debug, Clone)]
pub struct Post {
    pub url: String,
    pub body: Value,
    pub name: String,
}

/// Every post for these messages: the Slack payload, and the JSON payload per `notify` URL.
/// `account_of` names the AWS account a level's settings act in, when udo already knows it
/// (it asked STS to check `account_id`): the message then says which account changed.
pub fn posts(
    config: &Config,
    label: &Label,
    messages: &[Message],
    account_of: &dyn Fn(&Settings) -> Option<String>,
) -> Vec<Post> {
    let mut out = Vec::new();
    for m in messages {
        let s = settings_of(config, m);
        let account = account_of(s);
        let mut text = m.text(&label.command);
        if let Some(a) = &account {
            text.push_str(&format!("\n(AWS account {a})"));
        }
        let place = match (&m.cluster, &m.role) {
            (Some(c), Some(r)) => format!("{c}.{r}"),
            (Some(c), None) => c.clone(),
            _ => "top level".into(),
        };
        if let Some(url) = s.str("slack.url") {
            let slack = |key: &str| s.str(&format!("slack.{key}")).map(String::from);
            let body = documents::SlackMessage {
                text: text.clone(),
                channel: slack("channel"),
                username: slack("username"),
                icon_emoji: slack("icon_emoji"),
            };
            out.push(Post {
                url: url.to_string(),
                body: serde_json::to_value(&body).expect("a message always serializes"),
                name: format!("the Slack webhook of {place}"),
            });
        }
        for (i, url) in s.list("notify").into_iter().enumerate() {
            out.push(Post {
                url: url.to_string(),
                body: serde_json::to_value(documents::Notification {
                    text: text.clone(),
                    events: m.events.clone(),
                    cluster: m.cluster.clone(),
                    role: m.role.clone(),
                    command: label.command.clone(),
                    account: account.clone(),
                })
                .expect("a notification always serializes"),
                name: format!("notify webhook #{} of {place}", i + 1),
            });
        }
    }
    out
}

/// Posts every message of this run, concurrently; failures are warnings.
pub async fn deliver(
    config: &Config,
    label: &Label,
    events: &[Event],
    account_of: &dyn Fn(&Settings) -> Option<String>,
) {
    let messages = group(config, label, events);
    let posts = posts(config, label, &messages, account_of);
    if posts.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .user_agent(concat!("udo/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warning: notifications not sent: {}", e.without_url());
            return;
        }
    };
    let sends = posts.iter().map(|p| send(&client, p));
    for (post, result) in posts
        .iter()
        .zip(futures_util::future::join_all(sends).await)
    {
        if let Err(why) = result {
            eprintln!(
                "warning: could not notify {} ({why}); the command itself is unaffected",
                post.name
            );
        }
    }
}

/// One post with one retry. The URL's `${NAME}` references are expanded from the environment
/// here, at delivery (udo.yml's loader checked they are set); the error text never holds the
/// URL, written or expanded.
async fn send(client: &reqwest::Client, post: &Post) -> Result<(), String> {
    let url = match crate::config::env::expand(&post.url) {
        Ok(u) => u,
        Err(crate::config::env::Missing::Unset(name)) => {
            return Err(format!("${{{name}}} is not set in the environment"));
        }
        Err(crate::config::env::Missing::Malformed) => {
            return Err("its URL has a `${` that is not a variable reference".into());
        }
    };
    let mut last = String::new();
    for attempt in 0..2 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        match client.post(&url).json(&post.body).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
            Err(e) => last = describe(&e),
        }
    }
    Err(format!("{last}, after 2 attempts"))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out after 5s".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_builder() {
        "the URL is not usable".into()
    } else {
        // reqwest's text names the URL; the stripped error does not.
        let text = e.to_string();
        match e.url() {
            Some(u) => text.replace(u.as_str(), "<redacted>"),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::parse(
            std::path::Path::new("udo.yml"),
            "app_name: a\nregion: us-east-1\nslack: {url: 'http://127.0.0.1:1/hook', channel: '#ops', username: Bot}\nclusters:\n  dev:\n    notify: ['http://127.0.0.1:2/x']\n    roles:\n      web: {}\n      worker: {slack: {channel: '#workers'}}\n".into(),
        )
        .unwrap()
    }

    fn ev(prefix: &str, msg: &str) -> Event {
        Event {
            scope: None,
            prefix: prefix.into(),
            message: msg.into(),
        }
    }

    #[test]
    fn batch_events_are_grouped_per_role() {
        let label = Label {
            command: "asg create".into(),
            target: Some("dev.*".into()),
        };
        let events = [
            ev("[dev.web] ", "Created ASgroup dev-web"),
            ev("[dev.worker] ", "Created ASgroup dev-worker"),
            ev("[dev.web] ", "Changed x"),
        ];
        let m = group(&config(), &label, &events);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].role.as_deref(), Some("web"));
        assert_eq!(m[0].events, vec!["Created ASgroup dev-web", "Changed x"]);
        assert_eq!(
            m[0].text("asg create"),
            "udo asg create dev.web:\nCreated ASgroup dev-web\nChanged x"
        );
    }

    #[test]
    fn posts_use_the_merged_slack_settings_and_notify_urls() {
        let label = Label {
            command: "asg create".into(),
            target: Some("dev.worker".into()),
        };
        let cfg = config();
        let m = group(&cfg, &label, &[ev("", "Created ASgroup dev-worker")]);
        let p = posts(&cfg, &label, &m, &|_| None);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].body["channel"], "#workers");
        assert_eq!(p[0].body["username"], "Bot");
        assert_eq!(p[1].body["events"][0], "Created ASgroup dev-worker");
        assert_eq!(p[1].body["role"], "worker");
        assert!(!p[0].name.contains("127.0.0.1"));
    }

    #[test]
    fn cluster_commands_post_at_cluster_level() {
        let label = Label {
            command: "cluster create".into(),
            target: Some("dev".into()),
        };
        let m = group(&config(), &label, &[ev("", "Created VPC")]);
        assert_eq!(m[0].cluster.as_deref(), Some("dev"));
        assert_eq!(m[0].role, None);
    }
}
