//! Full-text extraction: keeping an article's body when its feed carries only a summary.
//!
//! Regional outlets often publish feeds with one-line descriptions, or no feed at all (see
//! [`crate::parse::html_source`]). With `full_text = "SELECTOR"` on a feed, Tributary fetches
//! each new entry's page once and keeps the selected element's HTML as the entry's content.
//! Article bodies on such sites carry share bars, "Latest news" blocks, ads and scripts;
//! `full_text_strip = ["SELECTOR", …]` names what to drop from inside the body.
//!
//! [`extract`] does the page-to-content step only: fetching, politeness and remembering which
//! pages were already extracted belong to the refresh pipeline. The result is sanitized like
//! every other HTML field (see [`crate::clean`]) and its relative URLs are made absolute
//! against the page (or its `<base href>`), so it can be republished in the merged feed as is.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::clean;
use crate::parse::html_source::{page_base, panic_message};

/// How to find an article's body on its page: `full_text` and `full_text_strip` of a feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FullTextRule {
    /// Selector of the element holding the article body, e.g. `article .body`.
    pub selector: String,
    /// Selectors of elements to remove from inside the body, e.g. `[".share", ".latest-news"]`.
    pub strip: Vec<String>,
}

impl FullTextRule {
    /// A rule that keeps `selector` and strips nothing.
    pub fn new(selector: &str) -> FullTextRule {
        FullTextRule {
            selector: selector.to_string(),
            strip: Vec::new(),
        }
    }

    /// Checks that the selector and every strip selector parse; the message names the one at
    /// fault.
    pub fn validate(&self) -> Result<(), String> {
        compile(self).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Why an article's body could not be extracted; the entry then keeps its summary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FullTextError {
    /// `full_text` or one of `full_text_strip` does not parse.
    #[error("{field} selector `{selector}` is not valid CSS: {reason}")]
    InvalidSelector {
        field: &'static str,
        selector: String,
        reason: String,
    },
    /// The selector matched nothing on the page.
    #[error("full_text selector `{selector}` matched nothing on {url}")]
    NoMatch { selector: String, url: String },
    /// The selected element held nothing worth keeping once stripped and sanitized.
    #[error("full_text selector `{selector}` on {url} kept no text once cleaned")]
    Empty { selector: String, url: String },
    /// The selected HTML is larger than [`MAX_CONTENT`]: not an article body (the selector
    /// probably matches a whole page section).
    #[error(
        "full_text selector `{selector}` on {url} selects more than {limit} bytes of HTML; narrow the selector"
    )]
    TooLarge {
        selector: String,
        url: String,
        limit: usize,
    },
    /// The HTML parser crashed on this page.
    #[error("the HTML parser crashed on {url}: {message}")]
    Panicked { url: String, message: String },
}

/// Most HTML (before sanitizing, `data:` URLs left out) kept as one article's content. Long
/// reads are a few hundred kilobytes; anything larger is a selector matching too much, and
/// storing and republishing it would bloat the database and the merged feed.
pub const MAX_CONTENT: usize = 2 * 1024 * 1024;

/// Extracts an article body from its page.
///
/// Returns the inner HTML of the element `rule.selector` matches (of every element it matches,
/// in page order, when there are several; one inside another is not repeated), without the
/// elements `rule.strip` matches, sanitized, with relative URLs resolved against `page_url`
/// (or the page's `<base href>`). Scripts, styles, frames and comments never survive.
///
/// # Errors
///
/// [`FullTextError::NoMatch`] when the selector matches nothing; [`FullTextError::Empty`] when
/// what it matched holds no text or image once cleaned; [`FullTextError::TooLarge`] when it
/// holds more than [`MAX_CONTENT`]; [`FullTextError::InvalidSelector`] for a selector that does
/// not parse.
pub fn extract(html: &str, rule: &FullTextRule, page_url: &Url) -> Result<String, FullTextError> {
    let (selector, strip) = compile(rule)?;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let doc = Html::parse_document(html);
        let base = page_base(&doc, page_url);
        match body_html(&doc, &selector, &strip, MAX_CONTENT) {
            Body::Html(raw) => Body::Html(clean::sanitize_html(&raw, Some(&base))),
            other => other,
        }
    }));
    let cleaned = match result {
        Ok(Body::Html(cleaned)) => cleaned,
        Ok(Body::NoMatch) => {
            return Err(FullTextError::NoMatch {
                selector: rule.selector.trim().to_string(),
                url: page_url.to_string(),
            });
        }
        Ok(Body::TooLarge) => {
            return Err(FullTextError::TooLarge {
                selector: rule.selector.trim().to_string(),
                url: page_url.to_string(),
                limit: MAX_CONTENT,
            });
        }
        Err(panic) => {
            return Err(FullTextError::Panicked {
                url: page_url.to_string(),
                message: panic_message(&*panic),
            });
        }
    };
    if clean::plain_text(&cleaned).is_empty() && !cleaned.contains("<img") {
        return Err(FullTextError::Empty {
            selector: rule.selector.trim().to_string(),
            url: page_url.to_string(),
        });
    }
    Ok(cleaned)
}

fn compile(rule: &FullTextRule) -> Result<(Selector, Vec<Selector>), FullTextError> {
    let parse = |field: &'static str, css: &str| {
        let css = css.trim();
        if css.is_empty() {
            return Err(FullTextError::InvalidSelector {
                field,
                selector: String::new(),
                reason: "the selector is empty".to_string(),
            });
        }
        Selector::parse(css).map_err(|e| FullTextError::InvalidSelector {
            field,
            selector: css.to_string(),
            reason: e.to_string(),
        })
    };
    let selector = parse("full_text", &rule.selector)?;
    let strip = rule
        .strip
        .iter()
        .map(|s| parse("full_text_strip", s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((selector, strip))
}

/// Elements whose content is never article text (and whose raw text must not be re-read as
/// markup once escaped).
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "noembed", "noframes", "object", "title",
    "head",
];

/// Elements written without an end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// What the selector found on the page.
enum Body {
    Html(String),
    NoMatch,
    /// More than the limit; serializing stopped there.
    TooLarge,
}

/// The inner HTML of every (outermost) element `selector` matches, without what `strip`
/// matches and without `data:` attribute values (the sanitizer would drop them anyway), up
/// to `limit` bytes.
fn body_html(doc: &Html, selector: &Selector, strip: &[Selector], limit: usize) -> Body {
    let mut kept_ids = HashSet::new();
    let mut roots: Vec<ElementRef<'_>> = Vec::new();
    for el in doc.select(selector) {
        if el.ancestors().any(|a| kept_ids.contains(&a.id())) {
            continue;
        }
        kept_ids.insert(el.id());
        roots.push(el);
    }
    if roots.is_empty() {
        return Body::NoMatch;
    }
    let mut out = String::new();
    for root in roots {
        if strip.iter().any(|s| s.matches(&root)) {
            continue;
        }
        let skip: HashSet<_> = strip
            .iter()
            .flat_map(|s| root.select(s))
            .map(|el| el.id())
            .collect();
        // An explicit stack instead of recursion: pages nest arbitrarily deep.
        // Each entry is a node and whether its end tag is due.
        let mut stack: Vec<_> = root.children().rev().map(|c| (c, false)).collect();
        while let Some((node, closing)) = stack.pop() {
            if out.len() > limit {
                return Body::TooLarge;
            }
            if closing {
                if let Node::Element(e) = node.value() {
                    out.push_str("</");
                    out.push_str(e.name());
                    out.push('>');
                }
                continue;
            }
            if skip.contains(&node.id()) {
                continue;
            }
            match node.value() {
                Node::Text(t) => push_escaped(&mut out, t, false),
                Node::Element(e) => {
                    let name = e.name();
                    if DROPPED.contains(&name) {
                        continue;
                    }
                    out.push('<');
                    out.push_str(name);
                    for (attr, value) in e.attrs() {
                        if is_data_url(value) {
                            continue;
                        }
                        out.push(' ');
                        out.push_str(attr);
                        out.push_str("=\"");
                        push_escaped(&mut out, value, true);
                        out.push('"');
                    }
                    out.push('>');
                    if VOID.contains(&name) {
                        continue;
                    }
                    stack.push((node, true));
                    stack.extend(node.children().rev().map(|c| (c, false)));
                }
                _ => {}
            }
        }
        out.push('\n');
    }
    if out.len() > limit {
        Body::TooLarge
    } else {
        Body::Html(out)
    }
}

fn is_data_url(value: &str) -> bool {
    value
        .trim_start()
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"))
}

fn push_escaped(out: &mut String, s: &str, in_attribute: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://caucasus-analysis.example/en/analysis/a").unwrap()
    }

    #[test]
    fn strip_selectors_remove_nested_blocks_and_scripts_never_survive() {
        let html = r#"<article><div class="body"><p>One <a href="/t">link</a></p>
            <div class="share">Share</div><script>track()</script>
            <div><p>Two &amp; <span class="ad">AD</span>three</p></div><!-- note --></div></article>"#;
        let rule = FullTextRule {
            selector: ".body".into(),
            strip: vec![".share".into(), ".ad".into()],
        };
        let out = extract(html, &rule, &url()).unwrap();
        assert!(
            out.contains(
                r#"<p>One <a href="https://caucasus-analysis.example/t" rel="noopener noreferrer">link</a></p>"#
            ),
            "{out}"
        );
        assert!(out.contains("<p>Two &amp; three</p>"), "{out}");
        for gone in ["Share", "track", "AD", "note"] {
            assert!(!out.contains(gone), "{gone} survived in {out}");
        }
    }

    #[test]
    fn several_matches_are_joined_without_repeating_nested_ones() {
        let html = "<div class=p>A<div class=p>B</div></div><div class=p>C</div>";
        let out = extract(html, &FullTextRule::new(".p"), &url()).unwrap();
        assert_eq!(clean::plain_text(&out), "A B C");
    }

    #[test]
    fn attribute_values_are_escaped_when_rebuilt() {
        let html = r#"<div id="b"><img src="/i.jpg?a=1&amp;b=2" alt='say "hi" &lt;x&gt;'></div>"#;
        let out = extract(html, &FullTextRule::new("#b"), &url()).unwrap();
        assert!(
            out.contains(r#"src="https://caucasus-analysis.example/i.jpg?a=1&amp;b=2""#),
            "{out}"
        );
        assert!(
            out.contains(r#"alt="say &quot;hi&quot; &lt;x&gt;""#),
            "{out}"
        );
    }

    #[test]
    fn an_element_left_empty_is_an_error() {
        let html = r#"<div class="body"><div class="share">Share</div> </div>"#;
        let rule = FullTextRule {
            selector: ".body".into(),
            strip: vec![".share".into()],
        };
        assert_eq!(
            extract(html, &rule, &url()).unwrap_err().to_string(),
            "full_text selector `.body` on https://caucasus-analysis.example/en/analysis/a kept no text once cleaned"
        );
    }

    #[test]
    fn invalid_strip_selector_is_named() {
        let rule = FullTextRule {
            selector: ".body".into(),
            strip: vec!["div[".into()],
        };
        let err = rule.validate().unwrap_err();
        assert!(err.starts_with("full_text_strip selector `div[`"), "{err}");
    }

    #[test]
    fn a_body_over_the_limit_is_refused_and_data_urls_do_not_count() {
        let para = "<p>A long paragraph of an article that goes on and on.</p>";
        let html = format!("<div class=body>{}</div>", para.repeat(1000));
        let doc = Html::parse_document(&html);
        let sel = Selector::parse(".body").unwrap();
        assert!(matches!(body_html(&doc, &sel, &[], 10_000), Body::TooLarge));
        assert!(matches!(body_html(&doc, &sel, &[], 100_000), Body::Html(_)));
        let image = format!(
            r#"<div class=body><p>Photo</p><img src="data:image/png;base64,{}"></div>"#,
            "A".repeat(50_000)
        );
        let doc = Html::parse_document(&image);
        match body_html(&doc, &sel, &[], 1000) {
            Body::Html(h) => assert_eq!(h, "<p>Photo</p><img>\n"),
            _ => panic!("a data: URL counted towards the limit"),
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let html = format!(
            "<div class=body>{}deep{}</div>",
            "<span>".repeat(50_000),
            "</span>".repeat(50_000)
        );
        let out = extract(&html, &FullTextRule::new(".body"), &url()).unwrap();
        assert!(out.contains("deep"));
    }
}
