//! A YAML document tree in which every node remembers where it was written.
//!
//! serde-based loaders forget positions once a value is deserialized, but every udo
//! configuration error must name the file, line and column, so udo builds its own tree from
//! yaml-rust2's event stream. The tree also catches what a plain loader silently accepts:
//! duplicate keys, non-scalar keys, several documents, and alias bombs.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the source, both numbers 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
}

impl Span {
    fn from_marker(m: Marker) -> Span {
        Span {
            line: m.line().max(1),
            col: m.col() + 1,
        }
    }
}

/// One node of the document.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing at all (`qa:` with no body).
    Null,
    /// Every other scalar, as written; the schema decides what it means.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// What kind of value this is, in words for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing (null)",
            Value::Scalar { .. } => "a single value",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }
}

/// A problem found while reading the YAML itself.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub span: Span,
    pub message: String,
    /// A second place the message refers to (the first of two duplicate keys).
    pub related: Option<(Span, String)>,
}

/// Limits that keep a hostile or broken file from exhausting memory or stack.
const MAX_NODES: usize = 200_000;
const MAX_DEPTH: usize = 64;

/// Parses one YAML document. An empty document is `Ok(None)`.
pub fn parse(src: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(src);
    if let Err(e) = parser.load(&mut builder, true) {
        let mark = e.marker();
        return Err(YamlError {
            span: Span::from_marker(*mark),
            message: format!("invalid YAML: {}", e.info()),
            related: None,
        });
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    if builder.documents > 1 {
        return Err(YamlError {
            span: builder.second_document.unwrap_or_default(),
            message: "several YAML documents in one file; udo reads exactly one".into(),
            related: None,
        });
    }
    Ok(builder.root)
}

enum Frame {
    Seq {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        span: Span,
        anchor: usize,
        entries: Vec<Entry>,
        pending_key: Option<(String, Span)>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
    documents: usize,
    second_document: Option<Span>,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, span: Span, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                span,
                message,
                related: None,
            });
        }
    }

    fn count(&mut self, span: Span, n: usize) {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            self.fail(
                span,
                format!(
                    "the document is too large (more than {MAX_NODES} values, aliases expanded)"
                ),
            );
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }

    /// Places a finished node into its parent (or makes it the root).
    fn push_node(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let key = match &node.value {
                        Value::Scalar { text, .. } => text.clone(),
                        Value::Null => String::new(),
                        _ => {
                            let span = node.span;
                            self.fail(
                                span,
                                "a mapping key must be a plain name, not a list or mapping".into(),
                            );
                            return;
                        }
                    };
                    if let Some(first) = entries.iter().find(|e| e.key == key) {
                        let first_span = first.key_span;
                        if self.error.is_none() {
                            self.error = Some(YamlError {
                                span: node.span,
                                message: format!("duplicate key `{key}`"),
                                related: Some((first_span, "first defined here".into())),
                            });
                        }
                        // Keep parsing for the rest of the events; the error wins.
                    }
                    *pending_key = Some((key, node.span));
                }
                Some((key, key_span)) => entries.push(Entry {
                    key,
                    key_span,
                    value: node,
                }),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let span = Span::from_marker(mark);
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.second_document = Some(span);
                }
            }
            Event::Scalar(text, style, anchor, _tag) => {
                if self.documents > 1 {
                    return;
                }
                self.count(span, 1);
                let quoted = style != TScalarStyle::Plain;
                let value =
                    if !quoted && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                        Value::Null
                    } else {
                        Value::Scalar { text, quoted }
                    };
                let node = Node { span, value };
                self.remember(anchor, &node);
                self.push_node(node);
            }
            Event::Alias(id) => {
                let found = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone());
                match found {
                    Some(mut node) => {
                        let size = node_size(&node);
                        self.count(span, size);
                        node.span = span;
                        self.push_node(node);
                    }
                    None => self.fail(span, "unknown alias".into()),
                }
            }
            Event::SequenceStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(
                        span,
                        format!("values are nested more than {MAX_DEPTH} deep"),
                    );
                    return;
                }
                self.count(span, 1);
                self.stack.push(Frame::Seq {
                    span,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(
                        span,
                        format!("values are nested more than {MAX_DEPTH} deep"),
                    );
                    return;
                }
                self.count(span, 1);
                self.stack.push(Frame::Map {
                    span,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let (node, anchor) = match frame {
                    Frame::Seq {
                        span,
                        anchor,
                        items,
                    } => (
                        Node {
                            span,
                            value: Value::Seq(items),
                        },
                        anchor,
                    ),
                    Frame::Map {
                        span,
                        anchor,
                        entries,
                        ..
                    } => (
                        Node {
                            span,
                            value: Value::Map(entries),
                        },
                        anchor,
                    ),
                };
                self.remember(anchor, &node);
                self.push_node(node);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

fn node_size(node: &Node) -> usize {
    match &node.value {
        Value::Null | Value::Scalar { .. } => 1,
        Value::Seq(items) => 1 + items.iter().map(node_size).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|e| 1 + node_size(&e.value))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        parse(src).unwrap().unwrap()
    }

    #[test]
    fn positions_are_one_based() {
        let n = root("a: 1\nb:\n  c: x\n");
        let b = n.get("b").unwrap();
        assert_eq!(b.key_span, Span { line: 2, col: 1 });
        let c = b.value.get("c").unwrap();
        assert_eq!(c.key_span, Span { line: 3, col: 3 });
        assert_eq!(c.value.span, Span { line: 3, col: 6 });
    }

    #[test]
    fn empty_body_is_null() {
        let n = root("qa:\n  # nothing yet\nprod: {}\n");
        assert_eq!(n.get("qa").unwrap().value.value, Value::Null);
        assert_eq!(n.get("prod").unwrap().value.value, Value::Map(vec![]));
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_places() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.span.line, 3);
        assert_eq!(err.message, "duplicate key `a`");
        assert_eq!(err.related.unwrap().0.line, 1);
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.span.line >= 1);
    }

    #[test]
    fn empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn aliases_expand_and_bombs_are_stopped() {
        let n = root("base: &b [x, y]\nother: *b\n");
        assert_eq!(n.get("other").unwrap().value.kind_name(), "a list");
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("too large"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = "[".repeat(10_000);
        assert!(parse(&src).is_err());
    }

    #[test]
    fn several_documents_are_rejected() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("several YAML documents"));
    }
}
