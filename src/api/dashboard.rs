//! The operator dashboard: static HTML, CSS and JavaScript embedded in the binary, served at `/` beside the API.
//!
//! The page reads only the public API (`/v1/...` and `/v1/events/stream`), like any other client; it has no
//! route of its own. Every answer carries a strict Content-Security-Policy (scripts and styles from this
//! origin only, no inline code, no framing), `nosniff`, and an `ETag` with `Cache-Control: no-cache`: browsers
//! keep the files and revalidate them with a 304, so an upgraded server is picked up on the next load.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// The policy of every dashboard answer: nothing inline, nothing from another origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// The embedded files; the first is the page at `/`.
static FILES: [Asset; 4] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("dashboard/static/index.html"),
    },
    Asset {
        path: "/dashboard/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("dashboard/static/app.js"),
    },
    Asset {
        path: "/dashboard/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("dashboard/static/style.css"),
    },
    Asset {
        path: "/dashboard/icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("dashboard/static/icon.svg"),
    },
];

/// The paths the dashboard serves, for the per-route metrics.
pub(crate) fn paths() -> impl Iterator<Item = String> {
    FILES.iter().map(|asset| asset.path.to_string())
}

/// The dashboard's routes (no state: the files are constants).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES.iter().fold(Router::new(), |router, asset| {
        let etag = etag(asset.body);
        router.route(
            asset.path,
            get(move |headers: HeaderMap| async move { serve(asset, &etag, &headers) }),
        )
    })
}

/// A strong validator of `body`: the start of its sha256, quoted.
fn etag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex in quotes is a header value")
}

/// `asset`, or 304 when the browser's copy is current.
fn serve(asset: &'static Asset, etag: &HeaderValue, request: &HeaderMap) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, etag.clone()),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page loads only what is embedded, from this origin, and nothing inline (the policy forbids it).
    #[test]
    fn the_page_references_only_embedded_files_and_nothing_inline() {
        let page = std::str::from_utf8(FILES[0].body).unwrap();
        for asset in &FILES[1..] {
            assert!(page.contains(asset.path), "{} is not used", asset.path);
            assert!(asset.path.starts_with("/dashboard/"));
        }
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "{page}"
        );
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no CDN"
        );
        let script = std::str::from_utf8(FILES[1].body).unwrap();
        assert!(!script.contains("innerHTML") && !script.contains("eval("));
    }

    #[test]
    fn a_matching_etag_answers_304_and_any_other_the_file() {
        let asset = &FILES[1];
        let tag = etag(asset.body);
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, tag.clone());
        assert_eq!(
            serve(asset, &tag, &headers).status(),
            StatusCode::NOT_MODIFIED
        );
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        let full = serve(asset, &tag, &headers);
        assert_eq!(full.status(), StatusCode::OK);
        assert_eq!(full.headers()[header::CONTENT_TYPE], asset.content_type);
        assert!(
            full.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
    }
}
