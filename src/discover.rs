//! Finding the feed behind an address an admin pastes: the address itself, a feed the page
//! advertises (`<link rel="alternate">`), or one at a path sites commonly use.

use url::Url;

use crate::config::Config;
use crate::fetch::Fetcher;
use crate::model::ParsedFeed;
use crate::refresh::{DocumentFailure, adhoc_feed, fetch_document_detailed};

/// Paths tried, relative to the site root, when a page advertises no feed.
pub const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feed/",
];

/// What an address turned out to be.
#[derive(Debug)]
pub enum Discovery {
    /// A feed, with its parse.
    Feed(Url, Box<ParsedFeed>),
    /// An HTML page advertising these feeds.
    Advertised(Vec<Url>),
    /// Not a feed, advertising none; `found` is a feed at a common path, if any.
    Page {
        found: Option<(Url, Box<ParsedFeed>)>,
    },
}

/// Looks at `url` and says what it is; network or HTTP failures are errors with a reason.
pub async fn discover(fetcher: &Fetcher, url: &Url, config: &Config) -> Result<Discovery, String> {
    let max = usize::try_from(config.fetch.max_body).unwrap_or(usize::MAX);
    let zone = config.schedule.timezone;
    match fetch_document_detailed(fetcher, &adhoc_feed(url.clone(), config), zone, max).await {
        Ok(feed) => Ok(Discovery::Feed(url.clone(), Box::new(feed))),
        Err(DocumentFailure::NotAFeed { advertised }) if !advertised.is_empty() => {
            Ok(Discovery::Advertised(
                advertised
                    .iter()
                    .filter_map(|a| Url::parse(a).ok())
                    .collect(),
            ))
        }
        Err(DocumentFailure::NotAFeed { .. }) => {
            for path in COMMON_PATHS {
                let Ok(candidate) = url.join(path) else {
                    continue;
                };
                if let Ok(feed) = fetch_document_detailed(
                    fetcher,
                    &adhoc_feed(candidate.clone(), config),
                    zone,
                    max,
                )
                .await
                {
                    return Ok(Discovery::Page {
                        found: Some((candidate, Box::new(feed))),
                    });
                }
            }
            Ok(Discovery::Page { found: None })
        }
        Err(DocumentFailure::Other(reason)) => Err(reason),
    }
}
