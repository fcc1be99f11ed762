//! The syntax of single values in udo.yml that need more than a kind check: cron expressions
//! and time zones of `schedule` entries, and `ssh.bastion` jump hosts.
//!
//! They live under config/ because validation needs them before any AWS call, and config/
//! must not depend on the modules that use these values (`schedule`, `ssh`): those depend on
//! config/, never the other way round.

use super::diag::suggest;

/// IANA time zone names (zones and links), embedded so validation does not depend on the
/// machine's zoneinfo.
const ZONES: &str = include_str!("zones.txt");

/// Field names and ranges of a 5-field cron expression.
const CRON_FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Checks a Unix cron expression as Auto Scaling takes it: five fields (minute, hour, day of
/// month, month, day of week), each `*`, a number or name, a range `a-b`, a step `/n`, or a
/// comma-separated list of those.
pub fn check_cron(text: &str) -> Result<(), String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "`{text}` is not a cron expression: it needs 5 fields (minute hour day-of-month month day-of-week), it has {}",
            fields.len()
        ));
    }
    for (i, field) in fields.iter().enumerate() {
        let (what, lo, hi) = CRON_FIELDS[i];
        for item in field.split(',') {
            check_cron_item(item, i, lo, hi)
                .map_err(|why| format!("`{text}`: the {what} field `{field}` {why}"))?;
        }
    }
    Ok(())
}

fn check_cron_item(item: &str, index: usize, lo: u32, hi: u32) -> Result<(), String> {
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if let Some(s) = step {
        match s.parse::<u32>() {
            Ok(n) if n >= 1 && n <= hi => {}
            _ => {
                return Err(format!(
                    "has a bad step `/{s}`: use a number from 1 to {hi}"
                ));
            }
        }
    }
    if range == "*" {
        return Ok(());
    }
    let value = |v: &str| -> Result<u32, String> {
        let names: &[&str] = match index {
            3 => &MONTHS,
            4 => &DAYS,
            _ => &[],
        };
        if let Some(p) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Ok(p as u32 + if index == 3 { 1 } else { 0 });
        }
        match v.parse::<u32>() {
            Ok(n) if n >= lo && n <= hi => Ok(n),
            Ok(n) => Err(format!("has {n}, out of range {lo}-{hi}")),
            Err(_) if v.is_empty() => Err("has an empty item".into()),
            Err(_) => Err(format!("has `{v}`, not a number from {lo} to {hi}")),
        }
    };
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("has a backwards range {a}-{b}"));
            }
        }
        None => {
            value(range)?;
        }
    }
    Ok(())
}

/// Checks an IANA time zone name against the embedded list.
pub fn check_time_zone(text: &str) -> Result<(), String> {
    let names = || {
        ZONES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
    };
    if names().any(|z| z == text) {
        return Ok(());
    }
    let hint = names()
        .find(|z| z.eq_ignore_ascii_case(text))
        .or_else(|| suggest(text, names()))
        .map(|z| format!("; did you mean {z}?"))
        .unwrap_or_else(|| " such as Europe/Berlin or America/New_York".into());
    Err(format!("`{text}` is not an IANA time zone name{hint}"))
}

/// A jump host from `ssh.bastion`: `user@host[:port]`, where host may name a role
/// (`prod.bastion`), resolved by the caller to one of its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bastion {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Bastion {
    /// Parses `user@host[:port]` (the user is optional). The reason names what is wrong.
    pub fn parse(text: &str) -> Result<Bastion, String> {
        let bad = |why: &str| {
            format!("`{text}` is not a jump host ({why}): write user@host or user@host:port")
        };
        if text.is_empty() || text.chars().any(char::is_whitespace) {
            return Err(bad("it must be one word"));
        }
        let (user, rest) = match text.split_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return Err(bad("the user before `@` is empty")),
            None => (None, text),
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) if p > 0 => (h, Some(p)),
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            },
            None => (rest, None),
        };
        let host_ok = !host.is_empty()
            && !host.starts_with('-')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !host_ok {
            return Err(bad("the host must be a name, an address or CLUSTER.ROLE"));
        }
        Ok(Bastion {
            user,
            host: host.to_string(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions() {
        for ok in [
            "0 20 * * *",
            "0 8 * * MON-FRI",
            "*/15 0-6,22-23 1 JAN-DEC 0",
            "30  7 * * 1-5",
            "0 0 1/2 * 7",
        ] {
            assert!(check_cron(ok).is_ok(), "{ok}: {:?}", check_cron(ok));
        }
        let bad = |t: &str| check_cron(t).unwrap_err();
        assert!(bad("0 20 * *").contains("5 fields"));
        assert!(bad("0 25 * * *").contains("hour"));
        assert!(bad("0 25 * * *").contains("out of range 0-23"));
        assert!(bad("60 1 * * *").contains("minute"));
        assert!(bad("0 1 0 * *").contains("day of month"));
        assert!(bad("0 1 * 13 *").contains("month"));
        assert!(bad("0 1 * * FUN").contains("day of week"));
        assert!(bad("0 1 * * 5-2").contains("backwards"));
        assert!(bad("*/0 1 * * *").contains("step"));
        assert!(bad("0 1,,2 * * *").contains("empty"));
        assert!(bad("0 1 ? * *").contains("`?`"));
    }

    #[test]
    fn time_zones() {
        assert!(check_time_zone("Europe/Berlin").is_ok());
        assert!(check_time_zone("America/New_York").is_ok());
        assert!(check_time_zone("UTC").is_ok());
        assert!(check_time_zone("Etc/GMT+9").is_ok());
        let e = check_time_zone("europe/berlin").unwrap_err();
        assert!(e.contains("did you mean Europe/Berlin"), "{e}");
        let e = check_time_zone("Europe/Berlni").unwrap_err();
        assert!(e.contains("Europe/Berlin"), "{e}");
        assert!(check_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn bastions_parse() {
        assert_eq!(
            Bastion::parse("ec2-user@bastion.example.com:2222").unwrap(),
            Bastion {
                user: Some("ec2-user".into()),
                host: "bastion.example.com".into(),
                port: Some(2222)
            }
        );
        assert_eq!(
            Bastion::parse("prod.bastion").unwrap(),
            Bastion {
                user: None,
                host: "prod.bastion".into(),
                port: None
            }
        );
        assert!(Bastion::parse("a b").is_err());
        assert!(Bastion::parse("@host").is_err());
        assert!(Bastion::parse("u@host:0").unwrap_err().contains("port"));
        assert!(Bastion::parse("u@host:http").is_err());
        assert!(Bastion::parse("u@-oProxyCommand=x").is_err());
        assert!(Bastion::parse("u@").is_err());
    }
}
