//! Sending one e-mail through the académie's SMTP server (lettre over rustls), and what the
//! server's answer means for it: taken, refused for good, or to try again.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::platform::config::MailConfig;
use crate::replication::links::NewMail;

/// The académie's SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why an e-mail did not go, as it decides what comes next.
#[derive(Debug)]
pub enum NotSent {
    /// The server refused the recipient's address (550 no such mailbox, 551, 553 bad
    /// address) or it is no address: the address's fault, counted against it.
    Address(String),
    /// The server said « later » for this message (4xx: greylisting, a full mailbox): try
    /// it again, and go on with the others.
    Later(String),
    /// The server cannot be reached or refuses the hub itself (no answer, TLS,
    /// authentication, relay denied, any other 5xx): nobody's fault but the link's or the
    /// settings'; try again later and send nothing more this pass.
    Server(String),
}

/// Reply codes that refuse one recipient's address (RFC 5321 §4.2.3).
const ADDRESS_CODES: [&str; 3] = ["550", "551", "553"];

impl Mailer {
    /// The server `config` names, or what is wrong with the settings. `None` when no server
    /// is set: the hub sends no e-mail.
    pub fn new(config: &MailConfig) -> Result<Option<Self>, String> {
        if config.smtp.trim().is_empty() {
            return Ok(None);
        }
        let (host, port) = match config.smtp.rsplit_once(':') {
            Some((h, p)) => {
                (h.to_owned(), p.parse::<u16>().map_err(|_| format!("mail.smtp {:?}: bad port", config.smtp))?)
            }
            None => (config.smtp.clone(), if config.tls == "tls" { 465 } else { 587 }),
        };
        let from: Mailbox = config.from.parse().map_err(|e| {
            format!("mail.from {:?}: not an address ({e}); write « Nom <adresse@domaine> »", config.from)
        })?;
        let tls = |host: &str| -> Result<TlsParameters, String> {
            let mut params = TlsParameters::builder(host.to_owned());
            if let Some(ca) = &config.ca {
                let pem = std::fs::read(ca).map_err(|e| format!("mail.ca {}: {e}", ca.display()))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| format!("mail.ca {}: {e}", ca.display()))?;
                params = params.certificate_store(CertificateStore::None).add_root_certificate(cert);
            }
            params.build_rustls().map_err(|e| format!("mail TLS: {e}"))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(port);
        builder = match config.tls.as_str() {
            "starttls" => builder.tls(Tls::Required(tls(&host)?)),
            "tls" => builder.tls(Tls::Wrapper(tls(&host)?)),
            "none" => builder.tls(Tls::None),
            other => return Err(format!("mail.tls {other:?}: expected starttls, tls or none")),
        };
        if !config.user.is_empty() {
            let file =
                config.password_file.as_ref().ok_or("mail.user is set: mail.password_file must name its password")?;
            let password =
                std::fs::read_to_string(file).map_err(|e| format!("mail.password_file {}: {e}", file.display()))?;
            builder = builder.credentials(Credentials::new(config.user.clone(), password.trim_end().to_owned()));
        }
        let transport = builder.timeout(Some(std::time::Duration::from_secs(30))).build();
        Ok(Some(Self { transport, from }))
    }

    /// The sender's domain, for `Message-ID`s.
    pub fn domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Sends `mail`.
    pub async fn send(&self, mail: &NewMail) -> Result<(), NotSent> {
        let to: Mailbox =
            mail.address.parse().map_err(|e| NotSent::Address(format!("address {:?}: {e}", mail.address)))?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(mail.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| NotSent::Address(format!("message: {e}")))?;
        if !mail.unsubscribe.is_empty() {
            // RFC 8058: mail programs show « Se désabonner », one click, no page to visit.
            let headers = message.headers_mut();
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", mail.unsubscribe),
            ));
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        }
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let code = e.status().map(|c| c.to_string());
                Err(match code.as_deref() {
                    Some(c) if e.is_permanent() && ADDRESS_CODES.contains(&c) => NotSent::Address(e.to_string()),
                    Some(_) if e.is_transient() => NotSent::Later(e.to_string()),
                    _ => NotSent::Server(e.to_string()),
                })
            }
        }
    }
}
