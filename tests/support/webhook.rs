//! A local webhook receiver on 127.0.0.1: records every POST (path and JSON body) and answers
//! 200, so tests assert on the chat messages udo sends without any traffic leaving the machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One received post.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub body: serde_json::Value,
}

pub struct Webhook {
    pub base: String,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Webhook {
    pub fn start() -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let store = posts.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':')
                            && k.trim().eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; length];
                    let _ = reader.read_exact(&mut body);
                    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    store.lock().unwrap().push(Post { path, body });
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                });
            }
        });
        Webhook { base, posts }
    }

    /// The URL of one path on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// The posts received on one path.
    pub fn posts_to(&self, path: &str) -> Vec<Post> {
        self.posts()
            .into_iter()
            .filter(|p| p.path == path)
            .collect()
    }
}

/// A URL on 127.0.0.1 where nothing listens: every delivery to it fails at once.
pub fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/dead")
}
