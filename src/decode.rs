//! Turns a feed's raw bytes and its HTTP `Content-Type` into UTF-8 text before any parser sees
//! them.
//!
//! The feeds Tributary follows arrive however the publisher's server produced them: gzip bodies
//! served without `Content-Encoding`, UTF-16 or UTF-32 with or without a byte order mark,
//! windows-1251 or KOI8-R with no declaration at all, declarations that contradict the bytes, and
//! text that was UTF-8-encoded twice. The parsers downstream only ever get a `&str`, so each of
//! these cases is settled here, once, and every recovery is reported as a human-readable warning
//! (as `tributary preview` shows them).
//!
//! Precedence, highest first:
//! 1. gzip magic bytes: the body is decompressed (bounded by the caller's size cap);
//! 2. a byte order mark;
//! 3. the `charset` parameter of an XML, RSS, Atom, JSON or `text/*` Content-Type (RFC 7303);
//! 4. the XML declaration's `encoding`, or for HTML pages a `<meta>` charset;
//! 5. sniffing: the UTF-16/UTF-32 layout of a leading `<`, valid UTF-8, then the Chinese,
//!    Japanese and Korean legacy encodings and the Greek, Hebrew, Arabic and Thai ones as
//!    Firefox's detector (`chardetng`) recognizes them, then a Cyrillic detector choosing
//!    windows-1251 or KOI8-R, then windows-1252.
//!
//! A declaration that the bytes contradict is overridden with a warning (UTF-8 declared over
//! legacy bytes, a single-byte charset declared over valid multi-byte UTF-8, Latin declared over
//! clearly Cyrillic text). Text whose whole content is UTF-8 read as windows-1252 and re-encoded
//! is repaired when that reading is unambiguous. Finally the XML declaration's `encoding` is
//! rewritten to `UTF-8`, so an XML parser fed the text does not transcode it a second time.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;

use encoding_rs::{
    Encoding, KOI8_R, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1251, WINDOWS_1252,
};

/// The name [`Decoded::encoding`] carries for little-endian UTF-32 (`encoding_rs` has no UTF-32).
pub const UTF_32LE_NAME: &str = "UTF-32LE";
/// The name [`Decoded::encoding`] carries for big-endian UTF-32 (`encoding_rs` has no UTF-32).
pub const UTF_32BE_NAME: &str = "UTF-32BE";

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// How much of the document start is searched for the XML declaration.
const DECLARATION_WINDOW: usize = 1024;
/// How much of an HTML page is searched for a `<meta>` charset.
const HTML_META_WINDOW: usize = 2048;
/// Size of each read from the gzip decompressor.
const GZIP_CHUNK: usize = 16 * 1024;
/// Longest declared label quoted back in a warning.
const MAX_QUOTED_LABEL: usize = 40;

/// A feed body turned into UTF-8 text, with what it was and how it got there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The document as UTF-8: byte order mark stripped, the XML declaration's `encoding`
    /// rewritten to `UTF-8`, everything else untouched.
    pub text: String,
    /// The `encoding_rs` name of what the bytes were, e.g. `"windows-1251"`, `"UTF-16BE"`; UTF-32
    /// is reported as [`UTF_32LE_NAME`] or [`UTF_32BE_NAME`].
    pub encoding: &'static str,
    /// Every recovery made on the way, human readable, e.g. `"declared UTF-8 in the XML
    /// declaration but the bytes are not valid UTF-8; decoded as windows-1251"`.
    pub warnings: Vec<String>,
}

/// Why a body could not be turned into text at all.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The body starts with the gzip magic bytes but does not decompress (corrupt or truncated).
    #[error("body looks gzip-compressed but does not decompress")]
    Gzip(#[source] std::io::Error),
    /// The body, after decompression, is larger than the configured cap.
    #[error("body is larger than the {limit}-byte limit (after decompression)")]
    TooLarge {
        /// The cap that was exceeded, in bytes.
        limit: usize,
    },
}

/// Decodes a feed or page body to UTF-8 text.
///
/// `content_type`: the raw HTTP `Content-Type` header value, if any. `max_len`: cap on the
/// body's size in bytes after decompression; a body (or gzip stream) beyond it fails with
/// [`DecodeError::TooLarge`] without decompressing or allocating past the cap.
///
/// Never panics; every input that is not gzip decodes to some text, with warnings saying what
/// had to be guessed or repaired.
///
/// # Errors
///
/// [`DecodeError::Gzip`] when the body starts with the gzip magic bytes but is corrupt or
/// truncated; [`DecodeError::TooLarge`] when the body, decompressed, is over `max_len`.
pub fn decode(
    bytes: &[u8],
    content_type: Option<&str>,
    max_len: usize,
) -> Result<Decoded, DecodeError> {
    let mut warnings = Vec::new();
    let body: Cow<'_, [u8]> = if bytes.starts_with(&GZIP_MAGIC) {
        let inflated = gunzip(bytes, max_len)?;
        warnings.push("body was still gzip-compressed; decompressed it".to_owned());
        Cow::Owned(inflated)
    } else if bytes.len() > max_len {
        return Err(DecodeError::TooLarge { limit: max_len });
    } else {
        Cow::Borrowed(bytes)
    };
    if content_type.is_some_and(|ct| media_type(ct).eq_ignore_ascii_case("text/plain")) {
        // RFC 7303: text/plain is not XML; read anyway, but the server is misconfigured.
        warnings.push("the server sent it as text/plain, not as a feed or XML type".to_owned());
    }
    // Validated once: the charset choice asks, and valid UTF-8 is then copied as it is. The
    // validator uses vector instructions: whole documents go through it, and on text that is
    // not ASCII the standard library's takes several times longer.
    let utf8 = simdutf8::basic::from_utf8(&body).ok();
    let choice = choose_charset(&body, utf8.is_some(), content_type, &mut warnings);
    let mut text = match (choice.charset, utf8) {
        (Charset::Web(encoding), Some(valid)) if encoding == UTF_8 => {
            valid.get(choice.bom_len..).unwrap_or_default().to_owned()
        }
        _ => transcode(body, choice, &mut warnings),
    };
    repair_double_encoding(&mut text, &mut warnings);
    rewrite_declared_encoding(&mut text);
    Ok(Decoded {
        text,
        encoding: choice.charset.name(),
        warnings,
    })
}

/// The `charset` parameter of a Content-Type value, if present: the name in any case, the value
/// quoted (`"…"` or `'…'`) or not, whitespace around `=` tolerated. Returns the value without its
/// quotes, or `None` when absent or empty.
#[must_use]
pub fn charset_param(content_type: &str) -> Option<&str> {
    let mut rest = &content_type[content_type.find(';')? + 1..];
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return None;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim();
        rest = &rest[name_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            continue;
        };
        let after_eq = after_eq.trim_start();
        let (value, remainder) = match after_eq.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let quoted = &after_eq[1..];
                match closing_quote(quoted, quote) {
                    Some(end) => (&quoted[..end], &quoted[end + 1..]),
                    None => (quoted, ""),
                }
            }
            _ => {
                let end = after_eq.find(';').unwrap_or(after_eq.len());
                (&after_eq[..end], &after_eq[end..])
            }
        };
        rest = remainder;
        if name.eq_ignore_ascii_case("charset") {
            let value = value.trim();
            return (!value.is_empty()).then_some(value);
        }
    }
}

/// Byte offset of the quote closing a quoted-string, honouring backslash escapes.
fn closing_quote(quoted: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in quoted.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(at);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Charsets and labels
// ---------------------------------------------------------------------------------------------

/// What the bytes are read as: an `encoding_rs` encoding, or one of the UTF-32 forms it lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    Web(&'static Encoding),
    Utf32Le,
    Utf32Be,
}

impl Charset {
    fn name(self) -> &'static str {
        match self {
            Charset::Web(encoding) => encoding.name(),
            Charset::Utf32Le => UTF_32LE_NAME,
            Charset::Utf32Be => UTF_32BE_NAME,
        }
    }

    /// Bytes per code unit: 1 for ASCII-compatible encodings, 2 for UTF-16, 4 for UTF-32.
    fn unit_width(self) -> usize {
        match self {
            Charset::Web(encoding) if encoding == UTF_16LE || encoding == UTF_16BE => 2,
            Charset::Web(_) => 1,
            Charset::Utf32Le | Charset::Utf32Be => 4,
        }
    }

    /// The encoding, when it is one in which markup is ASCII.
    fn ascii_compatible(self) -> Option<&'static Encoding> {
        match self {
            Charset::Web(encoding) if self.unit_width() == 1 => Some(encoding),
            _ => None,
        }
    }
}

/// A declared encoding label resolved to a charset.
#[derive(Clone, Copy, Debug)]
struct Label {
    charset: Charset,
    /// Whether the label itself names a byte order (`utf-16le`), rather than leaving it to the
    /// byte order mark or layout (`utf-16`).
    names_byte_order: bool,
}

/// Resolves a label the WHATWG way (`iso-8859-1` and `us-ascii` mean windows-1252), plus the
/// UTF-32 labels WHATWG lacks and `_` spelled for `-`. The replacement encoding counts as unknown:
/// it would turn the whole feed into one U+FFFD.
fn resolve_label(label: &str) -> Option<Label> {
    let label = label.trim();
    let lower = label.to_ascii_lowercase();
    let names_byte_order = lower.ends_with("le") || lower.ends_with("be");
    let compact: String = lower.chars().filter(|c| !matches!(c, '-' | '_')).collect();
    let utf32 = match compact.as_str() {
        "utf32" | "u32" | "ucs4" | "iso10646ucs4" | "csucs4" | "utf32be" => Some(Charset::Utf32Be),
        "utf32le" => Some(Charset::Utf32Le),
        _ => None,
    };
    // Spellings without the hyphen (`utf8`, `utf16`, and Python's `u8`/`u16`) that WHATWG
    // does not list but publishers write.
    let lower = match compact.as_str() {
        "utf8" | "u8" => "utf-8".to_string(),
        "utf16" | "u16" => "utf-16".to_string(),
        "utf16le" => "utf-16le".to_string(),
        "utf16be" => "utf-16be".to_string(),
        _ => lower,
    };
    if let Some(charset) = utf32 {
        return Some(Label {
            charset,
            names_byte_order,
        });
    }
    let encoding = Encoding::for_label(lower.as_bytes())
        .or_else(|| Encoding::for_label(lower.replace('_', "-").as_bytes()))?;
    (encoding != REPLACEMENT).then_some(Label {
        charset: Charset::Web(encoding),
        names_byte_order,
    })
}

/// Where a declared label came from, for warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    ContentType,
    XmlDeclaration,
    HtmlMeta,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::ContentType => "the Content-Type charset",
            Source::XmlDeclaration => "the XML declaration",
            Source::HtmlMeta => "an HTML <meta> charset",
        }
    }
}

/// A label as it may be quoted back to the user: trimmed, bounded, escaped.
fn quoted(label: &str) -> String {
    let short: String = label.trim().chars().take(MAX_QUOTED_LABEL).collect();
    format!("{short:?}")
}

// ---------------------------------------------------------------------------------------------
// Choosing the charset
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Choice {
    charset: Charset,
    /// Length of the byte order mark to skip.
    bom_len: usize,
}

/// `utf8`: whether `bytes` are valid UTF-8 as a whole.
fn choose_charset(
    bytes: &[u8],
    utf8: bool,
    content_type: Option<&str>,
    warnings: &mut Vec<String>,
) -> Choice {
    let http_label = content_type.and_then(charset_param);
    let media = content_type.map(media_type).unwrap_or("");
    let http_authoritative = http_label.is_some() && charset_is_authoritative(media);

    if let Some((charset, bom_len)) = byte_order_mark(bytes) {
        if http_authoritative
            && let Some(label) = http_label
            && let Some(declared) = resolve_label(label)
            && !same_family(declared.charset, charset)
        {
            warnings.push(format!(
                "the byte order mark says {} but the Content-Type charset says {}; followed the byte order mark",
                charset.name(),
                quoted(label)
            ));
        }
        check_declaration_against_bom(&bytes[bom_len..], charset, warnings);
        return Choice { charset, bom_len };
    }

    let plain = |charset| Choice {
        charset,
        bom_len: 0,
    };
    let layout = wide_layout(bytes);
    if http_authoritative
        && let Some(label) = http_label
        && let Some(charset) =
            follow_label(label, Source::ContentType, bytes, utf8, layout, warnings)
    {
        return plain(charset);
    }
    if let Some(wide) = layout {
        check_wide_declaration(bytes, wide, warnings);
        return plain(wide);
    }
    if let Some((label, source)) = document_label(bytes, media)
        && let Some(charset) = follow_label(&label, source, bytes, utf8, None, warnings)
    {
        return plain(charset);
    }
    // A charset on some other media type (say application/octet-stream) is only a hint.
    if !http_authoritative
        && let Some(label) = http_label
        && let Some(charset) = follow_label(label, Source::ContentType, bytes, utf8, None, warnings)
    {
        return plain(charset);
    }
    plain(sniff_undeclared(bytes, utf8, warnings))
}

/// The media type of a Content-Type value, without parameters.
fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// RFC 7303: a charset on an XML media type (and, for Tributary, on RSS, Atom, JSON and any
/// `text/*` type) overrides whatever the document says.
fn charset_is_authoritative(media: &str) -> bool {
    let media = media.to_ascii_lowercase();
    media.starts_with("text/")
        || ["xml", "rss", "atom", "rdf", "json", "html"]
            .iter()
            .any(|kind| media.contains(kind))
}

fn same_family(a: Charset, b: Charset) -> bool {
    a == b || (a.unit_width() > 1 && a.unit_width() == b.unit_width())
}

fn byte_order_mark(bytes: &[u8]) -> Option<(Charset, usize)> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Some((Charset::Web(UTF_8), 3))
    } else if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        Some((Charset::Utf32Le, 4))
    } else if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        Some((Charset::Utf32Be, 4))
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        Some((Charset::Web(UTF_16LE), 2))
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        Some((Charset::Web(UTF_16BE), 2))
    } else {
        None
    }
}

/// UTF-16 or UTF-32 without a byte order mark, recognised (as XML 1.0 Appendix F does) by the
/// zero bytes around a leading `<`: the first code units must be ASCII, the first one that is not
/// whitespace a `<`.
fn wide_layout(bytes: &[u8]) -> Option<Charset> {
    let candidates = [
        (Charset::Utf32Be, 3),
        (Charset::Utf32Le, 0),
        (Charset::Web(UTF_16BE), 1),
        (Charset::Web(UTF_16LE), 0),
    ];
    'candidates: for (charset, low_byte) in candidates {
        let mut units = 0;
        let mut first_visible = None;
        for unit in bytes.chunks_exact(charset.unit_width()).take(4) {
            for (at, &byte) in unit.iter().enumerate() {
                let fits = if at == low_byte {
                    byte != 0 && byte.is_ascii()
                } else {
                    byte == 0
                };
                if !fits {
                    continue 'candidates;
                }
            }
            let ascii = unit[low_byte];
            if first_visible.is_none() && !ascii.is_ascii_whitespace() {
                first_visible = Some(ascii);
            }
            units += 1;
        }
        if units >= 2 && first_visible == Some(b'<') {
            return Some(charset);
        }
    }
    None
}

/// Whether the body starts (after whitespace) with `<` followed by a non-zero byte: markup in an
/// ASCII-compatible encoding, which no UTF-16 or UTF-32 text can look like.
fn looks_like_ascii_markup(bytes: &[u8]) -> bool {
    let start = skip_ascii_whitespace(bytes, 0);
    bytes.get(start) == Some(&b'<') && bytes.get(start + 1).is_some_and(|&b| b != 0)
}

/// Applies a declared label, checking it against the bytes. `None` means the label is unknown
/// or plainly wrong, and the next source in precedence order decides.
/// `utf8`: whether `bytes` are valid UTF-8 as a whole.
fn follow_label(
    label: &str,
    source: Source,
    bytes: &[u8],
    utf8: bool,
    layout: Option<Charset>,
    warnings: &mut Vec<String>,
) -> Option<Charset> {
    let Some(declared) = resolve_label(label) else {
        warnings.push(format!(
            "unknown encoding {} in {}; ignored it",
            quoted(label),
            source.describe()
        ));
        return None;
    };
    let mut charset = declared.charset;
    if source == Source::HtmlMeta && charset.unit_width() > 1 {
        // A page that can declare itself in ASCII is not UTF-16 (the WHATWG rule).
        charset = Charset::Web(UTF_8);
    }

    let Some(encoding) = charset.ascii_compatible() else {
        return match layout {
            Some(found) if found.unit_width() == charset.unit_width() => {
                if declared.names_byte_order && found != charset {
                    warnings.push(overridden(source, charset.name(), found));
                }
                Some(found)
            }
            Some(found) => {
                warnings.push(overridden(source, charset.name(), found));
                Some(found)
            }
            None if looks_like_ascii_markup(bytes) => {
                warnings.push(format!(
                    "{} says {} but the markup is ASCII-compatible; ignored it",
                    source.describe(),
                    charset.name()
                ));
                None
            }
            None => Some(charset),
        };
    };

    if let Some(found) = layout {
        warnings.push(overridden(source, encoding.name(), found));
        return Some(found);
    }

    if encoding == UTF_8 {
        if utf8 {
            return Some(charset);
        }
        let guess = guess_legacy(bytes);
        if guess != UTF_8 {
            warnings.push(format!(
                "declared UTF-8 in {} but the bytes are not valid UTF-8; decoded as {}",
                source.describe(),
                guess.name()
            ));
        }
        return Some(Charset::Web(guess));
    }

    if encoding.is_single_byte() {
        let names_ascii = matches!(
            label.trim().to_ascii_lowercase().as_str(),
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso-ir-6" | "us" | "iso646-us" | "cp367"
        );
        if names_ascii && !utf8 {
            warnings.push(format!(
                "declared {} in {} but {} bytes are not ASCII; read them as windows-1252",
                quoted(label),
                source.describe(),
                bytes.iter().filter(|b| !b.is_ascii()).count()
            ));
        }
        if !bytes.is_ascii() && utf8 {
            warnings.push(format!(
                "declared {} in {} but the bytes are valid multi-byte UTF-8; decoded as UTF-8",
                encoding.name(),
                source.describe()
            ));
            return Some(Charset::Web(UTF_8));
        }
        if let Some(cyrillic) = contradicting_cyrillic(encoding, bytes) {
            warnings.push(format!(
                "declared {} in {} but the bytes read as Cyrillic {}; decoded as {}",
                encoding.name(),
                source.describe(),
                cyrillic.name(),
                cyrillic.name()
            ));
            return Some(Charset::Web(cyrillic));
        }
    }
    Some(charset)
}

/// The warning for a declaration the byte layout contradicts.
fn overridden(source: Source, declared: &str, found: Charset) -> String {
    format!(
        "{} says {declared} but the bytes are {}; decoded as {}",
        source.describe(),
        found.name(),
        found.name()
    )
}

/// After a byte order mark: an XML declaration naming another encoding is an error in the
/// document (XML 1.0 4.3.3), reported; the byte order mark wins.
fn check_declaration_against_bom(body: &[u8], bom: Charset, warnings: &mut Vec<String>) {
    if bom.unit_width() > 1 {
        check_wide_declaration(body, bom, warnings);
        return;
    }
    let Some(range) = declared_encoding_range(body) else {
        return;
    };
    let label = String::from_utf8_lossy(&body[range]);
    if resolve_label(&label).is_none_or(|declared| declared.charset != bom) {
        warnings.push(format!(
            "the byte order mark says {} but the XML declaration says {}; followed the byte \
             order mark",
            bom.name(),
            quoted(&label)
        ));
    }
}

/// When a document in UTF-16/32 layout carries an XML declaration, says whether it agrees.
fn check_wide_declaration(bytes: &[u8], wide: Charset, warnings: &mut Vec<String>) {
    let width = wide.unit_width();
    let prefix_len = bytes.len().min(DECLARATION_WINDOW * width) / width * width;
    let prefix = transcode(
        Cow::Borrowed(&bytes[..prefix_len]),
        Choice {
            charset: wide,
            bom_len: 0,
        },
        &mut Vec::new(),
    );
    let Some(range) = declared_encoding_range(prefix.as_bytes()) else {
        return;
    };
    let label = &prefix[range];
    match resolve_label(label) {
        None => warnings.push(format!(
            "unknown encoding {} in the XML declaration; the bytes are {}",
            quoted(label),
            wide.name()
        )),
        Some(declared) if declared.charset.unit_width() == width => {
            if declared.names_byte_order && declared.charset != wide {
                warnings.push(overridden(
                    Source::XmlDeclaration,
                    declared.charset.name(),
                    wide,
                ));
            }
        }
        Some(declared) => warnings.push(overridden(
            Source::XmlDeclaration,
            declared.charset.name(),
            wide,
        )),
    }
}

/// The label the document declares for itself: the XML declaration's `encoding`, or for an
/// HTML page a `<meta>` charset in its first 2 KB.
fn document_label<'a>(bytes: &'a [u8], media: &str) -> Option<(Cow<'a, str>, Source)> {
    if let Some(range) = declared_encoding_range(bytes) {
        return Some((
            String::from_utf8_lossy(&bytes[range]),
            Source::XmlDeclaration,
        ));
    }
    if is_html(media, bytes) {
        return html_meta_charset(bytes)
            .map(|label| (String::from_utf8_lossy(label), Source::HtmlMeta));
    }
    None
}

/// No usable declaration: UTF-8 if the bytes are UTF-8, else a guess among legacy encodings.
fn sniff_undeclared(bytes: &[u8], utf8: bool, warnings: &mut Vec<String>) -> Charset {
    if utf8 {
        return Charset::Web(UTF_8);
    }
    let guess = guess_legacy(bytes);
    if guess != UTF_8 {
        warnings.push(format!(
            "no encoding declared and the bytes are not valid UTF-8; guessed {}",
            guess.name()
        ));
    }
    Charset::Web(guess)
}

/// The encoding of bytes that are not valid UTF-8: still UTF-8 when they are overwhelmingly
/// UTF-8 with a few stray bytes (those become U+FFFD), else windows-1251, KOI8-R or
/// windows-1252 by [`detect_single_byte`].
fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut multi_byte = 0usize;
    let mut invalid = 0usize;
    for chunk in bytes.utf8_chunks() {
        multi_byte += chunk.valid().bytes().filter(|&b| b >= 0xC0).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    if multi_byte > 0 && multi_byte >= 4 * invalid {
        return UTF_8;
    }
    if let Some(other) = detect_other_scripts(bytes) {
        return other;
    }
    detect_single_byte(bytes).encoding()
}

/// How much of a document `chardetng` reads: enough text for a confident guess.
const DETECTOR_WINDOW: usize = 64 * 1024;

/// A Chinese, Japanese or Korean multi-byte encoding, or a Greek, Hebrew, Arabic or Thai
/// single-byte one, when the browser detector `chardetng` reads the bytes as one of them. Only
/// these verdicts are taken from it: between Cyrillic and Latin single-byte encodings,
/// [`detect_single_byte`], tuned on Russian headlines, decides.
fn detect_other_scripts(bytes: &[u8]) -> Option<&'static Encoding> {
    use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
    use encoding_rs::{
        BIG5, EUC_JP, EUC_KR, GB18030, GBK, ISO_8859_6, ISO_8859_7, ISO_8859_8, SHIFT_JIS,
        WINDOWS_874, WINDOWS_1253, WINDOWS_1255, WINDOWS_1256,
    };
    let window = &bytes[..bytes.len().min(DETECTOR_WINDOW)];
    // ISO-2022-JP is 7-bit, so valid UTF-8, and never gets here.
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(window, window.len() == bytes.len());
    let guess = detector.guess(None, Utf8Detection::Deny);
    [
        SHIFT_JIS,
        EUC_JP,
        EUC_KR,
        GBK,
        GB18030,
        BIG5,
        ISO_8859_6,
        ISO_8859_7,
        ISO_8859_8,
        WINDOWS_874,
        WINDOWS_1253,
        WINDOWS_1255,
        WINDOWS_1256,
    ]
    .contains(&guess)
    .then_some(guess)
}

// ---------------------------------------------------------------------------------------------
// Declarations inside the document
// ---------------------------------------------------------------------------------------------

/// Byte range of the `encoding` value in an XML declaration at the start of the document (after
/// optional whitespace), quoted with `"` or `'`.
fn declared_encoding_range(bytes: &[u8]) -> Option<Range<usize>> {
    let start = skip_ascii_whitespace(bytes, 0);
    if start > DECLARATION_WINDOW {
        return None;
    }
    let rest = &bytes[start..];
    if !rest.starts_with(b"<?xml") || !rest.get(5).is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let window = &rest[..rest.len().min(DECLARATION_WINDOW)];
    let declaration = &window[..find(window, b"?>", 0).unwrap_or(window.len())];
    let mut from = 5;
    while let Some(at) = find_ignore_case(declaration, b"encoding", from) {
        from = at + b"encoding".len();
        if !declaration[at - 1].is_ascii_whitespace() {
            continue;
        }
        let equals = skip_ascii_whitespace(declaration, from);
        if declaration.get(equals) != Some(&b'=') {
            continue;
        }
        let open = skip_ascii_whitespace(declaration, equals + 1);
        let Some(&quote @ (b'"' | b'\'')) = declaration.get(open) else {
            continue;
        };
        let value_start = open + 1;
        let value_len = declaration[value_start..]
            .iter()
            .position(|&b| b == quote)?;
        return Some(start + value_start..start + value_start + value_len);
    }
    None
}

/// Rewrites the XML declaration's `encoding` to `UTF-8`, now that the text is UTF-8, so XML
/// parsers take it as it is. A declaration without `encoding` is left alone.
fn rewrite_declared_encoding(text: &mut String) {
    if let Some(range) = declared_encoding_range(text.as_bytes())
        && !text[range.clone()].eq_ignore_ascii_case("utf-8")
    {
        text.replace_range(range, "UTF-8");
    }
}

/// Whether the body is an HTML page: said so by its media type, or starting with a doctype or
/// `<html>`.
fn is_html(media: &str, bytes: &[u8]) -> bool {
    if media.to_ascii_lowercase().contains("html") {
        return true;
    }
    let start = skip_ascii_whitespace(bytes, 0);
    let head = &bytes[start..bytes.len().min(start + 14)];
    starts_with_ignore_case(head, b"<!doctype html") || starts_with_ignore_case(head, b"<html")
}

/// The charset an HTML page declares in its first 2 KB: `<meta charset="…">` or
/// `<meta http-equiv="Content-Type" content="…; charset=…">`.
fn html_meta_charset(bytes: &[u8]) -> Option<&[u8]> {
    let window = &bytes[..bytes.len().min(HTML_META_WINDOW)];
    let mut from = 0;
    while let Some(at) = find_ignore_case(window, b"<meta", from) {
        let mut i = at + b"<meta".len();
        from = i;
        if !window
            .get(i)
            .is_some_and(|&b| b.is_ascii_whitespace() || b == b'/')
        {
            continue;
        }
        let mut charset = None;
        let mut content = None;
        let mut declares_content_type = false;
        loop {
            while window
                .get(i)
                .is_some_and(|&b| b.is_ascii_whitespace() || b == b'/')
            {
                i += 1;
            }
            if matches!(window.get(i), None | Some(b'>')) {
                break;
            }
            let name_start = i;
            while window
                .get(i)
                .is_some_and(|&b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
            {
                i += 1;
            }
            let name = &window[name_start..i];
            i = skip_ascii_whitespace(window, i);
            let mut value: &[u8] = b"";
            if window.get(i) == Some(&b'=') {
                i = skip_ascii_whitespace(window, i + 1);
                if let Some(&quote @ (b'"' | b'\'')) = window.get(i) {
                    let value_start = i + 1;
                    let value_len = window[value_start..]
                        .iter()
                        .position(|&b| b == quote)
                        .unwrap_or(window.len() - value_start);
                    value = &window[value_start..value_start + value_len];
                    i = value_start + value_len + 1;
                } else {
                    let value_start = i;
                    while window
                        .get(i)
                        .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'>')
                    {
                        i += 1;
                    }
                    value = &window[value_start..i];
                }
            }
            if name.eq_ignore_ascii_case(b"charset") {
                charset = Some(value.trim_ascii());
            } else if name.eq_ignore_ascii_case(b"http-equiv") {
                declares_content_type = value.trim_ascii().eq_ignore_ascii_case(b"content-type");
            } else if name.eq_ignore_ascii_case(b"content") {
                content = Some(value);
            }
        }
        from = from.max(i);
        if let Some(label) = charset.filter(|label| !label.is_empty()) {
            return Some(label);
        }
        if declares_content_type && let Some(label) = content.and_then(charset_in_meta_content) {
            return Some(label);
        }
    }
    None
}

/// The `charset=` inside a `<meta http-equiv>` content value.
fn charset_in_meta_content(content: &[u8]) -> Option<&[u8]> {
    let mut from = 0;
    while let Some(at) = find_ignore_case(content, b"charset", from) {
        from = at + b"charset".len();
        let equals = skip_ascii_whitespace(content, from);
        if content.get(equals) != Some(&b'=') {
            continue;
        }
        let start = skip_ascii_whitespace(content, equals + 1);
        let label = match content.get(start) {
            Some(&quote @ (b'"' | b'\'')) => {
                let rest = &content[start + 1..];
                &rest[..rest.iter().position(|&b| b == quote).unwrap_or(rest.len())]
            }
            _ => {
                let rest = &content[start..];
                &rest[..rest
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b';')
                    .unwrap_or(rest.len())]
            }
        };
        return (!label.is_empty()).then_some(label);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Cyrillic and Latin single-byte detection
// ---------------------------------------------------------------------------------------------

/// Russian letter frequencies, per 10 000 letters, indexed а..я then ё.
const RUSSIAN_FREQUENCY: [i64; 33] = [
    801, 159, 454, 170, 298, 845, 94, 165, 735, 121, 349, 440, 321, 670, 1097, 281, 473, 547, 626,
    262, 26, 97, 48, 144, 73, 36, 4, 190, 174, 32, 64, 201, 20,
];
/// Index of ё in [`RUSSIAN_FREQUENCY`].
const YO: usize = 32;
/// Alphabet index (а = 0) of each KOI8-R letter at 0xC0..=0xDF (lowercase) and 0xE0..=0xFF
/// (uppercase): ю а б ц д е ф г х и й к л м н о п я р с т у ж в ь ы з ш э щ ч ъ.
const KOI8_ORDER: [usize; 32] = [
    30, 0, 1, 22, 4, 5, 20, 3, 21, 8, 9, 10, 11, 12, 13, 14, 15, 31, 16, 17, 18, 19, 6, 2, 28, 27,
    7, 24, 29, 25, 23, 26,
];
/// Words with high bytes after which the single-byte detector has seen enough.
const ENOUGH_WORDS: usize = 2000;
/// Score taken off each lowercase-then-uppercase turn inside a word, which Russian text does not
/// have but a wrong reading of it does.
const CASE_FLIP_PENALTY: i64 = 1000;

/// A letter in windows-1251: its alphabet index and whether it is lowercase.
const fn letter_1251(byte: u8) -> Option<(usize, bool)> {
    match byte {
        0xC0..=0xDF => Some(((byte - 0xC0) as usize, false)),
        0xE0..=0xFF => Some(((byte - 0xE0) as usize, true)),
        0xA8 => Some((YO, false)),
        0xB8 => Some((YO, true)),
        _ => None,
    }
}

/// A letter in KOI8-R: its alphabet index and whether it is lowercase.
const fn letter_koi8(byte: u8) -> Option<(usize, bool)> {
    match byte {
        0xC0..=0xDF => Some((KOI8_ORDER[(byte - 0xC0) as usize], true)),
        0xE0..=0xFF => Some((KOI8_ORDER[(byte - 0xE0) as usize], false)),
        0xB3 => Some((YO, false)),
        0xA3 => Some((YO, true)),
        _ => None,
    }
}

/// How every byte reads as a Russian letter under one encoding: the letter's frequency as its
/// weight (counted more for lowercase, since running text is mostly lowercase; 0 for a
/// non-letter), and whether it is an uppercase or a lowercase letter.
#[derive(Debug)]
struct LetterReadings {
    weight: [i64; 256],
    uppercase: [bool; 256],
    lowercase: [bool; 256],
}

const fn letter_readings(koi8: bool) -> LetterReadings {
    let mut readings = LetterReadings {
        weight: [0; 256],
        uppercase: [false; 256],
        lowercase: [false; 256],
    };
    let mut byte = 0;
    while byte < 256 {
        let letter = if koi8 {
            letter_koi8(byte as u8)
        } else {
            letter_1251(byte as u8)
        };
        if let Some((index, lowercase)) = letter {
            readings.weight[byte] = RUSSIAN_FREQUENCY[index] * if lowercase { 3 } else { 2 };
            readings.lowercase[byte] = lowercase;
            readings.uppercase[byte] = !lowercase;
        }
        byte += 1;
    }
    readings
}

const READINGS_1251: LetterReadings = letter_readings(false);
const READINGS_KOI8: LetterReadings = letter_readings(true);

/// How well a word reads as Russian under one encoding: common letters score more, lowercase
/// more than uppercase, and a lowercase letter followed by an uppercase one costs.
fn russian_score(word: &[u8], readings: &LetterReadings) -> i64 {
    let mut score = 0;
    let mut after_lowercase = false;
    for &byte in word {
        let byte = usize::from(byte);
        score += readings.weight[byte];
        score -= CASE_FLIP_PENALTY * i64::from(after_lowercase & readings.uppercase[byte]);
        after_lowercase = readings.lowercase[byte];
    }
    score
}

/// Which bytes can be part of a word in windows-1252, windows-1251 or KOI8-R.
const WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphabetic()
            || byte >= 0xC0
            || matches!(
                byte,
                0x8A | 0x8C | 0x8E | 0x9A | 0x9C | 0x9E | 0x9F | 0xA3 | 0xA8 | 0xB3 | 0xB8
            );
        byte += 1;
    }
    table
};

fn is_word_byte(byte: u8) -> bool {
    WORD_BYTES[usize::from(byte)]
}

/// What the single-byte detector saw.
#[derive(Clone, Copy, Debug, Default)]
struct SingleByteEvidence {
    /// Words of two or more high letters and no ASCII letter: Cyrillic in a Cyrillic encoding.
    cyrillic_words: usize,
    /// Words mixing ASCII and high letters: accented Latin.
    latin_words: usize,
    score_1251: i64,
    score_koi8: i64,
}

impl SingleByteEvidence {
    fn is_cyrillic(self) -> bool {
        self.cyrillic_words > self.latin_words
    }

    /// Cyrillic beyond doubt: enough words, and far more of them than Latin ones.
    fn is_clearly_cyrillic(self) -> bool {
        self.cyrillic_words >= 3 && self.cyrillic_words > 2 * self.latin_words
    }

    fn cyrillic_encoding(self) -> &'static Encoding {
        if self.score_koi8 > self.score_1251 {
            KOI8_R
        } else {
            WINDOWS_1251
        }
    }

    /// Whether one Cyrillic reading clearly beats the other: by half again its score. (The right
    /// reading of Russian text scores about twice the wrong one.)
    fn has_clear_cyrillic_winner(self) -> bool {
        let (high, low) = if self.score_koi8 > self.score_1251 {
            (self.score_koi8, self.score_1251)
        } else {
            (self.score_1251, self.score_koi8)
        };
        high > 0 && (low <= 0 || 2 * high >= 3 * low)
    }

    fn encoding(self) -> &'static Encoding {
        if self.is_cyrillic() {
            self.cyrillic_encoding()
        } else {
            WINDOWS_1252
        }
    }
}

/// Reads 8-bit text word by word. Accented Latin puts single high bytes inside ASCII words;
/// Cyrillic makes whole words of high bytes. For Cyrillic, windows-1251 (lowercase at
/// 0xE0–0xFF) and KOI8-R (lowercase at 0xC0–0xDF, in another order) are scored by how Russian
/// each reading looks.
fn detect_single_byte(bytes: &[u8]) -> SingleByteEvidence {
    let mut evidence = SingleByteEvidence::default();
    let mut i = 0;
    while i < bytes.len() && evidence.cyrillic_words + evidence.latin_words < ENOUGH_WORDS {
        if !is_word_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut high = 0;
        while let Some(&byte) = bytes.get(i).filter(|&&byte| is_word_byte(byte)) {
            high += usize::from(byte >= 0x80);
            i += 1;
        }
        let word = &bytes[start..i];
        if high >= 2 && high == word.len() {
            evidence.cyrillic_words += 1;
            evidence.score_1251 += russian_score(word, &READINGS_1251);
            evidence.score_koi8 += russian_score(word, &READINGS_KOI8);
        } else if high >= 1 && high < word.len() {
            evidence.latin_words += 1;
        }
    }
    evidence
}

/// For a declared windows-1252, windows-1251 or KOI8-R: the Cyrillic encoding the bytes clearly
/// are instead, if they clearly are another one.
fn contradicting_cyrillic(declared: &'static Encoding, bytes: &[u8]) -> Option<&'static Encoding> {
    let checked = declared == WINDOWS_1252 || declared == WINDOWS_1251 || declared == KOI8_R;
    if !checked || bytes.is_ascii() {
        return None;
    }
    let evidence = detect_single_byte(bytes);
    if !evidence.is_clearly_cyrillic() {
        return None;
    }
    let cyrillic = evidence.cyrillic_encoding();
    let contradicts = if declared == WINDOWS_1252 {
        true
    } else {
        cyrillic != declared && evidence.has_clear_cyrillic_winner()
    };
    contradicts.then_some(cyrillic)
}

// ---------------------------------------------------------------------------------------------
// Transcoding
// ---------------------------------------------------------------------------------------------

fn transcode(body: Cow<'_, [u8]>, choice: Choice, warnings: &mut Vec<String>) -> String {
    match choice.charset {
        Charset::Web(encoding) if encoding == UTF_8 => utf8_text(body, choice.bom_len, warnings),
        Charset::Web(encoding) => {
            let input = body.get(choice.bom_len..).unwrap_or_default();
            let (text, had_errors) = encoding.decode_without_bom_handling(input);
            if had_errors {
                warnings.push(format!(
                    "some bytes are not valid {}; replaced them with U+FFFD",
                    encoding.name()
                ));
            }
            text.into_owned()
        }
        Charset::Utf32Le => utf32_text(
            body.get(choice.bom_len..).unwrap_or_default(),
            true,
            warnings,
        ),
        Charset::Utf32Be => utf32_text(
            body.get(choice.bom_len..).unwrap_or_default(),
            false,
            warnings,
        ),
    }
}

/// UTF-8 bytes to a `String`, reusing an owned buffer; invalid sequences become U+FFFD.
fn utf8_text(body: Cow<'_, [u8]>, bom_len: usize, warnings: &mut Vec<String>) -> String {
    match body {
        Cow::Owned(mut bytes) => {
            bytes.drain(..bom_len.min(bytes.len()));
            match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(error) => utf8_lossy(error.as_bytes(), warnings),
            }
        }
        Cow::Borrowed(bytes) => {
            let bytes = bytes.get(bom_len..).unwrap_or_default();
            match std::str::from_utf8(bytes) {
                Ok(text) => text.to_owned(),
                Err(_) => utf8_lossy(bytes, warnings),
            }
        }
    }
}

fn utf8_lossy(bytes: &[u8], warnings: &mut Vec<String>) -> String {
    let invalid = bytes
        .utf8_chunks()
        .filter(|chunk| !chunk.invalid().is_empty())
        .count();
    warnings.push(format!(
        "{invalid} invalid UTF-8 sequence(s); replaced them with U+FFFD"
    ));
    String::from_utf8_lossy(bytes).into_owned()
}

/// UTF-32 to a `String`; values that are not Unicode scalar values, and a trailing partial code
/// unit, become U+FFFD.
fn utf32_text(bytes: &[u8], little_endian: bool, warnings: &mut Vec<String>) -> String {
    let units = bytes.chunks_exact(4);
    let partial = !units.remainder().is_empty();
    let mut text = String::with_capacity(bytes.len() / 4);
    let mut invalid = usize::from(partial);
    for unit in units {
        let Ok(unit) = <[u8; 4]>::try_from(unit) else {
            continue;
        };
        let value = if little_endian {
            u32::from_le_bytes(unit)
        } else {
            u32::from_be_bytes(unit)
        };
        text.push(char::from_u32(value).unwrap_or_else(|| {
            invalid += 1;
            char::REPLACEMENT_CHARACTER
        }));
    }
    if partial {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    if invalid > 0 {
        warnings.push(format!(
            "{invalid} invalid UTF-32 code unit(s); replaced them with U+FFFD"
        ));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Double-encoded UTF-8
// ---------------------------------------------------------------------------------------------

/// The windows-1252 byte a character came from, taking U+0080..U+009F as the bytes themselves
/// (the ISO-8859-1 reading of the same mistake).
fn windows_1252_byte(c: char) -> Option<u8> {
    if let Ok(byte) = u8::try_from(u32::from(c)) {
        return Some(byte);
    }
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

/// Mojibake found in a text: sequences of characters whose windows-1252 bytes form one UTF-8
/// character ("Ã©" for é, "â€™" for ’, "Ð¾" for о).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Mojibake {
    sequences: usize,
    /// Sequences touching a letter or another sequence, as inside a word ("CafÃ©"); a quoted
    /// example ("Ã©") in a sentence about encoding stands alone.
    in_words: usize,
}

fn count_mojibake(text: &str) -> Mojibake {
    let mut found = Mojibake::default();
    let mut previous: Option<char> = None;
    let mut after_sequence = false;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if let Some(lead @ 0xC2..=0xF4) = windows_1252_byte(c) {
            let continuation_count = match lead {
                0xC2..=0xDF => 1,
                0xE0..=0xEF => 2,
                _ => 3,
            };
            let mut encoded = [lead, 0, 0, 0];
            let mut following = text[at + c.len_utf8()..].chars();
            let mut last = c;
            let mut complete = true;
            for slot in encoded.iter_mut().skip(1).take(continuation_count) {
                match following.next() {
                    Some(next) if matches!(windows_1252_byte(next), Some(0x80..=0xBF)) => {
                        *slot = windows_1252_byte(next).unwrap_or_default();
                        last = next;
                    }
                    _ => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete && std::str::from_utf8(&encoded[..=continuation_count]).is_ok() {
                found.sequences += 1;
                let touches_word = after_sequence
                    || previous.is_some_and(char::is_alphabetic)
                    || following.next().is_some_and(char::is_alphabetic);
                found.in_words += usize::from(touches_word);
                for _ in 0..continuation_count {
                    chars.next();
                }
                previous = Some(last);
                after_sequence = true;
                continue;
            }
        }
        previous = Some(c);
        after_sequence = false;
    }
    found
}

/// A cheap byte-level pre-check for [`count_mojibake`]: a sequence starts with one of Â..ô
/// (UTF-8 0xC3 0x82..=0xB4) followed by U+0080..U+00BF (0xC2 …) or a windows-1252 punctuation
/// or letter character (0xC5 …, 0xC6 0x92, 0xCB …, 0xE2 …).
fn may_contain_mojibake(utf8: &[u8]) -> bool {
    const BLOCK: usize = 32;
    let starts_sequence = |at: usize| {
        utf8.get(at..at + 3).is_some_and(|window| {
            window[0] == 0xC3
                && (0x82..=0xB4).contains(&window[1])
                && matches!(window[2], 0xC2 | 0xC5 | 0xC6 | 0xCB | 0xE2)
        })
    };
    utf8.chunks(BLOCK).enumerate().any(|(index, block)| {
        // Branch-free test first, so blocks without 0xC3 (most of any feed) cost little.
        block
            .iter()
            .fold(false, |seen, &byte| seen | (byte == 0xC3))
            && (0..block.len()).any(|offset| starts_sequence(index * BLOCK + offset))
    })
}

/// Repairs text that is UTF-8 read as windows-1252 (or ISO-8859-1) and encoded again, but only
/// when that reading is unambiguous: every character maps back to a windows-1252 byte, those
/// bytes are valid UTF-8, at least two mojibake sequences sit inside words, and the repaired
/// text has fewer of them. A lone or quoted "Ã©" (an article about encoding) stays as written.
fn repair_double_encoding(text: &mut String, warnings: &mut Vec<String>) {
    if !may_contain_mojibake(text.as_bytes()) {
        return;
    }
    let before = count_mojibake(text);
    if before.in_words < 2 {
        return;
    }
    let Some(bytes) = text
        .chars()
        .map(windows_1252_byte)
        .collect::<Option<Vec<u8>>>()
    else {
        return;
    };
    let Ok(repaired) = String::from_utf8(bytes) else {
        return;
    };
    if count_mojibake(&repaired).sequences >= before.sequences {
        return;
    }
    warnings.push(format!(
        "text was UTF-8 encoded twice ({} sequences like \"Ã©\" for é); repaired it",
        before.sequences
    ));
    *text = repaired;
}

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

/// Decompresses a gzip body (all members), failing as soon as the output would pass `max_len`:
/// the buffer never grows beyond the cap, so a gzip bomb costs at most `max_len` bytes.
fn gunzip(compressed: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
    let mut reader = flate2::read::MultiGzDecoder::new(compressed);
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(max_len));
    let mut chunk = [0u8; GZIP_CHUNK];
    loop {
        let read = match reader.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(DecodeError::Gzip(error)),
        };
        if read > max_len - out.len() {
            return Err(DecodeError::TooLarge { limit: max_len });
        }
        if out.capacity() - out.len() < read {
            let target = out
                .capacity()
                .saturating_mul(2)
                .max(out.len() + read)
                .min(max_len);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(&chunk[..read]);
    }
}

// ---------------------------------------------------------------------------------------------
// Byte scanning
// ---------------------------------------------------------------------------------------------

fn skip_ascii_whitespace(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
        .map(|at| at + from)
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    const LIMIT: usize = 16 * 1024 * 1024;

    /// Realistic Russian news copy, in the register of the regional sites Tributary follows.
    const RUSSIAN_NEWS: &str = "Союз без иллюзий: зачем России Азербайджан. Правительство в среду \
        одобрило проект федерального бюджета на следующий год, сообщили в пресс-службе кабинета \
        министров. По словам министра финансов, расходы на социальные программы вырастут, а \
        дефицит бюджета сократится. Эксперты считают, что решение поможет регионам.";

    fn rss(declaration: &str, title: &str, body: &str) -> String {
        format!(
            "{declaration}\n<rss version=\"2.0\"><channel><title>{title}</title>\
             <item><title>{title}</title><description>{body}</description></item>\
             </channel></rss>\n"
        )
    }

    fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "test text must fit {}", encoding.name());
        bytes.into_owned()
    }

    fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|unit| {
                if little_endian {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                }
            })
            .collect()
    }

    fn utf32(text: &str, little_endian: bool) -> Vec<u8> {
        text.chars()
            .flat_map(|c| {
                if little_endian {
                    u32::from(c).to_le_bytes()
                } else {
                    u32::from(c).to_be_bytes()
                }
            })
            .collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn ok(bytes: &[u8], content_type: Option<&str>) -> Decoded {
        decode(bytes, content_type, LIMIT).expect("decodes")
    }

    // ---- byte order marks --------------------------------------------------------------------

    #[test]
    fn undeclared_cjk_legacy_encodings_are_recognized_not_read_as_cyrillic() {
        use encoding_rs::{BIG5, EUC_JP, EUC_KR, GBK, SHIFT_JIS};
        let cases: [(&'static Encoding, &str, &str); 5] = [
            (
                SHIFT_JIS,
                "東京で首脳会談、エネルギー協力で合意",
                "両国の首相は東京で会談し、液化天然ガスの長期供給と送電網の共同整備について合意した。",
            ),
            (
                EUC_JP,
                "外務大臣がバクーを訪問",
                "外務大臣は首都バクーで大統領と会談し、地域の輸送回廊と貿易の拡大について協議した。",
            ),
            (
                GBK,
                "中亚天然气管道第四线开工建设",
                "该项目将连接土库曼斯坦和中国，全长约一千公里，预计三年内完工，年输气能力大幅提高。",
            ),
            (
                BIG5,
                "外交部長訪問第比利斯",
                "雙方就區域安全、貿易往來與交通走廊建設交換意見，並簽署多項合作備忘錄，會後舉行記者會。",
            ),
            (
                EUC_KR,
                "아제르바이잔 대통령 서울 방문",
                "양국 정상은 에너지 협력과 교통 회랑 건설에 관한 협정에 서명하고 공동 기자회견을 가졌다.",
            ),
        ];
        for (encoding, title, body) in cases {
            let xml = rss("", title, body);
            let decoded = ok(&encode(encoding, &xml), None);
            assert_eq!(decoded.encoding, encoding.name(), "{title}");
            assert!(
                decoded.text.contains(title),
                "{}: {}",
                encoding.name(),
                decoded.text
            );
            assert!(decoded.text.contains(body), "{}", encoding.name());
            assert!(
                decoded.warnings.iter().any(|w| w.contains(encoding.name())),
                "the guess is reported: {:?}",
                decoded.warnings
            );
        }
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(
            rss("<?xml version=\"1.0\" encoding=\"utf-8\"?>", "Café", "x").as_bytes(),
        );
        let decoded = ok(&bytes, None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(
            decoded
                .text
                .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        );
        assert!(decoded.text.contains("Café"));
        assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    }

    #[test]
    fn utf16_boms_are_followed_and_stripped() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
            "Новости",
            "ёжик €",
        );
        for (little_endian, bom, name) in [
            (true, [0xFF, 0xFE], "UTF-16LE"),
            (false, [0xFE, 0xFF], "UTF-16BE"),
        ] {
            let mut bytes = bom.to_vec();
            bytes.extend(utf16(&doc, little_endian));
            let decoded = ok(&bytes, None);
            assert_eq!(decoded.encoding, name);
            assert_eq!(decoded.text, doc.replace("utf-16", "UTF-8"));
            assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
        }
    }

    #[test]
    fn utf32_boms_are_followed_and_stripped() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"utf-32\"?>",
            "Новости 📰",
            "x",
        );
        for (little_endian, bom, name) in [
            (true, [0xFF, 0xFE, 0, 0], UTF_32LE_NAME),
            (false, [0, 0, 0xFE, 0xFF], UTF_32BE_NAME),
        ] {
            let mut bytes = bom.to_vec();
            bytes.extend(utf32(&doc, little_endian));
            let decoded = ok(&bytes, None);
            assert_eq!(decoded.encoding, name);
            assert_eq!(decoded.text, doc.replace("utf-32", "UTF-8"));
        }
    }

    #[test]
    fn bom_beats_http_charset_and_declaration() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(
            rss(
                "<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
                "Новости",
                "x",
            )
            .as_bytes(),
        );
        let decoded = ok(&bytes, Some("application/rss+xml; charset=koi8-r"));
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Новости"));
        assert!(
            decoded
                .text
                .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        );
        // Both the header and the declaration contradict the byte order mark.
        assert_eq!(decoded.warnings.len(), 2, "{:?}", decoded.warnings);
        assert!(decoded.warnings[1].contains("the XML declaration says \"windows-1251\""));
    }

    #[test]
    fn declaration_agreeing_with_the_bom_is_no_warning() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(
            rss("<?xml version=\"1.0\" encoding=\"utf-8\"?>", "T", "x").as_bytes(),
        );
        assert!(ok(&bytes, None).warnings.is_empty());
        let mut ascii = vec![0xEF, 0xBB, 0xBF];
        ascii.extend_from_slice(
            rss("<?xml version=\"1.0\" encoding=\"us-ascii\"?>", "T", "x").as_bytes(),
        );
        assert_eq!(ok(&ascii, None).warnings.len(), 1);
    }

    #[test]
    fn hyphenless_unicode_labels_are_understood() {
        for label in ["utf16", "u16", "UTF16"] {
            let doc = rss(
                &format!("<?xml version=\"1.0\" encoding=\"{label}\"?>"),
                "Новости",
                "x",
            );
            let decoded = ok(&utf16(&doc, false), None);
            assert_eq!(decoded.encoding, "UTF-16BE", "{label}");
            assert!(
                decoded.warnings.is_empty(),
                "{label}: {:?}",
                decoded.warnings
            );
        }
        let decoded = ok(
            rss("<?xml version=\"1.0\" encoding=\"utf8\"?>", "Новости", "x").as_bytes(),
            None,
        );
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.warnings.is_empty());
    }

    #[test]
    fn declared_ascii_with_high_bytes_is_read_as_windows_1252_with_a_warning() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"us-ascii\"?>",
            "caf\u{e9}",
            "x",
        );
        let decoded = ok(&encode(WINDOWS_1252, &doc), None);
        assert_eq!(decoded.encoding, "windows-1252");
        assert!(decoded.text.contains("café"));
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
        assert!(
            decoded.warnings[0].contains("2 bytes are not ASCII"),
            "{:?}",
            decoded.warnings
        );
        let clean = rss("<?xml version=\"1.0\" encoding=\"us-ascii\"?>", "cafe", "x");
        assert!(ok(clean.as_bytes(), None).warnings.is_empty());
    }

    #[test]
    fn a_feed_served_as_text_plain_is_read_with_a_warning() {
        let doc = rss("<?xml version=\"1.0\"?>", "T", "x");
        let decoded = ok(doc.as_bytes(), Some("text/plain; charset=utf-8"));
        assert_eq!(decoded.text, doc);
        assert_eq!(decoded.warnings.len(), 1);
        assert!(
            ok(doc.as_bytes(), Some("application/rss+xml"))
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn undeclared_hebrew_greek_and_thai_are_recognized() {
        use encoding_rs::{WINDOWS_874, WINDOWS_1253, WINDOWS_1255};
        let cases: [(&'static Encoding, &str, &str); 3] = [
            (
                WINDOWS_1255,
                "שר החוץ ביקר בבאקו",
                "שר החוץ נפגש עם הנשיא בבירה ודנו בהרחבת הסחר, באבטחה אזורית ובמסדרון התחבורה.",
            ),
            (
                WINDOWS_1253,
                "Ο υπουργός Εξωτερικών επισκέφθηκε το Μπακού",
                "Οι δύο πλευρές συζήτησαν την ενεργειακή συνεργασία και τη διεύρυνση του εμπορίου στην περιοχή.",
            ),
            (
                WINDOWS_874,
                "รัฐมนตรีต่างประเทศเยือนบากู",
                "ทั้งสองฝ่ายหารือเรื่องความร่วมมือด้านพลังงานและการขยายการค้าในภูมิภาค",
            ),
        ];
        for (encoding, title, body) in cases {
            let doc = rss("", title, body);
            let decoded = ok(&encode(encoding, &doc), None);
            assert_eq!(decoded.encoding, encoding.name(), "{title}");
            assert!(decoded.text.contains(title));
        }
    }

    #[test]
    fn lone_boms_give_empty_text() {
        for bom in [
            &[0xEF, 0xBB, 0xBF][..],
            &[0xFF, 0xFE],
            &[0xFE, 0xFF],
            &[0xFF, 0xFE, 0, 0],
            &[0, 0, 0xFE, 0xFF],
        ] {
            let decoded = ok(bom, None);
            assert_eq!(decoded.text, "", "{bom:?}");
        }
    }

    // ---- UTF-16 / UTF-32 without a byte order mark -------------------------------------------

    #[test]
    fn utf16_without_bom_is_sniffed_from_the_markup() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
            "Новости",
            "x",
        );
        for (little_endian, name) in [(true, "UTF-16LE"), (false, "UTF-16BE")] {
            let decoded = ok(&utf16(&doc, little_endian), None);
            assert_eq!(decoded.encoding, name);
            assert_eq!(decoded.text, doc.replace("utf-16", "UTF-8"));
            assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
        }
        // No declaration at all: the `<` pattern alone decides.
        let bare = "<rss version=\"2.0\"><channel><title>Привет</title></channel></rss>";
        assert_eq!(ok(&utf16(bare, false), None).text, bare);
        assert_eq!(ok(&utf16(bare, true), None).encoding, "UTF-16LE");
    }

    #[test]
    fn utf16_layout_beats_a_contradicting_declaration() {
        let doc = rss("<?xml version=\"1.0\" encoding=\"utf-16le\"?>", "t", "x");
        let decoded = ok(&utf16(&doc, false), None);
        assert_eq!(decoded.encoding, "UTF-16BE");
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    #[test]
    fn utf32_without_bom_is_sniffed_from_the_markup() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"UTF-32\"?>",
            "Новости",
            "x",
        );
        for (little_endian, name) in [(true, UTF_32LE_NAME), (false, UTF_32BE_NAME)] {
            let decoded = ok(&utf32(&doc, little_endian), None);
            assert_eq!(decoded.encoding, name);
            assert_eq!(decoded.text, doc.replace("UTF-32", "UTF-8"));
        }
    }

    #[test]
    fn utf32_rejects_invalid_code_points_and_partial_units() {
        let mut bytes = utf32("<rss>", false);
        bytes.extend_from_slice(&[0, 0, 0xD8, 0x00]); // a surrogate
        bytes.extend_from_slice(&[0, 0x11, 0, 0]); // past U+10FFFF
        bytes.extend(utf32("</rss>", false));
        bytes.extend_from_slice(&[0, 0]); // truncated
        let decoded = ok(&bytes, None);
        assert_eq!(decoded.encoding, UTF_32BE_NAME);
        assert_eq!(decoded.text, "<rss>\u{FFFD}\u{FFFD}</rss>\u{FFFD}");
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    #[test]
    fn odd_length_utf16_does_not_panic() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16("<a>b</a>", true));
        bytes.push(0x3C);
        let decoded = ok(&bytes, None);
        assert_eq!(decoded.text, "<a>b</a>\u{FFFD}");
        assert!(!decoded.warnings.is_empty());
    }

    // ---- declarations ------------------------------------------------------------------------

    #[test]
    fn http_charset_beats_xml_declaration() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let bytes = encode(WINDOWS_1251, &doc);
        let decoded = ok(&bytes, Some("application/rss+xml; charset=windows-1251"));
        assert_eq!(decoded.encoding, "windows-1251");
        assert_eq!(decoded.text, doc.replace("ISO-8859-1", "UTF-8"));
        assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    }

    #[test]
    fn xml_declaration_is_used_without_http_charset() {
        let doc = rss(
            "<?xml version='1.0' encoding='koi8-r'?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let bytes = encode(KOI8_R, &format!("\n  {doc}"));
        for content_type in [None, Some("application/xml"), Some("text/xml")] {
            let decoded = ok(&bytes, content_type);
            assert_eq!(decoded.encoding, "KOI8-R");
            assert_eq!(
                decoded.text,
                format!("\n  {doc}").replace("koi8-r", "UTF-8")
            );
            assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
        }
    }

    #[test]
    fn latin1_and_ascii_labels_mean_windows_1252() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><title>Euro \x80 caf\xe9</title></rss>";
        let decoded = ok(bytes, None);
        assert_eq!(decoded.encoding, "windows-1252");
        assert!(decoded.text.contains("Euro € café"));
        let decoded = ok(bytes, Some("text/xml; charset=us-ascii"));
        assert_eq!(decoded.encoding, "windows-1252");
    }

    #[test]
    fn unknown_labels_warn_and_fall_through() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"bogus\"?><rss/>";
        let decoded = ok(bytes, Some("application/rss+xml; charset=nonsense"));
        assert_eq!(decoded.encoding, "UTF-8");
        assert_eq!(decoded.warnings.len(), 2, "{:?}", decoded.warnings);
        assert!(decoded.warnings[0].contains("\"nonsense\""));
        assert!(decoded.warnings[1].contains("\"bogus\""));
        assert_eq!(
            decoded.text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>"
        );
    }

    #[test]
    fn html_meta_charset_is_read() {
        let page = format!(
            "<!DOCTYPE html><html><head><meta charset=\"windows-1251\"><title>Новости</title></head>\
             <body><ul class=\"latest-news\"><li><a href=\"/a\">{RUSSIAN_NEWS}</a></li></ul></body></html>"
        );
        let decoded = ok(&encode(WINDOWS_1251, &page), None);
        assert_eq!(decoded.encoding, "windows-1251");
        assert_eq!(decoded.text, page);

        let page = format!(
            "<html><head><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=koi8-r\">\
             </head><body>{RUSSIAN_NEWS}</body></html>"
        );
        let decoded = ok(&encode(KOI8_R, &page), Some("text/html"));
        assert_eq!(decoded.encoding, "KOI8-R");
        assert_eq!(decoded.text, page);

        let page = format!(
            "<html><head><meta content='text/html; charset=windows-1251' http-equiv=content-type />\
             </head><body>{RUSSIAN_NEWS}</body></html>"
        );
        assert_eq!(
            ok(&encode(WINDOWS_1251, &page), None).encoding,
            "windows-1251"
        );
    }

    #[test]
    fn http_charset_on_a_page_beats_its_meta() {
        let page =
            format!("<html><head><meta charset=koi8-r></head><body>{RUSSIAN_NEWS}</body></html>");
        let decoded = ok(
            &encode(WINDOWS_1251, &page),
            Some("text/html; charset=windows-1251"),
        );
        assert_eq!(decoded.encoding, "windows-1251");
        assert_eq!(decoded.text, page);
    }

    #[test]
    fn charset_on_other_media_types_is_only_a_hint() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"koi8-r\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let bytes = encode(KOI8_R, &doc);
        let decoded = ok(
            &bytes,
            Some("application/octet-stream; charset=windows-1251"),
        );
        assert_eq!(decoded.encoding, "KOI8-R");
        assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);

        let undeclared = encode(
            WINDOWS_1251,
            &rss("<?xml version=\"1.0\"?>", "Новости", RUSSIAN_NEWS),
        );
        let decoded = ok(
            &undeclared,
            Some("application/octet-stream; charset=windows-1251"),
        );
        assert_eq!(decoded.encoding, "windows-1251");
        assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    }

    #[test]
    fn http_utf16_without_byte_order_takes_it_from_the_layout() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
            "Новости",
            "x",
        );
        let decoded = ok(&utf16(&doc, false), Some("application/xml; charset=utf-16"));
        assert_eq!(decoded.encoding, "UTF-16BE");
        assert_eq!(decoded.text, doc.replace("utf-16", "UTF-8"));
        assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
        // Declared UTF-8 over a UTF-16 layout: the layout wins.
        let decoded = ok(&utf16(&doc, true), Some("application/xml; charset=utf-8"));
        assert_eq!(decoded.encoding, "UTF-16LE");
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    #[test]
    fn charset_param_forms() {
        assert_eq!(charset_param("text/xml; charset=utf-8"), Some("utf-8"));
        assert_eq!(
            charset_param("text/xml;charset = us-ascii"),
            Some("us-ascii")
        );
        assert_eq!(
            charset_param("application/atom+xml; charset='gb2312'"),
            Some("gb2312")
        );
        assert_eq!(
            charset_param("text/html; CHARSET=\"Windows-1251\"; q=1"),
            Some("Windows-1251")
        );
        assert_eq!(
            charset_param("text/xml; name=\"a;charset=x\"; charset=koi8-r"),
            Some("koi8-r")
        );
        assert_eq!(
            charset_param("text/xml; foo; charset=latin1"),
            Some("latin1")
        );
        assert_eq!(charset_param("text/xml;"), None);
        assert_eq!(charset_param("text/xml"), None);
        assert_eq!(charset_param("text/xml; charset="), None);
        assert_eq!(
            charset_param("text/xml; charset=\"unterminated"),
            Some("unterminated")
        );
        assert_eq!(charset_param(";;;=;"), None);
    }

    // ---- sniffing ----------------------------------------------------------------------------

    #[test]
    fn undeclared_windows_1251_is_sniffed() {
        let doc = rss("<?xml version=\"1.0\"?>", "Новости региона", RUSSIAN_NEWS);
        let decoded = ok(&encode(WINDOWS_1251, &doc), None);
        assert_eq!(decoded.encoding, "windows-1251");
        assert_eq!(decoded.text, doc);
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    #[test]
    fn undeclared_koi8r_is_sniffed() {
        let doc = rss("<?xml version=\"1.0\"?>", "Новости региона", RUSSIAN_NEWS);
        let decoded = ok(&encode(KOI8_R, &doc), Some("application/rss+xml"));
        assert_eq!(decoded.encoding, "KOI8-R");
        assert_eq!(decoded.text, doc);
    }

    #[test]
    fn short_and_all_caps_cyrillic_is_sniffed() {
        for text in ["НОВОСТИ РЕГИОНА: ВЫБОРЫ", "Союз без иллюзий", "Москва"]
        {
            let doc = format!("<rss><title>{text}</title></rss>");
            for encoding in [WINDOWS_1251, KOI8_R] {
                let decoded = ok(&encode(encoding, &doc), None);
                assert_eq!(decoded.encoding, encoding.name(), "{text}");
                assert_eq!(decoded.text, doc);
            }
        }
    }

    #[test]
    fn undeclared_latin_text_is_windows_1252() {
        let doc = "<rss><title>Présentation: l’été à Genève, Größe und Übermaß</title></rss>";
        let decoded = ok(&encode(WINDOWS_1252, doc), None);
        assert_eq!(decoded.encoding, "windows-1252");
        assert_eq!(decoded.text, doc);
    }

    #[test]
    fn undeclared_utf8_is_utf8() {
        let doc = rss("<?xml version=\"1.0\"?>", "Новости", RUSSIAN_NEWS);
        let decoded = ok(doc.as_bytes(), None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert_eq!(decoded.text, doc);
        assert!(decoded.warnings.is_empty());
    }

    #[test]
    fn mostly_utf8_with_a_stray_byte_stays_utf8() {
        let mut bytes = rss("<?xml version=\"1.0\"?>", "Новости", RUSSIAN_NEWS).into_bytes();
        bytes.insert(60, 0xFF);
        let decoded = ok(&bytes, None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains('\u{FFFD}'));
        assert!(decoded.text.contains("Союз без иллюзий"));
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    // ---- lying declarations ------------------------------------------------------------------

    #[test]
    fn declared_utf8_over_windows_1251_bytes_is_sniffed() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let bytes = encode(WINDOWS_1251, &doc);
        for content_type in [None, Some("application/rss+xml; charset=UTF-8")] {
            let decoded = ok(&bytes, content_type);
            assert_eq!(decoded.encoding, "windows-1251");
            // The declaration already says UTF-8 (in any letter case it is left as written).
            assert_eq!(decoded.text, doc);
            assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
            assert!(decoded.warnings[0].contains("not valid UTF-8"));
            assert!(decoded.warnings[0].contains("windows-1251"));
        }
    }

    #[test]
    fn declared_single_byte_over_utf8_bytes_trusts_the_bytes() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let decoded = ok(doc.as_bytes(), None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert_eq!(decoded.text, doc.replace("windows-1251", "UTF-8"));
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);

        let decoded = ok(
            "<rss><title>Euro € Café</title></rss>".as_bytes(),
            Some("text/xml; charset=windows-1252"),
        );
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Euro € Café"));
    }

    #[test]
    fn declared_latin_over_clearly_cyrillic_bytes_follows_the_bytes() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let decoded = ok(
            &encode(WINDOWS_1251, &doc),
            Some("text/xml; charset=ISO-8859-1"),
        );
        assert_eq!(decoded.encoding, "windows-1251");
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
        assert!(decoded.text.contains("Союз без иллюзий"));
    }

    #[test]
    fn cyrillic_declared_as_the_other_cyrillic_charset_is_corrected() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"koi8-r\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let decoded = ok(&encode(WINDOWS_1251, &doc), None);
        assert_eq!(decoded.encoding, "windows-1251");
        assert!(decoded.text.contains("Союз без иллюзий"));
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    #[test]
    fn declared_utf16_over_ascii_markup_is_ignored() {
        let decoded = ok(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss/>", None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert_eq!(
            decoded.text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>"
        );
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    // ---- double-encoded UTF-8 ----------------------------------------------------------------

    fn double_encode(text: &str) -> String {
        text.bytes()
            .map(|b| {
                WINDOWS_1252
                    .decode_without_bom_handling(&[b])
                    .0
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn double_encoded_utf8_is_repaired() {
        let original = rss(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let mangled = double_encode(&original);
        assert!(mangled.contains("Ð¡Ð¾ÑŽÐ·"), "{mangled}");
        let decoded = ok(mangled.as_bytes(), None);
        assert_eq!(decoded.text, original);
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);

        let english = "<rss><title>Don’t miss “the summit” — it’s today</title></rss>";
        let mangled = double_encode(english);
        assert!(mangled.contains("Donâ€™t"));
        assert_eq!(ok(mangled.as_bytes(), None).text, english);
    }

    #[test]
    fn legitimate_mojibake_examples_are_not_repaired() {
        // Valid either way: re-encoding would give valid UTF-8 ("é"), but a single quoted
        // example in an article about encoding is no evidence of double encoding.
        let article = "<rss><title>Why readers see \"Ã©\" instead of an accented e</title></rss>";
        let decoded = ok(article.as_bytes(), None);
        assert_eq!(decoded.text, article);
        assert!(decoded.warnings.is_empty());

        // Both forms side by side: the lone "é" is not part of any UTF-8 sequence, so the
        // text cannot be double-encoded as a whole.
        let explainer =
            "<rss><title>UTF-8 é read as Latin-1 turns into CafÃ© and rÃ©sumÃ©</title></rss>";
        assert_eq!(ok(explainer.as_bytes(), None).text, explainer);

        // One mojibake-looking word is too little evidence either way: left as written.
        let single = "<rss><title>CafÃ© de Flore</title></rss>";
        assert_eq!(ok(single.as_bytes(), None).text, single);

        // Characters outside windows-1252 prove the text was not re-encoded as a whole.
        let mixed = "<rss><title>CafÃ© rÃ©sumÃ© → Новости</title></rss>";
        assert_eq!(ok(mixed.as_bytes(), None).text, mixed);
    }

    #[test]
    fn windows_1252_table_matches_encoding_rs() {
        for byte in 0..=255u8 {
            let input = [byte];
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(&input);
            let c = text.chars().next().unwrap();
            assert_eq!(windows_1252_byte(c), Some(byte), "{byte:#x}");
        }
    }

    #[test]
    fn cyrillic_letter_tables_match_encoding_rs() {
        let alphabet: Vec<char> = "абвгдежзийклмнопрстуфхцчшщъыьэюяё".chars().collect();
        for byte in 0x80..=0xFFu8 {
            for (encoding, letter) in [
                (WINDOWS_1251, letter_1251 as fn(u8) -> Option<(usize, bool)>),
                (KOI8_R, letter_koi8),
            ] {
                let input = [byte];
                let (text, _) = encoding.decode_without_bom_handling(&input);
                let c = text.chars().next().unwrap();
                let expected = c.to_lowercase().next().and_then(|lower| {
                    alphabet
                        .iter()
                        .position(|&a| a == lower)
                        .map(|index| (index, c == lower))
                });
                assert_eq!(letter(byte), expected, "{} {byte:#x}", encoding.name());
            }
        }
    }

    // ---- gzip --------------------------------------------------------------------------------

    #[test]
    fn gzip_magic_is_decompressed_without_a_header() {
        let doc = rss(
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
            "Новости",
            RUSSIAN_NEWS,
        );
        let decoded = ok(
            &gzip(&encode(WINDOWS_1251, &doc)),
            Some("application/rss+xml"),
        );
        assert_eq!(decoded.encoding, "windows-1251");
        assert_eq!(decoded.text, doc.replace("windows-1251", "UTF-8"));
        assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let zeros = vec![0u8; 1024 * 1024];
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        for _ in 0..50 {
            encoder.write_all(&zeros).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        let started = std::time::Instant::now();
        let error = decode(&bomb, None, 1024 * 1024).unwrap_err();
        assert!(
            matches!(error, DecodeError::TooLarge { limit: 1_048_576 }),
            "{error:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn gzip_at_exactly_the_cap_is_accepted() {
        let body = vec![b'a'; 100_000];
        assert_eq!(
            decode(&gzip(&body), None, 100_000).unwrap().text.len(),
            100_000
        );
        // The buffer is never grown past the cap.
        assert!(gunzip(&gzip(&body), 100_000).unwrap().capacity() <= 100_000);
        assert!(matches!(
            decode(&gzip(&body), None, 99_999),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let compressed = gzip(RUSSIAN_NEWS.as_bytes());
        for cut in [2, 5, 10, compressed.len() / 2, compressed.len() - 1] {
            assert!(
                matches!(
                    decode(&compressed[..cut], None, LIMIT),
                    Err(DecodeError::Gzip(_))
                ),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn plain_body_over_the_cap_is_too_large() {
        assert!(matches!(
            decode(&[b' '; 11], None, 10),
            Err(DecodeError::TooLarge { limit: 10 })
        ));
        assert!(decode(&[b' '; 10], None, 10).is_ok());
    }

    // ---- declaration rewriting ---------------------------------------------------------------

    #[test]
    fn declaration_encoding_is_rewritten_to_utf8() {
        let doc = "  <?xml version=\"1.0\" encoding = 'windows-1251' standalone=\"yes\"?>\n<rss>Новости</rss>";
        let decoded = ok(&encode(WINDOWS_1251, doc), None);
        assert_eq!(
            decoded.text,
            "  <?xml version=\"1.0\" encoding = 'UTF-8' standalone=\"yes\"?>\n<rss>Новости</rss>"
        );
        // No encoding attribute: nothing is inserted.
        let decoded = ok(
            &encode(
                WINDOWS_1251,
                "<?xml version=\"1.0\"?><rss>Новости региона</rss>",
            ),
            None,
        );
        assert_eq!(
            decoded.text,
            "<?xml version=\"1.0\"?><rss>Новости региона</rss>"
        );
        // Only the declaration is touched, not look-alikes further on.
        let doc = "<?xml version=\"1.0\" encoding=\"koi8-r\"?><p>encoding=\"koi8-r\"</p>";
        assert_eq!(
            ok(&encode(KOI8_R, doc), None).text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><p>encoding=\"koi8-r\"</p>"
        );
    }

    // ---- robustness --------------------------------------------------------------------------

    #[test]
    fn empty_input() {
        let decoded = ok(b"", None);
        assert_eq!(decoded.text, "");
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.warnings.is_empty());
        assert_eq!(
            ok(b"", Some("text/xml; charset=windows-1251")).encoding,
            "windows-1251"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let prefixes: [&[u8]; 9] = [
            b"",
            &[0xEF, 0xBB, 0xBF],
            &[0xFF, 0xFE],
            &[0, 0, 0xFE, 0xFF],
            b"<?xml version=\"1.0\" encoding=\"",
            b"<?xml version='1.0' encoding='utf-16'?>",
            b"<!doctype html><meta charset=",
            &[0, b'<', 0, b'?'],
            &[0x1F, 0x8B],
        ];
        let content_types = [
            None,
            Some("text/xml; charset=\"utf-8"),
            Some("text/html; charset=utf-16"),
            Some(";"),
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..3000 {
            let mut bytes = prefixes[round % prefixes.len()].to_vec();
            for _ in 0..(round % 97) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let byte = state.to_le_bytes()[0];
                bytes.push(if round % 3 == 0 { byte | 0x80 } else { byte });
            }
            let _ = decode(&bytes, content_types[round % content_types.len()], 4096);
        }
    }

    // ---- the real-world corpus ---------------------------------------------------------------

    fn corpus_root() -> PathBuf {
        std::env::var_os("TRIBUTARY_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
    }

    fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, found);
            } else {
                found.push(path);
            }
        }
    }

    /// The leading comment of a corpus file, where the corpus keeps its `Header:` and `Expect:`
    /// lines.
    fn leading_comment(text: &str) -> &str {
        let Some(start) = text.find("<!--") else {
            return "";
        };
        let end = text[start..]
            .find("-->")
            .map_or(text.len(), |end| start + end);
        &text[start..end]
    }

    fn header_content_type(comment: &str) -> Option<String> {
        comment.lines().find_map(|line| {
            let header = line.trim().strip_prefix("Header:")?.trim();
            let (name, value) = header.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
    }

    fn expected_encoding(comment: &str) -> Option<String> {
        let expect = comment
            .lines()
            .find_map(|line| line.trim().strip_prefix("Expect:"))?;
        let after = &expect[expect.find("encoding == '")? + "encoding == '".len()..];
        Some(after[..after.find('\'')?].to_owned())
    }

    /// An encoding name under WHATWG label normalisation (UTF-32 names, which WHATWG lacks,
    /// as written).
    fn normalised(name: &str) -> String {
        resolve_label(name).map_or_else(
            || name.to_ascii_lowercase(),
            |label| label.charset.name().to_ascii_lowercase(),
        )
    }

    #[test]
    fn corpus_encodings_match_expectations() {
        let root = corpus_root();
        let dirs = [
            root.join("feedparser/tests/encoding"),
            root.join("miniflux"),
        ];
        if !dirs.iter().all(|dir| dir.is_dir()) {
            eprintln!(
                "skipping: corpus not found under {} (set TRIBUTARY_CORPUS)",
                root.display()
            );
            return;
        }
        let mut files = Vec::new();
        for dir in &dirs {
            files_under(dir, &mut files);
        }
        files.sort();
        assert!(files.len() > 40, "{} files", files.len());

        let (mut expected_cases, mut passed) = (0, 0);
        let mut name_only = Vec::new();
        for path in &files {
            let bytes = std::fs::read(path).unwrap();
            let first = decode(&bytes, None, LIMIT)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let comment = leading_comment(&first.text).to_owned();
            let content_type = header_content_type(&comment);
            let decoded = match &content_type {
                Some(content_type) => decode(&bytes, Some(content_type), LIMIT).unwrap(),
                None => first,
            };
            let Some(expected) = expected_encoding(&comment) else {
                continue;
            };
            expected_cases += 1;
            if normalised(&expected) == normalised(decoded.encoding) {
                passed += 1;
                continue;
            }
            // A different name is acceptable only when the text is exactly what the expected
            // encoding gives (us-ascii vs UTF-8 on ASCII bytes; GBK vs gb18030, one decoder).
            let expected_label = resolve_label(&expected)
                .unwrap_or_else(|| panic!("{}: expected {expected}", path.display()));
            let mut reference = transcode(
                Cow::Borrowed(&bytes),
                Choice {
                    charset: expected_label.charset,
                    bom_len: 0,
                },
                &mut Vec::new(),
            );
            rewrite_declared_encoding(&mut reference);
            let file = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string();
            assert_eq!(
                reference, decoded.text,
                "{file}: expected {expected}, decoded as {} with different text",
                decoded.encoding
            );
            name_only.push(format!(
                "{file}: expected {expected}, got {} (identical text)",
                decoded.encoding
            ));
        }
        eprintln!("corpus: {passed} of {expected_cases} Expect encoding cases match");
        for line in &name_only {
            eprintln!("  name differs: {line}");
        }
        assert!(
            expected_cases >= 20,
            "only {expected_cases} Expect cases found"
        );
    }

    #[test]
    fn corpus_texts_decode_to_the_expected_words() {
        let root = corpus_root().join("miniflux/internal/reader");
        if !root.is_dir() {
            eprintln!(
                "skipping: corpus not found under {} (set TRIBUTARY_CORPUS)",
                root.display()
            );
            return;
        }
        let cases: [(&str, &[&str]); 12] = [
            ("encoding/testdata/invalid-prolog.xml", &["Café"]),
            (
                "encoding/testdata/iso-8859-1.xml",
                &["Café", "Présentation"],
            ),
            (
                "encoding/testdata/koi8r.xml",
                &[
                    "Пример RSS ленты",
                    "Привет мир! Ёжик, чай, Москва, Санкт-Петербург.",
                ],
            ),
            ("encoding/testdata/utf8-incorrect-prolog.xml", &["Café"]),
            ("encoding/testdata/utf8.xml", &["Café"]),
            (
                "encoding/testdata/windows-1252-incorrect-prolog.xml",
                &["Euro €"],
            ),
            ("encoding/testdata/windows-1252.xml", &["Euro €"]),
            ("xml/testdata/iso88591.xml", &["Anaïs", "Jürgen"]),
            (
                "xml/testdata/iso88591_utf8_mismatch.xml",
                &["Anaïs", "Jürgen"],
            ),
            (
                "xml/testdata/koi8r.xml",
                &["Пример RSS ленты", "Тестовая лента в кодировке KOI8-R"],
            ),
            (
                "parser/testdata/encoding_WINDOWS-1251.xml",
                &["Новый цитатник Рунета"],
            ),
            (
                "parser/testdata/no_encoding_ISO-8859-1.xml",
                &["Flux RSS du magazine"],
            ),
        ];
        for (file, needles) in cases {
            let bytes = std::fs::read(root.join(file)).unwrap();
            let decoded = decode(&bytes, None, LIMIT).unwrap();
            for needle in needles {
                assert!(
                    decoded.text.contains(needle),
                    "{file}: no {needle:?} in {:?}",
                    decoded.text.chars().take(400).collect::<String>()
                );
            }
            assert!(!decoded.text.contains('\u{FFFD}'), "{file}");
        }
    }

    #[test]
    fn corpus_cyrillic_without_or_with_a_false_declaration_is_sniffed() {
        let root = corpus_root().join("miniflux/internal/reader");
        if !root.is_dir() {
            eprintln!(
                "skipping: corpus not found under {} (set TRIBUTARY_CORPUS)",
                root.display()
            );
            return;
        }
        let body = |text: &str| text[text.find("?>").unwrap()..].to_owned();
        for (file, label) in [
            ("parser/testdata/encoding_WINDOWS-1251.xml", "windows-1251"),
            ("encoding/testdata/koi8r.xml", "KOI8-R"),
            ("xml/testdata/koi8r.xml", "KOI8-R"),
        ] {
            let bytes = std::fs::read(root.join(file)).unwrap();
            let declared = decode(&bytes, None, LIMIT).unwrap();
            assert_eq!(declared.encoding, label, "{file}");
            let value = declared_encoding_range(&bytes).unwrap();
            let attribute = find(&bytes, b" encoding=", 0).unwrap();

            let mut undeclared = bytes[..attribute].to_vec();
            undeclared.extend_from_slice(&bytes[value.end + 1..]);
            let sniffed = decode(&undeclared, None, LIMIT).unwrap();
            assert_eq!(sniffed.encoding, label, "{file}");
            assert_eq!(body(&sniffed.text), body(&declared.text), "{file}");

            let mut false_utf8 = bytes[..value.start].to_vec();
            false_utf8.extend_from_slice(b"UTF-8");
            false_utf8.extend_from_slice(&bytes[value.end..]);
            let sniffed = decode(&false_utf8, None, LIMIT).unwrap();
            assert_eq!(sniffed.encoding, label, "{file}");
            assert_eq!(sniffed.text, declared.text, "{file}");
        }
    }
}
