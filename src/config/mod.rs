//! udo.yml: finding it, reading it, validating it and answering "what are this role's settings?".
//!
//! Everything here is pure (no network): a configuration error must stop a command before any
//! AWS call, so commands load the whole file first and only then build AWS clients.

pub mod diag;
pub mod env;
pub mod merge;
mod scaling_checks;
pub mod schema;
pub mod syntax;
pub mod yaml;

use diag::{Diagnostic, Diagnostics, suggest};
use merge::{Level, Settings};
use schema::{Field, Kind, Scope};
use std::path::{Path, PathBuf};
use yaml::{Entry, Node, Span, Value};

/// The largest udo.yml udo reads; real ones are a few kilobytes.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// A loaded, validated udo.yml.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub source: String,
    pub clusters: Vec<Cluster>,
    /// Where `clusters:` is written, for errors about targets.
    pub clusters_span: Span,
    /// The top level's own settings (defaults for everything: region, debug, app_name).
    pub top: Settings,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub span: Span,
    pub description: Option<String>,
    /// Top level merged with the cluster's own keys (what its network uses).
    pub settings: Settings,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub cluster: String,
    pub name: String,
    pub span: Span,
    /// The effective, merged settings of this role.
    pub settings: Settings,
}

impl Role {
    /// `CLUSTER.ROLE`, as users type it.
    pub fn target(&self) -> String {
        format!("{}.{}", self.cluster, self.name)
    }

    /// The autoscaling group (and launch template) name: `CLUSTER-ROLE`.
    pub fn group_name(&self) -> String {
        format!("{}-{}", self.cluster, self.name)
    }

    pub fn app_name(&self) -> &str {
        self.settings.str("app_name").unwrap_or_default()
    }
}

impl Config {
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// A located error against this file, ready to return from a command.
    pub fn error(&self, items: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics {
            path: self.path.clone(),
            source: self.source.clone(),
            items,
        }
    }
}

/// Finds udo.yml: an explicit path, else `udo.yml` in `dir` or its nearest parent that has one.
///
/// A missing file is a usage error, not a configuration error: there is no file to point
/// into, so the message says where udo looked and how to start one.
pub fn locate(explicit: Option<&Path>, dir: &Path) -> Result<PathBuf, crate::error::Error> {
    if let Some(p) = explicit {
        if !p.exists() {
            return Err(crate::error::Error::usage(
                format!(
                    "{} does not exist (given by --config or UDO_CONFIG)",
                    p.display()
                ),
                "check the path, or start one from udo's commented example: `cp examples/udo.yml udo.yml`",
            ));
        }
        return Ok(p.to_path_buf());
    }
    for d in dir.ancestors() {
        let candidate = d.join("udo.yml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(crate::error::Error::usage(
        format!(
            "found no udo.yml in {} or any of its parent directories",
            dir.display()
        ),
        "start from udo's commented example (`cp examples/udo.yml .` in udo's source tree), or pass --config FILE",
    ))
}

/// Reads and validates a file.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    let fail = |msg: String, help: &str| Diagnostics {
        path: path.to_path_buf(),
        source: String::new(),
        items: vec![Diagnostic::whole_file(msg).help(help.to_string())],
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(
            format!("cannot read {}: {e}", path.display()),
            "check the path given to --config or UDO_CONFIG",
        )
    })?;
    if meta.is_dir() {
        return Err(fail(
            format!("{} is a directory", path.display()),
            "point --config at the udo.yml file itself",
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err(fail(
            format!(
                "{} is {} bytes; udo reads configuration files of up to {MAX_BYTES} bytes",
                path.display(),
                meta.len()
            ),
            "is this the right file?",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        fail(
            format!("cannot read {}: {e}", path.display()),
            "check the file's permissions",
        )
    })?;
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let before = &e.as_bytes()[..bad];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let col = bad
                - before
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            return Err(Diagnostics {
                path: path.to_path_buf(),
                source: text,
                items: vec![
                    Diagnostic::at(Span { line, col }, "the file is not valid UTF-8")
                        .help("save udo.yml as UTF-8"),
                ],
            });
        }
    };
    parse(path, source)
}

/// Validates source text as udo.yml (the file name is only used in messages).
pub fn parse(path: &Path, source: String) -> Result<Config, Diagnostics> {
    let mut v = Validator::default();
    let root = match yaml::parse(&source) {
        Ok(Some(root)) => Some(root),
        Ok(None) => {
            v.errors
                .push(Diagnostic::whole_file("the file is empty").help(
                    "start from examples/udo.yml: app_name, defaults, and a `clusters:` mapping",
                ));
            None
        }
        Err(e) => {
            let mut d = Diagnostic::at(e.span, e.message);
            if let Some((span, label)) = e.related {
                d = d.note(span, label);
            }
            v.errors.push(d);
            None
        }
    };
    let config = root.and_then(|root| v.config(path, &root));
    match config {
        Some(c) if v.errors.is_empty() => Ok(Config { source, ..c }),
        _ => Err(Diagnostics {
            path: path.to_path_buf(),
            source,
            items: v.errors,
        }),
    }
}

/// Where a key was seen, to point at "the other place" when two levels disagree on a kind.
struct Seen {
    path: String,
    span: Span,
    kind: &'static str,
    level: Level,
}

#[derive(Default)]
struct Validator {
    errors: Vec<Diagnostic>,
    seen: Vec<Seen>,
}

impl Validator {
    fn config(&mut self, path: &Path, root: &Node) -> Option<Config> {
        let Some(top) = root.as_map() else {
            self.errors.push(
                Diagnostic::at(
                    root.span,
                    format!(
                        "udo.yml must be a mapping of settings, not {}",
                        root.kind_name()
                    ),
                )
                .help("start from examples/udo.yml"),
            );
            return None;
        };
        self.settings(top, &Level::Top, &["clusters"]);
        let mut top_settings = Settings::default();
        top_settings.merge_level(top, schema::FIELDS, &Level::Top);

        let mut clusters = Vec::new();
        let clusters_entry = top.iter().find(|e| e.key == "clusters");
        let clusters_span = clusters_entry.map_or(root.span, |e| e.key_span);
        match clusters_entry.map(|e| &e.value) {
            None => self.errors.push(
                Diagnostic::at(
                    root.span,
                    "no `clusters:` mapping: udo has nothing to manage",
                )
                .help(
                    "add `clusters:` with at least one cluster (dev, prod, ...) and its `roles:`",
                ),
            ),
            Some(Node {
                value: Value::Null, ..
            }) => {}
            Some(node) => match node.as_map() {
                None => self.errors.push(
                    Diagnostic::at(
                        node.span,
                        format!(
                            "`clusters` must be a mapping of cluster names, not {}",
                            node.kind_name()
                        ),
                    )
                    .help("write `clusters:` then each cluster name indented below it"),
                ),
                Some(entries) => {
                    for entry in entries {
                        clusters.push(self.cluster(entry, &top_settings));
                    }
                }
            },
        }
        self.check_group_names(&clusters);
        if !self.errors.is_empty() {
            return None;
        }
        Some(Config {
            path: path.to_path_buf(),
            source: String::new(),
            clusters,
            clusters_span,
            top: top_settings,
        })
    }

    fn name_ok(&mut self, name: &str, span: Span, what: &str) {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.errors.push(
                Diagnostic::at(
                    span,
                    format!("{what} name `{name}` cannot be used in AWS resource names"),
                )
                .help("use letters, digits, `-` and `_` only"),
            );
        }
    }

    fn cluster(&mut self, entry: &Entry, top: &Settings) -> Cluster {
        let name = entry.key.clone();
        self.name_ok(&name, entry.key_span, "cluster");
        let level = Level::Cluster(name.clone());
        let mut cluster = Cluster {
            name: name.clone(),
            span: entry.key_span,
            description: None,
            settings: top.clone(),
            roles: Vec::new(),
        };
        let body = match &entry.value.value {
            Value::Null => return cluster, // declared, no roles yet
            Value::Map(body) => body,
            _ => {
                self.errors.push(
                    Diagnostic::at(
                        entry.value.span,
                        format!(
                            "cluster `{name}` must be a mapping of settings, not {}",
                            entry.value.kind_name()
                        ),
                    )
                    .help("indent the cluster's settings and `roles:` below its name"),
                );
                return cluster;
            }
        };
        self.settings(body, &level, &["description", "roles"]);
        cluster.settings.merge_level(body, schema::FIELDS, &level);
        if let Some(d) = body.iter().find(|e| e.key == "description") {
            match &d.value.value {
                Value::Scalar { text, .. } => cluster.description = Some(text.clone()),
                Value::Null => {}
                _ => self.errors.push(Diagnostic::at(
                    d.value.span,
                    "`description` must be a single line of text",
                )),
            }
        }
        if let Some(roles) = body.iter().find(|e| e.key == "roles") {
            match &roles.value.value {
                Value::Null => {}
                Value::Map(entries) => {
                    for r in entries {
                        if let Some(role) = self.role(&name, r, &cluster.settings) {
                            cluster.roles.push(role);
                        }
                    }
                }
                _ => self.errors.push(
                    Diagnostic::at(
                        roles.value.span,
                        format!(
                            "`roles` must be a mapping of role names, not {}",
                            roles.value.kind_name()
                        ),
                    )
                    .help("write each role name (webapp, worker, ...) indented below `roles:`"),
                ),
            }
        }
        cluster
    }

    fn role(&mut self, cluster: &str, entry: &Entry, inherited: &Settings) -> Option<Role> {
        let name = entry.key.clone();
        self.name_ok(&name, entry.key_span, "role");
        let level = Level::Role(cluster.to_string(), name.clone());
        let mut settings = inherited.clone();
        match &entry.value.value {
            Value::Null => {}
            Value::Map(body) => {
                self.settings(body, &level, &[]);
                settings.merge_level(body, schema::FIELDS, &level);
            }
            _ => {
                self.errors.push(
                    Diagnostic::at(
                        entry.value.span,
                        format!(
                            "role `{cluster}.{name}` must be a mapping of settings, not {}",
                            entry.value.kind_name()
                        ),
                    )
                    .help("indent the role's settings below its name"),
                );
                return None;
            }
        }
        let role = Role {
            cluster: cluster.to_string(),
            name,
            span: entry.key_span,
            settings,
        };
        self.role_semantics(&role);
        Some(role)
    }

    /// Checks that need the merged view: sizes that fit together, required keys.
    fn role_semantics(&mut self, role: &Role) {
        let s = &role.settings;
        if s.str("app_name").is_none() {
            self.errors.push(
                Diagnostic::at(
                    role.span,
                    format!("role `{}` has no `app_name`", role.target()),
                )
                .help("set `app_name: yourapp` at the top of udo.yml"),
            );
        }
        let min = s.leaf("scale_policy.min_size");
        let max = s.leaf("scale_policy.max_size");
        let desired = s.leaf("scale_policy.desired");
        fn num(l: Option<&merge::Leaf>) -> Option<(i64, &merge::Leaf)> {
            l.and_then(|l| l.text.parse::<i64>().ok().map(|n| (n, l)))
        }
        let (min, max, desired) = (num(min), num(max), num(desired));
        let mut pair = |lo: Option<(i64, &merge::Leaf)>,
                        hi: Option<(i64, &merge::Leaf)>,
                        lo_name: &str,
                        hi_name: &str| {
            if let (Some((a, al)), Some((b, bl))) = (lo, hi)
                && a > b
            {
                self.errors.push(
                    Diagnostic::at(bl.origin.span, format!(
                        "impossible sizes for `{}`: {lo_name} {a} is greater than {hi_name} {b}",
                        role.target()
                    ))
                    .note(al.origin.span, format!("{lo_name} is set in {}", al.origin.level.describe()))
                    .help("scale_policy needs min_size <= desired <= max_size"),
                );
            }
        };
        pair(min, max, "min_size", "max_size");
        pair(min, desired, "min_size", "desired");
        pair(desired, max, "desired", "max_size");
        self.errors.extend(scaling_checks::check_role(role));
        self.errors.extend(crate::launch::check_role(role));
    }

    /// `CLUSTER-ROLE` must name one group only: `a-b.c` and `a.b-c` would collide.
    fn check_group_names(&mut self, clusters: &[Cluster]) {
        let mut seen: Vec<(String, &Role)> = Vec::new();
        for role in clusters.iter().flat_map(|c| &c.roles) {
            let name = role.group_name();
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                self.errors.push(
                    Diagnostic::at(
                        role.span,
                        format!(
                            "roles `{}` and `{}` would both be named `{name}` in AWS",
                            first.target(),
                            role.target()
                        ),
                    )
                    .note(first.span, format!("`{}` is defined here", first.target()))
                    .help("rename one of the roles or clusters"),
                );
            } else {
                seen.push((name, role));
            }
        }
    }

    /// Validates one level's settings mapping against the schema.
    fn settings(&mut self, entries: &[Entry], level: &Level, structural: &[&str]) {
        let mut canonical_seen: Vec<(&str, Span)> = Vec::new();
        for entry in entries {
            if structural.contains(&entry.key.as_str()) {
                continue;
            }
            let Some(field) = schema::lookup(schema::FIELDS, &entry.key) else {
                self.unknown_key(entry, level, structural);
                continue;
            };
            if field.scope == Scope::Cluster && !matches!(level, Level::Cluster(_)) {
                self.errors.push(
                    Diagnostic::at(
                        entry.key_span,
                        format!(
                            "`{}` is a cluster setting and cannot be set in {}",
                            entry.key,
                            level.describe()
                        ),
                    )
                    .help("move it under the cluster it describes"),
                );
                continue;
            }
            if let Some((_, first)) = canonical_seen.iter().find(|(n, _)| *n == field.name) {
                self.errors.push(
                    Diagnostic::at(
                        entry.key_span,
                        format!(
                            "`{}` and its alias are both set in {}",
                            field.name,
                            level.describe()
                        ),
                    )
                    .note(*first, "the other one is here")
                    .help(format!(
                        "keep one: `{}` is the same key as `{}`",
                        field.alias.unwrap_or(field.name),
                        field.name
                    )),
                );
            }
            canonical_seen.push((field.name, entry.key_span));
            self.value(&entry.value, &field.kind, field.name, level);
        }
    }

    fn unknown_key(&mut self, entry: &Entry, level: &Level, structural: &[&str]) {
        let names = schema::FIELDS
            .iter()
            .flat_map(|f| std::iter::once(f.name).chain(f.alias))
            .chain(structural.iter().copied())
            .chain(schema::TOP_ONLY.iter().copied())
            .chain(schema::CLUSTER_ONLY.iter().copied());
        let mut d = Diagnostic::at(
            entry.key_span,
            format!("unknown key `{}` in {}", entry.key, level.describe()),
        );
        if let Some(s) = suggest(&entry.key, names) {
            d = if let Some(f) = schema::lookup(schema::FIELDS, s) {
                d.help(format!("did you mean `{s}` ({})?", f.doc))
            } else if structural.contains(&s) {
                d.help(format!("did you mean `{s}`?"))
            } else {
                d.help(format!(
                    "did you mean `{s}`? It belongs {}",
                    if schema::TOP_ONLY.contains(&s) {
                        "at the top level"
                    } else {
                        "under a cluster"
                    }
                ))
            };
        } else if schema::TOP_ONLY.contains(&entry.key.as_str())
            || schema::CLUSTER_ONLY.contains(&entry.key.as_str())
        {
            d = d.help(format!(
                "`{}` cannot be written here; see examples/udo.yml for the layout",
                entry.key
            ));
        } else {
            d = d.help(
                "remove it, or see the udo.yml reference in the README for the keys udo knows",
            );
        }
        self.errors.push(d);
    }

    fn value(&mut self, node: &Node, kind: &Kind, path: &str, level: &Level) {
        if let Value::Null = node.value {
            return; // not set at this level
        }
        let ok_kind = match (&node.value, kind) {
            (Value::Seq(_), Kind::List(_) | Kind::Named(_)) => true,
            (Value::Map(_), Kind::Record(_) | Kind::Dict(_)) => true,
            (Value::Scalar { .. }, k) => !k.is_list() && !k.is_map(),
            _ => false,
        };
        let found = node.kind_name();
        if !ok_kind {
            let mut d = Diagnostic::at(
                node.span,
                format!(
                    "`{path}` must be {}, but {} has {found}",
                    kind.describe(),
                    level.describe()
                ),
            );
            if let Some(other) = self
                .seen
                .iter()
                .find(|s| s.path == path && s.level != *level && s.kind != found)
            {
                d = d.note(
                    other.span,
                    format!("`{path}` is {} in {}", other.kind, other.level.describe()),
                );
            }
            if kind.is_list() && matches!(node.value, Value::Scalar { .. }) {
                d = d.help(format!(
                    "write a list, even of one item: `{path}: [{}]`",
                    scalar_text(node)
                ));
            }
            self.errors.push(d);
            return;
        }
        self.seen.push(Seen {
            path: path.to_string(),
            span: node.span,
            kind: found,
            level: level.clone(),
        });
        match (&node.value, kind) {
            (Value::Scalar { text, .. }, k) => {
                if let Err(reason) = schema::check_scalar(k, text) {
                    self.errors.push(Diagnostic::at(
                        node.span,
                        format!("bad value for `{path}`: {reason}"),
                    ));
                }
                if env::takes_env(path)
                    && let Some((message, help)) = env::check(path, text)
                {
                    self.errors
                        .push(Diagnostic::at(node.span, message).help(help));
                }
            }
            (Value::Seq(items), Kind::List(inner)) => {
                for item in items {
                    match item.value {
                        Value::Scalar { .. } => self.value(item, inner, path, level),
                        _ => self.errors.push(Diagnostic::at(
                            item.span,
                            format!(
                                "each item of `{path}` must be {}, not {}",
                                inner.describe(),
                                item.kind_name()
                            ),
                        )),
                    }
                }
            }
            (Value::Map(entries), Kind::Record(fields)) => {
                self.record(entries, fields, path, level)
            }
            (Value::Seq(items), Kind::Named(fields)) => self.named(items, fields, path, level),
            (Value::Map(entries), Kind::Dict(inner)) => {
                for e in entries {
                    let sub = format!("{path}.{}", e.key);
                    match e.value.value {
                        Value::Scalar { .. } => self.value(&e.value, inner, &sub, level),
                        Value::Null => self
                            .errors
                            .push(Diagnostic::at(e.key_span, format!("`{sub}` has no value"))),
                        _ => self.errors.push(Diagnostic::at(
                            e.value.span,
                            format!(
                                "`{sub}` must be {}, not {}",
                                inner.describe(),
                                e.value.kind_name()
                            ),
                        )),
                    }
                }
            }
            _ => {}
        }
    }

    /// A list of named mappings: each item a mapping with its key (`name`, or `device` for
    /// volumes), no key twice per level.
    fn named(&mut self, items: &[Node], fields: &[Field], path: &str, level: &Level) {
        let key = schema::named_key(fields);
        let mut names: Vec<(String, Span)> = Vec::new();
        for item in items {
            let Some(entries) = item.as_map() else {
                self.errors.push(
                    Diagnostic::at(
                        item.span,
                        format!(
                            "each item of `{path}` must be a mapping with a `{key}`, not {}",
                            item.kind_name()
                        ),
                    )
                    .help(format!(
                        "write `- {key}: {}` and its keys below it; `{path}` takes: {}",
                        key.to_uppercase(),
                        field_names(fields)
                    )),
                );
                continue;
            };
            match entries.iter().find(|e| e.key == key) {
                Some(Entry {
                    value:
                        Node {
                            value: Value::Scalar { text, .. },
                            span,
                        },
                    ..
                }) => {
                    if let Some((_, first)) = names.iter().find(|(n, _)| n == text) {
                        self.errors.push(
                            Diagnostic::at(
                                *span,
                                format!(
                                    "`{path}` has two entries {} `{text}` in {}",
                                    if key == "name" { "named" } else { "for" },
                                    level.describe()
                                ),
                            )
                            .note(*first, "the first one is here")
                            .help(format!("give each entry its own {key}")),
                        );
                    }
                    names.push((text.clone(), *span));
                }
                _ => self.errors.push(
                    Diagnostic::at(item.span, format!("an entry of `{path}` has no `{key}`")).help(
                        if key == "name" {
                            "add `name: NAME`; udo names it `udo-NAME` in AWS".to_string()
                        } else {
                            format!("add `{key}:` ({})", fields[0].doc)
                        },
                    ),
                ),
            }
            self.record(entries, fields, path, level);
        }
    }

    fn record(&mut self, entries: &[Entry], fields: &[Field], path: &str, level: &Level) {
        for e in entries {
            let sub = format!("{path}.{}", e.key);
            match schema::lookup(fields, &e.key) {
                Some(f) => self.value(&e.value, &f.kind, &sub, level),
                None => {
                    let mut d =
                        Diagnostic::at(e.key_span, format!("unknown key `{}` in `{path}`", e.key));
                    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    d = match suggest(&e.key, names.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("`{path}` takes: {}", names.join(", "))),
                    };
                    self.errors.push(d);
                }
            }
        }
    }
}

fn field_names(fields: &[Field]) -> String {
    fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, .. } => text.clone(),
        _ => String::new(),
    }
}
