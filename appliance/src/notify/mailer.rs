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

/// Why an e-mail did not go.
#[derive(Debug)]
pub enum NotSent {
    /// The server refused it for good (5xx: no such mailbox, refused sender...).
    Refused(String),
    /// The server said « later », or could not be reached: try again.
    Later(String),
}

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
            mail.address.parse().map_err(|e| NotSent::Refused(format!("address {:?}: {e}", mail.address)))?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(mail.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| NotSent::Refused(format!("message: {e}")))?;
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
            Err(e) if e.is_permanent() => Err(NotSent::Refused(e.to_string())),
            Err(e) => Err(NotSent::Later(e.to_string())),
        }
    }
}
