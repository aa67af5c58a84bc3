//! Repairs for feed documents that the parser would reject or silently misread.
//!
//! Tributary hands feed text to feed-rs, which is strict in ways real publishers are not: one
//! bare `&` or one HTML entity such as `&copy` fails the whole feed, an `<rss>` element without
//! a version it knows is refused, and Atom 0.3 or RSS placed in a nonstandard namespace parses
//! "successfully" with every entry gone. A user who subscribes to such a feed would otherwise get
//! an error or an empty feed. This module rewrites the text just enough for the parser to read
//! what the publisher meant, and reports each kind of repair as a warning so the feed's health
//! page can say what was wrong with the source.
//!
//! Everything here works on text that is already UTF-8 (see `crate::decode`) and runs in one
//! linear pass. A document that is already well-formed and standard comes back untouched
//! ([`Cow::Borrowed`]), byte for byte.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The text after repairs, and one human-readable warning per kind of repair made (with a count,
/// e.g. "escaped 3 bare `&` characters").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired<'a> {
    /// The repaired document; borrowed when nothing needed repair.
    pub text: Cow<'a, str>,
    /// One line per kind of repair, for the feed's warnings.
    pub warnings: Vec<String>,
    /// Whether a repair mended text that was not well-formed (an XML parser must refuse it),
    /// as opposed to reading a well-formed document in an older or nonstandard form (Atom 0.3,
    /// `<rss>` without a version). Both are warned about; only the first means the publisher
    /// sends broken XML.
    pub ill_formed: bool,
}

impl<'a> Repaired<'a> {
    fn unchanged(text: &'a str) -> Self {
        Repaired {
            text: Cow::Borrowed(text),
            warnings: Vec::new(),
            ill_formed: false,
        }
    }

    /// Whether any repair was made.
    pub fn is_changed(&self) -> bool {
        matches!(self.text, Cow::Owned(_))
    }

    /// The same result, no longer borrowing the input.
    pub fn into_owned(self) -> Repaired<'static> {
        Repaired {
            text: Cow::Owned(self.text.into_owned()),
            warnings: self.warnings,
            ill_formed: self.ill_formed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Namespaces

const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";
const ATOM03_NS: &str = "http://purl.org/atom/ns#";
const RSS10_NS: &str = "http://purl.org/rss/1.0/";
const RSS090_NS: [&str; 2] = [
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
];
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
const XHTML_DIV_OPEN: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";

/// The namespaces the repairs care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace (no default declared, or `xmlns=""`).
    None,
    Atom10,
    Atom03,
    Rss10,
    Rss090,
    Other,
}

fn classify_ns(uri: &str) -> Ns {
    match uri.trim() {
        "" => Ns::None,
        ATOM10_NS => Ns::Atom10,
        ATOM03_NS => Ns::Atom03,
        RSS10_NS => Ns::Rss10,
        u if RSS090_NS.contains(&u) => Ns::Rss090,
        _ => Ns::Other,
    }
}

/// The kind of document, decided by its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doc {
    Rss,
    Rdf,
    Atom10,
    Atom03,
    Other,
}

// ---------------------------------------------------------------------------------------------
// Warnings

/// Each kind of repair; one warning line per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    Prolog,
    BareAmp,
    HtmlEntity,
    LegacyEntity,
    UnknownEntity,
    BadCharRef,
    MalformedCharRef,
    BareLt,
    RssVersion,
    RssNamespace,
    Rss090Namespace,
    RdfLink,
    RssChannel,
    Atom03,
    AtomTextType,
    EndTagCase,
    UnclosedElement,
    StrayEndTag,
    UndeclaredPrefix,
    C1Control,
    DoubleEncodedRefs,
    AtomLinkText,
}

const FIX_KINDS: usize = 22;

#[derive(Debug, Default)]
struct Tally {
    counts: [usize; FIX_KINDS],
    rss_version_was: Option<String>,
    rss_namespace_was: Option<String>,
}

impl Tally {
    fn add(&mut self, fix: Fix, n: usize) {
        self.counts[fix as usize] += n;
    }

    /// Whether any repair mended XML that was not well-formed. The other kinds read a
    /// well-formed document written in an older or nonstandard form.
    fn ill_formed(&self) -> bool {
        const FORMAT: [Fix; 10] = [
            Fix::AtomLinkText,
            Fix::C1Control,
            Fix::DoubleEncodedRefs,
            Fix::RssVersion,
            Fix::RssNamespace,
            Fix::Rss090Namespace,
            Fix::RdfLink,
            Fix::RssChannel,
            Fix::Atom03,
            Fix::AtomTextType,
        ];
        self.counts
            .iter()
            .enumerate()
            .any(|(i, &n)| n > 0 && !FORMAT.iter().any(|f| *f as usize == i))
    }

    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, &n) in self.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            out.push(match i {
                x if x == Fix::Prolog as usize => {
                    format!("removed {n} bytes of junk before the XML declaration or root element")
                }
                x if x == Fix::BareAmp as usize => format!("escaped {n} bare `&` characters"),
                x if x == Fix::HtmlEntity as usize => format!(
                    "replaced {n} HTML entity references XML does not define (such as `&nbsp;`) \
                     with numeric character references"
                ),
                x if x == Fix::LegacyEntity as usize => format!(
                    "replaced {n} HTML entities written without `;` (such as `&copy`) with \
                     character references"
                ),
                x if x == Fix::UnknownEntity as usize => {
                    format!("escaped {n} references to entities that are defined nowhere")
                }
                x if x == Fix::BadCharRef as usize => {
                    format!("removed {n} character references to characters XML does not allow")
                }
                x if x == Fix::MalformedCharRef as usize => {
                    format!("corrected {n} malformed numeric character references")
                }
                x if x == Fix::BareLt as usize => format!("escaped {n} bare `<` characters"),
                x if x == Fix::RssVersion as usize => format!(
                    "set the RSS version to 2.0 (it was {})",
                    self.rss_version_was.as_deref().unwrap_or("missing")
                ),
                x if x == Fix::RssNamespace as usize => format!(
                    "removed the nonstandard default namespace `{}` from <rss>",
                    self.rss_namespace_was.as_deref().unwrap_or("")
                ),
                x if x == Fix::Rss090Namespace as usize => {
                    "read the RSS 0.90 namespace as RSS 1.0".to_string()
                }
                x if x == Fix::RdfLink as usize => {
                    format!("gave {n} RSS 1.0 items without <link> their rdf:about as link")
                }
                x if x == Fix::RssChannel as usize => {
                    "read an <rss> without <channel> as if its content were in one".to_string()
                }
                x if x == Fix::Atom03 as usize => format!(
                    "converted Atom 0.3 to Atom 1.0 ({n} elements and attributes rewritten)"
                ),
                x if x == Fix::AtomTextType as usize => {
                    format!("corrected the type of {n} Atom text elements")
                }
                x if x == Fix::EndTagCase as usize => {
                    format!("corrected the letter case of {n} end tags")
                }
                x if x == Fix::UnclosedElement as usize => {
                    format!("closed {n} elements left open inside others (often unescaped HTML)")
                }
                x if x == Fix::StrayEndTag as usize => {
                    format!("removed {n} end tags that closed no open element")
                }
                x if x == Fix::AtomLinkText as usize => {
                    format!("read {n} Atom links that give their URL as text instead of `href`")
                }
                x if x == Fix::UndeclaredPrefix as usize => {
                    format!("{n} element or attribute names use a namespace prefix never declared")
                }
                x if x == Fix::C1Control as usize => format!(
                    "read {n} C1 control characters (U+0080 to U+009F) as the windows-1252 \
                     characters they stand for, such as ’ for U+0092"
                ),
                x if x == Fix::DoubleEncodedRefs as usize => format!(
                    "decoded {n} runs of character references that spell UTF-8 bytes \
                     (such as `&#226;&#128;&#166;` for …)"
                ),
                _ => continue,
            });
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Edits

/// Replace `start..end` of the input with `text` (an insertion when `start == end`).
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: Cow<'static, str>,
}

/// Applies edits in document order. An edit that starts inside a span an earlier edit replaced
/// is dropped (an element deleted as a whole takes its inner repairs with it).
fn apply_edits(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| (e.start, e.end > e.start, Reverse(e.end)));
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut cursor = 0;
    for e in edits {
        if e.start < cursor {
            continue;
        }
        out.push_str(&text[cursor..e.start]);
        out.push_str(&e.text);
        cursor = e.end;
    }
    out.push_str(&text[cursor..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Lexer: splits a document into markup and text without judging it.

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn of(self, text: &str) -> &str {
        &text[self.start..self.end]
    }
}

#[derive(Debug)]
struct Attr {
    /// From the whitespace before the name to the end of the value (what deleting it removes).
    full: Span,
    name: Span,
    /// The value between its quotes (or the bare value when unquoted).
    value: Option<Span>,
}

#[derive(Debug)]
struct StartTag {
    start: usize,
    end: usize,
    name: Span,
    attrs: Vec<Attr>,
    self_closing: bool,
    /// Position of the `/>` or `>` that ends the tag.
    close: usize,
}

impl StartTag {
    fn attr<'t>(&self, text: &'t str, name: &str) -> Option<(&Attr, &'t str)> {
        self.attrs.iter().find_map(|a| {
            (a.name.of(text) == name).then(|| (a, a.value.map_or("", |v| v.of(text))))
        })
    }
}

#[derive(Debug)]
struct EndTag {
    start: usize,
    end: usize,
    name: Span,
}

#[derive(Debug)]
enum Token {
    Text(Span),
    Start(StartTag),
    End(EndTag),
    Comment,
    CData(Span),
    /// A processing instruction or XML declaration.
    Pi(Span),
    Doctype(Span),
    /// A `<` that starts no markup.
    StrayLt(usize),
    /// Markup cut off by the end of the document.
    Unterminated,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_char(b: u8) -> bool {
    is_name_start(b) || b.is_ascii_digit() || b == b'-' || b == b'.'
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

struct Lexer<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, pos: usize) -> Self {
        Lexer {
            text,
            b: text.as_bytes(),
            pos,
        }
    }

    fn find_from(&self, from: usize, pat: &str) -> Option<usize> {
        self.text.get(from..)?.find(pat).map(|i| from + i)
    }

    fn next_token(&mut self) -> Option<Token> {
        let b = self.b;
        let start = self.pos;
        if start >= b.len() {
            return None;
        }
        if b[start] != b'<' {
            let end = memchr::memchr(b'<', &b[start..]).map_or(b.len(), |i| start + i);
            self.pos = end;
            return Some(Token::Text(Span { start, end }));
        }
        let rest = &b[start..];
        let (token, end) = if rest.starts_with(b"<!--") {
            match self.find_from(start + 4, "-->") {
                Some(i) => (Token::Comment, i + 3),
                None => return self.unterminated(),
            }
        } else if rest.starts_with(b"<![CDATA[") {
            match self.find_from(start + 9, "]]>") {
                Some(i) => (Token::CData(Span { start, end: i + 3 }), i + 3),
                None => return self.unterminated(),
            }
        } else if rest.starts_with(b"<!") {
            match self.declaration_end(start + 2) {
                Some(end) => (Token::Doctype(Span { start, end }), end),
                None => return self.unterminated(),
            }
        } else if rest.starts_with(b"<?") {
            match self.find_from(start + 2, "?>") {
                Some(i) => (Token::Pi(Span { start, end: i + 2 }), i + 2),
                None => return self.unterminated(),
            }
        } else if rest.len() > 2 && rest[1] == b'/' && is_name_start(rest[2]) {
            let name_end = self.name_end(start + 2);
            match memchr::memchr(b'>', &b[name_end..]) {
                Some(i) => {
                    let end = name_end + i + 1;
                    let name = Span {
                        start: start + 2,
                        end: name_end,
                    };
                    (Token::End(EndTag { start, end, name }), end)
                }
                None => return self.unterminated(),
            }
        } else if rest.len() > 1 && is_name_start(rest[1]) {
            match self.start_tag(start) {
                Some(tag) => {
                    let end = tag.end;
                    (Token::Start(tag), end)
                }
                None => return self.unterminated(),
            }
        } else if rest.len() == 1 || (rest.len() == 2 && rest[1] == b'/') {
            // A `<` or `</` at the very end: the document was cut off.
            return self.unterminated();
        } else {
            (Token::StrayLt(start), start + 1)
        };
        self.pos = end;
        Some(token)
    }

    fn unterminated(&mut self) -> Option<Token> {
        self.pos = self.b.len();
        Some(Token::Unterminated)
    }

    fn name_end(&self, mut i: usize) -> usize {
        while i < self.b.len() && is_name_char(self.b[i]) {
            i += 1;
        }
        i
    }

    /// End of a `<!…>` declaration such as DOCTYPE, skipping quoted strings and the internal
    /// subset in brackets.
    fn declaration_end(&self, mut i: usize) -> Option<usize> {
        let b = self.b;
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                q @ (b'"' | b'\'') => {
                    i += 1 + b[i + 1..].iter().position(|&c| c == q)?;
                }
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'<' if b[i..].starts_with(b"<!--") => {
                    i = self.find_from(i + 4, "-->")? + 2;
                }
                b'>' if depth == 0 => return Some(i + 1),
                _ => {}
            }
            i += 1;
        }
        None
    }

    fn start_tag(&self, start: usize) -> Option<StartTag> {
        let b = self.b;
        let name = Span {
            start: start + 1,
            end: self.name_end(start + 1),
        };
        let mut attrs = Vec::new();
        let mut i = name.end;
        loop {
            let ws_start = i;
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            let c = *b.get(i)?;
            if c == b'>' {
                return Some(StartTag {
                    start,
                    end: i + 1,
                    name,
                    attrs,
                    self_closing: false,
                    close: i,
                });
            }
            if c == b'/' && b.get(i + 1) == Some(&b'>') {
                return Some(StartTag {
                    start,
                    end: i + 2,
                    name,
                    attrs,
                    self_closing: true,
                    close: i,
                });
            }
            if !is_name_start(c) {
                // Junk inside a tag: step over it, as lenient readers do.
                i += 1;
                continue;
            }
            let attr_name = Span {
                start: i,
                end: self.name_end(i),
            };
            let mut j = attr_name.end;
            while j < b.len() && is_space(b[j]) {
                j += 1;
            }
            let mut value = None;
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && is_space(b[j]) {
                    j += 1;
                }
                match *b.get(j)? {
                    q @ (b'"' | b'\'') => {
                        let close = j + 1 + b[j + 1..].iter().position(|&c| c == q)?;
                        value = Some(Span {
                            start: j + 1,
                            end: close,
                        });
                        j = close + 1;
                    }
                    _ => {
                        let v_end = b[j..]
                            .iter()
                            .position(|&c| is_space(c) || c == b'>')
                            .map_or(b.len(), |k| j + k);
                        value = Some(Span {
                            start: j,
                            end: v_end,
                        });
                        j = v_end;
                    }
                }
            } else {
                j = attr_name.end;
            }
            attrs.push(Attr {
                full: Span {
                    start: ws_start,
                    end: j,
                },
                name: attr_name,
                value,
            });
            i = j;
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.next_token()
    }
}

fn local_name(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

fn prefix_of(qname: &str) -> &str {
    qname.rfind(':').map_or("", |i| &qname[..i])
}

fn is_root_name(qname: &str) -> bool {
    matches!(local_name(qname), "rss" | "feed" | "RDF" | "entry")
}

// ---------------------------------------------------------------------------------------------
// Entities and character references

/// The HTML 4.01 character entities (HTMLlat1, HTMLsymbol, HTMLspecial): name and code point.
const HTML4_ENTITIES: [(&str, u32); 252] = [
    // HTMLlat1: ISO 8859-1
    ("nbsp", 160),
    ("iexcl", 161),
    ("cent", 162),
    ("pound", 163),
    ("curren", 164),
    ("yen", 165),
    ("brvbar", 166),
    ("sect", 167),
    ("uml", 168),
    ("copy", 169),
    ("ordf", 170),
    ("laquo", 171),
    ("not", 172),
    ("shy", 173),
    ("reg", 174),
    ("macr", 175),
    ("deg", 176),
    ("plusmn", 177),
    ("sup2", 178),
    ("sup3", 179),
    ("acute", 180),
    ("micro", 181),
    ("para", 182),
    ("middot", 183),
    ("cedil", 184),
    ("sup1", 185),
    ("ordm", 186),
    ("raquo", 187),
    ("frac14", 188),
    ("frac12", 189),
    ("frac34", 190),
    ("iquest", 191),
    ("Agrave", 192),
    ("Aacute", 193),
    ("Acirc", 194),
    ("Atilde", 195),
    ("Auml", 196),
    ("Aring", 197),
    ("AElig", 198),
    ("Ccedil", 199),
    ("Egrave", 200),
    ("Eacute", 201),
    ("Ecirc", 202),
    ("Euml", 203),
    ("Igrave", 204),
    ("Iacute", 205),
    ("Icirc", 206),
    ("Iuml", 207),
    ("ETH", 208),
    ("Ntilde", 209),
    ("Ograve", 210),
    ("Oacute", 211),
    ("Ocirc", 212),
    ("Otilde", 213),
    ("Ouml", 214),
    ("times", 215),
    ("Oslash", 216),
    ("Ugrave", 217),
    ("Uacute", 218),
    ("Ucirc", 219),
    ("Uuml", 220),
    ("Yacute", 221),
    ("THORN", 222),
    ("szlig", 223),
    ("agrave", 224),
    ("aacute", 225),
    ("acirc", 226),
    ("atilde", 227),
    ("auml", 228),
    ("aring", 229),
    ("aelig", 230),
    ("ccedil", 231),
    ("egrave", 232),
    ("eacute", 233),
    ("ecirc", 234),
    ("euml", 235),
    ("igrave", 236),
    ("iacute", 237),
    ("icirc", 238),
    ("iuml", 239),
    ("eth", 240),
    ("ntilde", 241),
    ("ograve", 242),
    ("oacute", 243),
    ("ocirc", 244),
    ("otilde", 245),
    ("ouml", 246),
    ("divide", 247),
    ("oslash", 248),
    ("ugrave", 249),
    ("uacute", 250),
    ("ucirc", 251),
    ("uuml", 252),
    ("yacute", 253),
    ("thorn", 254),
    ("yuml", 255),
    // HTMLsymbol: Latin Extended-B
    ("fnof", 402),
    // Greek
    ("Alpha", 913),
    ("Beta", 914),
    ("Gamma", 915),
    ("Delta", 916),
    ("Epsilon", 917),
    ("Zeta", 918),
    ("Eta", 919),
    ("Theta", 920),
    ("Iota", 921),
    ("Kappa", 922),
    ("Lambda", 923),
    ("Mu", 924),
    ("Nu", 925),
    ("Xi", 926),
    ("Omicron", 927),
    ("Pi", 928),
    ("Rho", 929),
    ("Sigma", 931),
    ("Tau", 932),
    ("Upsilon", 933),
    ("Phi", 934),
    ("Chi", 935),
    ("Psi", 936),
    ("Omega", 937),
    ("alpha", 945),
    ("beta", 946),
    ("gamma", 947),
    ("delta", 948),
    ("epsilon", 949),
    ("zeta", 950),
    ("eta", 951),
    ("theta", 952),
    ("iota", 953),
    ("kappa", 954),
    ("lambda", 955),
    ("mu", 956),
    ("nu", 957),
    ("xi", 958),
    ("omicron", 959),
    ("pi", 960),
    ("rho", 961),
    ("sigmaf", 962),
    ("sigma", 963),
    ("tau", 964),
    ("upsilon", 965),
    ("phi", 966),
    ("chi", 967),
    ("psi", 968),
    ("omega", 969),
    ("thetasym", 977),
    ("upsih", 978),
    ("piv", 982),
    // General punctuation
    ("bull", 8226),
    ("hellip", 8230),
    ("prime", 8242),
    ("Prime", 8243),
    ("oline", 8254),
    ("frasl", 8260),
    // Letterlike symbols
    ("weierp", 8472),
    ("image", 8465),
    ("real", 8476),
    ("trade", 8482),
    ("alefsym", 8501),
    // Arrows
    ("larr", 8592),
    ("uarr", 8593),
    ("rarr", 8594),
    ("darr", 8595),
    ("harr", 8596),
    ("crarr", 8629),
    ("lArr", 8656),
    ("uArr", 8657),
    ("rArr", 8658),
    ("dArr", 8659),
    ("hArr", 8660),
    // Mathematical operators
    ("forall", 8704),
    ("part", 8706),
    ("exist", 8707),
    ("empty", 8709),
    ("nabla", 8711),
    ("isin", 8712),
    ("notin", 8713),
    ("ni", 8715),
    ("prod", 8719),
    ("sum", 8721),
    ("minus", 8722),
    ("lowast", 8727),
    ("radic", 8730),
    ("prop", 8733),
    ("infin", 8734),
    ("ang", 8736),
    ("and", 8743),
    ("or", 8744),
    ("cap", 8745),
    ("cup", 8746),
    ("int", 8747),
    ("there4", 8756),
    ("sim", 8764),
    ("cong", 8773),
    ("asymp", 8776),
    ("ne", 8800),
    ("equiv", 8801),
    ("le", 8804),
    ("ge", 8805),
    ("sub", 8834),
    ("sup", 8835),
    ("nsub", 8836),
    ("sube", 8838),
    ("supe", 8839),
    ("oplus", 8853),
    ("otimes", 8855),
    ("perp", 8869),
    ("sdot", 8901),
    // Miscellaneous technical
    ("lceil", 8968),
    ("rceil", 8969),
    ("lfloor", 8970),
    ("rfloor", 8971),
    ("lang", 9001),
    ("rang", 9002),
    // Geometric shapes
    ("loz", 9674),
    // Miscellaneous symbols
    ("spades", 9824),
    ("clubs", 9827),
    ("hearts", 9829),
    ("diams", 9830),
    // HTMLspecial: C0 controls and Basic Latin
    ("quot", 34),
    ("amp", 38),
    ("lt", 60),
    ("gt", 62),
    // Latin Extended-A
    ("OElig", 338),
    ("oelig", 339),
    ("Scaron", 352),
    ("scaron", 353),
    ("Yuml", 376),
    // Spacing modifier letters
    ("circ", 710),
    ("tilde", 732),
    // General punctuation
    ("ensp", 8194),
    ("emsp", 8195),
    ("thinsp", 8201),
    ("zwnj", 8204),
    ("zwj", 8205),
    ("lrm", 8206),
    ("rlm", 8207),
    ("ndash", 8211),
    ("mdash", 8212),
    ("lsquo", 8216),
    ("rsquo", 8217),
    ("sbquo", 8218),
    ("ldquo", 8220),
    ("rdquo", 8221),
    ("bdquo", 8222),
    ("dagger", 8224),
    ("Dagger", 8225),
    ("permil", 8240),
    ("lsaquo", 8249),
    ("rsaquo", 8250),
    ("euro", 8364),
];

/// The code point of an HTML 4 named character reference (`eacute`, `mdash`, …).
pub(crate) fn html_entity(name: &str) -> Option<u32> {
    static TABLE: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    TABLE
        .get_or_init(|| HTML4_ENTITIES.iter().copied().collect())
        .get(name)
        .copied()
}

/// The entities XML itself defines.
fn is_xml_entity(name: &str) -> bool {
    matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
}

/// HTML readers accept these without the closing `;` (the ISO 8859-1 set and the XML four).
fn legacy_entity(name: &str) -> Option<u32> {
    html_entity(name).filter(|&cp| (160..=255).contains(&cp) || matches!(cp, 34 | 38 | 60 | 62))
}

/// The reference to write for a code point: XML's own entity for the markup characters.
fn char_ref(cp: u32) -> Cow<'static, str> {
    match cp {
        38 => Cow::Borrowed("&amp;"),
        60 => Cow::Borrowed("&lt;"),
        62 => Cow::Borrowed("&gt;"),
        34 => Cow::Borrowed("&quot;"),
        _ => Cow::Owned(format!("&#{cp};")),
    }
}

fn is_xml_char(cp: u64) -> bool {
    matches!(cp, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

struct NumRef {
    value: u64,
    hex: bool,
    upper_x: bool,
    terminated: bool,
    end: usize,
}

/// Parses `&#…` at `i` (the `&`), reading no further than `end`.
fn parse_num_ref(b: &[u8], i: usize, end: usize) -> Option<NumRef> {
    if i + 1 >= end || b[i] != b'&' || b[i + 1] != b'#' {
        return None;
    }
    let mut j = i + 2;
    let (hex, upper_x) = match b.get(j) {
        Some(b'x') if j < end => (true, false),
        Some(b'X') if j < end => (true, true),
        _ => (false, false),
    };
    if hex {
        j += 1;
    }
    let digits_start = j;
    while j < end
        && (if hex {
            b[j].is_ascii_hexdigit()
        } else {
            b[j].is_ascii_digit()
        })
    {
        j += 1;
    }
    if j == digits_start {
        return None;
    }
    let digits = std::str::from_utf8(&b[digits_start..j]).ok()?;
    // More digits than any code point needs: out of range, whatever the value.
    let value = if digits.trim_start_matches('0').len() > 8 {
        u64::MAX
    } else {
        u64::from_str_radix(digits, if hex { 16 } else { 10 }).unwrap_or(u64::MAX)
    };
    let terminated = j < end && b[j] == b';';
    Some(NumRef {
        value,
        hex,
        upper_x,
        terminated,
        end: j + usize::from(terminated),
    })
}

/// Finds `&` problems in `start..end` (text or an attribute value) and records the edits.
fn fix_references(
    text: &str,
    start: usize,
    end: usize,
    declared: &HashSet<&str>,
    edits: &mut Vec<Edit>,
    tally: &mut Tally,
) {
    let b = text.as_bytes();
    let mut i = start;
    while let Some(off) = memchr::memchr(b'&', &b[i..end]) {
        i += off;
        // XML's own references, by far the most common (escaped HTML is full of them), need
        // nothing; nor do they start a double-encoded run, which is made of non-ASCII values.
        if let Some(len) = xml_entity_len(b, i, end) {
            i += len;
            continue;
        }
        if let Some(run) = double_encoded_run(text, i, end, declared) {
            edits.push(Edit {
                start: i,
                end: run.end,
                text: Cow::Owned(run.decoded),
            });
            tally.add(Fix::DoubleEncodedRefs, 1);
            tally.add(Fix::HtmlEntity, run.named);
            i = run.end;
            continue;
        }
        if b.get(i + 1) == Some(&b'#') && i + 1 < end {
            if let Some(r) = parse_num_ref(b, i, end) {
                i = fix_num_ref(b, i, end, r, edits, tally);
                continue;
            }
        } else {
            let j = entity_name_end(b, i + 1, end);
            if j > i + 1 && j < end && b[j] == b';' {
                let name = &text[i + 1..j];
                if !is_xml_entity(name) && !declared.contains(name) {
                    if let Some(cp) = html_entity(name) {
                        edits.push(Edit {
                            start: i,
                            end: j + 1,
                            text: char_ref(cp),
                        });
                        tally.add(Fix::HtmlEntity, 1);
                    } else {
                        edits.push(Edit {
                            start: i + 1,
                            end: i + 1,
                            text: Cow::Borrowed("amp;"),
                        });
                        tally.add(Fix::UnknownEntity, 1);
                    }
                }
                i = j + 1;
                continue;
            }
            let mut k = i + 1;
            while k < end && b[k].is_ascii_alphanumeric() {
                k += 1;
            }
            let next = if k < end { Some(b[k]) } else { None };
            let ambiguous =
                matches!(next, Some(b'=' | b';' | b'_')) || next.is_some_and(|c| c >= 0x80);
            if k > i + 1
                && !ambiguous
                && let Some(cp) = legacy_entity(&text[i + 1..k])
            {
                edits.push(Edit {
                    start: i,
                    end: k,
                    text: char_ref(cp),
                });
                tally.add(Fix::LegacyEntity, 1);
                i = k;
                continue;
            }
        }
        edits.push(Edit {
            start: i + 1,
            end: i + 1,
            text: Cow::Borrowed("amp;"),
        });
        tally.add(Fix::BareAmp, 1);
        i += 1;
    }
}

/// The length of the reference at `at` (an `&`), when it is one of XML's own entities,
/// reading no further than `end`.
fn xml_entity_len(b: &[u8], at: usize, end: usize) -> Option<usize> {
    let j = entity_name_end(b, at + 1, end);
    let named = std::str::from_utf8(&b[at + 1..j]).is_ok_and(is_xml_entity);
    (named && j < end && b[j] == b';').then_some(j + 1 - at)
}

/// Where the entity name starting at `from` ends (`from` itself when there is none), reading
/// no further than `end`.
fn entity_name_end(b: &[u8], from: usize, end: usize) -> usize {
    let mut j = from;
    if j < end && is_name_start(b[j]) {
        while j < end && is_name_char(b[j]) {
            j += 1;
        }
    }
    j
}

/// A run of adjacent character references spelling UTF-8 bytes, decoded.
struct RefRun {
    end: usize,
    decoded: String,
    /// How many of the references were HTML entity names XML does not define.
    named: usize,
}

/// Two or more adjacent references at `i` whose values, read as bytes, are valid UTF-8:
/// `&#226;&#128;&#166;` is "…" encoded as UTF-8, read as Latin-1 and escaped. Only runs with a
/// value in U+0080..U+009F count: those are C1 controls, never meant as text, so the reading is
/// unambiguous, while `&#195;&#169;` ("Ã©") may be what the publisher meant and stays.
fn double_encoded_run(
    text: &str,
    i: usize,
    end: usize,
    declared: &HashSet<&str>,
) -> Option<RefRun> {
    /// References looked at from one `&`: keeps the scan linear on a megabyte of them.
    const MAX_RUN: usize = 64;
    let b = text.as_bytes();
    let mut at = i;
    let mut bytes = Vec::new();
    // Where each reference ends, and whether it was an HTML entity name.
    let mut ends = Vec::new();
    while at < end && b[at] == b'&' && bytes.len() < MAX_RUN {
        let (value, next, is_named) = if b.get(at + 1) == Some(&b'#') {
            match parse_num_ref(b, at, end) {
                Some(r) if r.terminated => (r.value, r.end, false),
                _ => break,
            }
        } else {
            let j = entity_name_end(b, at + 1, end);
            let name = &text[at + 1..j];
            // The XML names stand for ASCII characters; checked first, as they are by far the
            // most common references.
            if j == at + 1
                || j >= end
                || b[j] != b';'
                || is_xml_entity(name)
                || declared.contains(name)
            {
                break;
            }
            match html_entity(&text[at + 1..j]) {
                Some(cp) => (u64::from(cp), j + 1, true),
                None => break,
            }
        };
        let Ok(byte @ 0x80..=0xFF) = u8::try_from(value) else {
            break;
        };
        bytes.push(byte);
        ends.push((next, is_named));
        at = next;
    }
    // The longest start of the run that is whole UTF-8 characters.
    let valid = match std::str::from_utf8(&bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    bytes.truncate(valid);
    if bytes.len() < 2 || !bytes.iter().any(|b| (0x80..=0x9F).contains(b)) {
        return None;
    }
    let named = ends[..valid].iter().filter(|(_, n)| *n).count();
    // Every byte is 0x80 or above, so the decoded text holds no markup character.
    let decoded = String::from_utf8(bytes).ok()?;
    Some(RefRun {
        end: ends[valid - 1].0,
        decoded,
        named,
    })
}

/// The windows-1252 character a C1 control (U+0080..U+009F) stands for, when there is one.
fn windows_1252_char(c1: u8) -> Option<char> {
    let byte = [c1];
    let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
    decoded
        .chars()
        .next()
        .filter(|&c| u32::from(c) != u32::from(c1))
}

/// Raw C1 controls (U+0080..U+009F) in `span`: windows-1252 bytes that passed through a Latin-1
/// decoder upstream ("don\u{92}t"). Each becomes the character it stands for (’).
fn fix_c1_controls(text: &str, span: Span, edits: &mut Vec<Edit>, tally: &mut Tally) {
    let region = &text.as_bytes()[span.start..span.end];
    let mut from = 0;
    // In UTF-8, U+0080..U+009F are 0xC2 0x80..=0x9F.
    while let Some(off) = memchr::memchr(0xC2, &region[from..]) {
        let at = from + off;
        if let Some(&low @ 0x80..=0x9F) = region.get(at + 1)
            && let Some(c) = windows_1252_char(low)
        {
            edits.push(Edit {
                start: span.start + at,
                end: span.start + at + 2,
                text: Cow::Owned(c.to_string()),
            });
            tally.add(Fix::C1Control, 1);
        }
        from = at + 1;
    }
}

/// Repairs one numeric reference; returns where scanning resumes.
fn fix_num_ref(
    b: &[u8],
    i: usize,
    end: usize,
    r: NumRef,
    edits: &mut Vec<Edit>,
    tally: &mut Tally,
) -> usize {
    if let Ok(c1 @ 0x80..=0x9F) = u8::try_from(r.value)
        && let Some(c) = windows_1252_char(c1)
    {
        // `&#146;`: a windows-1252 byte written as if it were a code point (HTML reads it so).
        edits.push(Edit {
            start: i,
            end: r.end,
            text: Cow::Owned(c.to_string()),
        });
        tally.add(Fix::C1Control, 1);
        if !r.terminated {
            tally.add(Fix::MalformedCharRef, 1);
        }
        return r.end;
    }
    if is_xml_char(r.value) {
        if !r.terminated || r.upper_x {
            let text = if r.hex {
                format!("&#x{:X};", r.value)
            } else {
                format!("&#{};", r.value)
            };
            edits.push(Edit {
                start: i,
                end: r.end,
                text: Cow::Owned(text),
            });
            tally.add(Fix::MalformedCharRef, 1);
        }
        return r.end;
    }
    // A UTF-16 surrogate pair written as two references.
    if (0xD800..=0xDBFF).contains(&r.value)
        && let Some(low) = parse_num_ref(b, r.end, end)
        && (0xDC00..=0xDFFF).contains(&low.value)
    {
        let cp = 0x10000 + ((r.value - 0xD800) << 10) + (low.value - 0xDC00);
        edits.push(Edit {
            start: i,
            end: low.end,
            text: Cow::Owned(format!("&#x{cp:X};")),
        });
        tally.add(Fix::MalformedCharRef, 1);
        return low.end;
    }
    edits.push(Edit {
        start: i,
        end: r.end,
        text: Cow::Borrowed(""),
    });
    tally.add(Fix::BadCharRef, 1);
    r.end
}

/// Decodes the XML escapes of an attribute value (XML and HTML entities, numeric references).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // References are short: looking further than this for the `;` would make a value
        // full of `&` quadratic.
        let semicolon = rest.bytes().take(34).position(|c| c == b';');
        let decoded = semicolon.filter(|&j| j > 1).and_then(|j| {
            let name = &rest[1..j];
            let cp = if let Some(num) = name.strip_prefix('#') {
                match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                }
            } else {
                match name {
                    "apos" => Some(39),
                    _ => html_entity(name),
                }
            };
            cp.and_then(char::from_u32).map(|c| (c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_xml_char(u64::from(c)) => out.push(c),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Base64

/// Decodes standard base64 (whitespace ignored, padding optional); `None` for anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut padding = 0;
    let mut symbols = 0usize;
    for &c in s.as_bytes() {
        if is_space(c) {
            continue;
        }
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | value(c)?;
        bits += 6;
        symbols += 1;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if symbols == 0 || symbols % 4 == 1 || padding > 2 {
        return None;
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// The prolog: everything before the root element

struct Prolog<'a> {
    root: usize,
    declared: HashSet<&'a str>,
}

/// Finds the feed's root element and removes junk before it (whitespace before the XML
/// declaration, server warnings, stray HTML). `None` when the document has no feed root.
fn scan_prolog<'a>(text: &'a str, edits: &mut Vec<Edit>, tally: &mut Tally) -> Option<Prolog<'a>> {
    let mut decl = None;
    let mut junk: Vec<Span> = Vec::new();
    let mut declared = HashSet::new();
    let mut root = None;
    for token in Lexer::new(text, 0) {
        match token {
            Token::Text(s) => {
                if !s.of(text).bytes().all(is_space) {
                    junk.push(s);
                }
            }
            Token::Pi(s) => {
                let is_decl = s.of(text).starts_with("<?xml")
                    && s.of(text)
                        .as_bytes()
                        .get(5)
                        .is_some_and(|&c| is_space(c) || c == b'?');
                if is_decl {
                    if decl.is_none() {
                        decl = Some(s.start);
                    } else {
                        junk.push(s);
                    }
                }
            }
            Token::Doctype(s) => collect_entity_declarations(s.of(text), &mut declared),
            Token::Comment => {}
            Token::CData(s) => junk.push(s),
            Token::Start(tag) => {
                if is_root_name(tag.name.of(text)) {
                    root = Some(tag.start);
                    break;
                }
                junk.push(Span {
                    start: tag.start,
                    end: tag.end,
                });
            }
            Token::End(tag) => junk.push(Span {
                start: tag.start,
                end: tag.end,
            }),
            Token::StrayLt(p) => junk.push(Span {
                start: p,
                end: p + 1,
            }),
            Token::Unterminated => break,
        }
    }
    let root = root?;
    let mut keep_from = 0;
    if let Some(d) = decl.filter(|&d| d > 0) {
        edits.push(Edit {
            start: 0,
            end: d,
            text: Cow::Borrowed(""),
        });
        tally.add(Fix::Prolog, d);
        keep_from = d;
    }
    for s in junk.into_iter().filter(|s| s.start >= keep_from) {
        edits.push(Edit {
            start: s.start,
            end: s.end,
            text: Cow::Borrowed(""),
        });
        tally.add(Fix::Prolog, s.end - s.start);
    }
    Some(Prolog { root, declared })
}

/// The general entities a DOCTYPE's internal subset declares (`<!ENTITY name …>`).
fn collect_entity_declarations<'a>(doctype: &'a str, declared: &mut HashSet<&'a str>) {
    let mut rest = doctype;
    while let Some(i) = rest.find("<!ENTITY") {
        rest = rest[i + 8..].trim_start();
        if rest.starts_with('%') {
            continue;
        }
        let end = rest
            .bytes()
            .position(|c| !is_name_char(c))
            .unwrap_or(rest.len());
        if end > 0 {
            declared.insert(&rest[..end]);
        }
        rest = &rest[end..];
    }
}

// ---------------------------------------------------------------------------------------------
// The element pass

/// HTML elements that never have content; an unescaped `<br>` in a description is one.
fn is_void_html(local: &str) -> bool {
    const VOID: [&str; 13] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "meta", "param", "source",
        "track", "wbr",
    ];
    VOID.iter().any(|v| v.eq_ignore_ascii_case(local))
}

/// How many open elements an end tag may close at once; a bound that keeps the pass linear.
const MAX_IMPLICIT_CLOSE: usize = 32;

#[derive(Debug)]
struct AttrRef {
    full: Span,
    value: Span,
    lowered: String,
}

/// An Atom text element (or content) whose `type`/`mode` need rewriting once its content is
/// known.
#[derive(Debug)]
struct TextFix {
    atom03: bool,
    content: bool,
    name_end: usize,
    ty: Option<AttrRef>,
    mode: Option<AttrRef>,
}

#[derive(Debug)]
struct CreatedRec {
    start: usize,
    end: usize,
    start_name: Span,
    end_name: Option<Span>,
}

#[derive(Debug)]
enum Role {
    Plain,
    Entry03 {
        has_issued: bool,
        created: Vec<CreatedRec>,
    },
    Created03,
    Drop,
    Text(TextFix),
    /// An Atom `<link>` without `href`, which may carry its URL as text; `name_end` is where
    /// an `href` attribute goes.
    LinkText {
        name_end: usize,
    },
    RdfItem {
        about: Option<String>,
        has_link: bool,
    },
}

#[derive(Debug)]
struct FirstChild {
    is_div: bool,
    name_end: usize,
    has_xmlns: bool,
}

#[derive(Debug)]
struct Frame<'a> {
    name: &'a str,
    ns: Ns,
    start: usize,
    close: usize,
    content_start: usize,
    name_span: Span,
    declared: Vec<&'a str>,
    children: usize,
    first_child: Option<FirstChild>,
    has_text: bool,
    role: Role,
    rename: Option<&'static str>,
}

/// How an element ended.
#[derive(Debug, Clone, Copy)]
enum Close {
    SelfClosing,
    EndTag { end: usize, name: Span },
    Implicit { at: usize },
}

struct Fixer<'a> {
    text: &'a str,
    edits: Vec<Edit>,
    tally: Tally,
    declared: HashSet<&'a str>,
    doc: Doc,
    frames: Vec<Frame<'a>>,
    ns: HashMap<&'a str, Vec<Ns>>,
    /// Whether an `<rss>` root has a `<channel>` child.
    rss_channel: bool,
}

impl<'a> Fixer<'a> {
    fn edit(&mut self, start: usize, end: usize, text: impl Into<Cow<'static, str>>) {
        self.edits.push(Edit {
            start,
            end,
            text: text.into(),
        });
    }

    fn resolve(&self, prefix: &str) -> Ns {
        match self.ns.get(prefix).and_then(|v| v.last()) {
            Some(&ns) => ns,
            None if prefix.is_empty() => Ns::None,
            None => Ns::Other,
        }
    }

    /// Whether an element in `ns` belongs to Atom 0.3 in this document.
    fn is_atom03(&self, ns: Ns) -> bool {
        ns == Ns::Atom03 || (self.doc == Doc::Atom03 && ns == Ns::None)
    }

    fn is_atom10(&self, ns: Ns) -> bool {
        ns == Ns::Atom10 || (self.doc == Doc::Atom10 && ns == Ns::None)
    }

    fn run(&mut self, root: usize) {
        let text = self.text;
        for token in Lexer::new(text, root) {
            match token {
                Token::Text(s) => {
                    fix_references(
                        text,
                        s.start,
                        s.end,
                        &self.declared,
                        &mut self.edits,
                        &mut self.tally,
                    );
                    fix_c1_controls(text, s, &mut self.edits, &mut self.tally);
                    if let Some(top) = self.frames.last_mut()
                        && !s.of(text).bytes().all(is_space)
                    {
                        top.has_text = true;
                    }
                }
                Token::CData(s) => {
                    fix_c1_controls(text, s, &mut self.edits, &mut self.tally);
                    if let Some(top) = self.frames.last_mut() {
                        top.has_text = true;
                    }
                }
                Token::StrayLt(p) => {
                    self.edit(p, p + 1, "&lt;");
                    self.tally.add(Fix::BareLt, 1);
                    if let Some(top) = self.frames.last_mut() {
                        top.has_text = true;
                    }
                }
                Token::Comment | Token::Pi(_) | Token::Doctype(_) => {}
                Token::Start(tag) => {
                    self.start(tag);
                    if self.frames.is_empty() {
                        break;
                    }
                }
                Token::End(tag) => {
                    self.end(tag);
                    if self.frames.is_empty() {
                        break;
                    }
                }
                Token::Unterminated => break,
            }
        }
    }

    fn start(&mut self, tag: StartTag) {
        let text = self.text;
        let name = tag.name.of(text);
        let local = local_name(name);
        let depth = self.frames.len();

        for a in &tag.attrs {
            if let Some(v) = a.value {
                fix_references(
                    text,
                    v.start,
                    v.end,
                    &self.declared,
                    &mut self.edits,
                    &mut self.tally,
                );
            }
        }

        if depth == 0 {
            self.doc = match local {
                "rss" => Doc::Rss,
                "RDF" => Doc::Rdf,
                "feed" | "entry" => self.atom_kind(&tag, name),
                _ => Doc::Other,
            };
            if self.doc == Doc::Rss {
                self.fix_rss_root(&tag);
            }
        }

        // Namespace declarations, repaired where the document kind calls for it.
        let mut declared = Vec::new();
        for a in &tag.attrs {
            let attr_name = a.name.of(text);
            let prefix = if attr_name == "xmlns" {
                ""
            } else if let Some(p) = attr_name.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            let Some(v) = a.value else { continue };
            let mut ns = classify_ns(v.of(text));
            if depth == 0 && prefix.is_empty() {
                match (self.doc, ns) {
                    (Doc::Rss, Ns::Other | Ns::Atom10 | Ns::Atom03 | Ns::Rss090) => {
                        self.edit(a.full.start, a.full.end, "");
                        self.tally.rss_namespace_was = Some(v.of(text).to_string());
                        self.tally.add(Fix::RssNamespace, 1);
                        ns = Ns::None;
                    }
                    (Doc::Rdf, Ns::Rss090) => {
                        self.edit(v.start, v.end, RSS10_NS);
                        self.tally.add(Fix::Rss090Namespace, 1);
                        ns = Ns::Rss10;
                    }
                    (Doc::Atom03, Ns::Other) if prefix_of(name).is_empty() => {
                        self.edit(v.start, v.end, ATOM10_NS);
                        self.tally.add(Fix::Atom03, 1);
                        ns = Ns::Atom03;
                    }
                    _ => {}
                }
            }
            if self.doc == Doc::Atom03 && ns == Ns::Atom03 && classify_ns(v.of(text)) == Ns::Atom03
            {
                self.edit(v.start, v.end, ATOM10_NS);
                self.tally.add(Fix::Atom03, 1);
            }
            self.ns.entry(prefix).or_default().push(ns);
            declared.push(prefix);
        }

        let ns = self.resolve(prefix_of(name));
        // A prefix no `xmlns:` declares makes the document namespace-ill-formed; the parser
        // reads past it, so it is only reported.
        let undeclared = |prefix: &str| {
            !prefix.is_empty()
                && prefix != "xml"
                && prefix != "xmlns"
                && self.ns.get(prefix).is_none_or(|v| v.is_empty())
        };
        let undeclared_here = usize::from(undeclared(prefix_of(name)))
            + tag
                .attrs
                .iter()
                .filter(|a| undeclared(prefix_of(a.name.of(text))))
                .count();
        self.tally.add(Fix::UndeclaredPrefix, undeclared_here);
        if depth == 0
            && self.doc == Doc::Atom03
            && let Some((a, _)) = tag.attr(text, "version")
        {
            self.edit(a.full.start, a.full.end, "");
            self.tally.add(Fix::Atom03, 1);
        }

        if depth == 1 && self.doc == Doc::Rss && local == "channel" {
            self.rss_channel = true;
        }

        let (role, rename) = self.role_for(&tag, local, ns);
        if let Some(new) = rename {
            let local_start = tag.name.end - local.len();
            self.edit(local_start, tag.name.end, new);
            self.tally.add(Fix::Atom03, 1);
        }
        if self.is_atom03(ns)
            && local == "generator"
            && tag.attr(text, "uri").is_none()
            && let Some((a, _)) = tag.attr(text, "url")
        {
            self.edit(a.name.start, a.name.end, "uri");
            self.tally.add(Fix::Atom03, 1);
        }

        if let Some(parent) = self.frames.last_mut() {
            parent.children += 1;
            if parent.children == 1 {
                parent.first_child = Some(FirstChild {
                    is_div: local == "div",
                    name_end: tag.name.end,
                    has_xmlns: tag.attr(text, "xmlns").is_some(),
                });
            }
        }

        self.frames.push(Frame {
            name,
            ns,
            start: tag.start,
            close: tag.close,
            content_start: tag.end,
            name_span: tag.name,
            declared,
            children: 0,
            first_child: None,
            has_text: false,
            role,
            rename,
        });
        if tag.self_closing {
            self.close_top(Close::SelfClosing, tag.end);
        }
    }

    /// Atom 1.0, Atom 0.3 (by namespace, or by `version="0.x"` on a feed in an unknown one).
    fn atom_kind(&self, tag: &StartTag, name: &str) -> Doc {
        let text = self.text;
        let prefix = prefix_of(name);
        let decl_name = if prefix.is_empty() {
            "xmlns".to_string()
        } else {
            format!("xmlns:{prefix}")
        };
        let ns = match tag.attr(text, &decl_name) {
            Some((_, v)) => classify_ns(&unescape(v)),
            None => self.resolve(prefix),
        };
        let old_version = tag
            .attr(text, "version")
            .is_some_and(|(_, v)| v.trim().starts_with("0."));
        match ns {
            Ns::Atom03 => Doc::Atom03,
            Ns::Atom10 => Doc::Atom10,
            Ns::None | Ns::Other if old_version => Doc::Atom03,
            Ns::None => Doc::Atom10,
            _ => Doc::Other,
        }
    }

    fn fix_rss_root(&mut self, tag: &StartTag) {
        let text = self.text;
        match tag.attr(text, "version") {
            Some((a, v)) => {
                if matches!(v, "2.0" | "0.91" | "0.92" | "") {
                    return;
                }
                let Some(span) = a.value else {
                    self.edit(a.full.start, a.full.end, " version=\"2.0\"");
                    self.tally.add(Fix::RssVersion, 1);
                    return;
                };
                let trimmed = v.trim();
                let new = if matches!(trimmed, "2.0" | "0.91" | "0.92") {
                    trimmed.to_string()
                } else {
                    "2.0".to_string()
                };
                let quoted = text
                    .as_bytes()
                    .get(span.end)
                    .is_some_and(|&c| c == b'"' || c == b'\'');
                if quoted {
                    self.edit(span.start, span.end, new);
                } else {
                    self.edit(span.start, span.end, format!("\"{new}\""));
                }
                self.tally.rss_version_was = Some(format!("\"{v}\""));
            }
            None => {
                self.edit(tag.name.end, tag.name.end, " version=\"2.0\"");
            }
        }
        self.tally.add(Fix::RssVersion, 1);
    }

    fn role_for(&mut self, tag: &StartTag, local: &str, ns: Ns) -> (Role, Option<&'static str>) {
        let text = self.text;
        let Some(parent) = self.frames.last() else {
            return (Role::Plain, None);
        };
        let parent_local = local_name(parent.name);
        let parent_ns = parent.ns;
        let depth = self.frames.len();

        if self.doc == Doc::Atom03 && self.is_atom03(ns) && self.is_atom03(parent_ns) {
            let text_fix = |content| Role::Text(self.text_fix(tag, true, content));
            return match (parent_local, local) {
                ("feed", "tagline") => (text_fix(false), Some("subtitle")),
                ("feed" | "entry", "copyright") => (text_fix(false), Some("rights")),
                ("feed", "info") => (Role::Drop, None),
                ("feed" | "entry", "modified") => (Role::Plain, Some("updated")),
                ("feed" | "entry", "title") | ("entry", "summary") => (text_fix(false), None),
                ("entry", "content") => (text_fix(true), None),
                ("feed", "entry") => (
                    Role::Entry03 {
                        has_issued: false,
                        created: Vec::new(),
                    },
                    None,
                ),
                ("entry", "issued") => {
                    if let Some(Role::Entry03 { has_issued, .. }) =
                        self.frames.last_mut().map(|f| &mut f.role)
                    {
                        *has_issued = true;
                    }
                    (Role::Plain, Some("published"))
                }
                ("entry", "created") => (Role::Created03, None),
                ("author" | "contributor", "url") => (Role::Plain, Some("uri")),
                _ => (Role::Plain, None),
            };
        }

        if self.doc == Doc::Atom10
            && self.is_atom10(ns)
            && self.is_atom10(parent_ns)
            && matches!(parent_local, "feed" | "entry" | "source")
        {
            if local == "link" && tag.attr(text, "href").is_none() {
                return (
                    Role::LinkText {
                        name_end: tag.name.end,
                    },
                    None,
                );
            }
            let ty = tag.attr(text, "type").map(|(_, v)| v);
            match (local, ty) {
                ("title" | "subtitle" | "rights" | "summary", Some(v))
                    if !matches!(v, "text" | "html" | "xhtml" | "text/html") =>
                {
                    return (Role::Text(self.text_fix(tag, false, false)), None);
                }
                ("content", Some(v))
                    if !matches!(v, "text" | "html" | "xhtml" | "text/html")
                        && tag.attr(text, "src").is_none() =>
                {
                    return (Role::Text(self.text_fix(tag, false, true)), None);
                }
                _ => {}
            }
        }

        if self.doc == Doc::Rdf {
            let rss_ns = matches!(ns, Ns::Rss10 | Ns::None);
            if depth == 1 && local == "item" && rss_ns {
                let about = tag
                    .attrs
                    .iter()
                    .find(|a| local_name(a.name.of(text)) == "about")
                    .and_then(|a| a.value)
                    .map(|v| unescape(v.of(text)).trim().to_string())
                    .filter(|v| !v.is_empty());
                return (
                    Role::RdfItem {
                        about,
                        has_link: false,
                    },
                    None,
                );
            }
            if local == "link"
                && rss_ns
                && let Some(Role::RdfItem { has_link, .. }) =
                    self.frames.last_mut().map(|f| &mut f.role)
            {
                *has_link = true;
            }
        }
        (Role::Plain, None)
    }

    fn text_fix(&self, tag: &StartTag, atom03: bool, content: bool) -> TextFix {
        let text = self.text;
        let attr_ref = |name: &str| {
            tag.attr(text, name).and_then(|(a, v)| {
                Some(AttrRef {
                    full: a.full,
                    value: a.value?,
                    lowered: v.trim().to_ascii_lowercase(),
                })
            })
        };
        TextFix {
            atom03,
            content,
            name_end: tag.name.end,
            ty: attr_ref("type"),
            mode: if atom03 { attr_ref("mode") } else { None },
        }
    }

    fn end(&mut self, tag: EndTag) {
        let text = self.text;
        let name = tag.name.of(text);
        let close = Close::EndTag {
            end: tag.end,
            name: tag.name,
        };
        let Some(top) = self.frames.len().checked_sub(1) else {
            return;
        };
        if self.frames[top].name == name {
            self.close_top(close, tag.start);
            return;
        }
        let lowest = self.frames.len().saturating_sub(MAX_IMPLICIT_CLOSE);
        let exact = (lowest..=top).rev().find(|&i| self.frames[i].name == name);
        let found = exact.or_else(|| {
            (lowest..=top)
                .rev()
                .find(|&i| self.frames[i].name.eq_ignore_ascii_case(name))
        });
        let Some(target) = found else {
            self.edit(tag.start, tag.end, "");
            self.tally.add(Fix::StrayEndTag, 1);
            return;
        };
        if exact.is_none() {
            // Feed vocabularies are lower case: `<Title>…</title>` becomes `<title>…</title>`.
            let frame = &self.frames[target];
            let end_is_lower = !name.bytes().any(|c| c.is_ascii_uppercase());
            if end_is_lower && frame.rename.is_none() {
                let span = frame.name_span;
                self.edit(span.start, span.end, name.to_string());
            } else {
                let open = final_name(frame);
                self.edit(tag.name.start, tag.name.end, open);
            }
            self.tally.add(Fix::EndTagCase, 1);
        }
        while self.frames.len() - 1 > target {
            self.tally.add(Fix::UnclosedElement, 1);
            let frame = self.frames.last().expect("frames above the target");
            if is_void_html(local_name(frame.name)) {
                let at = frame.close;
                let content_start = frame.content_start;
                self.edit(at, at, "/");
                self.close_top(Close::SelfClosing, content_start);
            } else {
                self.close_top(Close::Implicit { at: tag.start }, tag.start);
            }
        }
        let close = if exact.is_none() {
            // The end tag now carries the open element's name (the rename is already recorded).
            Close::EndTag {
                end: tag.end,
                name: Span {
                    start: tag.name.start,
                    end: tag.name.start,
                },
            }
        } else {
            close
        };
        self.close_top(close, tag.start);
    }

    /// Pops the innermost element, whose content ends at `content_end`, and applies the
    /// repairs that needed to see all of it.
    fn close_top(&mut self, how: Close, content_end: usize) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        for prefix in &frame.declared {
            if let Some(stack) = self.ns.get_mut(prefix) {
                stack.pop();
            }
        }
        let text = self.text;
        let element_end = match how {
            Close::SelfClosing => text[frame.close..]
                .find('>')
                .map_or(text.len(), |i| frame.close + i + 1),
            Close::EndTag { end, .. } => end,
            Close::Implicit { at } => at,
        };
        let content = Span {
            start: frame.content_start,
            end: content_end.max(frame.content_start),
        };
        let self_closing = matches!(how, Close::SelfClosing);

        if let (Some(new), Close::EndTag { name, .. }) = (frame.rename, how)
            && name.end > name.start
        {
            let end_name = name.of(text);
            let local_start = name.end - local_name(end_name).len();
            self.edit(local_start, name.end, new);
        }

        match frame.role {
            Role::Plain => {}
            Role::Drop => {
                self.edit(frame.start, element_end, "");
            }
            Role::Text(ref fix) => {
                self.finish_text(fix, &frame, content, self_closing);
            }
            Role::LinkText { name_end } => {
                let url = content.of(text).trim();
                if !self_closing && frame.children == 0 && !url.is_empty() && !url.contains('<') {
                    // The text is already escaped for element content; quotes need escaping too.
                    let value = url.replace('"', "&quot;");
                    self.edit(name_end, name_end, format!(" href=\"{value}\""));
                    self.tally.add(Fix::AtomLinkText, 1);
                }
            }
            Role::Entry03 {
                has_issued,
                ref created,
            } => {
                for (i, c) in created.iter().enumerate() {
                    match c.end_name {
                        Some(end_name) if i == 0 && !has_issued => {
                            self.edit(c.start_name.start, c.start_name.end, "published");
                            if end_name.end > end_name.start {
                                self.edit(end_name.start, end_name.end, "published");
                            }
                        }
                        _ => self.edit(c.start, c.end, ""),
                    }
                    self.tally.add(Fix::Atom03, 1);
                }
            }
            Role::Created03 => {
                let end_name = match how {
                    Close::SelfClosing => Some(Span {
                        start: frame.name_span.end,
                        end: frame.name_span.end,
                    }),
                    Close::EndTag { name, .. } if name.end > name.start => {
                        let local = local_name(name.of(text));
                        Some(Span {
                            start: name.end - local.len(),
                            end: name.end,
                        })
                    }
                    _ => None,
                };
                let local = local_name(frame.name);
                let rec = CreatedRec {
                    start: frame.start,
                    end: element_end,
                    start_name: Span {
                        start: frame.name_span.end - local.len(),
                        end: frame.name_span.end,
                    },
                    end_name,
                };
                if let Some(Role::Entry03 { created, .. }) =
                    self.frames.last_mut().map(|f| &mut f.role)
                {
                    created.push(rec);
                }
            }
            Role::RdfItem {
                about: Some(ref about),
                has_link: false,
            } if !self_closing => {
                self.edit(
                    content.end,
                    content.end,
                    format!("<link>{}</link>", escape_text(about)),
                );
                self.tally.add(Fix::RdfLink, 1);
            }
            Role::RdfItem { .. } => {}
        }

        if self.frames.is_empty() && self.doc == Doc::Rss && !self.rss_channel && !self_closing {
            // Items (or a title) straight under <rss> get the channel they lack; an <rss> with
            // nothing in it is a feed with no items yet, not a broken document.
            self.edit(content.start, content.start, "<channel>");
            self.edit(content.end, content.end, "</channel>");
            self.tally.add(Fix::RssChannel, 1);
        }

        if let Close::Implicit { at } = how {
            // An element that is deleted as a whole needs no end tag.
            if !matches!(frame.role, Role::Drop | Role::Created03) {
                let name = final_name(&frame);
                self.edit(at, at, format!("</{name}>"));
            }
        }
    }

    /// Rewrites an Atom text element's `type` (and drops Atom 0.3's `mode`) now that its
    /// content is known: base64 is decoded, inline markup is wrapped as XHTML.
    fn finish_text(&mut self, fix: &TextFix, frame: &Frame<'_>, content: Span, self_closing: bool) {
        let text = self.text;
        let body = content.of(text);
        let plan = if fix.atom03 {
            plan_atom03(fix, frame, body)
        } else {
            plan_atom10(
                fix,
                frame,
                body,
                fix.ty.as_ref().map_or("", |t| t.value.of(text)),
            )
        };
        let mut changed = false;
        if let Some(new) = plan.new_type {
            match &fix.ty {
                Some(t) if t.value.of(text) != new => {
                    if new == "text" && fix.atom03 {
                        self.edit(t.full.start, t.full.end, "");
                    } else {
                        self.edit(t.value.start, t.value.end, new);
                    }
                    changed = true;
                }
                Some(_) => {}
                None if new != "text" => {
                    self.edit(fix.name_end, fix.name_end, format!(" type=\"{new}\""));
                    changed = true;
                }
                None => {}
            }
        }
        if let Some(m) = &fix.mode {
            self.edit(m.full.start, m.full.end, "");
            changed = true;
        }
        if let Some(b) = plan.new_body.filter(|_| !self_closing) {
            self.edit(content.start, content.end, b);
            changed = true;
        }
        if plan.wrap && !self_closing {
            let single_div = frame.children == 1
                && !frame.has_text
                && frame.first_child.as_ref().is_some_and(|c| c.is_div);
            if single_div {
                if let Some(c) = frame.first_child.as_ref().filter(|c| !c.has_xmlns) {
                    self.edit(c.name_end, c.name_end, format!(" xmlns=\"{XHTML_NS}\""));
                }
            } else {
                self.edit(content.start, content.start, XHTML_DIV_OPEN);
                self.edit(content.end, content.end, "</div>");
            }
            changed = true;
        }
        if changed {
            let kind = if fix.atom03 {
                Fix::Atom03
            } else {
                Fix::AtomTextType
            };
            self.tally.add(kind, 1);
        }
    }
}

/// What to do with an Atom text element: its new `type` (`None` keeps the attribute), a new
/// escaped body, and whether its child elements get wrapped as XHTML.
#[derive(Debug, Default)]
struct TextPlan {
    new_type: Option<&'static str>,
    new_body: Option<String>,
    wrap: bool,
}

fn decode_base64_text(body: &str) -> Option<String> {
    base64_decode(body)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(|s| escape_text(&s))
}

/// Atom 0.3 text: `type` is a MIME type (default text/plain) and `mode` says how the content
/// is carried (`xml` by default, `escaped`, or `base64`).
fn plan_atom03(fix: &TextFix, frame: &Frame<'_>, body: &str) -> TextPlan {
    let ty = fix.ty.as_ref().map_or("text/plain", |t| t.lowered.as_str());
    let class = TypeClass::of(ty);
    let mode = fix.mode.as_ref().map_or("xml", |m| m.lowered.as_str());
    let has_children = frame.children > 0;
    let keep_mime = fix.content && matches!(class, TypeClass::OtherMime);
    let mut plan = TextPlan::default();
    match mode {
        "base64" => {
            if keep_mime {
                return plan;
            }
            let decoded = if has_children {
                None
            } else {
                decode_base64_text(body)
            };
            plan.new_type = Some(match (class, decoded.is_some()) {
                (TypeClass::Html | TypeClass::Xhtml, true) => "html",
                _ => "text",
            });
            plan.new_body = decoded;
        }
        "escaped" => {
            plan.new_type = match class {
                TypeClass::Html | TypeClass::Xhtml => Some("html"),
                _ if keep_mime => None,
                _ => Some("text"),
            };
        }
        _ if has_children => {
            plan.new_type = Some("xhtml");
            plan.wrap = true;
        }
        _ => {
            plan.new_type = match class {
                TypeClass::Html | TypeClass::Xhtml => Some("html"),
                _ if keep_mime => None,
                _ => Some("text"),
            };
        }
    }
    plan
}

/// Atom 1.0 text with a `type` feed-rs cannot read. Text elements take only text, html and
/// xhtml; `content` may carry any MIME type, but feed-rs fails on XML types, on empty content
/// and on content that starts with an element, so only those are rewritten.
fn plan_atom10(fix: &TextFix, frame: &Frame<'_>, body: &str, raw_type: &str) -> TextPlan {
    let ty = fix.ty.as_ref().map_or("text", |t| t.lowered.as_str());
    let class = TypeClass::of(ty);
    let has_children = frame.children > 0;
    let starts_with_element = {
        let b = body.as_bytes();
        b.first() == Some(&b'<') && b.get(1).is_some_and(|&c| is_name_start(c))
    };
    let mut plan = TextPlan::default();
    if fix.content && class == TypeClass::OtherMime && !has_children {
        // RFC 4287 4.1.3.3: other media types are carried base64-encoded. Text that decodes
        // is kept (as HTML, which the cleaner sanitizes); anything binary stays as it is.
        if let Some(decoded) = decode_base64_text(body) {
            plan.new_type = Some("html");
            plan.new_body = Some(decoded);
        }
        return plan;
    }
    if fix.content {
        let base = raw_type.split(';').next().unwrap_or("").trim();
        let unreadable =
            !base.contains('/') || base.ends_with("/xml") || body.is_empty() || starts_with_element;
        if !unreadable {
            return plan;
        }
    }
    if has_children {
        plan.new_type = Some("xhtml");
        plan.wrap = true;
        return plan;
    }
    plan.new_type = Some(match class {
        TypeClass::Html | TypeClass::Xhtml => "html",
        TypeClass::OtherMime | TypeClass::Junk if !fix.content => {
            plan.new_body = decode_base64_text(body);
            "text"
        }
        _ => "text",
    });
    plan
}

/// An element's qualified name after any rename.
fn final_name(frame: &Frame<'_>) -> String {
    match frame.rename {
        Some(new) => match prefix_of(frame.name) {
            "" => new.to_string(),
            prefix => format!("{prefix}:{new}"),
        },
        None => frame.name.to_string(),
    }
}

/// What a `type` attribute value means for an Atom text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeClass {
    Text,
    Html,
    Xhtml,
    OtherText,
    XmlMime,
    OtherMime,
    Junk,
}

impl TypeClass {
    fn of(ty: &str) -> TypeClass {
        let base = ty.split(';').next().unwrap_or("").trim();
        match base {
            "" | "text" | "text/plain" => TypeClass::Text,
            "html" | "text/html" => TypeClass::Html,
            "xhtml" | "application/xhtml+xml" => TypeClass::Xhtml,
            t if t.starts_with("text/") => TypeClass::OtherText,
            t if t.ends_with("/xml") || t.ends_with("+xml") => TypeClass::XmlMime,
            t if t.contains('/') => TypeClass::OtherMime,
            _ => TypeClass::Junk,
        }
    }
}

/// Repairs an XML feed document before parsing. Leaves a well-formed, standard document
/// byte-for-byte untouched (`Cow::Borrowed`).
///
/// Repairs: junk or whitespace before the XML declaration or root element; bare `&`; HTML
/// named entities (with or without `;`) turned into numeric references; numeric references
/// to characters XML forbids; bare `<`; `<rss>` without a version feed readers know, or in a
/// nonstandard default namespace; RSS 0.90's namespace; RSS 1.0 items without `<link>`;
/// Atom 0.3 (converted to Atom 1.0); Atom text elements with unusable `type`s; end tags in the
/// wrong letter case, end tags that close nothing, and elements left open inside others. A
/// document cut short is left as it is: see [`truncate_to_last_item`].
pub fn repair_xml(text: &str) -> Repaired<'_> {
    let mut edits = Vec::new();
    let mut tally = Tally::default();
    let Some(prolog) = scan_prolog(text, &mut edits, &mut tally) else {
        return Repaired::unchanged(text);
    };
    let mut fixer = Fixer {
        text,
        edits,
        tally,
        declared: prolog.declared,
        doc: Doc::Other,
        frames: Vec::new(),
        ns: HashMap::new(),
        rss_channel: false,
    };
    fixer.run(prolog.root);
    let warnings = fixer.tally.warnings();
    let ill_formed = fixer.tally.ill_formed();
    let text = if fixer.edits.is_empty() {
        Cow::Borrowed(text)
    } else {
        match apply_edits(text, fixer.edits) {
            repaired if repaired == text => Cow::Borrowed(text),
            repaired => Cow::Owned(repaired),
        }
    };
    Repaired {
        text,
        warnings,
        ill_formed,
    }
}

/// Items this deep or deeper are not feed items (`rss/channel/item` is 3).
const MAX_ITEM_DEPTH: usize = 8;

/// For a document the parser rejected: cut it after the last complete `</item>` / `</entry>`
/// and close the open elements, so the items before the cut survive. `None` when there is no
/// complete item.
///
/// The cut also falls before the first place the document stops being well-formed (an end
/// tag that matches no open element, markup cut off), so pass it text that has been through
/// [`repair_xml`].
pub fn truncate_to_last_item(text: &str) -> Option<Repaired<'static>> {
    let mut stack: Vec<&str> = Vec::new();
    let mut cut: Option<(usize, Vec<&str>)> = None;
    let mut items = 0usize;
    let mut complete = false;
    for token in Lexer::new(text, 0) {
        match token {
            Token::Start(tag) if !tag.self_closing => stack.push(tag.name.of(text)),
            Token::End(tag) => {
                let name = tag.name.of(text);
                if stack.last() != Some(&name) {
                    break;
                }
                stack.pop();
                if matches!(local_name(name), "item" | "entry")
                    && stack.len() < MAX_ITEM_DEPTH
                    && !stack.is_empty()
                {
                    items += 1;
                    cut = Some((tag.end, stack.clone()));
                }
                if stack.is_empty() {
                    complete = true;
                    break;
                }
            }
            Token::Unterminated => break,
            _ => {}
        }
    }
    let (at, open) = cut?;
    let mut out = String::with_capacity(at + 64);
    out.push_str(&text[..at]);
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    let why = if complete {
        "the document is ill-formed after it"
    } else {
        "the rest was cut off or ill-formed"
    };
    Some(Repaired {
        text: Cow::Owned(out),
        warnings: vec![format!(
            "kept the {items} items up to byte {at} and closed the document: {why}"
        )],
        ill_formed: true,
    })
}

/// RSS 1.0: the `rdf:about` of each `<item>`, in document order (feed-rs ignores it; items
/// without guid are identified by it).
///
/// One string per `<item>` of the `rdf:RDF` root, empty for an item without `rdf:about`, so
/// that index `i` belongs to the `i`-th item. feed-rs drops items that have no `<link>`;
/// [`repair_xml`] gives every item with an `rdf:about` a link, so only items with neither are
/// dropped.
pub fn rdf_about_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut depth = 0usize;
    let mut rdf_root = false;
    for token in Lexer::new(text, 0) {
        match token {
            Token::Start(tag) => {
                let name = tag.name.of(text);
                if depth == 0 {
                    rdf_root = local_name(name) == "RDF";
                    if !rdf_root {
                        break;
                    }
                } else if depth == 1 && local_name(name) == "item" {
                    let about = tag
                        .attrs
                        .iter()
                        .find(|a| {
                            let n = a.name.of(text);
                            n == "rdf:about" || local_name(n) == "about"
                        })
                        .and_then(|a| a.value)
                        .map(|v| unescape(v.of(text)).trim().to_string())
                        .unwrap_or_default();
                    ids.push(about);
                }
                if !tag.self_closing {
                    depth += 1;
                }
            }
            Token::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Token::Unterminated => break,
            _ => {}
        }
    }
    if rdf_root { ids } else { Vec::new() }
}

// ---------------------------------------------------------------------------------------------
// JSON Feed

const JSON_FEED_1: &str = "https://jsonfeed.org/version/1";
const JSON_FEED_1_1: &str = "https://jsonfeed.org/version/1.1";

#[derive(Debug, Default)]
struct JsonTally {
    version_was: Option<String>,
    title: bool,
    items: bool,
    retyped: usize,
    dropped: usize,
}

/// JSON Feed quirks: a `version` of "http://jsonfeed.org/version/1", bare "1.0"/"1.1", or
/// missing, rewritten so feed-rs accepts it (it wants a version starting with
/// `https://jsonfeed.org/version/1`, a string `title` and an `items` array, and fails the whole
/// feed on a field of the wrong type, such as a numeric item `id`, which is also repaired).
///
/// JSON that is not a JSON Feed, or not JSON at all, is returned untouched.
pub fn repair_json(text: &str) -> Repaired<'_> {
    use serde_json::Value;
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return Repaired::unchanged(text);
    };
    let Some(feed) = value.as_object_mut() else {
        return Repaired::unchanged(text);
    };
    let version = feed.get("version").and_then(Value::as_str);
    let is_feed = version.is_some_and(|v| v.contains("jsonfeed"))
        || feed.get("items").is_some_and(Value::is_array);
    if !is_feed {
        return Repaired::unchanged(text);
    }
    let mut tally = JsonTally::default();

    let new_version = match version.map(str::trim) {
        Some(v) if v.starts_with(JSON_FEED_1) => None,
        Some(v) if v.contains("jsonfeed.org/version/1.1") || v == "1.1" => Some(JSON_FEED_1_1),
        Some(v) if v.contains("jsonfeed.org/version/1") || v == "1" || v == "1.0" => {
            Some(JSON_FEED_1)
        }
        _ => Some(JSON_FEED_1_1),
    };
    if let Some(new) = new_version {
        tally.version_was = Some(match feed.get("version") {
            Some(Value::String(s)) => format!("\"{s}\""),
            Some(other) => other.to_string(),
            None => "missing".to_string(),
        });
        feed.insert("version".into(), Value::String(new.into()));
    }
    match feed.get("title") {
        Some(Value::String(_)) => {}
        Some(v @ (Value::Number(_) | Value::Bool(_))) => {
            let s = v.to_string();
            feed.insert("title".into(), Value::String(s));
            tally.retyped += 1;
        }
        _ => {
            feed.insert("title".into(), Value::String(String::new()));
            tally.title = true;
        }
    }
    if !feed.get("items").is_some_and(Value::is_array) {
        feed.insert("items".into(), Value::Array(Vec::new()));
        tally.items = true;
    }
    for key in [
        "home_page_url",
        "feed_url",
        "language",
        "description",
        "icon",
        "favicon",
    ] {
        json_string_field(feed, key, &mut tally);
    }
    json_authors(feed, &mut tally);
    if let Some(Value::Array(items)) = feed.get_mut("items") {
        let before = items.len();
        items.retain(Value::is_object);
        tally.dropped += before - items.len();
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for key in [
                "id",
                "url",
                "external_url",
                "title",
                "content_html",
                "content_text",
                "summary",
                "date_published",
                "date_modified",
            ] {
                json_string_field(item, key, &mut tally);
            }
            json_authors(item, &mut tally);
            json_tags(item, &mut tally);
            json_attachments(item, &mut tally);
        }
    }

    let changed = tally.version_was.is_some()
        || tally.title
        || tally.items
        || tally.retyped > 0
        || tally.dropped > 0;
    if !changed {
        return Repaired::unchanged(text);
    }
    let mut warnings = Vec::new();
    if let (Some(was), Some(new)) = (&tally.version_was, new_version) {
        warnings.push(format!("read JSON Feed version {was} as \"{new}\""));
    }
    if tally.title {
        warnings.push("gave the JSON Feed the empty title it lacked".to_string());
    }
    if tally.items {
        warnings.push("the JSON Feed had no items array".to_string());
    }
    if tally.retyped > 0 {
        warnings.push(format!(
            "converted {} JSON Feed fields of the wrong type",
            tally.retyped
        ));
    }
    if tally.dropped > 0 {
        warnings.push(format!(
            "dropped {} malformed JSON Feed values (items, authors, tags or attachments)",
            tally.dropped
        ));
    }
    // Every JSON repair reads well-formed JSON that strays from the JSON Feed schema.
    Repaired {
        text: Cow::Owned(value.to_string()),
        warnings,
        ill_formed: false,
    }
}

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Makes `key` a string or absent: numbers and booleans become strings, anything else goes.
fn json_string_field(obj: &mut JsonMap, key: &str, tally: &mut JsonTally) {
    use serde_json::Value;
    match obj.get(key) {
        None | Some(Value::String(_) | Value::Null) => {}
        Some(v @ (Value::Number(_) | Value::Bool(_))) => {
            let s = v.to_string();
            obj.insert(key.into(), Value::String(s));
            tally.retyped += 1;
        }
        Some(_) => {
            obj.remove(key);
            tally.dropped += 1;
        }
    }
}

fn json_author_ok(obj: &mut JsonMap, tally: &mut JsonTally) {
    json_string_field(obj, "name", tally);
    json_string_field(obj, "url", tally);
}

fn json_authors(obj: &mut JsonMap, tally: &mut JsonTally) {
    use serde_json::Value;
    match obj.get_mut("author") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => json_author_ok(a, tally),
        Some(Value::String(name)) => {
            let name = std::mem::take(name);
            let mut a = JsonMap::new();
            a.insert("name".into(), Value::String(name));
            obj.insert("author".into(), Value::Object(a));
            tally.retyped += 1;
        }
        Some(_) => {
            obj.remove("author");
            tally.dropped += 1;
        }
    }
    match obj.get_mut("authors") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let before = list.len();
            list.retain(Value::is_object);
            tally.dropped += before - list.len();
            for a in list.iter_mut().filter_map(Value::as_object_mut) {
                json_author_ok(a, tally);
            }
        }
        Some(Value::Object(_)) => {
            let single = obj.remove("authors").unwrap_or(Value::Null);
            obj.insert("authors".into(), Value::Array(vec![single]));
            tally.retyped += 1;
            if let Some(Value::Array(list)) = obj.get_mut("authors") {
                for a in list.iter_mut().filter_map(Value::as_object_mut) {
                    json_author_ok(a, tally);
                }
            }
        }
        Some(_) => {
            obj.remove("authors");
            tally.dropped += 1;
        }
    }
}

fn json_tags(obj: &mut JsonMap, tally: &mut JsonTally) {
    use serde_json::Value;
    match obj.get_mut("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(tags)) => {
            let mut bad = 0;
            let fixed: Vec<Value> = tags
                .drain(..)
                .filter_map(|t| match t {
                    Value::String(_) => Some(t),
                    Value::Number(_) | Value::Bool(_) => {
                        bad += 1;
                        Some(Value::String(t.to_string()))
                    }
                    _ => {
                        bad += 1;
                        None
                    }
                })
                .collect();
            *tags = fixed;
            tally.retyped += bad;
        }
        Some(Value::String(s)) => {
            let s = std::mem::take(s);
            obj.insert("tags".into(), Value::Array(vec![Value::String(s)]));
            tally.retyped += 1;
        }
        Some(_) => {
            obj.remove("tags");
            tally.dropped += 1;
        }
    }
}

fn json_attachments(obj: &mut JsonMap, tally: &mut JsonTally) {
    use serde_json::Value;
    match obj.get_mut("attachments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let before = list.len();
            list.retain(|a| a.get("url").is_some_and(Value::is_string));
            tally.dropped += before - list.len();
            for a in list.iter_mut().filter_map(Value::as_object_mut) {
                if !a.get("mime_type").is_some_and(Value::is_string) {
                    a.insert(
                        "mime_type".into(),
                        Value::String("application/octet-stream".into()),
                    );
                    tally.retyped += 1;
                }
                json_string_field(a, "title", tally);
                match a.get("size_in_bytes") {
                    None | Some(Value::Null) => {}
                    Some(v) if v.is_u64() => {}
                    Some(v) => {
                        let parsed = v
                            .as_f64()
                            .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                            .map(|f| f as u64)
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
                        match parsed {
                            Some(n) => {
                                a.insert("size_in_bytes".into(), Value::from(n));
                            }
                            None => {
                                a.remove("size_in_bytes");
                            }
                        }
                        tally.retyped += 1;
                    }
                }
            }
        }
        Some(_) => {
            obj.remove("attachments");
            tally.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> feed_rs::model::Feed {
        feed_rs::parser::parse(text.as_bytes())
            .unwrap_or_else(|e| panic!("feed-rs rejected the document: {e}\n{text}"))
    }

    fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
        feed.entries
            .iter()
            .map(|e| {
                e.title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn repaired(text: &str) -> String {
        let r = repair_xml(text);
        assert!(r.is_changed(), "expected a repair of:\n{text}");
        assert!(!r.warnings.is_empty(), "a repair without a warning");
        r.text.into_owned()
    }

    fn rss(items: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
             <title>Feed</title><link>https://news.example/</link>{items}</channel></rss>"
        )
    }

    // --- untouched documents -----------------------------------------------------------------

    #[test]
    fn standard_documents_are_borrowed_unchanged() {
        let docs = [
            rss(
                "<item><title>Tom &amp; Jerry &lt;3 &#169; &#xA9; &apos;</title>\
                 <description><![CDATA[bare & and &nbsp; stay in CDATA]]></description>\
                 <!-- a comment with & and &nbsp; --></item>",
            ),
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"text\">T</title>\
             <entry><title type=\"html\">a</title><content type=\"text/plain\">x</content>\
             </entry></feed>"
                .to_string(),
            "<?xml version=\"1.0\"?><?xml-stylesheet href=\"s.xsl\"?>\n<rdf:RDF \
             xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
             xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"x\"><title>t</title>\
             </channel><item rdf:about=\"https://a/1\"><title>i</title><link>https://a/1</link>\
             </item></rdf:RDF>"
                .to_string(),
            "\n  <!-- leading comment -->\n<rss version=\"0.91\"><channel><title>t</title>\
             </channel></rss>"
                .to_string(),
        ];
        for doc in &docs {
            let r = repair_xml(doc);
            assert!(
                matches!(r.text, Cow::Borrowed(_)),
                "changed:\n{doc}\n{:?}",
                r.text
            );
            assert!(r.warnings.is_empty());
        }
    }

    #[test]
    fn documents_without_a_feed_root_are_left_alone() {
        for doc in [
            "<html><body>AT&T &nbsp;</body></html>",
            "<note>a & b</note>",
            "plain",
        ] {
            assert!(!repair_xml(doc).is_changed(), "{doc}");
        }
    }

    // --- prolog ------------------------------------------------------------------------------

    #[test]
    fn whitespace_before_the_xml_declaration_is_removed() {
        let doc = format!("\n   {}", rss("<item><title>One</title></item>"));
        let text = repaired(&doc);
        assert!(text.starts_with("<?xml"));
        assert_eq!(titles(&parse(&text)), ["One"]);
    }

    #[test]
    fn server_junk_before_the_feed_is_removed() {
        let doc = format!(
            "<br />\n<b>Warning</b>:  Cannot modify header information in <b>/var/www/feed.php\
             </b> on line <b>3</b><br />\n{}",
            rss("<item><title>Survivor</title></item>")
        );
        let text = repaired(&doc);
        assert!(text.starts_with("<?xml"), "{text}");
        assert_eq!(titles(&parse(&text)), ["Survivor"]);

        let no_declaration = "Notice: undefined index\n<rss version=\"2.0\"><channel>\
                              <title>t</title><item><title>x</title></item></channel></rss>";
        let text = repaired(no_declaration);
        assert!(
            text.starts_with("\n<rss") || text.starts_with("<rss"),
            "{text}"
        );
        assert_eq!(titles(&parse(&text)), ["x"]);
    }

    // --- ampersands and entities -------------------------------------------------------------

    #[test]
    fn bare_ampersands_are_escaped_outside_cdata_comments_and_instructions() {
        let doc = rss("<item><title>Fish & Chips &amp; more &lt;3</title>\
             <link>https://a.example/?x=1&y=2</link>\
             <description><![CDATA[keep & this]]></description>\
             <!-- and & this --><?note a & b?></item>");
        let r = repair_xml(&doc);
        assert_eq!(r.warnings, ["escaped 2 bare `&` characters"]);
        assert!(r.text.contains("<![CDATA[keep & this]]>"));
        assert!(r.text.contains("<!-- and & this -->"));
        assert!(r.text.contains("<?note a & b?>"));
        let feed = parse(&r.text);
        assert_eq!(titles(&feed), ["Fish & Chips & more <3"]);
        assert_eq!(feed.entries[0].links[0].href, "https://a.example/?x=1&y=2");
    }

    #[test]
    fn one_bare_ampersand_no_longer_fails_the_feed() {
        let doc = rss("<item><title>AT&T</title></item><item><title>B</title></item>");
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
        assert_eq!(titles(&parse(&repaired(&doc))), ["AT&T", "B"]);
    }

    #[test]
    fn ampersands_in_attribute_values_are_escaped() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>t</title>\
                   <link href=\"https://a.example/?a=1&amp;b=2&c=3\"/></entry></feed>";
        let text = repaired(doc);
        assert!(text.contains("?a=1&amp;b=2&amp;c=3"));
        assert_eq!(
            parse(&text).entries[0].links[0].href,
            "https://a.example/?a=1&b=2&c=3"
        );
    }

    #[test]
    fn html_entities_become_numeric_references() {
        let doc = rss("<item><title>Caf&eacute;&nbsp;&mdash;&euro;&hellip;&copy;</title></item>");
        let r = repair_xml(&doc);
        assert!(
            r.text
                .contains("Caf&#233;&#160;&#8212;&#8364;&#8230;&#169;")
        );
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("replaced 6 HTML entity references"));
        assert_eq!(titles(&parse(&r.text)), ["Café\u{a0}—€…©"]);
    }

    #[test]
    fn legacy_entities_without_semicolon_are_completed_when_unambiguous() {
        let doc = rss("<item><title>&copy 2026 &amp &nbsp;&eacute x&lt y</title></item>");
        let text = repaired(&doc);
        assert_eq!(titles(&parse(&text)), ["© 2026 & \u{a0}é x< y"]);
    }

    #[test]
    fn legacy_entity_names_inside_query_strings_stay_literal() {
        // `&copy=2` is a query parameter, not ©; `&copyright` is a word.
        let doc = rss("<item><title>?page=1&copy=2;mode=x &amp; &copyright</title></item>");
        let text = repaired(&doc);
        assert_eq!(
            titles(&parse(&text)),
            ["?page=1&copy=2;mode=x & &copyright"]
        );
    }

    #[test]
    fn entity_table_holds_all_of_html4_and_leaves_xml_entities_alone() {
        assert_eq!(HTML4_ENTITIES.len(), 252);
        let names: HashSet<&str> = HTML4_ENTITIES.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), 252, "duplicate names");
        let points: HashSet<u32> = HTML4_ENTITIES.iter().map(|(_, c)| *c).collect();
        assert_eq!(points.len(), 252, "duplicate code points");
        assert_eq!(html_entity("nbsp"), Some(160));
        assert_eq!(html_entity("yuml"), Some(255));
        assert_eq!(html_entity("Yuml"), Some(376));
        assert_eq!(html_entity("thetasym"), Some(977));
        assert_eq!(html_entity("rArr"), Some(8658));
        assert_eq!(html_entity("euro"), Some(8364));
        assert_eq!(html_entity("diams"), Some(9830));
        let latin1 = HTML4_ENTITIES
            .iter()
            .filter(|(_, c)| (160..=255).contains(c));
        assert_eq!(latin1.count(), 96);
        // Every entity written out parses to its character.
        let all: String = HTML4_ENTITIES
            .iter()
            .map(|(n, _)| format!("&{n};"))
            .collect();
        let expected: String = HTML4_ENTITIES
            .iter()
            .map(|(_, c)| char::from_u32(*c).unwrap())
            .collect();
        let doc = rss(&format!("<item><title>[{all}]</title></item>"));
        assert_eq!(titles(&parse(&repaired(&doc))), [format!("[{expected}]")]);
        let xml_only = rss("<item><title>&amp;&lt;&gt;&quot;&apos;</title></item>");
        assert!(!repair_xml(&xml_only).is_changed());
    }

    #[test]
    fn undefined_entities_are_escaped_but_declared_ones_kept() {
        let doc = "<!DOCTYPE rss [<!ENTITY house \"Tributary\">]>\n<rss version=\"2.0\">\
                   <channel><title>&house; &bogus;</title></channel></rss>";
        let r = repair_xml(doc);
        assert!(r.text.contains("&house; &amp;bogus;"), "{}", r.text);
        assert_eq!(parse(&r.text).title.unwrap().content, "&house; &bogus;");
    }

    #[test]
    fn bad_numeric_references_are_removed_or_corrected() {
        let doc = rss(
            "<item><title>a&#0;b&#1;c&#xD800;d&#1114112;e&#99999999999;f</title></item>\
             <item><title>&#X41;&#39s &#55357;&#56832; &#x2019</title></item>\
             <item><title>&#xZZ; &#;</title></item>",
        );
        let r = repair_xml(&doc);
        let feed = parse(&r.text);
        assert_eq!(titles(&feed), ["abcdef", "A's 😀 ’", "&#xZZ; &#;"]);
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
    }

    #[test]
    fn bare_less_than_signs_are_escaped() {
        let doc = rss("<item><title>a < b <3 <= c</title></item>");
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
        assert_eq!(titles(&parse(&repaired(&doc))), ["a < b <3 <= c"]);
    }

    // --- RSS ---------------------------------------------------------------------------------

    #[test]
    fn rss_without_version_is_read_as_rss_2() {
        let doc = "<rss><channel><title>t</title><item><title>x</title></item></channel></rss>";
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
        let r = repair_xml(doc);
        assert!(r.text.starts_with("<rss version=\"2.0\">"));
        assert_eq!(r.warnings, ["set the RSS version to 2.0 (it was missing)"]);
        assert_eq!(titles(&parse(&r.text)), ["x"]);
    }

    #[test]
    fn rss_with_nonstandard_versions_is_read_as_rss_2() {
        for version in ["0.93", "0.94", "2.01", "2.1", "2.0.1", "3", " 2.0 ", "0.90"] {
            let doc = format!(
                "<rss version='{version}' xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
                 <channel><title>t</title><item><title>x</title></item></channel></rss>"
            );
            assert!(feed_rs::parser::parse(doc.as_bytes()).is_err(), "{version}");
            let text = repaired(&doc);
            assert_eq!(titles(&parse(&text)), ["x"], "{version}");
        }
        for version in ["2.0", "0.91", "0.92", ""] {
            let doc =
                format!("<rss version=\"{version}\"><channel><title>t</title></channel></rss>");
            assert!(!repair_xml(&doc).is_changed(), "{version}");
        }
    }

    #[test]
    fn rss_in_a_userland_namespace_loses_it() {
        for ns in [
            "http://backend.userland.com/rss2",
            "http://purl.org/rss/2.0/",
            "http://blogs.law.harvard.edu/tech/rss",
        ] {
            let doc = format!(
                "<rss version=\"2.0\" xmlns=\"{ns}\"><channel><title>t</title>\
                 <item><title>kept</title></item></channel></rss>"
            );
            assert!(
                parse(&doc).entries.is_empty(),
                "silently empty before repair"
            );
            let r = repair_xml(&doc);
            assert!(r.warnings[0].contains(ns));
            assert_eq!(titles(&parse(&r.text)), ["kept"]);
        }
    }

    #[test]
    fn rss_items_outside_a_channel_are_wrapped_in_one() {
        let doc = "<rss version=\"2.0\"><item><title>orphan</title></item></rss>";
        assert_eq!(titles(&parse(&repaired(doc))), ["orphan"]);
    }

    #[test]
    fn empty_rss_without_channel_is_an_empty_feed() {
        for doc in ["<rss>\n</rss>", "<rss version=\"0.91\"></rss>"] {
            assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
            let r = repair_xml(doc);
            assert!(!r.ill_formed, "a well-formed document is not broken: {doc}");
            assert!(parse(&r.text).entries.is_empty());
        }
    }

    #[test]
    fn old_formats_are_warned_about_but_not_called_ill_formed() {
        let atom03 = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>T</title>\
                      <entry><title>x</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>";
        for doc in [atom03, "<rss><channel><title>T</title></channel></rss>"] {
            let r = repair_xml(doc);
            assert!(r.is_changed() && !r.warnings.is_empty(), "{doc}");
            assert!(!r.ill_formed, "{doc}: {:?}", r.warnings);
        }
        let broken_doc = rss("<item><title>AT&T</title></item>");
        let broken = repair_xml(&broken_doc);
        assert!(broken.ill_formed);
    }

    #[test]
    fn c1_controls_are_read_as_windows_1252() {
        // "don\u{92}t" raw, and as a numeric reference, in text and in CDATA.
        let doc = rss("<item><title>don\u{92}t</title><description>don&#146;t \
             <![CDATA[won\u{92}t]]></description></item>");
        let r = repair_xml(&doc);
        assert!(!r.ill_formed);
        let feed = parse(&r.text);
        assert_eq!(titles(&feed), ["don\u{2019}t"]);
        assert_eq!(
            feed.entries[0].summary.as_ref().unwrap().content,
            "don\u{2019}t won\u{2019}t"
        );
        // U+0081 has no windows-1252 character and stays.
        assert!(!repair_xml(&rss("<item><title>a\u{81}b</title></item>")).is_changed());
    }

    #[test]
    fn references_spelling_utf8_bytes_are_decoded() {
        let numeric = rss("<item><title>wait&#226;&#128;&#166;</title></item>");
        let r = repair_xml(&numeric);
        assert!(!r.ill_formed);
        assert_eq!(titles(&parse(&r.text)), ["wait\u{2026}"]);
        // HTML entity names in the run: decoded too, and the document was broken.
        let named_doc = rss("<item><title>&acirc;&#128;&brvbar;</title></item>");
        let named = repair_xml(&named_doc);
        assert!(named.ill_formed);
        assert_eq!(titles(&parse(&named.text)), ["\u{2026}"]);
        // "Ã©" may be meant (no C1 value in the run): left alone.
        let meant = rss("<item><title>&#195;&#169;</title></item>");
        assert!(!repair_xml(&meant).is_changed());
    }

    #[test]
    fn atom_links_with_their_url_as_text_get_an_href() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><entry>\
                   <title>x</title><link rel=\"alternate\">http://a.example/?a=1&amp;b=\"2\"</link>\
                   </entry></feed>";
        let r = repair_xml(doc);
        assert!(!r.ill_formed);
        let feed = parse(&r.text);
        // feed-rs normalizes the URL: the quotes come out percent-encoded.
        assert_eq!(
            feed.entries[0].links[0].href,
            "http://a.example/?a=1&b=%222%22"
        );
    }

    #[test]
    fn undeclared_namespace_prefixes_are_reported() {
        let doc = rss("<item><title>t</title><dc:creator>me</dc:creator></item>");
        let r = repair_xml(&doc);
        assert!(!r.is_changed(), "nothing to rewrite");
        assert!(r.ill_formed);
        assert_eq!(
            r.warnings,
            ["1 element or attribute names use a namespace prefix never declared"]
        );
        let declared = doc.replace(
            "<rss version=\"2.0\">",
            "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">",
        );
        assert!(repair_xml(&declared).warnings.is_empty());
    }

    #[test]
    fn base64_atom_content_of_another_media_type_is_decoded() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><entry><title>x</title>\
                   <content type=\"application/octet-stream\">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</content>\
                   </entry></feed>";
        let r = repair_xml(doc);
        assert!(!r.ill_formed);
        let content = parse(&r.text).entries.remove(0).content.unwrap();
        assert_eq!(content.body.as_deref(), Some("Example <b>Atom</b>"));
        assert_eq!(content.content_type.subty(), "html");
    }

    #[test]
    fn rss_1_items_without_link_get_their_rdf_about() {
        let doc = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                   xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"c\"><title>t</title>\
                   </channel><item rdf:about=\"https://a.example/1?x=1&amp;y=2\">\
                   <title>one</title></item><item rdf:about=\"https://a.example/2\">\
                   <title>two</title><link>https://a.example/two</link></item></rdf:RDF>";
        assert_eq!(titles(&parse(doc)), ["two"]);
        let feed = parse(&repaired(doc));
        assert_eq!(titles(&feed), ["one", "two"]);
        assert_eq!(feed.entries[0].links[0].href, "https://a.example/1?x=1&y=2");
        assert_eq!(feed.entries[1].links[0].href, "https://a.example/two");
    }

    #[test]
    fn rss_090_namespace_is_read_as_rss_1() {
        let doc = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                   xmlns=\"http://my.netscape.com/rdf/simple/0.9/\"><channel><title>t</title>\
                   <link>https://a/</link></channel><item><title>i</title>\
                   <link>https://a/i</link></item></rdf:RDF>";
        assert!(parse(doc).entries.is_empty());
        assert_eq!(titles(&parse(&repaired(doc))), ["i"]);
    }

    // --- structure ---------------------------------------------------------------------------

    #[test]
    fn unescaped_html_left_open_is_closed() {
        let doc = rss("<item><title>a</title><description>one<br>two<p>three\
                       <img src=\"x.png\"></description></item><item><title>b</title></item>");
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
        let text = repaired(&doc);
        assert!(
            text.contains("<br/>two<p>three<img src=\"x.png\"/></p></description>"),
            "{text}"
        );
        assert_eq!(titles(&parse(&text)), ["a", "b"]);
    }

    #[test]
    fn end_tags_in_the_wrong_case_and_stray_end_tags_are_fixed() {
        let doc = rss("<item><Title>a</title></b></item><item><title>b</TITLE></item>");
        let r = repair_xml(&doc);
        assert_eq!(titles(&parse(&r.text)), ["a", "b"]);
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    }

    // --- Atom --------------------------------------------------------------------------------

    const ATOM03: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <title mode="escaped" type="text/html">Tom &amp;amp; Jerry</title>
  <tagline>News from the region</tagline>
  <copyright type="text/plain">© Example</copyright>
  <info mode="xml" type="text/html"><div xmlns="http://www.w3.org/1999/xhtml">This is an Atom feed</div></info>
  <modified>2026-01-14T10:00:00Z</modified>
  <link rel="alternate" type="text/html" href="https://news.example/"/>
  <generator url="https://gen.example/" version="1">Gen</generator>
  <entry>
    <title>Escaped entry</title>
    <link rel="alternate" type="text/html" href="https://news.example/1"/>
    <id>tag:news.example,2026:1</id>
    <author><name>Ann</name><url>https://ann.example/</url></author>
    <created>2026-01-10T08:00:00Z</created>
    <issued>2026-01-12T09:00:00Z</issued>
    <modified>2026-01-13T10:00:00Z</modified>
    <summary type="text/plain">Plain summary</summary>
    <content type="text/html" mode="escaped">&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title mode="base64">QmFzZTY0IHRpdGxl</title>
    <id>tag:news.example,2026:2</id>
    <created>2026-01-11T08:00:00Z</created>
    <modified>2026-01-11T09:00:00Z</modified>
    <content type="text/html" mode="base64">PHA+RGVjb2RlZCAmYW1wOyBodG1sPC9wPg==</content>
  </entry>
  <entry>
    <title>Inline</title>
    <id>tag:news.example,2026:3</id>
    <modified>2026-01-12T09:00:00Z</modified>
    <content type="application/xhtml+xml"><p>First</p><p>Second</p></content>
  </entry>
  <entry>
    <title>Inline div</title>
    <id>tag:news.example,2026:4</id>
    <content type="text/html" mode="xml"><div>Already <em>wrapped</em></div></content>
  </entry>
</feed>
"#;

    #[test]
    fn atom_03_is_converted_to_atom_1() {
        assert!(
            parse(ATOM03).entries.is_empty(),
            "silently empty before repair"
        );
        let r = repair_xml(ATOM03);
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("converted Atom 0.3 to Atom 1.0"));
        let text = &r.text;
        assert!(text.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:dc"));
        for gone in [
            "purl.org/atom",
            "<info",
            "<tagline",
            "<copyright",
            "<issued",
            "<modified",
        ] {
            assert!(!text.contains(gone), "{gone} left in:\n{text}");
        }
        assert!(!text.contains("<created") && !text.contains("mode="));
        assert!(text.contains("<subtitle>News from the region</subtitle>"));
        assert!(text.contains("<rights>© Example</rights>"));
        assert!(text.contains("<generator uri=\"https://gen.example/\" version=\"1\">"));

        let feed = parse(text);
        assert_eq!(feed.title.as_ref().unwrap().content, "Tom &amp; Jerry");
        assert_eq!(
            feed.description.as_ref().unwrap().content,
            "News from the region"
        );
        assert_eq!(feed.rights.as_ref().unwrap().content, "© Example");
        assert_eq!(
            feed.updated.unwrap().to_rfc3339(),
            "2026-01-14T10:00:00+00:00"
        );
        assert_eq!(
            feed.generator.as_ref().unwrap().uri.as_deref(),
            Some("https://gen.example/")
        );
        assert_eq!(
            titles(&feed),
            ["Escaped entry", "Base64 title", "Inline", "Inline div"]
        );

        let first = &feed.entries[0];
        // `issued` wins over `created`; `modified` is `updated`.
        assert_eq!(
            first.published.unwrap().to_rfc3339(),
            "2026-01-12T09:00:00+00:00"
        );
        assert_eq!(
            first.updated.unwrap().to_rfc3339(),
            "2026-01-13T10:00:00+00:00"
        );
        assert_eq!(
            first.authors[0].uri.as_deref(),
            Some("https://ann.example/")
        );
        assert_eq!(first.summary.as_ref().unwrap().content, "Plain summary");
        let content = first.content.as_ref().unwrap();
        assert_eq!(content.content_type.to_string(), "text/html");
        assert_eq!(content.body.as_deref(), Some("<p>Hello <b>world</b></p>"));

        let second = &feed.entries[1];
        // No `issued`: `created` becomes `published`.
        assert_eq!(
            second.published.unwrap().to_rfc3339(),
            "2026-01-11T08:00:00+00:00"
        );
        let content = second.content.as_ref().unwrap();
        assert_eq!(content.content_type.to_string(), "text/html");
        assert_eq!(content.body.as_deref(), Some("<p>Decoded &amp; html</p>"));

        let third = feed.entries[2].content.as_ref().unwrap();
        assert_eq!(third.content_type.to_string(), "application/xhtml");
        assert_eq!(third.body.as_deref(), Some("<p>First</p><p>Second</p>"));
        assert!(text.contains(&format!("{XHTML_DIV_OPEN}<p>First</p><p>Second</p></div>")));

        let fourth = feed.entries[3].content.as_ref().unwrap();
        assert_eq!(fourth.body.as_deref(), Some("Already <em>wrapped</em>"));
        assert!(text.contains("<div xmlns=\"http://www.w3.org/1999/xhtml\">Already"));

        // Converting twice changes nothing more.
        assert!(!repair_xml(text).is_changed());
    }

    #[test]
    fn atom_03_created_without_issued_becomes_published_and_is_dropped_otherwise() {
        let doc = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>t</title>\
                   <entry><title>a</title><created>2026-01-01T00:00:00Z</created></entry>\
                   <entry><title>b</title><created>2026-01-01T00:00:00Z</created>\
                   <issued>2026-01-02T00:00:00Z</issued></entry></feed>";
        let text = repaired(doc);
        assert_eq!(text.matches("<published>").count(), 2);
        assert!(!text.contains("created"));
        let feed = parse(&text);
        assert_eq!(
            feed.entries[0].published.unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(
            feed.entries[1].published.unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
    }

    #[test]
    fn atom_03_feed_in_an_unknown_namespace_is_recognised_by_its_version() {
        let doc = "<feed version=\"0.3\" xmlns=\"http://example.com/newformat#\">\
                   <title>Example Atom</title><entry><title>e</title></entry></feed>";
        let feed = parse(&repaired(doc));
        assert_eq!(feed.title.as_ref().unwrap().content, "Example Atom");
        assert_eq!(titles(&feed), ["e"]);
    }

    #[test]
    fn atom_03_plain_text_and_prefixed_elements_are_converted() {
        let doc = "<a:feed version=\"0.3\" xmlns:a=\"http://purl.org/atom/ns#\">\
                   <a:title type=\"text/plain\" mode=\"escaped\">1 &lt; 2</a:title>\
                   <a:entry><a:title>x</a:title><a:issued>2026-01-02T00:00:00Z</a:issued>\
                   </a:entry></a:feed>";
        let text = repaired(doc);
        assert!(
            text.contains("<a:published>2026-01-02T00:00:00Z</a:published>"),
            "{text}"
        );
        let feed = parse(&text);
        assert_eq!(feed.title.unwrap().content, "1 < 2");
        assert!(feed.entries[0].published.is_some());
    }

    #[test]
    fn atom_1_text_with_unusable_types_is_corrected() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"\">t</title>\
                   <entry><title type=\"application/octet-stream\">\
                   RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title></entry>\
                   <entry><title type=\"text/plain\">plain</title>\
                   <summary type=\"HTML\">&lt;b&gt;s&lt;/b&gt;</summary>\
                   <content type=\"image/svg+xml\"><svg/></content></entry>\
                   <entry><title type=\"TEXT\">upper</title><content type=\"text/plain\"/></entry>\
                   </feed>";
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
        let feed = parse(&repaired(doc));
        assert_eq!(titles(&feed), ["Example <b>Atom</b>", "plain", "upper"]);
        assert_eq!(
            feed.entries[1].summary.as_ref().unwrap().content,
            "<b>s</b>"
        );
        assert_eq!(
            feed.entries[1].content.as_ref().unwrap().body.as_deref(),
            Some("<svg></svg>")
        );
    }

    // --- truncated documents -----------------------------------------------------------------

    #[test]
    fn truncated_feed_keeps_its_complete_items() {
        let doc = rss(
            "<item><title>one</title></item><item><title>two</title></item>\
                       <item><title>thr",
        );
        let doc = &doc[..doc.find("thr").unwrap() + 3];
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
        let r = truncate_to_last_item(doc).unwrap();
        assert!(
            r.text
                .ends_with("<title>two</title></item></channel></rss>")
        );
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(titles(&parse(&r.text)), ["one", "two"]);

        let atom = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\
                    <entry><title>a</title></entry><entry><title>b</title><content type=\"html\">\
                    &lt;p&gt;cut";
        let r = truncate_to_last_item(atom).unwrap();
        assert_eq!(titles(&parse(&r.text)), ["a"]);
    }

    #[test]
    fn truncation_stops_at_the_first_broken_end_tag() {
        let doc = rss(
            "<item><title>one</title></item><item><title>two</titel></item>\
                       <item><title>three</title></item>",
        );
        let r = truncate_to_last_item(&doc).unwrap();
        assert_eq!(titles(&parse(&r.text)), ["one"]);
    }

    #[test]
    fn truncation_without_a_complete_item_gives_nothing() {
        assert!(truncate_to_last_item("<rss version=\"2.0\"><channel><title>t").is_none());
        assert!(truncate_to_last_item("").is_none());
        assert!(truncate_to_last_item("<item></item>").is_none());
    }

    // --- RSS 1.0 identifiers -----------------------------------------------------------------

    #[test]
    fn rdf_about_ids_follow_the_items() {
        let doc = "<?xml version=\"1.0\"?><rdf:RDF \
                   xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                   xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"https://a/\">\
                   <items><rdf:Seq><rdf:li resource=\"https://a/1\"/></rdf:Seq></items>\
                   </channel><item rdf:about=\"https://a/1?x=1&amp;y=2\"><title>1</title></item>\
                   <item><title>no id</title></item>\
                   <item rdf:about=\"https://a/3\"/></rdf:RDF>";
        assert_eq!(
            rdf_about_ids(doc),
            ["https://a/1?x=1&y=2", "", "https://a/3"]
        );
        assert!(rdf_about_ids(&rss("<item><title>x</title></item>")).is_empty());
        assert!(rdf_about_ids("<rdf:RDF").is_empty());
    }

    // --- JSON Feed ---------------------------------------------------------------------------

    fn json_feed(version: Option<&str>) -> String {
        let version = version.map_or(String::new(), |v| format!("\"version\": \"{v}\","));
        format!(
            "{{{version} \"title\": \"J\", \"items\": [{{\"id\": \"1\", \"title\": \"first\", \
             \"content_text\": \"x\"}}]}}"
        )
    }

    #[test]
    fn json_feed_versions_are_normalised() {
        for (version, expected) in [
            (Some("http://jsonfeed.org/version/1"), JSON_FEED_1),
            (Some("1.0"), JSON_FEED_1),
            (Some("1"), JSON_FEED_1),
            (Some("1.1"), JSON_FEED_1_1),
            (Some("http://jsonfeed.org/version/1.1"), JSON_FEED_1_1),
            (None, JSON_FEED_1_1),
        ] {
            let doc = json_feed(version);
            assert!(
                feed_rs::parser::parse(doc.as_bytes()).is_err(),
                "{version:?}"
            );
            let r = repair_json(&doc);
            assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
            let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
            assert_eq!(v["version"], expected);
            assert_eq!(titles(&parse(&r.text)), ["first"]);
        }
        let good = json_feed(Some("https://jsonfeed.org/version/1.1"));
        assert!(matches!(repair_json(&good).text, Cow::Borrowed(_)));
    }

    #[test]
    fn json_feed_fields_of_the_wrong_type_are_repaired() {
        let doc = r#"{"version": "1.1", "items": [
            {"id": 42, "title": "numeric id", "tags": ["a", 7, null],
             "attachments": [{"url": "https://a/x.mp3", "size_in_bytes": "123"}, {"title": "no url"}],
             "author": "Ann"},
            "not an item"
        ]}"#;
        let r = repair_json(doc);
        let feed = parse(&r.text);
        assert_eq!(titles(&feed), ["numeric id"]);
        assert_eq!(feed.entries[0].id, "42");
        assert_eq!(feed.entries[0].categories.len(), 2);
        assert_eq!(feed.entries[0].authors[0].name.as_deref(), Some("Ann"));
        assert!(r.warnings.len() >= 3, "{:?}", r.warnings);
    }

    #[test]
    fn non_feed_json_is_left_alone() {
        for doc in ["{\"verion\": \"1.0\"", "[1, 2]", "{\"a\": 1}", "", "{"] {
            assert!(!repair_json(doc).is_changed(), "{doc}");
        }
    }

    // --- robustness --------------------------------------------------------------------------

    #[test]
    fn odd_inputs_never_panic() {
        let odd = [
            "",
            "&",
            "<",
            "<rss",
            "&#",
            "&#x",
            "&#x;",
            "&#;",
            "&#99999999999999999999;",
            "<!",
            "<!--",
            "<![CDATA[",
            "<?",
            "<?xml",
            "</",
            "</rss",
            "<rss version=",
            "<rss version='",
            "<rss a",
            "<rss>&",
            "<rss><",
            "<rss></",
            "<rss>&#xD800;",
            "<rss>&#xD800;&#",
            "<rss><item rdf:about=\"",
            "\u{feff}",
            "é<rss>",
            "<rss>é&é;</rss>",
            "<feed",
            "<feed version=\"0.3\"><entry><content mode=\"base64\">====</content></entry>",
            "<feed version=\"0.3\"><entry><created/><created/></entry></feed>",
            "<feed version=\"0.3\"><info><info></info></feed>",
            "<feed version=\"0.3\"><entry><created><x></entry></feed>",
            "<rss/>",
            "<rss/><rss>",
            "<rdf:RDF><item rdf:about=\"x\"/></rdf:RDF>",
            "<rss></a></b></c>",
            "<rss><a><b><c></rss>",
            "🦀<rss>🦀&🦀;</rss>🦀",
            "<rss>\u{0}\u{1}&#1;</rss>",
            "<rss><![CDATA[]]></rss>",
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title type=\"x\"/></entry></feed>",
        ];
        for doc in odd {
            let _ = repair_xml(doc);
            let _ = truncate_to_last_item(doc);
            let _ = rdf_about_ids(doc);
            let _ = repair_json(doc);
        }
        // Every prefix of a real document.
        let doc = ATOM03;
        for (i, _) in doc.char_indices() {
            let _ = repair_xml(&doc[..i]);
            let _ = truncate_to_last_item(&doc[..i]);
        }
    }

    /// Pathological documents of about `n` bytes.
    fn pathological(n: usize) -> Vec<String> {
        vec![
            "&".repeat(n),
            format!("<rss>{}</rss>", "&".repeat(n)),
            format!("<rss>{}", "<a>".repeat(n / 3)),
            format!("<rss>{}</rss>", "<a>".repeat(n / 6) + &"</b>".repeat(n / 8)),
            format!("<rss>{}", "&a".repeat(n / 2)),
            format!("<rss>{}", "&#1".repeat(n / 3)),
            format!("<rss>{}</rss>", "&nbsp".repeat(n / 5)),
            format!("<rss>{}</rss>", "<".repeat(n)),
            format!("<rss>{}</rss>", "<br>".repeat(n / 4)),
            format!("<rss a=\"{}\">", "&".repeat(n)),
            format!(
                "<rdf:RDF><item rdf:about=\"{}\"></item></rdf:RDF>",
                "&".repeat(n)
            ),
            format!("<feed xmlns=\"{}\">", "&".repeat(n)),
            format!("<rss>{}</rss>", "&".to_string() + &"a".repeat(n)),
            format!(
                "<feed version=\"0.3\">{}</feed>",
                "<entry><created/>".repeat(n / 17)
            ),
            format!(
                "<feed version=\"0.3\"><entry>{}",
                "<content><p>".repeat(n / 12)
            ),
            "<".repeat(n),
            "<rss><item>".to_string() + &"<item></item>".repeat(n / 13),
        ]
    }

    /// Pathological megabyte inputs (long runs of `&`, `<`, unclosed tags) are repaired in one
    /// pass and stay well-formed enough to reparse; how long that takes is measured by
    /// benchmarks, not asserted here.
    #[test]
    fn megabyte_pathological_inputs_are_repaired() {
        for doc in pathological(1 << 20) {
            let repaired = repair_xml(&doc);

            let again = repair_xml(&repaired.text);
            assert_eq!(again.text, repaired.text, "a second repair changes nothing");
            let _ = truncate_to_last_item(&doc);
            let _ = rdf_about_ids(&doc);
        }
    }

    #[test]
    fn base64_decoder_matches_the_standard_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            if plain.is_empty() {
                assert_eq!(base64_decode(encoded), None);
            } else {
                assert_eq!(base64_decode(encoded).as_deref(), Some(plain.as_bytes()));
                let unpadded = encoded.trim_end_matches('=');
                assert_eq!(base64_decode(unpadded).as_deref(), Some(plain.as_bytes()));
            }
        }
        assert_eq!(
            base64_decode(" Zm9v\n YmFy ").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zg==Zg"), None);
    }

    // --- the corpus --------------------------------------------------------------------------

    /// What `crate::decode` does, done naively: lossy UTF-8, no BOM, declaration says UTF-8,
    /// no characters XML forbids. `None` for UTF-16/32 files.
    fn naive_decode(bytes: &[u8]) -> Option<String> {
        let wide = bytes.starts_with(&[0xFE, 0xFF])
            || bytes.starts_with(&[0xFF, 0xFE])
            || bytes.iter().take(4).any(|&b| b == 0);
        if wide {
            return None;
        }
        let lossy = String::from_utf8_lossy(bytes);
        let mut s: String = lossy
            .trim_start_matches('\u{feff}')
            .chars()
            .filter(|&c| is_xml_char(u64::from(c)))
            .collect();
        if s.starts_with("<?xml") {
            let decl_end = s.find("?>").unwrap_or(0);
            if let Some(i) = s[..decl_end].find("encoding") {
                let rest = &s[i..decl_end];
                if let Some(q) = rest.find(['"', '\'']) {
                    let quote = &rest[q..=q];
                    if let Some(len) = rest[q + 1..].find(quote) {
                        s.replace_range(i + q + 1..i + q + 1 + len, "UTF-8");
                    }
                }
            }
        }
        Some(s)
    }

    fn entry_count(text: &str) -> Option<usize> {
        std::panic::catch_unwind(|| feed_rs::parser::parse(text.as_bytes()))
            .ok()?
            .ok()
            .map(|f| f.entries.len())
    }

    /// Valid files that are changed anyway, and why.
    const CHANGED_ON_PURPOSE: [(&str, &str); 11] = [
        (
            "feedparser/tests/wellformed/atom10/entry_link_no_href_link_priority.xml",
            "Atom links without the href RFC 4287 requires",
        ),
        (
            "feedparser/tests/wellformed/atom10/entry_content_base64.xml",
            "base64 content of another media type, decoded",
        ),
        (
            "feedparser/tests/wellformed/atom10/entry_content_base64_2.xml",
            "base64 content of another media type, decoded",
        ),
        (
            "feedparser/tests/wellformed/atom10/entry_link_no_href.xml",
            "Atom links without the href RFC 4287 requires",
        ),
        (
            "feedparser/tests/encoding/demoronize-1.xml",
            "a C1 control standing for a windows-1252 character",
        ),
        (
            "feedparser/tests/encoding/demoronize-2.xml",
            "a reference to a C1 control standing for a windows-1252 character",
        ),
        (
            "feedparser/tests/encoding/double-encoded-html.xml",
            "references spelling the UTF-8 bytes of …",
        ),
        (
            "feedparser/tests/wellformed/rdf/rdf_item_description.xml",
            "RSS 1.0 item without the <link> RSS 1.0 requires",
        ),
        (
            "feedparser/tests/wellformed/rdf/rdf_item_rdf_about.xml",
            "RSS 1.0 item without the <link> RSS 1.0 requires",
        ),
        (
            "feedparser/tests/wellformed/rdf/rdf_item_title.xml",
            "RSS 1.0 item without the <link> RSS 1.0 requires",
        ),
        (
            "feedvalidator/testcases/rss/must/rss91n_entity.xml",
            "HTML entities declared only by the external Netscape DTD, which is never read",
        ),
    ];

    #[test]
    fn corpus_parses_at_least_as_well_after_repair() {
        let root =
            std::env::var("TRIBUTARY_CORPUS").unwrap_or_else(|_| "/work/shared/corpus".to_string());
        let Ok(manifest) = std::fs::read_to_string(format!("{root}/MANIFEST.tsv")) else {
            eprintln!("no corpus at {root}; skipped");
            return;
        };
        let (mut files, mut ok_before, mut ok_after, mut more, mut truncated) = (0, 0, 0, 0, 0);
        let mut failures = Vec::new();
        for line in manifest.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (path, format, wellformed) = (cols[0], cols[4], cols[11]);
            let bytes = std::fs::read(format!("{root}/{path}")).expect(path);
            let Some(text) = naive_decode(&bytes) else {
                continue;
            };
            files += 1;
            let json = text.trim_start().starts_with('{');
            let before = entry_count(&text);
            let r = if json {
                repair_json(&text)
            } else {
                repair_xml(&text)
            };
            let mut after = entry_count(&r.text);
            if after.is_none()
                && !json
                && let Some(t) = truncate_to_last_item(&r.text)
            {
                after = entry_count(&t.text);
                truncated += usize::from(after.is_some());
            }
            ok_before += usize::from(before.is_some());
            ok_after += usize::from(after.is_some());
            more += usize::from(after.unwrap_or(0) > before.unwrap_or(0));

            if let Some(n) = before {
                match after {
                    None => failures.push(format!("{path}: parsed before repair, fails after")),
                    Some(m) if m < n => failures.push(format!("{path}: {n} entries, then {m}")),
                    _ => {}
                }
            }
            let standard = matches!(
                format,
                "RSS 2.0"
                    | "RSS 0.91"
                    | "RSS 0.92"
                    | "RSS 1.0 (RDF)"
                    | "Atom 1.0"
                    | "Atom 1.0 entry document"
                    | "JSON Feed 1.0"
                    | "JSON Feed 1.1"
            );
            let valid = wellformed.starts_with("wf") || wellformed == "json-ok";
            let exempt = CHANGED_ON_PURPOSE.iter().any(|(p, _)| *p == path);
            if standard && valid && before.is_some() && !exempt && r.is_changed() {
                failures.push(format!(
                    "{path}: valid and standard, yet changed: {:?}",
                    r.warnings
                ));
            }
            if !json && r.is_changed() && repair_xml(&r.text).is_changed() {
                failures.push(format!("{path}: a second repair changes it again"));
            }
        }
        println!(
            "corpus: {files} files; feed-rs parses {ok_before} before repair, {ok_after} after \
             ({truncated} of them by truncation); {more} give more entries"
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(ok_after > ok_before);
    }
}
