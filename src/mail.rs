//! Mailing the digest (`[digest.smtp]`): multipart HTML with a plain-text alternative, over
//! STARTTLS, TLS or (for a local relay only) an unencrypted connection.
//!
//! A failed send is retried with growing delays by the daemon; the digest file on disk is
//! written before any attempt, so mail trouble never loses a digest.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpSecurity};
use crate::digest::{Digest, render_html, render_markdown};

/// Delays between attempts; after the last one the delivery is given up (the file stays).
pub const RETRY_DELAYS: &[Duration] = &[
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(15 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(3 * 60 * 60),
    Duration::from_secs(6 * 60 * 60),
];

/// Why a digest could not be mailed.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("building the message: {0}")]
    Message(String),
    #[error("SMTP {host}:{port}: {reason}")]
    Smtp {
        host: String,
        port: u16,
        reason: String,
    },
}

/// Sends one day's digest to every recipient in a single message.
pub async fn send_digest(smtp: &SmtpConfig, digest: &Digest) -> Result<(), MailError> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|_| MailError::Address(smtp.from.clone()))?;
    let mut builder = Message::builder().from(from).subject(format!(
        "Tributary digest: {}",
        digest.date.format("%-d %B %Y")
    ));
    for to in &smtp.to {
        builder = builder.to(to.parse().map_err(|_| MailError::Address(to.clone()))?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            render_markdown(digest),
            render_html(digest),
        ))
        .map_err(|e| MailError::Message(e.to_string()))?;
    let smtp_err = |reason: String| MailError::Smtp {
        host: smtp.host.clone(),
        port: smtp.port,
        reason,
    };
    let mut transport = match smtp.security {
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| smtp_err(e.to_string()))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| smtp_err(e.to_string()))?,
        SmtpSecurity::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        }
    }
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    transport
        .build()
        .send(message)
        .await
        .map_err(|e| smtp_err(crate::fetch::error_chain(&e)))?;
    Ok(())
}

/// When to try again after `attempts` failed attempts, or `None` to give up.
pub fn next_retry(attempts: u32) -> Option<Duration> {
    RETRY_DELAYS
        .get(attempts.saturating_sub(1) as usize)
        .copied()
}

/// Mails every digest whose delivery is due, recording each attempt; a failure is retried
/// later (see [`RETRY_DELAYS`]) and finally given up, never touching the digest files.
pub async fn deliver_due(
    store: &std::sync::Arc<std::sync::Mutex<crate::store::Store>>,
    config: &crate::config::Config,
    feeds: &crate::config::FeedsFile,
) -> Result<usize, crate::store::StoreError> {
    let Some(smtp) = &config.digest.smtp else {
        return Ok(0);
    };
    let now = chrono::Utc::now();
    let lock = || store.lock().unwrap_or_else(|p| p.into_inner());
    let due = lock().deliveries_due(now)?;
    let mut sent = 0;
    for delivery in due {
        let Ok(date) = chrono::NaiveDate::parse_from_str(&delivery.date, "%Y-%m-%d") else {
            continue;
        };
        let digest = crate::digest::build(&lock(), config, feeds, date)?;
        match send_digest(smtp, &digest).await {
            Ok(()) => {
                lock().delivery_attempted(&delivery.date, Ok(()), None)?;
                tracing::info!(date = %delivery.date, recipients = smtp.to.len(), "digest mailed");
                sent += 1;
            }
            Err(e) => {
                let next = next_retry(delivery.attempts + 1)
                    .and_then(|d| chrono::TimeDelta::from_std(d).ok())
                    .map(|d| now + d);
                let reason = e.to_string();
                lock().delivery_attempted(&delivery.date, Err(&reason), next)?;
                match next {
                    Some(at) => {
                        tracing::warn!(date = %delivery.date, error = %reason, retry_at = %at, "mailing the digest failed")
                    }
                    None => {
                        tracing::error!(date = %delivery.date, error = %reason, "mailing the digest failed; giving up (the file is kept)")
                    }
                }
            }
        }
    }
    Ok(sent)
}
