//! Loading and validating `feeds.toml` and `config/tributary.toml`.
//!
//! Loading happens in two steps. First each table is deserialized on its own with serde
//! (`deny_unknown_fields`) into a raw struct, so that one bad `[[feed]]` does not hide the errors
//! of the next; then the raw values are validated into [`Config`] / [`FeedsFile`] (cron lines,
//! durations, sizes, URLs, ids). Every problem becomes a [`ConfigError`] naming the file,
//! line, column, key and feed id, and all of them are reported at once.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::crontab::CronSchedule;
use crate::schedule::FeedSchedule;

/// The default fetch schedule when neither the feed, `[defaults]` nor `[fetch]` names one.
pub const DEFAULT_SCHEDULE: &str = "*/30 * * * *";

/// One problem in a configuration file, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column; 0 when the problem has no position (a missing file).
    pub line: usize,
    pub column: usize,
    /// The feed id the problem belongs to, when it is inside a `[[feed]]`.
    pub feed: Option<String>,
    /// The key the problem is about, when there is one.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": ")?;
        if let Some(feed) = &self.feed {
            write!(f, "feed `{feed}`: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Every problem found in one load, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {e}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Validated configuration
// ---------------------------------------------------------------------------------------------

/// Service settings from `config/tributary.toml`, validated, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from, if any.
    pub path: Option<PathBuf>,
    pub storage: StorageConfig,
    pub fetch: FetchConfig,
    pub schedule: ScheduleConfig,
    pub dedup: DedupConfig,
    pub digest: DigestConfig,
    pub server: ServerConfig,
    pub outputs: Vec<OutputConfig>,
}

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub database: PathBuf,
    pub retention_days: u32,
}

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub schedule: FeedSchedule,
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub user_agent: String,
    pub proxy: Option<String>,
    pub backoff_max: Duration,
    pub max_server_delay: Duration,
    /// Minimum pause between two requests to one host (0: none).
    pub host_delay: Duration,
    /// Bounds of the interval `schedule = "auto"` picks from a feed's posting frequency.
    pub auto_min: Duration,
    pub auto_max: Duration,
}

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub timezone: chrono_tz::Tz,
}

#[derive(Debug, Clone)]
pub struct DedupConfig {
    pub window: Duration,
    pub title_similarity: f64,
}

#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub schedule: CronSchedule,
    pub timezone: chrono_tz::Tz,
    pub dir: PathBuf,
    pub formats: Vec<String>,
    /// Topics stories are grouped under, in order; unmatched stories go to "Other".
    pub topics: Vec<DigestTopic>,
    pub smtp: Option<SmtpConfig>,
}

/// A digest section: stories whose title or text mention a keyword, or that come from a feed
/// with one of the tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestTopic {
    pub name: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
}

/// How the digest is mailed.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    /// Read from the environment variable named by `password_env` at load time; never logged.
    pub password: Option<String>,
    pub from: String,
    pub to: Vec<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// Transport security for SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine.
    None,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub base_url: String,
    pub admin_token_env: String,
}

/// One merged feed Tributary publishes.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub name: String,
    pub title: String,
    /// Empty: every feed.
    pub tags: Vec<String>,
    pub limit: usize,
    /// A file rewritten after each fetch run, if set.
    pub path: Option<PathBuf>,
}

/// The feeds admins list in `feeds.toml`, validated.
#[derive(Debug, Clone, Default)]
pub struct FeedsFile {
    pub path: Option<PathBuf>,
    pub feeds: Vec<FeedConfig>,
}

/// One `[[feed]]`.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub id: String,
    pub url: url::Url,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub schedule: FeedSchedule,
    pub enabled: bool,
    /// Extra request headers (cookies, tokens); values are never logged.
    pub headers: BTreeMap<String, String>,
    /// Zone for the feed's dates that carry none; else `[schedule] timezone`.
    pub timezone: Option<chrono_tz::Tz>,
    /// HTTP basic credentials; never logged.
    pub basic_auth: Option<BasicAuth>,
    /// Where entries come from: a feed document, or a web page scraped with selectors.
    pub source: SourceKind,
    /// Fetch each new entry's page and keep this part of it as the entry's content.
    pub full_text: Option<crate::fulltext::FullTextRule>,
}

/// What a feed's address serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SourceKind {
    /// RSS, Atom or JSON Feed.
    #[default]
    Feed,
    /// A web page without a feed, read with the `[feed.html]` selectors.
    Html(crate::parse::html_source::HtmlSource),
}

/// HTTP basic credentials for one feed.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl FeedConfig {
    /// A digest of the feed's whole entry in `feeds.toml`: when an admin edits it in any way,
    /// a feed marked gone is tried again.
    pub fn fingerprint(&self) -> String {
        let password = self.basic_auth.as_ref().map_or("", |a| a.password.as_str());
        crate::dedup::uuid_urn(&[&format!("{self:?}"), password])
    }

    /// The title to show: the configured one, else `fallback` (the feed's own), else the id.
    pub fn display_title<'a>(&'a self, fallback: Option<&'a str>) -> &'a str {
        self.title
            .as_deref()
            .or(fallback.filter(|s| !s.is_empty()))
            .unwrap_or(&self.id)
    }
}

impl Config {
    /// Defaults for every key, as documented in `config/tributary.toml`; relative paths resolve
    /// against `base`.
    pub fn defaults(base: &Path) -> Config {
        let raw = RawConfig::default();
        let ctx = Ctx::new(Path::new("<defaults>"), "");
        let mut errors = Vec::new();
        let cfg = build_config(&ctx, raw, base, &mut errors);
        debug_assert!(errors.is_empty());
        cfg
    }

    /// Loads a config file. `None` when no file is given: every default applies, relative
    /// paths resolve against the current folder.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigErrors> {
        let Some(path) = path else {
            return Ok(Config::defaults(Path::new(".")));
        };
        let text = read_file(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut cfg = Config::parse_str(&text, path, base)?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parses config text; `file` names it in errors, `base` resolves relative paths.
    pub fn parse_str(text: &str, file: &Path, base: &Path) -> Result<Config, ConfigErrors> {
        let ctx = Ctx::new(file, text);
        let mut errors = Vec::new();
        let root = match DeTable::parse(text) {
            Ok(root) => root,
            Err(e) => return Err(ConfigErrors(vec![ctx.toml_error(&e, None)])),
        };
        let mut raw = RawConfig::default();
        const SECTIONS: &[&str] = &[
            "storage", "fetch", "schedule", "dedup", "digest", "server", "output",
        ];
        for (key, value) in root.get_ref().iter() {
            let name: &str = key.get_ref();
            let result = match name {
                "storage" => ctx.table(value, None).map(|v| raw.storage = v),
                "fetch" => ctx.table(value, None).map(|v| raw.fetch = v),
                "schedule" => ctx.table(value, None).map(|v| raw.schedule = v),
                "dedup" => ctx.table(value, None).map(|v| raw.dedup = v),
                "digest" => ctx.table(value, None).map(|v| raw.digest = v),
                "server" => ctx.table(value, None).map(|v| raw.server = v),
                "output" => match value.get_ref() {
                    DeValue::Array(items) => {
                        let mut outs = Vec::new();
                        let mut ok = true;
                        for item in items {
                            match ctx.table::<RawOutput>(item, None) {
                                Ok(o) => outs.push((item.span(), o)),
                                Err(e) => {
                                    errors.push(e);
                                    ok = false;
                                }
                            }
                        }
                        raw.output = Some(outs);
                        if ok { Ok(()) } else { continue }
                    }
                    _ => Err(ctx.at(
                        value.span(),
                        None,
                        Some("output"),
                        "expected an array of tables: write `[[output]]`".into(),
                    )),
                },
                other => Err(ctx.unknown_key(key.span(), other, SECTIONS, None)),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        let cfg = build_config(&ctx, raw, base, &mut errors);
        if errors.is_empty() {
            Ok(cfg)
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(ConfigErrors(errors))
        }
    }

    /// The output named `name`, or the first (default) output when `name` is `None`.
    pub fn output(&self, name: Option<&str>) -> Option<&OutputConfig> {
        match name {
            None => self.outputs.first(),
            Some(n) => self.outputs.iter().find(|o| o.name == n),
        }
    }
}

impl FeedsFile {
    /// Loads `feeds.toml`; `fetch` supplies the default schedule and time zone context.
    pub fn load(path: &Path, config: &Config) -> Result<FeedsFile, ConfigErrors> {
        let text = read_file(path)?;
        let mut feeds = FeedsFile::parse_str(&text, path, config)?;
        feeds.path = Some(path.to_path_buf());
        Ok(feeds)
    }

    /// Parses feeds text; `file` names it in errors.
    pub fn parse_str(text: &str, file: &Path, config: &Config) -> Result<FeedsFile, ConfigErrors> {
        let ctx = Ctx::new(file, text);
        let root = match DeTable::parse(text) {
            Ok(root) => root,
            Err(e) => return Err(ConfigErrors(vec![ctx.toml_error(&e, None)])),
        };
        let mut errors = Vec::new();
        let mut default_schedule = config.fetch.schedule.clone();
        let mut raw_feeds: Vec<(Range<usize>, RawFeed)> = Vec::new();
        // `[defaults]` first, whatever its position, so every feed sees it.
        for (key, value) in root.get_ref().iter() {
            if key.get_ref() == "defaults" {
                match ctx.table::<RawDefaults>(value, None) {
                    Ok(d) => {
                        if let Some(s) = d.schedule
                            && let Some(c) = ctx.schedule(&s, None, "schedule", &mut errors)
                        {
                            default_schedule = c;
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        for (key, value) in root.get_ref().iter() {
            match key.get_ref().as_ref() {
                "defaults" => {}
                "feed" => match value.get_ref() {
                    DeValue::Array(items) => {
                        for item in items {
                            let id = item
                                .get_ref()
                                .get("id")
                                .and_then(|v| v.get_ref().as_str())
                                .map(str::to_string);
                            match ctx.table::<RawFeed>(item, id.as_deref()) {
                                Ok(f) => raw_feeds.push((item.span(), f)),
                                Err(e) => errors.push(e),
                            }
                        }
                    }
                    _ => errors.push(ctx.at(
                        value.span(),
                        None,
                        Some("feed"),
                        "expected an array of tables: write `[[feed]]`".into(),
                    )),
                },
                other => {
                    errors.push(ctx.unknown_key(key.span(), other, &["defaults", "feed"], None))
                }
            }
        }

        let mut seen: HashSet<String> = HashSet::new();
        let mut feeds = Vec::new();
        for (span, raw) in raw_feeds {
            let id = raw.id.get_ref().clone();
            let before = errors.len();
            if !valid_id(&id) {
                errors.push(ctx.at(
                    raw.id.span(),
                    Some(&id),
                    Some("id"),
                    "invalid id: use lowercase letters, digits, `-` and `_` only".into(),
                ));
            } else if !seen.insert(id.clone()) {
                errors.push(ctx.at(
                    raw.id.span(),
                    Some(&id),
                    Some("id"),
                    "duplicate id: each feed needs its own".into(),
                ));
            }
            let url = ctx.http_url(&raw.url, Some(&id), "url", &mut errors);
            let schedule = match &raw.schedule {
                Some(s) => ctx.schedule(s, Some(&id), "schedule", &mut errors),
                None => Some(default_schedule.clone()),
            };
            let timezone = raw
                .timezone
                .as_ref()
                .and_then(|tz| ctx.timezone(tz, Some(&id), "timezone", &mut errors));
            let mut headers = BTreeMap::new();
            for (name, value) in raw.headers.unwrap_or_default() {
                let valid_name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok();
                let valid_value = reqwest::header::HeaderValue::from_str(&value).is_ok();
                if !valid_name || !valid_value {
                    errors.push(ctx.at(
                        span.clone(),
                        Some(&id),
                        Some("headers"),
                        format!("header `{name}` has an invalid name or value"),
                    ));
                }
                headers.insert(name, value);
            }
            let title = raw
                .title
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
            let basic_auth = raw.basic_auth.and_then(|a| {
                let password = match (a.password, &a.password_env) {
                    (Some(p), None) => Some(p),
                    (None, Some(var)) => match std::env::var(var) {
                        Ok(p) => Some(p),
                        Err(_) => {
                            errors.push(ctx.at(
                                span.clone(),
                                Some(&id),
                                Some("basic_auth.password_env"),
                                format!("environment variable `{var}` is not set"),
                            ));
                            None
                        }
                    },
                    _ => {
                        errors.push(ctx.at(
                            span.clone(),
                            Some(&id),
                            Some("basic_auth"),
                            "give exactly one of `password` and `password_env`".into(),
                        ));
                        None
                    }
                };
                password.map(|password| BasicAuth {
                    user: a.user,
                    password,
                })
            });
            let source = match (raw.kind.as_ref().map(|k| k.get_ref().as_str()), raw.html) {
                (None | Some("feed"), None) => SourceKind::Feed,
                (Some("html"), Some(html)) => {
                    if let Err(e) = html.validate() {
                        errors.push(ctx.at(span.clone(), Some(&id), Some("html"), e));
                    }
                    SourceKind::Html(html)
                }
                (Some("html"), None) => {
                    errors.push(ctx.at(
                        span.clone(),
                        Some(&id),
                        Some("kind"),
                        "kind = \"html\" needs a [feed.html] table with at least item, title and link".into(),
                    ));
                    SourceKind::Feed
                }
                (None | Some("feed"), Some(_)) => {
                    errors.push(ctx.at(
                        span.clone(),
                        Some(&id),
                        Some("html"),
                        "a [feed.html] table needs kind = \"html\"".into(),
                    ));
                    SourceKind::Feed
                }
                (Some(other), _) => {
                    let at = raw.kind.as_ref().map_or(span.clone(), |k| k.span());
                    errors.push(ctx.at(
                        at,
                        Some(&id),
                        Some("kind"),
                        format!("unknown kind `{other}`: use \"feed\" or \"html\""),
                    ));
                    SourceKind::Feed
                }
            };
            let full_text = raw.full_text.map(|selector| crate::fulltext::FullTextRule {
                selector,
                strip: raw.full_text_strip.unwrap_or_default(),
            });
            if let Some(rule) = &full_text
                && let Err(e) = rule.validate()
            {
                errors.push(ctx.at(span.clone(), Some(&id), Some("full_text"), e));
            }
            if errors.len() == before
                && let (Some(url), Some(schedule)) = (url, schedule)
            {
                feeds.push(FeedConfig {
                    id,
                    url,
                    title,
                    tags: raw.tags.unwrap_or_default(),
                    schedule,
                    enabled: raw.enabled.unwrap_or(true),
                    headers,
                    timezone,
                    basic_auth,
                    source,
                    full_text,
                });
            }
        }
        if errors.is_empty() {
            Ok(FeedsFile { path: None, feeds })
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(ConfigErrors(errors))
        }
    }

    pub fn get(&self, id: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.id == id)
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn read_file(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            feed: None,
            key: None,
            message: format!("cannot read: {e}"),
        }])
    })
}

// ---------------------------------------------------------------------------------------------
// Raw (serde) shapes
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    schedule: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    id: Spanned<String>,
    url: Spanned<String>,
    title: Option<String>,
    tags: Option<Vec<String>>,
    schedule: Option<Spanned<String>>,
    enabled: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
    timezone: Option<Spanned<String>>,
    basic_auth: Option<RawBasicAuth>,
    kind: Option<Spanned<String>>,
    html: Option<crate::parse::html_source::HtmlSource>,
    full_text: Option<String>,
    full_text_strip: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasicAuth {
    user: String,
    password: Option<String>,
    password_env: Option<String>,
}

#[derive(Debug, Default)]
struct RawConfig {
    storage: RawStorage,
    fetch: RawFetch,
    schedule: RawSchedule,
    dedup: RawDedup,
    digest: RawDigest,
    server: RawServer,
    output: Option<Vec<(Range<usize>, RawOutput)>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    database: Option<String>,
    retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    schedule: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<String>>,
    user_agent: Option<String>,
    proxy: Option<Spanned<String>>,
    backoff_max: Option<Spanned<String>>,
    max_server_delay: Option<Spanned<String>>,
    host_delay: Option<Spanned<String>>,
    auto_min: Option<Spanned<String>>,
    auto_max: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    timezone: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDedup {
    window: Option<Spanned<String>>,
    title_similarity: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    smtp: Option<Spanned<RawSmtp>>,
    topic: Option<Vec<RawTopic>>,
    schedule: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    dir: Option<String>,
    formats: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    security: Option<Spanned<String>>,
    user: Option<String>,
    password_env: Option<String>,
    from: Spanned<String>,
    to: Spanned<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    name: String,
    keywords: Option<Vec<String>>,
    tags: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    admin_token_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    name: Option<Spanned<String>>,
    title: Option<String>,
    tags: Option<Vec<String>>,
    limit: Option<Spanned<i64>>,
    path: Option<String>,
}

fn build_config(ctx: &Ctx, raw: RawConfig, base: &Path, errors: &mut Vec<ConfigError>) -> Config {
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let default_cron = FeedSchedule::parse(DEFAULT_SCHEDULE).expect("default schedule is valid");
    let f = raw.fetch;
    let fetch_schedule = f
        .schedule
        .as_ref()
        .and_then(|s| ctx.schedule(s, None, "fetch.schedule", errors))
        .unwrap_or(default_cron);
    let positive = |v: &Option<Spanned<i64>>,
                    key: &str,
                    default: usize,
                    errors: &mut Vec<ConfigError>| match v {
        None => default,
        Some(n) if *n.get_ref() >= 1 && *n.get_ref() <= 10_000 => *n.get_ref() as usize,
        Some(n) => {
            errors.push(ctx.at(
                n.span(),
                None,
                Some(key),
                "must be between 1 and 10000".into(),
            ));
            default
        }
    };
    let concurrency = positive(&f.concurrency, "fetch.concurrency", 16, errors);
    let per_host = positive(&f.per_host, "fetch.per_host", 2, errors);
    let dur = |v: &Option<Spanned<String>>,
               key: &str,
               default: Duration,
               errors: &mut Vec<ConfigError>| {
        v.as_ref()
            .and_then(|s| ctx.duration(s, key, errors))
            .unwrap_or(default)
    };
    let timeout = dur(&f.timeout, "fetch.timeout", Duration::from_secs(20), errors);
    let connect_timeout = dur(
        &f.connect_timeout,
        "fetch.connect_timeout",
        Duration::from_secs(10),
        errors,
    );
    let backoff_max = dur(
        &f.backoff_max,
        "fetch.backoff_max",
        Duration::from_secs(24 * 3600),
        errors,
    );
    let max_server_delay = dur(
        &f.max_server_delay,
        "fetch.max_server_delay",
        Duration::from_secs(24 * 3600),
        errors,
    );
    let host_delay = dur(&f.host_delay, "fetch.host_delay", Duration::ZERO, errors);
    let auto_min = dur(
        &f.auto_min,
        "fetch.auto_min",
        Duration::from_secs(5 * 60),
        errors,
    );
    let auto_max = dur(
        &f.auto_max,
        "fetch.auto_max",
        Duration::from_secs(24 * 3600),
        errors,
    );
    if auto_min > auto_max
        && let Some(s) = &f.auto_min
    {
        errors.push(ctx.at(
            s.span(),
            None,
            Some("fetch.auto_min"),
            "must not exceed fetch.auto_max".into(),
        ));
    }
    let max_body = match &f.max_body {
        None => 15 * 1024 * 1024,
        Some(s) => match parse_size::parse_size(s.get_ref()) {
            Ok(n) if n > 0 => n,
            _ => {
                errors.push(ctx.at(
                    s.span(),
                    None,
                    Some("fetch.max_body"),
                    format!(
                        "invalid size `{}`: write e.g. \"15MiB\" or \"500kB\"",
                        s.get_ref()
                    ),
                ));
                15 * 1024 * 1024
            }
        },
    };
    let proxy = f.proxy.as_ref().and_then(|p| {
        let v = p.get_ref().trim();
        if v.is_empty() {
            return None;
        }
        match url::Url::parse(v) {
            Ok(_) => Some(v.to_string()),
            Err(e) => {
                errors.push(ctx.at(
                    p.span(),
                    None,
                    Some("fetch.proxy"),
                    format!("invalid proxy URL: {e}"),
                ));
                None
            }
        }
    });

    let timezone = raw
        .schedule
        .timezone
        .as_ref()
        .and_then(|tz| ctx.timezone(tz, None, "schedule.timezone", errors))
        .unwrap_or(chrono_tz::UTC);

    let window = dur(
        &raw.dedup.window,
        "dedup.window",
        Duration::from_secs(72 * 3600),
        errors,
    );
    let title_similarity = match &raw.dedup.title_similarity {
        None => 0.6,
        Some(v) if (0.0..=1.0).contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            errors.push(ctx.at(
                v.span(),
                None,
                Some("dedup.title_similarity"),
                "must be between 0.0 and 1.0".into(),
            ));
            0.6
        }
    };

    let d = raw.digest;
    let digest_schedule = d
        .schedule
        .as_ref()
        .and_then(|s| ctx.cron(s, None, "digest.schedule", errors))
        .unwrap_or_else(|| CronSchedule::parse("0 7 * * *").expect("valid"));
    let digest_tz = d
        .timezone
        .as_ref()
        .filter(|t| !t.get_ref().is_empty())
        .and_then(|tz| ctx.timezone(tz, None, "digest.timezone", errors))
        .unwrap_or(timezone);
    let formats = match &d.formats {
        None => vec!["html".to_string(), "md".to_string()],
        Some(f) => {
            for x in f.get_ref() {
                if !["html", "md", "atom"].contains(&x.as_str()) {
                    errors.push(ctx.at(
                        f.span(),
                        None,
                        Some("digest.formats"),
                        format!("unknown format `{x}`: use \"html\", \"md\" or \"atom\""),
                    ));
                }
            }
            f.get_ref().clone()
        }
    };

    let s = raw.server;
    let listen = match &s.listen {
        None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        Some(l) => match l.get_ref().parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                errors.push(ctx.at(
                    l.span(),
                    None,
                    Some("server.listen"),
                    format!(
                        "invalid address `{}`: write IP:PORT, e.g. \"127.0.0.1:8080\"",
                        l.get_ref()
                    ),
                ));
                SocketAddr::from(([127, 0, 0, 1], 8080))
            }
        },
    };
    let base_url = match &s.base_url {
        Some(b) if !b.get_ref().trim().is_empty() => {
            if let Some(u) = ctx.http_url(b, None, "server.base_url", errors) {
                u.as_str().trim_end_matches('/').to_string()
            } else {
                String::new()
            }
        }
        _ => format!("http://{listen}"),
    };

    // The contact URL in the default User-Agent is the public base URL when one is set.
    let user_agent = f
        .user_agent
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| {
            match s
                .base_url
                .as_ref()
                .filter(|b| !b.get_ref().trim().is_empty())
            {
                Some(_) => format!("{} (+{base_url})", crate::PRODUCT),
                None => crate::PRODUCT.to_string(),
            }
        });

    let mut outputs = Vec::new();
    let mut names = HashSet::new();
    for (span, o) in raw.output.unwrap_or_default() {
        let name = o
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| "all".into());
        let name_span = o.name.as_ref().map(|n| n.span()).unwrap_or(span.clone());
        if !valid_id(&name) {
            errors.push(ctx.at(
                name_span,
                None,
                Some("output.name"),
                "use lowercase letters, digits, `-` and `_` only".into(),
            ));
        } else if !names.insert(name.clone()) {
            errors.push(ctx.at(
                name_span,
                None,
                Some("output.name"),
                format!("duplicate output name `{name}`"),
            ));
        }
        let limit = match &o.limit {
            None => 200,
            Some(l) if *l.get_ref() >= 1 && *l.get_ref() <= 100_000 => *l.get_ref() as usize,
            Some(l) => {
                errors.push(ctx.at(
                    l.span(),
                    None,
                    Some("output.limit"),
                    "must be between 1 and 100000".into(),
                ));
                200
            }
        };
        outputs.push(OutputConfig {
            title: o.title.unwrap_or_else(|| format!("Tributary: {name}")),
            name,
            tags: o.tags.unwrap_or_default(),
            limit,
            path: o.path.filter(|p| !p.is_empty()).map(|p| resolve(&p)),
        });
    }
    if outputs.is_empty() {
        outputs.push(OutputConfig {
            name: "all".into(),
            title: "Tributary: all sources".into(),
            tags: Vec::new(),
            limit: 200,
            path: None,
        });
    }

    Config {
        path: None,
        storage: StorageConfig {
            database: resolve(
                raw.storage
                    .database
                    .as_deref()
                    .unwrap_or("data/tributary.db"),
            ),
            retention_days: raw.storage.retention_days.unwrap_or(90),
        },
        fetch: FetchConfig {
            schedule: fetch_schedule,
            concurrency,
            per_host,
            timeout,
            connect_timeout,
            max_body,
            user_agent,
            proxy,
            backoff_max,
            max_server_delay,
            host_delay,
            auto_min,
            auto_max,
        },
        schedule: ScheduleConfig { timezone },
        dedup: DedupConfig {
            window,
            title_similarity,
        },
        digest: DigestConfig {
            schedule: digest_schedule,
            timezone: digest_tz,
            dir: resolve(d.dir.as_deref().unwrap_or("data/digests")),
            formats,
            topics: d
                .topic
                .unwrap_or_default()
                .into_iter()
                .map(|t| DigestTopic {
                    name: t.name,
                    keywords: t.keywords.unwrap_or_default(),
                    tags: t.tags.unwrap_or_default(),
                })
                .collect(),
            smtp: d.smtp.and_then(|s| smtp_config(ctx, s, errors)),
        },
        server: ServerConfig {
            listen,
            base_url,
            admin_token_env: s
                .admin_token_env
                .unwrap_or_else(|| "TRIBUTARY_ADMIN_TOKEN".into()),
        },
        outputs,
    }
}

fn smtp_config(
    ctx: &Ctx,
    raw: Spanned<RawSmtp>,
    errors: &mut Vec<ConfigError>,
) -> Option<SmtpConfig> {
    let span = raw.span();
    let raw = raw.into_inner();
    let before = errors.len();
    let security = match raw.security.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            let at = raw.security.as_ref().map_or(span.clone(), |s| s.span());
            errors.push(ctx.at(
                at,
                None,
                Some("digest.smtp.security"),
                format!("unknown security `{other}`: use \"starttls\", \"tls\" or \"none\""),
            ));
            SmtpSecurity::StartTls
        }
    };
    let password = match &raw.password_env {
        None => None,
        Some(var) => match std::env::var(var) {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(ctx.at(
                    span.clone(),
                    None,
                    Some("digest.smtp.password_env"),
                    format!("environment variable `{var}` is not set"),
                ));
                None
            }
        },
    };
    let mailbox = |s: &str| s.parse::<lettre::message::Mailbox>().is_ok();
    if !mailbox(raw.from.get_ref()) {
        errors.push(ctx.at(
            raw.from.span(),
            None,
            Some("digest.smtp.from"),
            format!("`{}` is not an address", raw.from.get_ref()),
        ));
    }
    if raw.to.get_ref().is_empty() {
        errors.push(ctx.at(
            raw.to.span(),
            None,
            Some("digest.smtp.to"),
            "list at least one address".into(),
        ));
    }
    for to in raw.to.get_ref() {
        if !mailbox(to) {
            errors.push(ctx.at(
                raw.to.span(),
                None,
                Some("digest.smtp.to"),
                format!("`{to}` is not an address"),
            ));
        }
    }
    let port = raw.port.unwrap_or(match security {
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    });
    (errors.len() == before).then(|| SmtpConfig {
        host: raw.host,
        port,
        security,
        user: raw.user,
        password,
        from: raw.from.into_inner(),
        to: raw.to.into_inner(),
    })
}

// ---------------------------------------------------------------------------------------------
// Error context: spans → file:line:col, and the validators that use it
// ---------------------------------------------------------------------------------------------

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl<'a> Ctx<'a> {
    fn new(file: &'a Path, text: &'a str) -> Self {
        Ctx { file, text }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    fn at(
        &self,
        span: Range<usize>,
        feed: Option<&str>,
        key: Option<&str>,
        message: String,
    ) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            feed: feed.map(str::to_string),
            key: key.map(str::to_string),
            message,
        }
    }

    fn toml_error(&self, e: &toml::de::Error, feed: Option<&str>) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_string();
        // serde's unknown-field message lists the expected names: turn it into a suggestion.
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some(end) = rest.find('`')
        {
            let name = &rest[..end];
            let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
            return self.unknown_key(span, name, &expected, feed);
        }
        let key = self.key_at(span.start);
        self.at(span, feed, key.as_deref(), message)
    }

    /// The key written on the line of `offset`, for messages serde gives without one.
    fn key_at(&self, offset: usize) -> Option<String> {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next()?;
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        (!key.is_empty() && !key.starts_with('[')).then(|| key.trim_matches('"').to_string())
    }

    fn unknown_key(
        &self,
        span: Range<usize>,
        name: &str,
        known: &[&str],
        feed: Option<&str>,
    ) -> ConfigError {
        let best = known
            .iter()
            .map(|k| (strsim::jaro_winkler(name, k), *k))
            .filter(|(score, _)| *score >= 0.75)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let message = match best {
            Some((_, k)) => format!("unknown key (did you mean `{k}`?)"),
            None if known.is_empty() => "unknown key".to_string(),
            None => format!("unknown key; known keys here: {}", known.join(", ")),
        };
        self.at(span, feed, Some(name), message)
    }

    fn table<T: DeserializeOwned>(
        &self,
        value: &Spanned<DeValue<'_>>,
        feed: Option<&str>,
    ) -> Result<T, ConfigError> {
        match value.get_ref() {
            DeValue::Table(t) => {
                let spanned = Spanned::new(value.span(), t.clone());
                T::deserialize(toml::de::Deserializer::from(spanned))
                    .map_err(|e| self.toml_error(&e, feed))
            }
            other => Err(self.at(
                value.span(),
                feed,
                self.key_at(value.span().start).as_deref(),
                format!("expected a table, found {}", other.type_str()),
            )),
        }
    }

    fn cron(
        &self,
        s: &Spanned<String>,
        feed: Option<&str>,
        key: &str,
        errors: &mut Vec<ConfigError>,
    ) -> Option<CronSchedule> {
        match CronSchedule::parse(s.get_ref()) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(self.at(
                    s.span(),
                    feed,
                    Some(key),
                    format!("invalid schedule `{}`: {e}", s.get_ref()),
                ));
                None
            }
        }
    }

    fn schedule(
        &self,
        s: &Spanned<String>,
        feed: Option<&str>,
        key: &str,
        errors: &mut Vec<ConfigError>,
    ) -> Option<FeedSchedule> {
        match FeedSchedule::parse(s.get_ref()) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(self.at(
                    s.span(),
                    feed,
                    Some(key),
                    format!("invalid schedule `{}`: {e} (write a 5-field crontab line, @hourly/@daily, or \"auto\")", s.get_ref()),
                ));
                None
            }
        }
    }

    fn duration(
        &self,
        s: &Spanned<String>,
        key: &str,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Duration> {
        match humantime::parse_duration(s.get_ref().trim()) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(self.at(
                    s.span(),
                    None,
                    Some(key),
                    format!(
                        "invalid duration `{}` ({e}): write e.g. \"20s\", \"30m\", \"24h\"",
                        s.get_ref()
                    ),
                ));
                None
            }
        }
    }

    fn timezone(
        &self,
        s: &Spanned<String>,
        feed: Option<&str>,
        key: &str,
        errors: &mut Vec<ConfigError>,
    ) -> Option<chrono_tz::Tz> {
        match s.get_ref().parse::<chrono_tz::Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                errors.push(self.at(
                    s.span(),
                    feed,
                    Some(key),
                    format!(
                        "unknown time zone `{}`: use an IANA name such as \"Asia/Baku\"",
                        s.get_ref()
                    ),
                ));
                None
            }
        }
    }

    fn http_url(
        &self,
        s: &Spanned<String>,
        feed: Option<&str>,
        key: &str,
        errors: &mut Vec<ConfigError>,
    ) -> Option<url::Url> {
        match url::Url::parse(s.get_ref().trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
            Ok(u) => {
                errors.push(self.at(
                    s.span(),
                    feed,
                    Some(key),
                    format!(
                        "`{}` is not an http(s) URL (scheme `{}`)",
                        s.get_ref(),
                        u.scheme()
                    ),
                ));
                None
            }
            Err(e) => {
                errors.push(self.at(
                    s.span(),
                    feed,
                    Some(key),
                    format!("invalid URL `{}`: {e}", s.get_ref()),
                ));
                None
            }
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::defaults(Path::new("/srv/tributary/config"))
    }

    fn feeds(text: &str) -> Result<FeedsFile, ConfigErrors> {
        FeedsFile::parse_str(text, Path::new("feeds.toml"), &cfg())
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = cfg();
        assert_eq!(
            c.storage.database,
            Path::new("/srv/tributary/config/data/tributary.db")
        );
        assert_eq!(c.storage.retention_days, 90);
        assert_eq!(c.fetch.concurrency, 16);
        assert_eq!(c.fetch.per_host, 2);
        assert_eq!(c.fetch.timeout, Duration::from_secs(20));
        assert_eq!(c.fetch.max_body, 15 * 1024 * 1024);
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.server.base_url, "http://127.0.0.1:8080");
        assert_eq!(c.outputs.len(), 1);
        assert_eq!(c.outputs[0].name, "all");
        assert!(c.fetch.user_agent.starts_with("Tributary/"));
    }

    #[test]
    fn feed_inherits_defaults_schedule() {
        let f = feeds(
            "[defaults]\nschedule = \"*/15 * * * *\"\n[[feed]]\nid = \"a\"\nurl = \"https://a.example/feed\"\n",
        )
        .unwrap();
        assert_eq!(f.feeds[0].schedule.as_str(), "*/15 * * * *");
        assert!(f.feeds[0].enabled);
    }

    #[test]
    fn unknown_key_names_line_column_feed_and_suggestion() {
        let err = feeds("[[feed]]\nid = \"eurasianet\"\nurl = \"https://eurasianet.org/feed\"\nshedule = \"* * * * *\"\n")
            .unwrap_err();
        assert_eq!(err.0.len(), 1, "{err}");
        let e = &err.0[0];
        assert_eq!((e.line, e.column), (4, 1), "{e}");
        assert_eq!(e.feed.as_deref(), Some("eurasianet"));
        assert_eq!(e.key.as_deref(), Some("shedule"));
        assert!(e.message.contains("did you mean `schedule`"), "{e}");
        assert_eq!(
            e.to_string(),
            "feeds.toml:4:1: feed `eurasianet`: `shedule`: unknown key (did you mean `schedule`?)"
        );
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let text = r#"
[[feed]]
id = "Bad Id"
url = "https://a.example/"

[[feed]]
id = "dup"
url = "ftp://a.example/feed"

[[feed]]
id = "dup"
url = "https://b.example/feed"
schedule = "61 * * * *"

[[feed]]
id = "ok"
url = "https://c.example/feed"
colour = "red"
"#;
        let err = feeds(text).unwrap_err();
        let msgs: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs.len(), 5, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("feeds.toml:3:6: feed `Bad Id`: `id`: invalid id"),
            "{msgs:#?}"
        );
        assert!(
            msgs[1].contains(
                "feeds.toml:8:7: feed `dup`: `url`: `ftp://a.example/feed` is not an http(s) URL"
            ),
            "{msgs:#?}"
        );
        assert!(
            msgs[2].contains(":11:6: feed `dup`: `id`: duplicate id"),
            "{msgs:#?}"
        );
        assert!(
            msgs[3].contains(":13:12: feed `dup`: `schedule`: invalid schedule `61 * * * *`"),
            "{msgs:#?}"
        );
        assert!(
            msgs[4].contains(":18:1: feed `ok`: `colour`: unknown key"),
            "{msgs:#?}"
        );
    }

    #[test]
    fn missing_url_is_named() {
        let err = feeds("[[feed]]\nid = \"a\"\n").unwrap_err();
        assert!(err.0[0].message.contains("missing field `url`"), "{err}");
        assert_eq!(err.0[0].feed.as_deref(), Some("a"));
    }

    #[test]
    fn toml_syntax_error_has_position() {
        let err = feeds("[[feed]]\nid = \"a\nurl = 1\n").unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].line, 2, "{err}");
    }

    #[test]
    fn config_rejects_bad_duration_size_and_unknown_section() {
        let text = "[fetch]\ntimeout = \"twenty\"\nmax_body = \"lots\"\n[fetchh]\nx = 1\n[server]\nlisten = \"nowhere\"\n";
        let err = Config::parse_str(text, Path::new("tributary.toml"), Path::new(".")).unwrap_err();
        let msgs: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("tributary.toml:2:11: `fetch.timeout`: invalid duration"),
            "{msgs:#?}"
        );
        assert!(
            msgs[1].contains("`fetch.max_body`: invalid size"),
            "{msgs:#?}"
        );
        assert!(
            msgs[2].contains("`fetchh`: unknown key (did you mean `fetch`?)"),
            "{msgs:#?}"
        );
        assert!(
            msgs[3].contains("`server.listen`: invalid address"),
            "{msgs:#?}"
        );
    }

    #[test]
    fn config_unknown_key_inside_section_suggests() {
        let err = Config::parse_str(
            "[storage]\nretention_dayz = 5\n",
            Path::new("t.toml"),
            Path::new("."),
        )
        .unwrap_err();
        assert!(
            err.0[0]
                .to_string()
                .contains("`retention_dayz`: unknown key (did you mean `retention_days`?)"),
            "{err}"
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let c = Config::parse_str(
            "[storage]\ndatabase = \"db/t.db\"\n[[output]]\nname = \"caucasus\"\npath = \"out/c.atom\"\ntags = [\"caucasus\"]\n",
            Path::new("/etc/tributary/tributary.toml"),
            Path::new("/etc/tributary"),
        )
        .unwrap();
        assert_eq!(c.storage.database, Path::new("/etc/tributary/db/t.db"));
        assert_eq!(
            c.outputs[0].path.as_deref(),
            Some(Path::new("/etc/tributary/out/c.atom"))
        );
        assert_eq!(c.outputs[0].title, "Tributary: caucasus");
    }

    #[test]
    fn shipped_config_and_feeds_load_and_match_the_defaults() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let c = Config::load(Some(&root.join("config/tributary.toml"))).unwrap();
        let d = Config::defaults(&root.join("config"));
        assert_eq!(c.storage.database, d.storage.database);
        assert_eq!(c.fetch.max_body, d.fetch.max_body);
        assert_eq!(c.fetch.timeout, d.fetch.timeout);
        assert_eq!(c.fetch.schedule.as_str(), d.fetch.schedule.as_str());
        assert_eq!(c.digest.formats, d.digest.formats);
        assert_eq!(c.server.base_url, d.server.base_url);
        assert_eq!(c.fetch.user_agent, d.fetch.user_agent);
        assert_eq!(c.outputs[0].name, "all");
        assert_eq!(c.outputs[0].path, None);
        let f = FeedsFile::load(&root.join("feeds.toml"), &c).unwrap();
        assert!(f.feeds.len() >= 10);
        let demo = std::fs::read_to_string(root.join("fixtures/demo-feeds.toml")).unwrap();
        let demo = demo.replace("{base}", "http://127.0.0.1:1");
        assert!(
            FeedsFile::parse_str(&demo, Path::new("demo-feeds.toml"), &c)
                .unwrap()
                .feeds
                .len()
                >= 5
        );
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "",
            "[[feed]]",
            "feed = 3",
            "[[feed]]\nid = 5\nurl = []",
            "\u{0}\u{feff}[",
            "[defaults]\nschedule = 1",
            "[[output]]\nlimit = -4",
        ] {
            let _ = feeds(text);
            let _ = Config::parse_str(text, Path::new("x"), Path::new("."));
        }
    }
}
