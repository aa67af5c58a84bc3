//! Canonical URLs: one spelling for every way outlets write the same article address.
//!
//! Used for matching only; the original link is what Tributary stores and shows. Folded:
//! scheme (http/https), `www.`/`m.`/`mobile.`/`amp.` host prefixes, default ports, the
//! fragment, repeated and trailing slashes, `/amp` path suffixes, tracking parameters (by
//! prefix and by a fixed list), empty-valued parameters; the remaining parameters are sorted.
//! Identity parameters such as `id` or `newsid` are never dropped.

use url::Url;

/// Query parameter prefixes that only track the reader.
const TRACKING_PREFIXES: &[&str] = &[
    "utm_", "utm-", "mtm_", "ga_", "itm_", "pk_", "hsa_", "stm_", "at_",
];

/// Query parameters that only track the reader (compared case-insensitively).
const TRACKING_NAMES: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gclsrc",
    "msclkid",
    "yclid",
    "ysclid",
    "_openstat",
    "mc_cid",
    "mc_eid",
    "igshid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wickedid",
    "rb_clickid",
    "s_cid",
    "ref_src",
    "cmpid",
    "ocid",
    "ncid",
    "sr_share",
    "from",
    "spm",
    "share",
    "amp",
];

/// The canonical spelling of `link` (unchanged when it is not an absolute http(s) URL).
pub fn canonical_url(link: &str) -> String {
    let Ok(mut url) = Url::parse(link.trim()) else {
        return link.trim().to_string();
    };
    if !matches!(url.scheme(), "http" | "https") {
        return url.to_string();
    }
    // Each setter of `Url` rewrites its whole serialization, so each runs only when it
    // changes something: most links are already https, lower-case and without a port.
    if url.scheme() != "https" {
        let _ = url.set_scheme("https");
    }
    if let Some(host) = url.host_str() {
        let mut folded = host.trim_end_matches('.').to_ascii_lowercase();
        for prefix in ["www.", "m.", "mobile.", "amp."] {
            if let Some(rest) = folded.strip_prefix(prefix)
                && rest.contains('.')
            {
                folded = rest.to_string();
                break;
            }
        }
        if folded != host {
            let _ = url.set_host(Some(&folded));
        }
    }
    if url.port().is_some() {
        let _ = url.set_port(None);
    }
    if url.fragment().is_some() {
        url.set_fragment(None);
    }

    // Path: collapse repeated slashes, drop an AMP suffix and the trailing slash.
    let mut segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    if matches!(segments.last(), Some(&"amp") | Some(&"amp.html")) {
        segments.pop();
    }
    let mut path = String::from("/");
    path.push_str(&segments.join("/"));
    if let Some(stripped) = path.strip_suffix(".amp") {
        path = stripped.to_string();
    }
    if path != url.path() {
        url.set_path(&path);
    }

    if url.query().is_some() {
        let mut params: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, v)| !v.is_empty() && !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        params.sort();
        if params.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(params);
        }
    }
    url.to_string()
}

fn is_tracking(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    TRACKING_PREFIXES.iter().any(|p| lower.starts_with(p))
        || TRACKING_NAMES.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::canonical_url;

    #[test]
    fn variants_of_one_article_fold_together() {
        let want = "https://caucasus-analysis.example/en/analysis/alliance-without-illusions";
        for link in [
            "https://caucasus-analysis.example/en/analysis/alliance-without-illusions",
            "http://www.caucasus-analysis.example/en/analysis/alliance-without-illusions/",
            "https://m.caucasus-analysis.example/en/analysis/alliance-without-illusions?utm_source=rss&utm_medium=feed",
            "https://amp.caucasus-analysis.example//en/analysis/alliance-without-illusions/amp#comments",
            "https://CAUCASUS-analysis.example:443/en/analysis/alliance-without-illusions?fbclid=abc&ysclid=x1&ref=",
        ] {
            assert_eq!(canonical_url(link), want, "{link}");
        }
    }

    #[test]
    fn identity_parameters_are_kept_and_sorted() {
        assert_eq!(
            canonical_url("https://report.az/news.php?newsid=42&utm_campaign=x&lang=en&id=7"),
            "https://report.az/news.php?id=7&lang=en&newsid=42"
        );
        assert_ne!(
            canonical_url("https://apa.az/index.php?id=1"),
            canonical_url("https://apa.az/index.php?id=2")
        );
    }

    #[test]
    fn path_case_is_kept_and_non_http_passes_through() {
        assert_eq!(
            canonical_url("https://a.example/News/ABC"),
            "https://a.example/News/ABC"
        );
        assert_eq!(canonical_url("mailto:x@y.example"), "mailto:x@y.example");
        assert_eq!(canonical_url("not a url"), "not a url");
    }
}
