//! Making feed text safe to store and republish.
//!
//! Feed HTML is written by strangers: every HTML field goes through ammonia (no script, no
//! event handlers, no `javascript:`/`data:` URLs, no frames or forms), or, when it is simple
//! enough, through [`simple_html`], which writes the same bytes without a DOM; relative URLs are
//! resolved against the entry's or feed's base, and every character outside XML 1.0 is removed
//! from every text field so the exported Atom is always well-formed. Titles become plain text
//! with their whitespace collapsed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;

use url::Url;

mod simple_html;

/// True for characters XML 1.0 allows (`Char` production); Rust strings hold no surrogates.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Removes every character XML 1.0 does not allow (C0 controls but tab/newline/CR,
/// U+FFFE, U+FFFF). Borrows when there is nothing to remove.
pub fn strip_non_xml(s: &str) -> Cow<'_, str> {
    // Byte scan first: every text is checked, and nearly all are clean. The only characters
    // outside XML are C0 controls and U+FFFE/U+FFFF (surrogates cannot occur in a `str`).
    let controls = |b: u8| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r');
    let clean = !may_hold_non_xml(s.as_bytes())
        || (!s.bytes().any(controls) && !s.contains('\u{FFFE}') && !s.contains('\u{FFFF}'));
    if clean {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|c| is_xml_char(*c)).collect())
    }
}

/// False when `b` certainly holds no character outside XML: no C0 control but tab, line feed
/// and carriage return, and no 0xEF byte (which leads U+FFFE and U+FFFF, among many others).
/// Whole documents go through here, so it reads 64 bytes at a time without branching on each,
/// which the compiler turns into vector instructions.
fn may_hold_non_xml(b: &[u8]) -> bool {
    b.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |found, &c| {
            found | ((c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r')) | (c == 0xEF)
        })
    })
}

/// Collapses runs of whitespace to one space and trims the ends.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A title or other one-line text field: markup removed (entities decoded), non-XML
/// characters dropped, whitespace collapsed.
pub fn plain_text(s: &str) -> String {
    let s = strip_non_xml(s);
    if s.contains('<') || s.contains('&') {
        // Most summaries are simple enough to read without building their tree.
        let text = simple_html::text_simple(&s).unwrap_or_else(|| parsed_text(&s));
        collapse_whitespace(&strip_non_xml(&text))
    } else {
        collapse_whitespace(&s)
    }
}

/// The text of the HTML fragment `html`: every text node of the parser's tree, in order, with
/// a space at each end of an element that [`breaks_text`].
fn parsed_text(html: &str) -> String {
    use ego_tree::iter::Edge;
    use scraper::Node;
    let fragment = scraper::Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    for edge in fragment.root_element().traverse() {
        let (node, open) = match edge {
            Edge::Open(node) => (node, true),
            Edge::Close(node) => (node, false),
        };
        match node.value() {
            Node::Text(text) if open => out.push_str(text),
            Node::Element(e) if breaks_text(e.name()) => out.push(' '),
            _ => {}
        }
    }
    out
}

/// Whether an element's text is a block or line of its own: plain text puts a space where it
/// starts and where it ends, so that `<p>Talks ended.</p><p>Gas</p>` reads "Talks ended. Gas",
/// not "Talks ended.Gas" (which search would index as one word).
pub(crate) fn breaks_text(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "br"
            | "caption"
            | "dd"
            | "details"
            | "div"
            | "dl"
            | "dt"
            | "figcaption"
            | "figure"
            | "footer"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "tfoot"
            | "th"
            | "thead"
            | "tr"
            | "ul"
    )
}

/// Sanitizes an HTML fragment: only harmless markup is kept, links get
/// `rel="noopener noreferrer"`, relative URLs are made absolute against `base`.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let html = strip_non_xml(html);
    // Most summaries are simple enough to clean in one pass, to the same bytes.
    if let Some(cleaned) = simple_html::clean_simple(&html, base) {
        return trim_in_place(cleaned);
    }
    let cleaned = SANITIZER.with_borrow_mut(|cached| match cached {
        Some((cached_base, sanitizer)) if cached_base.as_ref() == base => {
            sanitizer.clean(&html).to_string()
        }
        _ => {
            let sanitizer = new_sanitizer(base);
            let cleaned = sanitizer.clean(&html).to_string();
            *cached = Some((base.cloned(), sanitizer));
            cleaned
        }
    });
    trim_in_place(cleaned)
}

/// `s` without white space at its ends, in the same buffer.
fn trim_in_place(mut s: String) -> String {
    s.truncate(s.trim_end().len());
    let start = s.len() - s.trim_start().len();
    s.drain(..start);
    s
}

thread_local! {
    /// The sanitizer for the last base used on this thread. Setting one up (its tag and
    /// attribute tables) costs more than cleaning a typical entry, and the entries of one feed
    /// share their base.
    static SANITIZER: RefCell<Option<(Option<Url>, ammonia::Builder<'static>)>> =
        const { RefCell::new(None) };
}

/// The URL schemes links and images may use.
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];
/// The `rel` every link gets.
const LINK_REL: &str = "noopener noreferrer";

fn new_sanitizer(base: Option<&Url>) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    let schemes: HashSet<&str> = URL_SCHEMES.into_iter().collect();
    builder
        .url_schemes(schemes)
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    builder.url_relative(match base {
        Some(base) => ammonia::UrlRelative::RewriteWithBase(base.clone()),
        None => ammonia::UrlRelative::PassThrough,
    });
    builder
}

/// Resolves a link found in a feed against `base`; only http(s) results are kept.
pub fn resolve_link(link: &str, base: Option<&Url>) -> Option<String> {
    let link = strip_non_xml(link);
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let url = match Url::parse(link) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(link).ok()?,
        Err(_) => return None,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://caucasus-analysis.example/en/analysis/").unwrap()
    }

    #[test]
    fn characters_outside_xml_are_removed_and_clean_text_is_borrowed() {
        let clean = "Баку\tTbilisi\r\nЕреван \u{D7FF}\u{E000}\u{FFFD}\u{10FFFF}";
        assert!(matches!(strip_non_xml(clean), Cow::Borrowed(_)));
        for (dirty, want) in [
            ("a\u{0}b\u{1F}c", "abc"),
            ("x\u{FFFE}y\u{FFFF}z", "xyz"),
            ("\u{B}Ереван\u{C}", "Ереван"),
        ] {
            assert_eq!(strip_non_xml(dirty), want, "{dirty:?}");
        }
    }

    #[test]
    fn each_call_resolves_against_its_own_base_whatever_came_before() {
        let other = Url::parse("https://other.example/ru/").unwrap();
        let html = r#"<a href="story/1">x</a>"#;
        for _ in 0..2 {
            let a = sanitize_html(html, Some(&base()));
            assert!(
                a.contains("https://caucasus-analysis.example/en/analysis/story/1"),
                "{a}"
            );
            let b = sanitize_html(html, Some(&other));
            assert!(b.contains("https://other.example/ru/story/1"), "{b}");
            let none = sanitize_html(html, None);
            assert!(none.contains(r#"href="story/1""#), "{none}");
        }
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        let dirty = r#"<p>Safe text</p><script>alert(1)</script><img src="x.jpg" onerror="alert(1)">
            <a href="javascript:alert(1)">js</a><a href="data:text/html,<script>x</script>">d</a>
            <svg><script>alert(2)</script></svg><iframe src="https://evil.example/"></iframe>
            <div style="background:url(javascript:alert(1))">styled</div>
            <meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
        let clean = sanitize_html(dirty, Some(&base()));
        assert!(clean.contains("<p>Safe text</p>"), "{clean}");
        assert!(clean.contains("styled"));
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "data:",
            "<svg",
            "<iframe",
            "style=",
            "<meta",
            "alert(2)",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(
            clean.contains(r#"src="https://caucasus-analysis.example/en/analysis/x.jpg""#),
            "{clean}"
        );
    }

    #[test]
    fn relative_links_become_absolute_with_noopener() {
        let clean = sanitize_html(r#"<a href="/en/news/1">x</a>"#, Some(&base()));
        assert_eq!(
            clean,
            r#"<a href="https://caucasus-analysis.example/en/news/1" rel="noopener noreferrer">x</a>"#
        );
    }

    #[test]
    fn control_characters_never_survive() {
        assert_eq!(
            plain_text("Baku\u{8} talks\u{0}\u{1b}  resume\u{fffe}"),
            "Baku talks resume"
        );
        assert_eq!(sanitize_html("<b>a\u{8}b</b>", None), "<b>ab</b>");
        assert_eq!(strip_non_xml("tab\tok"), "tab\tok");
    }

    #[test]
    fn titles_lose_markup_and_extra_whitespace() {
        assert_eq!(
            plain_text("  <b>Peskov</b> &amp; Baku:\n\n  allied   ties "),
            "Peskov & Baku: allied ties"
        );
        assert_eq!(plain_text("Алиев &laquo;и&raquo; Путин"), "Алиев «и» Путин");
    }

    #[test]
    fn blocks_and_line_breaks_keep_words_apart() {
        for (html, text) in [
            // Read in one pass, and by the parser.
            (
                "<p>Talks ended.</p><p>Gas<br>prices</p>",
                "Talks ended. Gas prices",
            ),
            ("<h2>Baku</h2>Talks<hr>end<b>ed</b>", "Baku Talks ended"),
            ("<p>One<ul><li>two<li>three</ul>four", "One two three four"),
            ("<table><tr><td>a</td><td>b</td></tr></table>c", "a b c"),
        ] {
            assert_eq!(plain_text(html), text, "{html}");
        }
    }

    #[test]
    fn links_resolve_and_only_http_is_kept() {
        assert_eq!(
            resolve_link("../news/2", Some(&base())).as_deref(),
            Some("https://caucasus-analysis.example/en/news/2")
        );
        assert_eq!(resolve_link("javascript:alert(1)", Some(&base())), None);
        assert_eq!(resolve_link("  ", Some(&base())), None);
        assert_eq!(resolve_link("/x", None), None);
    }
}
