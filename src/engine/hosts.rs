//! Host discovery: the instances of one or more roles' groups with their addresses, for
//! `udo exec`, `udo ssh` and anything else that needs to reach instances.
//!
//! Two AWS calls per region however many roles: one DescribeAutoScalingGroups naming every
//! group (the target's and a bastion role's), one DescribeInstances naming every instance. Each
//! role's group is its active one (`engine::groups`; a role with blue/green releases, or
//! whose base group is missing, costs one DescribeAutoScalingGroups more, filtered by tags).

use crate::aws::asg::Group;
use crate::aws::ec2;
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;

/// One instance of a group, as `udo asg instances` lists it.
#[derive(Debug, Clone)]
pub struct Host {
    /// The role's name (`web`), for prefixes.
    pub role: String,
    pub id: String,
    /// 1-based position in the group's instance list (`udo ssh TARGET 2`).
    pub index: usize,
    pub lifecycle: String,
    pub outdated: bool,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

impl Host {
    pub fn in_service(&self) -> bool {
        self.lifecycle == "InService"
    }

    /// The address to connect to: public when it has one, else private (`private` forces it).
    pub fn address(&self, private: bool) -> Option<&str> {
        if private {
            self.private_ip.as_deref()
        } else {
            self.public_ip.as_deref().or(self.private_ip.as_deref())
        }
    }
}

/// A role's active group (absent when the role has none) and its instances.
#[derive(Debug, Clone)]
pub struct RoleHosts<'a> {
    pub role: &'a Role,
    pub group: Option<Group>,
    pub hosts: Vec<Host>,
}

impl RoleHosts<'_> {
    /// The group's name: the active group's, else the base group's the role would have.
    pub fn group_name(&self) -> String {
        self.group
            .as_ref()
            .map_or_else(|| self.role.group_name(), |g| g.name.clone())
    }
}

/// Looks up the groups of `roles` and their instances' addresses, in role order.
pub async fn discover<'a>(ctx: &Ctx, roles: &[&'a Role]) -> Result<Vec<RoleHosts<'a>>> {
    let mut found: Vec<RoleHosts<'a>> = Vec::new();
    // One lookup per profile and region (clusters may live in different accounts).
    for (c, roles) in ctx.by_place(roles).await? {
        // each role's active group (a role without releases: the one call by name)
        let mut groups: Vec<Option<Group>> = Vec::new();
        for (role, found) in roles.iter().zip(super::groups::roles(&c, &roles).await?) {
            groups.push(super::groups::active_of(role, &found)?);
        }
        let ids: Vec<String> = groups
            .iter()
            .flatten()
            .flat_map(|g| g.instances.iter().map(|i| i.id.clone()))
            .collect();
        let instances = ec2::instances(&c, &ids).await?;
        for (role, group) in roles.into_iter().zip(groups) {
            let hosts = group
                .as_ref()
                .map(|g| {
                    g.instances
                        .iter()
                        .enumerate()
                        .map(|(n, i)| {
                            let e = instances.iter().find(|e| e.id == i.id);
                            Host {
                                role: role.name.clone(),
                                id: i.id.clone(),
                                index: n + 1,
                                lifecycle: i.lifecycle.clone(),
                                outdated: g.is_outdated(i),
                                private_ip: e.and_then(|e| e.private_ip.clone()),
                                public_ip: e.and_then(|e| e.public_ip.clone()),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            found.push(RoleHosts { role, group, hosts });
        }
    }
    found.sort_by_key(|f| roles.iter().position(|r| std::ptr::eq(*r, f.role)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::Host;

    fn host(private: Option<&str>, public: Option<&str>) -> Host {
        Host {
            role: "web".into(),
            id: "i-1".into(),
            index: 1,
            lifecycle: "InService".into(),
            outdated: false,
            private_ip: private.map(String::from),
            public_ip: public.map(String::from),
        }
    }

    #[test]
    fn public_address_first_unless_private_is_asked_for() {
        let both = host(Some("10.0.1.5"), Some("3.3.3.3"));
        assert_eq!(both.address(false), Some("3.3.3.3"));
        assert_eq!(both.address(true), Some("10.0.1.5"));
        let private_only = host(Some("127.0.1.4"), None);
        assert_eq!(private_only.address(false), Some("127.0.1.4"));
        assert_eq!(host(None, None).address(false), None);
    }
}
