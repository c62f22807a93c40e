//! URL extraction and normalisation.

use crate::{UrlContext, UrlRef};

/// Extract URLs from plain text.
pub fn extract_urls(text: &str, context: UrlContext, out: &mut Vec<UrlRef>) {
    let _ = (text, context, out);
}

/// Normalise a host name.
pub fn normalize_host(host: &str) -> Option<(String, bool)> {
    Some((host.to_ascii_lowercase(), false))
}

/// The registered domain of a host under the Public Suffix List.
pub fn registered_domain(host: &str) -> Option<String> {
    psl::domain_str(host).map(str::to_string)
}
