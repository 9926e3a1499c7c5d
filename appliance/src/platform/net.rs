//! The school's network: which addresses are its own, and where the server can be reached.

use std::net::{IpAddr, SocketAddr};

/// The addresses the server is reachable at: each LAN address when listening on all of
/// them, else the one it listens on.
pub fn lan_urls(local: SocketAddr) -> Vec<String> {
    let port = local.port();
    let ips: Vec<IpAddr> = if local.ip().is_unspecified() {
        let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.ip())
            .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
            .collect();
        ips.sort();
        ips.push(IpAddr::from([127, 0, 0, 1]));
        ips
    } else {
        vec![local.ip()]
    };
    ips.into_iter().map(|ip| format!("http://{}", SocketAddr::new(ip, port))).collect()
}

/// Loopback, private, link-local and unique-local addresses: the school's own network.
pub fn is_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_lan(IpAddr::V4(v4)),
            None => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
        },
    }
}
