//! The command line: clap derive structs whose doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use tributary::digest::DigestFormat;
use tributary::export::Format;

/// Tributary: fetches regional news feeds, folds duplicates, and publishes one merged Atom feed.
///
/// Exit codes: 0 ok; 1 unexpected failure; 2 finished, but some feeds failed; 3 invalid
/// configuration; 4 another run holds the lock.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, max_term_width = 100)]
pub struct Cli {
    /// Service settings file [default: config/tributary.toml when it exists, else built-in defaults]
    #[arg(long, global = true, env = "TRIBUTARY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The feeds list
    #[arg(
        long,
        global = true,
        env = "TRIBUTARY_FEEDS",
        value_name = "FILE",
        default_value = "feeds.toml"
    )]
    pub feeds: PathBuf,

    /// SQLite database file [default: storage.database from the config]
    #[arg(long, global = true, env = "TRIBUTARY_DB", value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// More log output (-v: debug, -vv: trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors in the log
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Log line format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Daemon: fetch feeds on their schedules, serve HTTP, reload feeds.toml when it changes
    Run(RunArgs),
    /// One-shot (cron): refresh the feeds that are due, then write the configured file outputs
    Fetch(FetchArgs),
    /// Write a merged feed
    Export(ExportArgs),
    /// Write one day's digest: every story of the day once, with who carried it
    Digest(DigestArgs),
    /// Validate feeds.toml and the config; print every problem; exit 3 if any
    Check(CheckArgs),
    /// Fetch (URL) or read (file) one feed through decode/parse/clean and print its entries; stores nothing
    Preview(PreviewArgs),
    /// Per-feed health: state, last success, last error, next fetch, entries
    Status(StatusArgs),
    /// HTTP server only (no fetching)
    Serve,
    /// Serve the bundled fixtures on 127.0.0.1, run the whole pipeline on them, print what to open
    Demo(DemoArgs),
    /// Correct story folding: stories carried by several feeds are clusters of entries
    Cluster(ClusterArgs),
    /// List or edit feeds.toml (comments and formatting are kept), import or export OPML
    Feeds(FeedsArgs),
}

#[derive(Debug, Args)]
pub struct FeedsArgs {
    #[command(subcommand)]
    pub action: FeedsAction,
}

#[derive(Debug, Subcommand)]
pub enum FeedsAction {
    /// The configured feeds
    List,
    /// Add a feed: URL may be the feed or a web page advertising it. For a page with no feed,
    /// nothing is added (exit 1) and a `kind = "html"` entry for it is printed, with selectors
    /// guessed from the page and the `preview --html-…` command that tries them
    Add(FeedsAddArgs),
    /// Remove the feed with this id (its stored history stays in the database)
    Remove {
        /// The feed's id
        id: String,
    },
    /// Add every feed of an OPML file that is not configured yet
    Import {
        /// An OPML file exported from another reader
        file: PathBuf,
        /// Show what would be added without changing feeds.toml
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the configured feeds as OPML 2.0
    Export {
        /// Where to write; `-` is standard output
        #[arg(long, value_name = "FILE", default_value = "-")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct FeedsAddArgs {
    /// The feed's address, or a page that advertises feeds
    pub url: String,
    /// Id to use [default: derived from the host name]
    #[arg(long)]
    pub id: Option<String>,
    /// Title to show instead of the feed's own
    #[arg(long)]
    pub title: Option<String>,
    /// Tag (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// When the page advertises several feeds, take the Nth (1-based) without asking
    #[arg(long, value_name = "N")]
    pub pick: Option<usize>,
    /// Add the URL as given, without fetching it first
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub action: ClusterAction,
}

#[derive(Debug, Subcommand)]
pub enum ClusterAction {
    /// Take an entry out of the story it was folded into; it stays on its own from then on
    Split {
        /// The entry: its numeric id or its Atom id (urn:uuid:…)
        entry: String,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Refresh every enabled feed, due or not
    #[arg(long)]
    pub all: bool,
    /// Refresh only this feed (repeatable); implies it is fetched even when not due
    #[arg(long = "feed", value_name = "ID", id = "feed_ids")]
    pub feeds: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which [[output]] to write [default: the first]
    #[arg(long, value_name = "NAME")]
    pub output: Option<String>,
    /// Document format
    #[arg(long, value_enum, default_value_t = Format::Atom)]
    pub format: Format,
    /// Where to write; `-` is standard output
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The day, in the digest time zone [default: the day that just ended]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
    /// Document format
    #[arg(long, value_enum, default_value_t = DigestFormat::Html)]
    pub format: DigestFormat,
    /// Where to write; `-` is standard output
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub out: PathBuf,
    /// Also mail it to `[digest.smtp] to` now
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also fetch each enabled feed once and report whether it parses
    #[arg(long)]
    pub online: bool,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// An http(s) URL or a file path
    pub source: String,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
    /// Charset to assume for a file, as an HTTP Content-Type would give it (e.g. "text/xml; charset=koi8-r")
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    #[command(flatten)]
    pub html: PreviewHtmlArgs,
}

/// `preview` of a web page with selectors, as a `kind = "html"` feed would read it; each flag
/// is the `[feed.html]` key of the same name (and `full_text`, `full_text_strip`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Reading a page without a feed (the [feed.html] keys)")]
pub struct PreviewHtmlArgs {
    /// Read SOURCE as a web page: CSS selector of one element per entry, e.g. ".latest-news li".
    /// A selector matching nothing is an error (exit 1)
    #[arg(long, value_name = "SEL")]
    pub html_item: Option<String>,
    /// The entry's title inside each item: its text, or SEL@attribute
    #[arg(long, value_name = "SEL", default_value = "a", requires = "html_item")]
    pub html_title: String,
    /// The entry's link inside each item, as SEL@attribute (`@href` alone: the item's own)
    #[arg(
        long,
        value_name = "SEL@ATTR",
        default_value = "a@href",
        requires = "html_item"
    )]
    pub html_link: String,
    /// The entry's date inside each item, e.g. ".date" or "time@datetime"
    #[arg(long, value_name = "SEL", requires = "html_item")]
    pub html_date: Option<String>,
    /// strftime format of the date, e.g. "%d.%b.%Y" for 10.Jan.2026 (English, Russian and
    /// Azerbaijani month names); without it dates are recognised automatically
    #[arg(long, value_name = "FMT", requires = "html_date")]
    pub html_date_format: Option<String>,
    /// The entry's summary inside each item (its HTML is kept, sanitized)
    #[arg(long, value_name = "SEL", requires = "html_item")]
    pub html_summary: Option<String>,
    /// The entry's author inside each item (text)
    #[arg(long, value_name = "SEL", requires = "html_item")]
    pub html_author: Option<String>,
    /// The entry's image inside each item, as SEL@attribute [attribute default: src]
    #[arg(long, value_name = "SEL", requires = "html_item")]
    pub html_image: Option<String>,
    /// Address a saved page was read from: relative links in a file resolve against it
    #[arg(long, value_name = "URL", requires = "html_item")]
    pub base: Option<String>,
    /// Fetch each entry's page and show this part of it as the entry's content (first 10
    /// entries), e.g. "article .body"; works for feeds too
    #[arg(long, value_name = "SEL")]
    pub full_text: Option<String>,
    /// Remove this from inside the full text, e.g. ".share" (repeatable)
    #[arg(long, value_name = "SEL", requires = "full_text")]
    pub full_text_strip: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Exit after writing the outputs instead of serving until interrupted
    #[arg(long)]
    pub once: bool,
    /// Folder holding demo-feeds.toml and feeds/ [default: ./fixtures, else the one shipped with the source]
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Where the demo writes its database and merged feeds
    #[arg(long, value_name = "DIR", default_value = "tributary-demo")]
    pub out_dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
