//! `tributary feeds`: list and edit `feeds.toml`, import and export OPML.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use chrono::Utc;

use super::{load_config, open_store, runtime};
use crate::Exit;
use crate::cli::{Cli, FeedsAction, FeedsAddArgs, FeedsArgs};
use tributary::config::Config;
use tributary::discover::{COMMON_PATHS, Discovery, HtmlGuess, discover};
use tributary::export::opml;
use tributary::feedlist::{FeedList, NewFeed, html_source_template};
use tributary::fetch::Fetcher;
use tributary::parse::html_source::HtmlSource;

pub fn run(cli: &Cli, args: &FeedsArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    match &args.action {
        FeedsAction::List => list(cli, &config),
        FeedsAction::Add(a) => add(cli, &config, a),
        FeedsAction::Remove { id } => {
            let mut file = FeedList::open(&cli.feeds)?;
            file.remove(id)?;
            save(&file, &config)?;
            println!(
                "removed `{id}` from {}; its entries stay in the database",
                cli.feeds.display()
            );
            Ok(Exit::Ok)
        }
        FeedsAction::Import { file, dry_run } => import(cli, &config, file, *dry_run),
        FeedsAction::Export { out } => {
            let feeds = super::load_feeds(cli, &config)?;
            // The store adds each feed's own title and site link when there is one.
            let records = open_store(&config)
                .ok()
                .and_then(|s| s.lock().ok().and_then(|s| s.feeds().ok()))
                .unwrap_or_default();
            let title = config
                .output(None)
                .map_or("Tributary sources", |o| o.title.as_str());
            let doc = opml::render(&feeds, &records, title, Utc::now());
            if out.as_os_str() == "-" {
                std::io::stdout().lock().write_all(doc.as_bytes())?;
            } else {
                tributary::atomic::write_if_changed(out, doc.as_bytes())
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            Ok(Exit::Ok)
        }
    }
}

fn list(cli: &Cli, config: &Config) -> anyhow::Result<Exit> {
    let feeds = super::load_feeds(cli, config)?;
    let mut out = std::io::stdout().lock();
    let width = |f: &dyn Fn(&tributary::config::FeedConfig) -> usize, min: usize| {
        feeds.feeds.iter().map(f).max().unwrap_or(min).max(min)
    };
    let w = width(&|f| f.id.len(), 2);
    let ws = width(&|f| f.schedule.as_str().len(), 8);
    let wt = width(&|f| f.tags.join(",").chars().count(), 4);
    writeln!(
        out,
        "{:<w$}  {:<7}  {:<ws$}  {:<wt$}  URL",
        "ID", "ENABLED", "SCHEDULE", "TAGS"
    )?;
    for f in &feeds.feeds {
        writeln!(
            out,
            "{:<w$}  {:<7}  {:<ws$}  {:<wt$}  {}",
            f.id,
            if f.enabled { "yes" } else { "no" },
            f.schedule.as_str(),
            f.tags.join(","),
            f.url
        )?;
    }
    Ok(Exit::Ok)
}

fn add(cli: &Cli, config: &Config, a: &FeedsAddArgs) -> anyhow::Result<Exit> {
    let given =
        url::Url::parse(a.url.trim()).with_context(|| format!("`{}` is not a URL", a.url))?;
    let url = if a.no_check {
        given
    } else {
        let fetcher = Fetcher::new(&config.fetch).context("building the HTTP client")?;
        match runtime()?
            .block_on(discover(&fetcher, &given, config))
            .map_err(anyhow::Error::msg)?
        {
            Discovery::Feed(url, feed) => {
                println!(
                    "{url}: {} feed \"{}\" with {} entries",
                    feed.format.as_str(),
                    feed.title,
                    feed.entries.len()
                );
                url
            }
            Discovery::Advertised(options) => choose(&given, &options, a.pick)?,
            Discovery::Page {
                found: Some((url, feed)),
                ..
            } => {
                println!(
                    "{given} is a page advertising no feed; found one at {url}: \"{}\"",
                    feed.title
                );
                url
            }
            Discovery::Page { found: None, guess } => {
                let file = FeedList::open(&cli.feeds)?;
                print_html_template(&file, &cli.feeds, &given, a, guess.as_deref())?;
                eprintln!(
                    "tributary: nothing added to {}: {given} advertises no feed; an html-source entry for it is printed above",
                    cli.feeds.display()
                );
                return Ok(Exit::Failure);
            }
        }
    };
    let mut file = FeedList::open(&cli.feeds)?;
    let id = new_id(&file, a, &url);
    file.add(&NewFeed {
        id: id.clone(),
        url: url.to_string(),
        title: a.title.clone(),
        tags: a.tags.clone(),
    })?;
    save(&file, config)?;
    println!("added `{id}` ({url}) to {}", cli.feeds.display());
    Ok(Exit::Ok)
}

/// `--id`, else one derived from the address.
fn new_id(file: &FeedList, a: &FeedsAddArgs, url: &url::Url) -> String {
    a.id.clone()
        .unwrap_or_else(|| file.suggest_id(url.as_str()))
}

/// For a page without a feed: a `[[feed]]` entry reading it as an HTML source, ready to paste
/// (every other line a TOML comment), with the `preview` command that tries it.
fn print_html_template(
    file: &FeedList,
    path: &std::path::Path,
    page: &url::Url,
    a: &FeedsAddArgs,
    guess: Option<&HtmlGuess>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# {page} is a web page, not a feed, and it advertises none\n# (no <link rel=\"alternate\">, nothing at {}).",
        COMMON_PATHS.join(", ")
    )?;
    writeln!(
        out,
        "# It can be read as an HTML source: add this to {} when the preview looks right.",
        path.display()
    )?;
    match guess {
        Some(g) => {
            let dated = g
                .preview
                .entries
                .iter()
                .filter(|e| e.published.is_some())
                .count();
            writeln!(
                out,
                "# The selectors below were guessed from the page; they read {} entries ({dated} dated).",
                g.preview.entries.len()
            )?;
            if let Some(first) = g.preview.entries.first() {
                let date = first
                    .published
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "no date".into());
                writeln!(out, "# The first is \"{}\" ({date}).", first.title)?;
            }
            writeln!(out, "# Try them:\n#   {}", preview_command(page, &g.source))?;
        }
        None => {
            writeln!(
                out,
                "# No list of stories was recognised on the page: replace each <…> with a CSS selector,\n# trying them with:\n#   tributary preview {} --html-item SEL --html-title SEL --html-link SEL@href --html-date SEL",
                shell_quote(page.as_str())
            )?;
        }
    }
    let feed = NewFeed {
        id: new_id(file, a, page),
        url: page.to_string(),
        title: a.title.clone(),
        tags: a.tags.clone(),
    };
    write!(
        out,
        "\n{}",
        html_source_template(&feed, guess.map(|g| &g.source))
    )?;
    out.flush()?;
    Ok(())
}

/// The `tributary preview URL --html-…` command line that reads `page` with `src`.
fn preview_command(page: &url::Url, src: &HtmlSource) -> String {
    let mut cmd = format!("tributary preview {}", shell_quote(page.as_str()));
    let flags = [
        ("--html-item", Some(&src.item)),
        ("--html-title", Some(&src.title)),
        ("--html-link", Some(&src.link)),
        ("--html-date", src.date.as_ref()),
        ("--html-date-format", src.date_format.as_ref()),
        ("--html-summary", src.summary.as_ref()),
        ("--html-author", src.author.as_ref()),
        ("--html-image", src.image.as_ref()),
    ];
    for (flag, value) in flags {
        if let Some(v) = value {
            cmd.push_str(&format!(" {flag} {}", shell_quote(v)));
        }
    }
    cmd
}

/// `s` as one POSIX shell word: as is when it holds only safe characters, else in single
/// quotes.
fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Picks one of the feeds a page advertises: `--pick N`, else a prompt on a terminal.
fn choose(page: &url::Url, options: &[url::Url], pick: Option<usize>) -> anyhow::Result<url::Url> {
    println!(
        "{page} is a web page advertising {} feed{}:",
        options.len(),
        if options.len() == 1 { "" } else { "s" }
    );
    for (i, o) in options.iter().enumerate() {
        println!("  {}. {o}", i + 1);
    }
    let n = match pick {
        Some(n) => n,
        None if options.len() == 1 => 1,
        None if std::io::stdin().is_terminal() => {
            print!("add which one? [1-{}] ", options.len());
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim()
                .parse()
                .with_context(|| format!("`{}` is not a number", line.trim()))?
        }
        None => bail!("choose one with --pick N (1 to {})", options.len()),
    };
    options
        .get(n.wrapping_sub(1))
        .cloned()
        .with_context(|| format!("--pick {n}: choose 1 to {}", options.len()))
}

fn import(
    cli: &Cli,
    config: &Config,
    path: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<Exit> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let subs = opml::parse(&text).with_context(|| format!("{}", path.display()))?;
    let mut file = FeedList::open(&cli.feeds)?;
    let known: Vec<String> = file.entries().into_iter().map(|(_, u)| u).collect();
    let (mut added, mut skipped) = (0, 0);
    for s in subs {
        if known.contains(&s.url) || url::Url::parse(&s.url).is_err() {
            skipped += 1;
            continue;
        }
        let id = file.suggest_id(&s.url);
        file.add(&NewFeed {
            id: id.clone(),
            url: s.url.clone(),
            title: s.title,
            tags: s.tags,
        })?;
        println!("+ {id}  {}", s.url);
        added += 1;
    }
    if dry_run {
        println!(
            "{added} would be added, {skipped} already present or invalid (dry run: nothing written)"
        );
        return Ok(Exit::Ok);
    }
    if added > 0 {
        save(&file, config)?;
    }
    println!(
        "{added} added to {}, {skipped} already present or invalid",
        cli.feeds.display()
    );
    Ok(Exit::Ok)
}

/// Saves the edited list; an edit that would make the file invalid is a configuration error
/// (exit 3) listing every problem.
fn save(file: &FeedList, config: &Config) -> anyhow::Result<()> {
    match file.save(config) {
        Ok(_) => Ok(()),
        Err(tributary::feedlist::EditError::Invalid(errors)) => Err(errors.into()),
        Err(e) => Err(e.into()),
    }
}
