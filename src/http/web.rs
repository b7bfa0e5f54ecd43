//! The pages people look at (`web/`): the public navigator at `/navi` and the work screens at
//! `/app`, with the scripts, styles
//! and web fonts they share. Embedded in the binary so that the server needs no files beside it
//! and no other host: the pages talk only to this server's public GraphQL API.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::documents::fonts::{self, WEB_FAMILY, WEB_SLICES};

/// The pages' scripts and styles, by path under `/web/`.
const FILES: &[(&str, &str, &str)] = &[
    (
        "shared/live.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/shared/live.js"),
    ),
    (
        "shared/base.css",
        "text/css; charset=utf-8",
        include_str!("../../web/shared/base.css"),
    ),
    (
        "shared/dom.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/shared/dom.js"),
    ),
    (
        "shared/chart.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/shared/chart.js"),
    ),
    (
        "app/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/app.js"),
    ),
    (
        "app/screens.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens.js"),
    ),
    (
        "app/screens/common.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/common.js"),
    ),
    (
        "app/screens/allocation.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/allocation.js"),
    ),
    (
        "app/screens/delivery.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/delivery.js"),
    ),
    (
        "app/screens/registry.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/registry.js"),
    ),
    (
        "app/screens/reports.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/reports.js"),
    ),
    (
        "app/screens/reservations.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/reservations.js"),
    ),
    (
        "app/screens/residents.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/residents.js"),
    ),
    (
        "app/screens/account.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app/screens/account.js"),
    ),
    (
        "app/app.css",
        "text/css; charset=utf-8",
        include_str!("../../web/app/app.css"),
    ),
    (
        "graphiql/dist/graphiql.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/graphiql/dist/graphiql.js"),
    ),
    (
        "graphiql/dist/graphiql.css",
        "text/css; charset=utf-8",
        include_str!("../../web/graphiql/dist/graphiql.css"),
    ),
    (
        "graphiql/dist/graphiql.js.LEGAL.txt",
        "text/plain; charset=utf-8",
        include_str!("../../web/graphiql/dist/graphiql.js.LEGAL.txt"),
    ),
    (
        "graphiql/vsys.css",
        "text/css; charset=utf-8",
        include_str!("../../web/graphiql/vsys.css"),
    ),
    (
        "navi/navi.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/navi/navi.js"),
    ),
    (
        "navi/navi.css",
        "text/css; charset=utf-8",
        include_str!("../../web/navi/navi.css"),
    ),
];

static NAVI: &str = include_str!("../../web/navi/index.html");
static APP: &str = include_str!("../../web/app/index.html");
static GRAPHIQL: &str = include_str!("../../web/graphiql/index.html");

/// The web fonts' file names carry a version: a changed slice gets a new name, so browsers may
/// keep a slice for a year.
const FONT_VERSION: &str = "v1";

/// Only this server, and the map tiles' host when one is configured; no inline code.
fn policy(state: &AppState) -> String {
    let tiles = state.http.map_tile_origin().unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; \
         connect-src 'self' ws: wss:; img-src 'self' data: {tiles}; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

fn page(policy: String, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `/navi`: the public navigator.
pub async fn navi(State(state): State<AppState>) -> Response {
    page(policy(&state), NAVI)
}

/// `/app`: the work screens of every role (signed in with the two-factor login).
pub async fn app(State(state): State<AppState>) -> Response {
    page(policy(&state), APP)
}

/// `/`: GraphiQL, bundled (`web/graphiql/build.mjs`) and served from here, with the
/// examples and the sign-in helper. Its components set inline styles and its stylesheet embeds
/// its fonts, so this page's policy allows both; scripts still come from this server only.
pub async fn graphiql() -> Response {
    page(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         font-src 'self' data:; img-src 'self' data:; connect-src 'self' ws: wss:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            .to_owned(),
        GRAPHIQL,
    )
}

/// `/navi/config.json`, `/app/config.json`: what the pages need to know of this server (the
/// map tiles; how long a session may stay idle, for the sign-out warning).
pub async fn page_config(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(json!({
            "mapTileUrl": state.http.map_tile_url,
            "mapAttribution": state.http.map_attribution,
            "sessionIdleMinutes": state.identity.config.session_idle_minutes,
        })),
    )
        .into_response()
}

/// `/web/{*path}`: a page's script or style.
pub async fn file(Path(path): Path<String>) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(p, _, _)| *p == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, *content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        *body,
    )
        .into_response()
}

/// `/assets/fonts/fonts.css`: one `@font-face` per slice, each with its `unicode-range`, so a
/// browser fetches only the slices of the characters a page shows. Two families share the
/// files: "vsys Gothic Web" covers Latin too (the pages' text), "vsys Gothic Web JP" only
/// Japanese, to put before a monospace font in code editors (Latin stays in that font).
pub async fn font_faces() -> Response {
    let face = |family: &str, slice: &fonts::WebSlice, range: &str| {
        format!(
            "@font-face {{\n  font-family: \"{family}\";\n  font-style: normal;\n  \
             font-weight: 400;\n  font-display: block;\n  \
             src: url(\"/assets/fonts/{}\") format(\"truetype\");\n  unicode-range: {range};\n}}\n",
            slice_file(slice.name)
        )
    };
    let mut faces = String::new();
    for slice in WEB_SLICES {
        faces.push_str(&face(WEB_FAMILY, slice, &slice.unicode_range()));
    }
    for slice in WEB_SLICES {
        let japanese = slice.unicode_range_from(0x2000);
        if !japanese.is_empty() {
            faces.push_str(&face(&format!("{WEB_FAMILY} JP"), slice, &japanese));
        }
    }
    let css = format!(
        "/* {WEB_FAMILY}: slices of IPAex Gothic under the IPA Font License Agreement v1.0, \
         /assets/fonts/LICENSE.txt */\n{faces}"
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        css,
    )
        .into_response()
}

fn slice_file(name: &str) -> String {
    format!("vsys-gothic-web-{FONT_VERSION}-{name}.ttf")
}

/// `/assets/fonts/{file}`: a slice (built on first request, compressed when the browser
/// accepts gzip), or the licence.
pub async fn font(Path(file): Path<String>, headers: HeaderMap) -> Response {
    if file == "LICENSE.txt" {
        return (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            fonts::LICENCE,
        )
            .into_response();
    }
    let Some(slice) = WEB_SLICES.iter().find(|s| slice_file(s.name) == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let name = slice.name;
    // Building a slice takes a moment the first time: off the async threads.
    let Ok(Some((raw, gzipped))) =
        tokio::task::spawn_blocking(move || Some((fonts::web_slice(name)?, gzipped(name)?))).await
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = if accepts_gzip {
        let mut response = gzipped.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        raw.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("font/ttf"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// A slice compressed once and kept.
fn gzipped(name: &str) -> Option<&'static [u8]> {
    use std::io::Write;
    use std::sync::OnceLock;
    static BUILT: [OnceLock<Vec<u8>>; WEB_SLICES.len()] =
        [const { OnceLock::new() }; WEB_SLICES.len()];
    let index = WEB_SLICES.iter().position(|s| s.name == name)?;
    let raw = fonts::web_slice(name)?;
    Some(BUILT[index].get_or_init(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder
            .write_all(raw)
            .and_then(|_| encoder.finish())
            .expect("compressing in memory does not fail")
    }))
}
