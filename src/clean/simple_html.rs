//! The fast path of the HTML sanitizer: fragments that are already clean.
//!
//! Most feed summaries are a few paragraphs with emphasis and links. Sending each through
//! ammonia means building an HTML DOM, filtering it and serializing it again, which costs more
//! than parsing the whole feed. This module reads such a fragment in one pass and writes the
//! very bytes ammonia would write, without the DOM; anything it does not fully understand makes
//! it give up, and the caller runs ammonia.
//!
//! It accepts only: text (carriage returns read as line feeds, as the parser reads them) with
//! character references to ordinary characters, by number, by XML name or by HTML 4 name, each
//! ended by `;`; start and end tags of a list of elements (paragraphs, headings, inline markup, lists, definition lists, tables, `pre`,
//! links, images, rules, and `font`, which ammonia unwraps), lowercase, with quoted attributes,
//! properly nested in ways where the HTML tree builder changes nothing (no block inside a
//! paragraph or inline element, list items and table parts only in their own parents, the one
//! `<tbody>` the parser adds itself). Attributes are kept or dropped by ammonia's own allowlists,
//! read from the configured sanitizer; `href` and `src` are resolved as ammonia resolves them
//! and must use a scheme it allows.
//!
//! Tests compare its output with ammonia's on every summary and content in the corpus and on
//! generated fragments (random and grammar-built, hostile ones among them): whenever it
//! answers, the bytes must be ammonia's.
//!
//! The same reading gives the plain text of such a fragment ([`text_simple`], behind
//! [`super::plain_text`], which takes every stored entry's excerpt): the text between the tags
//! with its references decoded, as the HTML parser's tree gives it, checked the same way
//! against the parser.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use url::Url;

use super::{LINK_REL, URL_SCHEMES};

/// Elements that may hold text and inline elements, and appear inside blocks or each other.
const INLINE: [&str; 24] = [
    "time", "q", "strike", "del", "ins", "abbr", "kbd", "samp", "var", "tt", "a", "b", "i", "em",
    "strong", "code", "sub", "sup", "small", "s", "u", "span", "cite", "mark",
];

/// Blocks: allowed only where no paragraph, heading, inline element or link is open.
const BLOCK: [&str; 14] = [
    "p",
    "dl",
    "div",
    "pre",
    "table",
    "blockquote",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// Elements inside which a block may start (lists and table parts only through their own
/// children, see [`may_open`]).
const HOLDS_BLOCKS: [&str; 16] = [
    IMPLICIT_TBODY,
    "dl",
    "dt",
    "dd",
    "div",
    "blockquote",
    "li",
    "ul",
    "ol",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "td",
    "th",
];

/// The parts of a table or definition list, each allowed only inside its own parent.
const PARTS: [&str; 8] = ["tbody", "thead", "tfoot", "tr", "td", "th", "dt", "dd"];

/// Elements ammonia removes while keeping what they hold, read here as inline elements.
const UNWRAPPED: [&str; 1] = ["font"];

/// The stack name of the `<tbody>` the parser adds around rows written straight in a table.
const IMPLICIT_TBODY: &str = "#tbody";

/// Elements without content or end tag.
const VOID: [&str; 3] = ["br", "img", "hr"];

/// Room for this many open elements; deeper nesting goes to ammonia.
const MAX_DEPTH: usize = 32;

/// What the sanitizer keeps, read from its own configuration so the two cannot drift apart.
struct Rules {
    /// The elements this module reads that the sanitizer lets through as they are (kept) or
    /// without their tags (unwrapped), each with the attributes it keeps on them, by name.
    elements: Vec<Element>,
    /// False when the sanitizer is configured in a way this module does not reproduce
    /// (attribute value lists, forced values, allowed classes, attribute prefixes, denied
    /// relative URLs): then every fragment goes to ammonia.
    usable: bool,
}

/// One element the fast path may write.
struct Element {
    name: &'static str,
    unwrapped: bool,
    attributes: Vec<&'static str>,
}

impl Rules {
    /// The rules of `sanitizer` (its URL handling aside, which depends on the base).
    fn of(sanitizer: &ammonia::Builder<'static>) -> Rules {
        let tags = sanitizer.clone_tags();
        let clean_content_tags = sanitizer.clone_clean_content_tags();
        let tag_attributes: HashMap<&str, HashSet<&str>> = sanitizer.clone_tag_attributes();
        let generic = sanitizer.clone_generic_attributes();
        let mut elements = INLINE
            .iter()
            .chain(&BLOCK)
            .chain(&VOID)
            .chain(&PARTS)
            .chain(&UNWRAPPED)
            .chain(&["li"])
            .copied()
            .filter_map(|name| {
                let unwrapped = UNWRAPPED.contains(&name);
                // An unwrapped element must be one ammonia unwraps: not kept, and not removed
                // with its content.
                let as_expected = if unwrapped {
                    !tags.contains(name) && !clean_content_tags.contains(name)
                } else {
                    tags.contains(name)
                };
                as_expected.then(|| Element {
                    name,
                    unwrapped,
                    attributes: generic
                        .iter()
                        .chain(tag_attributes.get(name).into_iter().flatten())
                        .copied()
                        .collect(),
                })
            })
            .collect::<Vec<_>>();
        // Sorted by name, for the binary search of every start tag.
        elements.sort_by_key(|e| e.name);
        let usable = sanitizer.clone_tag_attribute_values().is_empty()
            && sanitizer.clone_set_tag_attribute_values().is_empty()
            && sanitizer.clone_allowed_classes().is_empty()
            && sanitizer.clone_generic_attribute_prefixes().is_none()
            && !sanitizer.is_url_relative_deny()
            && sanitizer.clone_url_schemes() == URL_SCHEMES.into_iter().collect();
        Rules { elements, usable }
    }
}

/// The cleaned fragment, when `html` is simple enough to clean without a DOM; `None` means
/// "use ammonia". The result is what ammonia returns for `html`, before trimming.
pub fn clean_simple(html: &str, base: Option<&Url>) -> Option<String> {
    static RULES: OnceLock<Rules> = OnceLock::new();
    let rules = RULES.get_or_init(|| Rules::of(&super::new_sanitizer(None)));
    if !rules.usable {
        return None;
    }
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 64);
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let next = memchr::memchr3(b'<', b'>', b'&', &b[i..]).map_or(b.len(), |off| i + off);
        let text = &html[i..next];
        // Text straight inside a table, its sections or rows is moved out by the parser;
        // only white space stays where it is.
        let in_table = open.last().is_some_and(|t| {
            matches!(
                *t,
                "table" | "tbody" | "thead" | "tfoot" | "tr" | IMPLICIT_TBODY
            )
        });
        if in_table && !text.bytes().all(|c| c.is_ascii_whitespace()) {
            return None;
        }
        // Carriage returns become line feeds, as the parser reads them; U+00A0 is written back
        // as `&nbsp;`.
        match memchr::memchr2(b'\r', 0xC2, text.as_bytes()) {
            None => out.push_str(text),
            Some(_) => push_text(&mut out, text),
        }
        i = next;
        if i == b.len() {
            break;
        }
        if in_table && b[i] != b'<' {
            return None;
        }
        match b[i] {
            b'&' => {
                let (c, len) = reference(&html[i..])?;
                push_text_char(&mut out, c);
                i += len;
            }
            b'>' => {
                out.push_str("&gt;");
                i += 1;
            }
            // `<`, the only other byte the search stops at.
            _ if html[i..].starts_with("<!--") => i = after_comment(html, i)?,
            _ => {
                let end = i + memchr::memchr(b'>', &b[i..])?;
                let tag = &html[i + 1..end];
                i = end + 1;
                if tag == "/img" {
                    // An end tag for an element that has none: the parser ignores it.
                } else if let Some(name) = tag.strip_prefix('/') {
                    if name == "table" && open.last() == Some(&IMPLICIT_TBODY) {
                        open.pop();
                        out.push_str("</tbody>");
                    }
                    if open.pop() != Some(name) {
                        return None;
                    }
                    push_end_tag(&mut out, name);
                } else {
                    close_implied(tag, &mut open, &mut out);
                    if (tag == "tr" || tag.starts_with("tr ")) && open.last() == Some(&"table") {
                        // Rows straight in a table get the <tbody> the parser gives them.
                        out.push_str("<tbody>");
                        open.push(IMPLICIT_TBODY);
                    }
                    let name = start_tag(tag, &open, base, rules, &mut out)?;
                    // The parser drops a line break right after <pre>.
                    if name == "pre" && matches!(b.get(i), Some(b'\n' | b'\r')) {
                        return None;
                    }
                    if !VOID.contains(&name) {
                        open.push(name);
                    }
                }
            }
        }
    }
    // At the end the parser closes whatever is still open.
    while let Some(name) = open.pop() {
        push_end_tag(&mut out, name);
    }
    Some(out)
}

/// Where the comment starting at `at` (with `<!--`) ends, for the plain form only: no `--`
/// inside, not `<!-->` or `<!--->`. Comments are dropped by the sanitizer and hold no text.
fn after_comment(html: &str, at: usize) -> Option<usize> {
    let body_end = at + 4 + html[at + 4..].find("-->")?;
    let body = &html[at + 4..body_end];
    if body.starts_with('>') || body.starts_with("->") || body.contains("--") {
        return None;
    }
    Some(body_end + 3)
}

/// Whether the tags of `name`, however they are nested or left open, only put structure
/// around text, so the parser's tree holds the fragment's text in the order it was written:
/// every element this module reads except tables and their parts (the parser moves text out
/// of them) and `pre` (it drops a line break after the tag). Everything whose content the
/// parser reads differently (`script`, `textarea`, `title`, foreign content, ...) is not read
/// here at all.
fn only_structures_text(name: &str) -> bool {
    INLINE.contains(&name)
        || UNWRAPPED.contains(&name)
        || VOID.contains(&name)
        || matches!(name, "li" | "dt" | "dd")
        || (BLOCK.contains(&name) && !matches!(name, "pre" | "table"))
}

/// The text of the fragment `html` as the HTML parser's tree holds it (every text node in
/// order, character references decoded, CR LF and lone CR read as LF), when `html` is simple
/// enough to read without the parser: text, references that [`reference`] decodes, plain
/// comments, and well-formed lowercase tags of elements that [`only_structures_text`]. `None`
/// means "parse it".
pub fn text_simple(html: &str) -> Option<String> {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    // The elements that break text opened so far and not yet ended.
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let next = memchr::memchr2(b'<', b'&', &b[i..]).map_or(b.len(), |off| i + off);
        let text = &html[i..next];
        if text.contains('\r') {
            out.push_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            out.push_str(text);
        }
        i = next;
        if i == b.len() {
            break;
        }
        if b[i] == b'&' {
            let (c, len) = reference(&html[i..])?;
            out.push(c);
            i += len;
        } else if html[i..].starts_with("<!--") {
            i = after_comment(html, i)?;
        } else {
            let end = i + memchr::memchr(b'>', &b[i..])?;
            let tag = &html[i + 1..end];
            let name = text_element_name(tag)?;
            // A space where an element that breaks text starts or ends, as `parsed_text` puts
            // it. Where the parser would end such an element itself (a block inside a
            // paragraph, a list item in a list item) or drop an end tag, it decides where the
            // text breaks: the parser is asked.
            if super::breaks_text(name) {
                let item = |n: &str| matches!(n, "li" | "dt" | "dd");
                if !tag.starts_with('/') {
                    if open.last() == Some(&"p") && name != "br"
                        || item(name) && open.iter().any(|&o| item(o))
                    {
                        return None;
                    }
                    if !matches!(name, "br" | "hr") {
                        open.push(name);
                    }
                } else if open.last() == Some(&name) {
                    open.pop();
                } else if !(open.is_empty() && matches!(name, "p" | "br")) {
                    // `</p>` and `</br>` with nothing open read as an empty paragraph and
                    // a line break; other end tags that end nothing open are dropped.
                    return None;
                }
                out.push(' ');
            }
            i = end + 1;
        }
    }
    Some(out)
}

/// The element's name when `tag` (between `<` and `>`) is a start tag of an element that
/// [`only_structures_text`], with attributes as [`next_attribute`] reads them, or its bare end
/// tag.
fn text_element_name(tag: &str) -> Option<&str> {
    if let Some(name) = tag.strip_prefix('/') {
        return only_structures_text(name).then_some(name);
    }
    let tag = tag.strip_suffix('/').unwrap_or(tag);
    let (name, mut rest) = tag.split_at(tag.find(' ').unwrap_or(tag.len()));
    if !only_structures_text(name) {
        return None;
    }
    while let Some((_, _, after)) = next_attribute(rest)? {
        rest = after;
    }
    Some(name)
}

/// An end tag as the serializer writes it; nothing for unwrapped elements.
fn push_end_tag(out: &mut String, name: &str) {
    match name {
        IMPLICIT_TBODY => out.push_str("</tbody>"),
        name if UNWRAPPED.contains(&name) => {}
        name => {
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

/// End tags HTML lets a writer leave out: a paragraph ends where a block starts, a list item
/// where the next one starts. Only the plain cases, where the unclosed element is the current
/// one, are closed here; in any other, the start tag is not allowed to open and ammonia runs.
fn close_implied(tag: &str, open: &mut Vec<&str>, out: &mut String) {
    let name = &tag[..tag.find([' ', '/']).unwrap_or(tag.len())];
    // Blocks that close an open paragraph (a table does so only outside quirks mode).
    let closes_p =
        (BLOCK.contains(&name) && name != "table") || matches!(name, "li" | "dt" | "dd" | "hr");
    if closes_p && open.last() == Some(&"p") {
        open.pop();
        out.push_str("</p>");
    }
    let closes_own = match name {
        "li" => open.last() == Some(&"li"),
        "dt" | "dd" => matches!(open.last(), Some(&("dt" | "dd"))),
        _ => false,
    };
    if closes_own && let Some(item) = open.pop() {
        push_end_tag(out, item);
    }
}

/// Writes a start tag (the text between `<` and `>`) as ammonia would, when it can: a known
/// element that may open here, with attributes written `name="value"`. Returns its name; on
/// `None`, `out` holds a partial tag and is of no further use.
fn start_tag(
    tag: &str,
    open: &[&str],
    base: Option<&Url>,
    rules: &Rules,
    out: &mut String,
) -> Option<&'static str> {
    let tag = tag.strip_suffix('/').unwrap_or(tag);
    let name_end = tag.find(' ').unwrap_or(tag.len());
    let name = &tag[..name_end];
    let element = &rules.elements[rules.elements.binary_search_by(|e| e.name.cmp(name)).ok()?];
    let (name, unwrapped) = (element.name, element.unwrapped);
    if !may_open(name, open) || open.len() >= MAX_DEPTH {
        return None;
    }
    // Written straight into `out`, and taken back for an unwrapped element.
    let tag_start = out.len();
    out.push('<');
    out.push_str(name);
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = &tag[name_end..];
    while let Some((attribute, raw, after)) = next_attribute(rest)? {
        rest = after;
        // Duplicates (the parser keeps the first) are left to ammonia, like anything written
        // another way.
        if seen.contains(&attribute) {
            return None;
        }
        seen.push(attribute);
        let value = attribute_value(raw)?;
        if !element.attributes.contains(&attribute) {
            continue;
        }
        let value = if matches!(attribute, "href" | "src") {
            Cow::Owned(resolve(&value, base)?)
        } else {
            value
        };
        out.push(' ');
        out.push_str(attribute);
        out.push_str("=\"");
        push_attribute_value(out, &value);
        out.push('"');
    }
    if unwrapped {
        out.truncate(tag_start);
        return Some(name);
    }
    if name == "a" {
        out.push_str(" rel=\"");
        out.push_str(LINK_REL);
        out.push('"');
    }
    out.push('>');
    Some(name)
}

/// The first attribute in `rest` (what follows a start tag's name or an attribute), as this
/// module reads attributes: a space, a lowercase name, `=` and a value in either quote; with
/// the value as written and what follows it. `Some(None)` at the end of the tag, `None` for
/// anything written another way (a quote left open means the `>` that ended the tag was
/// inside a value).
fn next_attribute(rest: &str) -> Option<Option<(&str, &str, &str)>> {
    let rest = rest.trim_start_matches(' ');
    if rest.is_empty() {
        return Some(None);
    }
    let eq = rest.find('=')?;
    let name = &rest[..eq];
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if !valid_name {
        return None;
    }
    let quote = rest[eq + 1..]
        .chars()
        .next()
        .filter(|q| matches!(q, '"' | '\''))?;
    let quoted = &rest[eq + 2..];
    let close = quoted.find(quote)?;
    let after = &quoted[close + 1..];
    if !after.is_empty() && !after.starts_with(' ') {
        return None;
    }
    Some(Some((name, &quoted[..close], after)))
}

/// An attribute value with its character references decoded; `None` when it holds markup,
/// line breaks or a reference this module does not decode.
fn attribute_value(raw: &str) -> Option<Cow<'_, str>> {
    if raw.contains(['<', '>', '\r', '\n', '\t']) {
        return None;
    }
    if !raw.contains('&') {
        return Some(Cow::Borrowed(raw));
    }
    let mut value = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        value.push_str(&rest[..at]);
        let (c, len) = reference(&rest[at..])?;
        value.push(c);
        rest = &rest[at + len..];
    }
    value.push_str(rest);
    Some(Cow::Owned(value))
}

/// A character reference at the start of `text` and its length: the five XML names, the HTML 4
/// names and numeric references to ordinary characters, each ended by `;`. Anything else is
/// left to ammonia (HTML knows two thousand names, reads some without `;`, and maps some
/// numbers to other characters).
fn reference(text: &str) -> Option<(char, usize)> {
    let end = text.as_bytes().iter().take(12).position(|&c| c == b';')?;
    let name = &text[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        // HTML 4 names: the HTML parser knows them all, with the same meaning.
        _ if !name.starts_with('#') => char::from_u32(crate::parse::repair::html_entity(name)?)?,
        _ => {
            let digits = name.strip_prefix('#')?;
            let value = match digits.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => digits.parse().ok()?,
            };
            // Controls, and U+0080..U+009F, which HTML reads as windows-1252, go to ammonia.
            if value < 0x20 || (0x7F..=0x9F).contains(&value) {
                return None;
            }
            char::from_u32(value).filter(|&c| super::is_xml_char(c))?
        }
    };
    Some((c, end + 1))
}

/// Text (without markup or references) as the serializer writes it after the parser has read
/// it: CR LF and a lone CR become LF (the input stream's newline normalization), and every
/// character is escaped as [`push_text_char`] escapes it. A CR at the end of `text` is a lone
/// one: text stops only before `<`, `>`, `&` or the end.
fn push_text(out: &mut String, text: &str) {
    push_escaped(out, text, |c, next| match c {
        b'\r' if next == Some(b'\n') => Some(""),
        b'\r' => Some("\n"),
        c => text_escape(c),
    });
}

/// What the serializer writes for an ASCII byte of text, when not the byte itself.
fn text_escape(c: u8) -> Option<&'static str> {
    match c {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    }
}

/// Copies `s` to `out` a run of bytes at a time, writing `escape(byte, next byte)` in place of
/// each ASCII byte it replaces and `&nbsp;` in place of U+00A0, as the serializer writes it.
/// Every other character is copied as it is, without decoding it.
fn push_escaped(
    out: &mut String,
    s: &str,
    escape: impl Fn(u8, Option<u8>) -> Option<&'static str>,
) {
    let b = s.as_bytes();
    let (mut copied, mut i) = (0, 0);
    while i < b.len() {
        let next = b.get(i + 1).copied();
        // Cut only before an ASCII byte or the lead byte of U+00A0: always a character boundary.
        let replaced = match b[i] {
            0xC2 if next == Some(0xA0) => Some(("&nbsp;", 2)),
            c if c.is_ascii() => escape(c, next).map(|r| (r, 1)),
            _ => None,
        };
        match replaced {
            Some((replacement, len)) => {
                out.push_str(&s[copied..i]);
                out.push_str(replacement);
                i += len;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[copied..]);
}

/// A text character as the HTML serializer writes it (a carriage return from a character
/// reference stays one: only the input stream's line breaks are normalized).
fn push_text_char(out: &mut String, c: char) {
    push_escaped(out, c.encode_utf8(&mut [0; 4]), |c, _| text_escape(c));
}

/// Whether `name` may start inside the open elements without the tree builder moving
/// anything.
fn may_open(name: &str, open: &[&str]) -> bool {
    let parent = open.last().copied();
    let required_parent: &[&str] = match name {
        "li" => &["ul", "ol"],
        "tbody" | "thead" | "tfoot" => &["table"],
        "tr" => &["tbody", "thead", "tfoot", IMPLICIT_TBODY],
        "td" | "th" => &["tr"],
        "dt" | "dd" => &["dl"],
        _ => &[],
    };
    if !required_parent.is_empty() {
        return parent.is_some_and(|p| required_parent.contains(&p));
    }
    // Lists and table parts hold only their own children.
    if parent
        .is_some_and(|p| matches!(p, "ul" | "ol" | "dl" | "table" | "tr") || p == IMPLICIT_TBODY)
        || parent.is_some_and(|p| matches!(p, "tbody" | "thead" | "tfoot"))
    {
        return false;
    }
    if BLOCK.contains(&name) || name == "hr" {
        // Blocks only at the top or inside blocks that hold them, never inside a paragraph,
        // a heading, an inline element or a link.
        return open.iter().all(|t| HOLDS_BLOCKS.contains(t));
    }
    if name == "a" {
        return !open.contains(&"a");
    }
    true
}

/// The URL as ammonia writes it: an absolute URL as written, when its scheme is allowed; a
/// relative one resolved against the base, or as written without a base.
fn resolve(href: &str, base: Option<&Url>) -> Option<String> {
    match Url::parse(href) {
        Ok(url) => URL_SCHEMES
            .contains(&url.scheme())
            .then(|| href.to_string()),
        Err(url::ParseError::RelativeUrlWithoutBase) => match base {
            Some(base) => base.join(href).ok().map(String::from),
            None => Some(href.to_string()),
        },
        Err(_) => None,
    }
}

/// An attribute value as the HTML serializer escapes it.
fn push_attribute_value(out: &mut String, value: &str) {
    push_escaped(out, value, |c, _| match c {
        b'&' => Some("&amp;"),
        b'"' => Some("&quot;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://news.example/ru/feed?x=1").unwrap()
    }

    /// What ammonia, configured as Tributary configures it, writes for `html`.
    fn ammonia(html: &str, base: Option<&Url>) -> String {
        super::super::new_sanitizer(base).clean(html).to_string()
    }

    /// Checks the one property that makes the fast path safe: when it answers, it answers
    /// ammonia's bytes. Returns whether it answered.
    fn agrees(html: &str, base: Option<&Url>) -> bool {
        let html = super::super::strip_non_xml(html);
        match clean_simple(&html, base) {
            Some(fast) => {
                assert_eq!(
                    fast,
                    ammonia(&html, base),
                    "fragment: {html:?}, base {base:?}"
                );
                true
            }
            None => false,
        }
    }

    /// The property that makes the plain-text fast path safe: when it answers, it answers the
    /// text of the parser's tree. Returns whether it answered.
    fn text_agrees(html: &str) -> bool {
        let html = super::super::strip_non_xml(html);
        match text_simple(&html) {
            Some(fast) => {
                // Compared as `plain_text` gives them: a space that breaks text may fall on
                // either side of another, or of an element the parser closes itself.
                assert_eq!(
                    super::super::collapse_whitespace(&fast),
                    super::super::collapse_whitespace(&super::super::parsed_text(&html)),
                    "fragment: {html:?}"
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn text_of_simple_fragments_is_read_without_the_parser() {
        for html in [
            "Plain &amp; simple &lt;b&gt; &quot;q&quot; &#8212; &#x2019; Caf&eacute; &nbsp;.",
            "<p>Переговоры в Баку.</p><p>Подробнее: <a href=\"/ru/1\">здесь</a>.</p>",
            "<p>One<br>two <b>bold <i>both</i></b></p><hr/><img src='x' alt=\"a &amp; b\">",
            "<b>1<div>2</b>3</div><a>4<a>5</a></a>",
            "</p>stray</br>ends<!-- c -->here</img>",
            "line\r\nbreak\rlone\r\r\n<b>\r</b>\r&amp;\r\n1 > 0",
            "<p class=\"lead\" id='x' data-x=\"<\">attributes</p>",
            "<h2>Heading</h2>\n<dl><dt>term</dt><dd>definition</dd></dl>",
        ] {
            assert!(text_agrees(html), "not taken: {html}");
        }
        for html in [
            "<p>6<ul><li>7<li>8</ul>9",
            "<ul><li>one</ul></li>two",
            "<table><tr>moved out</tr></table>",
            "<pre>\ndropped line break</pre>",
            "<script>x = '<b>'</script>",
            "<textarea><b>raw</b></textarea>",
            "<title>t</title>",
            "<P>upper case</P>",
            "a < b",
            "AT&T",
            "&copy no semicolon",
            "&#128; windows-1252",
            "<p title=\"open>value\">x</p>",
            "<p a=\"1\"b=\"2\">x</p>",
            "<p class=lead hidden>unquoted</p>",
            "</p >",
            "<!-->",
            "<svg><title>foreign</title></svg>",
        ] {
            assert_eq!(text_simple(html), None, "{html}");
        }
    }

    #[test]
    fn generated_fragments_give_the_parsers_text() {
        const MORE: [&str; 16] = [
            "<script>",
            "</script>",
            "<textarea>",
            "<title>",
            "<P>",
            "<p title='a>b'>",
            "<b title=x>",
            "a < b",
            "&copy",
            "AT&T",
            "<select>",
            "<noscript>",
            "<pre>\n",
            "<plaintext>",
            "<dd>",
            "<h1>",
        ];
        let mut rng = Rng(0x0DDB_1A5E_5BAD_5EED);
        let (mut taken, mut total) = (0, 0);
        for _ in 0..40_000 {
            let len = 1 + rng.below(12);
            let html: String = (0..len)
                .map(|_| match rng.below(PIECES.len() + MORE.len()) {
                    n if n < PIECES.len() => PIECES[n],
                    n => MORE[n - PIECES.len()],
                })
                .collect();
            total += 1;
            taken += usize::from(text_agrees(&html));
        }
        assert!(taken > total / 10, "only {taken} of {total} taken");
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut taken, mut total) = (0, 0);
        for _ in 0..10_000 {
            let html = nested(&mut rng, 4);
            total += 1;
            taken += usize::from(text_agrees(&html));
        }
        assert!(taken > total / 10, "grammar: only {taken} of {total} taken");
    }

    #[test]
    fn simple_fragments_are_cleaned_without_ammonia() {
        let b = base();
        for html in [
            "Plain text, with &amp; and &lt;tags&gt; &quot;quoted&quot; &#8212; and &#x2019;.",
            "Caf&eacute; &mdash; &copy; 2026 &rsquo;&hellip;&euro;",
            "<p>Переговоры в Баку.</p><p>Подробнее: <a href=\"/ru/1\">здесь</a>.</p>",
            "<p>One<br>two <b>bold <i>both</i></b></p>",
            "<ul>\n<li>one</li>\n<li><p>two</p></li>\n</ul>",
            "<blockquote><p>quoted</p></blockquote>",
            "<table>\n<tr><td>a</td><td><p>b</p></td></tr>\n</table>",
            "<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>",
            "<pre><code>let x = 1;\nlet y = 2;</code></pre>",
            "<p><font size=\"2\">small</font> print</p>",
            "<a href=\"https://other.example/a?b=1&amp;c=2\">abs</a> &nbsp; a\u{a0}b > c",
            "<a href=\"mailto:desk@news.example\">desk</a>",
            "line\r\nbreak\rlone\r\r\n<b>\r</b>\r&amp;\r\n&lt;\r",
            "<ul>\r\n<li>one</li>\r\n</ul>\r\n<table>\r\n<tr><td>a</td></tr>\r</table>",
            "<pre>code\r\nmore\r</pre>",
        ] {
            assert!(agrees(html, Some(&b)), "not taken: {html}");
        }
    }

    #[test]
    fn hostile_markup_comes_out_as_ammonia_leaves_it() {
        let b = base();
        for html in [
            "<p onclick=\"x()\">p</p>",
            "<a href=\"/x\" onclick=\"y()\" title=\"t\">x</a>",
            "<span style=\"background:url(javascript:x)\">s</span>",
            "<img src=\"/i.png\" onerror=\"x()\" alt=\"a &amp; b\">",
        ] {
            assert!(agrees(html, Some(&b)), "not taken: {html}");
            let out = clean_simple(html, Some(&b)).unwrap();
            for gone in ["onclick", "onerror", "style", "javascript"] {
                assert!(!out.contains(gone), "{out}");
            }
        }
    }

    #[test]
    fn anything_unusual_goes_to_ammonia() {
        let b = base();
        for html in [
            "<script>alert(1)</script>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"data:text/html,x\">x</a>",
            "<img src=\"javascript:alert(1)\">",
            "<a href=/x>x</a>",
            "<a href=\"/x\" href=\"/y\">x</a>",
            "<p ONCLICK=\"x\">p</p>",
            "<P>upper</P>",
            "<b><p>block in inline</p></b>",
            "<p><p>nested</p></p>",
            "<p><div>div in p</div></p>",
            "<li>outside a list</li>",
            "<a href=\"/a\"><a href=\"/b\">x</a></a>",
            "<iframe src=\"/x\"></iframe>",
            "<table>x<tr><td>y</td></tr></table>",
            "<td>cell outside a table</td>",
            "a &hearts b",
            "a &NotANamedEntity; b",
            "a &#150; b",
            "a &#0; b",
            "<pre>\r\ncode</pre>",
            "<pre>\rcode</pre>",
            "<!--> x",
            "<!-- a -- b --> x",
            "<pre>\ncode</pre>",
            "x <",
        ] {
            let stripped = super::super::strip_non_xml(html);
            assert!(clean_simple(&stripped, Some(&b)).is_none(), "taken: {html}");
        }
    }

    #[test]
    fn links_are_written_as_ammonia_writes_them() {
        let b = base();
        // Absolute URLs as written (no trailing slash added), relative ones resolved.
        assert!(agrees("<a href=\"https://A.example\">x</a>", Some(&b)));
        assert!(agrees("<a href=\"../up?a=1&amp;b=2\">x</a>", Some(&b)));
        // Without a base, relative URLs stay as written.
        assert!(agrees("<a href=\"/relative\">x</a>", None));
        assert_eq!(
            clean_simple("<a href=\"../up\">x</a>", Some(&b)).as_deref(),
            Some("<a href=\"https://news.example/up\" rel=\"noopener noreferrer\">x</a>")
        );
    }

    /// A small deterministic generator (xorshift), so the test needs no extra crate.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Pieces of markup and text that random fragments are made of.
    const PIECES: [&str; 77] = [
        "\r\n",
        "\r",
        "a\r\rb",
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<td>",
        "</td>",
        "<th colspan=\"2\">",
        "<tbody>",
        "</tbody>",
        "<pre>",
        "</pre>",
        "<font color=\"red\">",
        "<p class=\"lead\">",
        "<div>",
        "</div>",
        "<div id=\"x\" style=\"c\">",
        "<img src=\"/i.png\" alt=\"a &amp; b\">",
        "<img src=\"javascript:x\">",
        "<a href=\"/x\" title=\"t &quot;q&quot; &lt;b&gt; &#160;\">",
        "<a>",
        "<a href='/q' rel=\"x\">",
        "<hr>",
        "<!-- c -->",
        "&mdash;&eacute;",
        "<!--",
        "-->",
        "<del>",
        "</del>",
        "<span lang=\"ru\">",
        "<p onclick=\"y()\">",
        "<br/>",
        "<img src=\"x.png\" width=\"10\" height=\"20\"/>",
        "<h3 id=\"h\">",
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "</font>",
        "<em>",
        "</em>",
        "<strong>",
        "</strong>",
        "<span>",
        "</span>",
        "<br>",
        "<ul>",
        "</ul>",
        "<ol>",
        "</ol>",
        "<li>",
        "</li>",
        "<blockquote>",
        "</blockquote>",
        "<h2>",
        "</h2>",
        "<a href=\"/a?b=1&amp;c=2\">",
        "<a href=\"https://x.example\">",
        "<a href=\"../up\">",
        "</a>",
        "text",
        " ",
        "\n",
        "Баку",
        "&amp;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&nbsp;",
        "&#169;",
        ">",
        "\u{a0}",
        "&#x41;",
    ];

    #[test]
    fn generated_fragments_agree_with_ammonia() {
        let b = base();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut taken, mut total) = (0, 0);
        for _ in 0..40_000 {
            let len = 1 + rng.below(12);
            let html: String = (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect();
            for base in [Some(&b), None] {
                total += 1;
                taken += usize::from(agrees(&html, base));
            }
        }
        // Most random sequences are misnested; enough are taken for the check to mean something.
        assert!(taken > 2_000, "only {taken} of {total} taken");
    }

    /// A fragment from a small grammar: mostly well nested, with any element anywhere.
    fn nested(rng: &mut Rng, depth: usize) -> String {
        const TEXT: [&str; 10] = [
            "\r\n",
            "x\ry\r",
            "Баку",
            " text ",
            "\n",
            "a &amp; b",
            "&quot;q&quot;",
            "1 &gt; 0",
            "&#8212;",
            "\u{a0}",
        ];
        const WRAP: [(&str, &str); 22] = [
            ("<p>", "</p>"),
            ("<p class=\"x\">", "</p>"),
            ("<b>", "</b>"),
            ("<em>", "</em>"),
            ("<span style=\"s\">", "</span>"),
            ("<div>", "</div>"),
            ("<blockquote>", "</blockquote>"),
            ("<h2>", "</h2>"),
            ("<pre>", "</pre>"),
            ("<code>", "</code>"),
            ("<a href=\"/x?a=1&amp;b=2\" title=\"t\">", "</a>"),
            ("<a href=\"https://y.example\">", "</a>"),
            ("<font size=\"1\">", "</font>"),
            ("<td>", "</td>"),
            ("<li>", "</li>"),
            ("<sup>", "</sup>"),
            ("<dl><dt>", "</dt></dl>"),
            ("<a href='/s?q=1' rel=\"me\" class='c'>", "</a>"),
            ("<strike>", "</strike>"),
            ("<!-- note -->", "<time datetime=\"2026\">"),
            ("<p>", ""),
            ("<li>", ""),
        ];
        if depth == 0 || rng.below(4) == 0 {
            return match rng.below(10) {
                0 => "<br>".to_string(),
                1 => "<img src=\"/i.png\" alt=\"i\">".to_string(),
                2 => "<img src=\"/j.png\"></img>".to_string(),
                3 => "<dl><dt>term</dt><dd><p>definition</p></dd></dl>".to_string(),
                4 => "<hr>".to_string(),
                _ => TEXT[rng.below(TEXT.len())].to_string(),
            };
        }
        let children = |rng: &mut Rng| -> String {
            (0..1 + rng.below(3))
                .map(|_| nested(rng, depth - 1))
                .collect()
        };
        match rng.below(12) {
            0 => {
                let items: String = (0..1 + rng.below(3))
                    .map(|_| format!("<li>{}</li>", children(rng)))
                    .collect();
                format!("<ul>{items}</ul>")
            }
            1 => {
                let rows: String = (0..1 + rng.below(2))
                    .map(|_| {
                        let cells: String = (0..1 + rng.below(2))
                            .map(|_| format!("<td>{}</td>", children(rng)))
                            .collect();
                        format!("<tr>{cells}</tr>\n")
                    })
                    .collect();
                if rng.below(2) == 0 {
                    format!("<table>\n{rows}</table>")
                } else {
                    format!("<table><tbody>{rows}</tbody></table>")
                }
            }
            _ => {
                let (open, close) = WRAP[rng.below(WRAP.len())];
                format!("{open}{}{close}", children(rng))
            }
        }
    }

    #[test]
    fn grammar_fragments_agree_with_ammonia() {
        let b = base();
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut taken, mut total) = (0, 0);
        for _ in 0..20_000 {
            let html = nested(&mut rng, 4);
            for base in [Some(&b), None] {
                total += 1;
                taken += usize::from(agrees(&html, base));
            }
        }
        println!("grammar fragments: {taken} of {total} cleaned without ammonia");
        assert!(taken > total / 10, "only {taken} of {total} taken");
    }

    #[test]
    fn corpus_fragments_agree_with_ammonia() {
        let root = std::env::var("TRIBUTARY_CORPUS").map_or_else(
            |_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
            std::path::PathBuf::from,
        );
        let Ok(manifest) = std::fs::read_to_string(root.join("MANIFEST.tsv")) else {
            eprintln!("no corpus at {}; skipped", root.display());
            return;
        };
        let b = base();
        let (mut taken, mut total) = (0, 0);
        let (mut text_taken, mut text_total) = (0, 0);
        for line in manifest.lines().skip(1) {
            let Some(path) = line.split('\t').next() else {
                continue;
            };
            let Ok(bytes) = std::fs::read(root.join(path)) else {
                continue;
            };
            let Ok(decoded) = crate::decode::decode(&bytes, None, usize::MAX) else {
                continue;
            };
            let parsed =
                std::panic::catch_unwind(|| feed_rs::parser::parse(decoded.text.as_bytes()).ok());
            let Ok(Some(feed)) = parsed else {
                continue;
            };
            for entry in &feed.entries {
                let fragments = entry
                    .summary
                    .iter()
                    .map(|t| t.content.as_str())
                    .chain(entry.content.iter().filter_map(|c| c.body.as_deref()));
                for html in fragments {
                    for base in [Some(&b), None] {
                        total += 1;
                        taken += usize::from(agrees(html, base));
                    }
                    // The text of the fragment, and of what the sanitizer keeps of it (the
                    // summaries whose excerpts are taken).
                    for text_of in [html.to_string(), super::super::sanitize_html(html, None)] {
                        text_total += 1;
                        text_taken += usize::from(text_agrees(&text_of));
                    }
                }
            }
        }
        println!("corpus fragments: {taken} of {total} cleaned without ammonia");
        println!("corpus fragments: {text_taken} of {text_total} read as text without the parser");
        assert!(total > 500 && taken > 0, "{taken} of {total}");
        assert!(text_taken > text_total / 2, "{text_taken} of {text_total}");
    }
}
