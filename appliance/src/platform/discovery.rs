//! Discovery on the school's network: the appliance advertises itself with mDNS / DNS-SD
//! (`_preau._tcp`, the school's name and UAI in TXT records, a `.local` host name), and
//! `preau discover` lists the appliances it hears. Browsers cannot browse mDNS, so pages
//! and the console also show the address and its QR code.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};

/// The DNS-SD service type.
pub const SERVICE_TYPE: &str = "_preau._tcp.local.";

/// A running advertisement; dropping it withdraws it.
pub struct Advertisement {
    daemon: ServiceDaemon,
    fullname: String,
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        // Goodbye packets let browsers forget us at once instead of after the TTL.
        if let Ok(done) = self.daemon.unregister(&self.fullname) {
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
        let _ = self.daemon.shutdown();
    }
}

/// What is advertised.
pub struct Announce<'a> {
    /// Instance name shown to people (the school's name).
    pub name: &'a str,
    /// The school's UAI (empty before setup).
    pub uai: &'a str,
    /// Host name without `.local`.
    pub hostname: &'a str,
    /// The HTTP port.
    pub port: u16,
    /// Interfaces to advertise on (empty: all).
    pub interfaces: &'a [String],
}

/// Starts advertising.
pub fn advertise(a: &Announce<'_>) -> anyhow::Result<Advertisement> {
    let daemon = ServiceDaemon::new().context("starting the mDNS responder")?;
    if !a.interfaces.is_empty() {
        daemon.disable_interface(IfKind::All).context("choosing mDNS interfaces")?;
        for name in a.interfaces {
            daemon.enable_interface(IfKind::Name(name.clone())).context("choosing mDNS interfaces")?;
        }
    }
    // DNS labels hold 63 bytes: keep whole characters.
    let mut instance = String::new();
    for c in a.name.chars() {
        if instance.len() + c.len_utf8() > 63 {
            break;
        }
        instance.push(c);
    }
    let properties: HashMap<String, String> = [
        ("uai".to_owned(), a.uai.to_owned()),
        ("name".to_owned(), a.name.to_owned()),
        ("path".to_owned(), "/".to_owned()),
        ("version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
    ]
    .into();
    let host = format!("{}.local.", a.hostname);
    let info = ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", a.port, properties)
        .context("describing the mDNS service")?
        .enable_addr_auto();
    let fullname = info.get_fullname().to_owned();
    daemon.register(info).context("registering the mDNS service")?;
    tracing::info!(%fullname, host, port = a.port, "advertised on the LAN");
    Ok(Advertisement { daemon, fullname })
}

/// An appliance heard on the network.
#[derive(Debug)]
pub struct Found {
    /// Instance name.
    pub name: String,
    /// UAI from the TXT record.
    pub uai: String,
    /// `host.local.`
    pub host: String,
    /// Addresses.
    pub addresses: Vec<std::net::IpAddr>,
    /// Port.
    pub port: u16,
}

impl Found {
    /// Its address, `http://192.168.1.10:8080`: IPv4 first, else a routable IPv6 one; never
    /// a link-local IPv6 address (`fe80::`), which needs its interface, and a URL cannot
    /// carry one.
    pub fn url(&self) -> Option<String> {
        let usable = |a: &&std::net::IpAddr| match a {
            std::net::IpAddr::V4(_) => true,
            std::net::IpAddr::V6(v6) => !v6.is_unicast_link_local(),
        };
        // Sorted: IPv4 addresses come first.
        let ip = self.addresses.iter().find(usable)?;
        Some(match ip {
            std::net::IpAddr::V4(v4) => format!("http://{v4}:{}", self.port),
            std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{}", self.port),
        })
    }
}

/// Runs a listening call off the async workers (it blocks for its whole wait); a failure
/// is logged and heard as silence.
pub async fn off_thread<T: Send + 'static>(listen: impl FnOnce() -> anyhow::Result<T> + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(listen).await {
        Ok(Ok(heard)) => Some(heard),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "listening for appliances on the LAN");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "listening for appliances on the LAN");
            None
        }
    }
}

/// Listens for appliances for `wait`.
pub fn browse(wait: Duration) -> anyhow::Result<Vec<Found>> {
    listen(wait, |_| false)
}

/// The address of the appliance of school `uai`, as soon as one that a URL can name is heard
/// (`None` after `wait` of silence): a teacher's computer finds its school again wherever
/// the LAN put it.
pub fn find(uai: &str, wait: Duration) -> anyhow::Result<Option<String>> {
    let ours = |f: &Found| f.uai == uai && f.url().is_some();
    Ok(listen(wait, ours)?.into_iter().find(ours).and_then(|f| f.url()))
}

/// Listens for `wait`, or until `enough` says of an appliance heard.
fn listen(wait: Duration, enough: impl Fn(&Found) -> bool) -> anyhow::Result<Vec<Found>> {
    let daemon = ServiceDaemon::new().context("starting the mDNS browser")?;
    let events = daemon.browse(SERVICE_TYPE).context("browsing")?;
    let deadline = Instant::now() + wait;
    let mut found: Vec<Found> = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(info)) => {
                let name = info.get_fullname().trim_end_matches(SERVICE_TYPE).trim_end_matches('.').to_owned();
                // Addresses may arrive over several answers (IPv4, IPv6): gather them.
                let index = match found.iter().position(|f| f.name == name) {
                    Some(i) => i,
                    None => {
                        found.push(Found {
                            name,
                            uai: info.get_property_val_str("uai").unwrap_or_default().to_owned(),
                            host: info.get_hostname().to_owned(),
                            addresses: Vec::new(),
                            port: info.get_port(),
                        });
                        found.len() - 1
                    }
                };
                let addresses = &mut found[index].addresses;
                addresses.extend(info.get_addresses().iter().map(|a| a.to_ip_addr()));
                addresses.sort();
                addresses.dedup();
                if enough(&found[index]) {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = daemon.shutdown();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(addresses: &[&str]) -> Found {
        Found {
            name: "École".into(),
            uai: "0350001A".into(),
            host: "preau.local.".into(),
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
            port: 8080,
        }
    }

    #[test]
    fn an_address_is_one_a_url_can_name() {
        // mDNS answers may bring the link-local IPv6 address first, alone.
        assert_eq!(found(&["fe80::f8ce:dfff:fef5:8ef"]).url(), None);
        assert_eq!(found(&["fe80::1", "10.78.0.3"]).url().as_deref(), Some("http://10.78.0.3:8080"));
        assert_eq!(found(&["fe80::1", "2001:db8::7"]).url().as_deref(), Some("http://[2001:db8::7]:8080"));
        assert_eq!(found(&[]).url(), None);
    }
}
