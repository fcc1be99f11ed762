//! The instances of a loopback cluster's group (VPC inside 127.0.0.0/16, `public: false`), as
//! `udo asg instances -o json` reports them, for the tests that connect to instances (`udo exec`
//! over SSH and over SSM). Every address is checked to be loopback before any test uses it.

use super::Test;

/// One instance of a group: its id and its (loopback) private address.
#[derive(Debug, Clone)]
pub struct Inst {
    pub id: String,
    pub ip: String,
}

/// The group's instances in its order; every address must be loopback (nothing else is ever
/// connected to).
pub fn instances(t: &Test, role: &str) -> Vec<Inst> {
    let j = t
        .run(&["asg", "instances", &format!("lo.{role}"), "-o", "json"])
        .ok()
        .json();
    let list: Vec<Inst> = j["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert!(
                i["public_ip"].is_null(),
                "an instance has a public address: {i}"
            );
            let ip = i["private_ip"].as_str().unwrap().to_string();
            let addr: std::net::Ipv4Addr = ip.parse().unwrap();
            assert!(addr.is_loopback(), "{ip} is not a loopback address");
            Inst {
                id: i["id"].as_str().unwrap().to_string(),
                ip,
            }
        })
        .collect();
    assert!(!list.is_empty());
    list
}
