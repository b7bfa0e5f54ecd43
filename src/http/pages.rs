//! The account pages a new or locked-out user reaches from a mail: `/setup` (the invitation's
//! link, `/setup#token=…`) completes the first login, `/reset` resets a forgotten password.
//! Both are static, embedded in the binary and talk only to this server's public GraphQL API,
//! so they work offline; their strict policy allows no inline script and no other origin.

use axum::http::header;
use axum::response::IntoResponse;

static SETUP: &str = include_str!("../../pages/setup.html");
static RESET: &str = include_str!("../../pages/reset.html");
static SCRIPT: &str = include_str!("../../pages/account.js");
static STYLE: &str = include_str!("../../pages/account.css");

/// Nothing from elsewhere, no inline code, no framing, forms post nowhere (the script sends
/// JSON to `/graphql`).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; connect-src 'self'; \
                      img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn respond(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // The pages carry no secret, but a shared machine's cache has no business keeping them.
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

pub async fn setup() -> impl IntoResponse {
    respond("text/html; charset=utf-8", SETUP)
}

pub async fn reset() -> impl IntoResponse {
    respond("text/html; charset=utf-8", RESET)
}

pub async fn script() -> impl IntoResponse {
    respond("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn style() -> impl IntoResponse {
    respond("text/css; charset=utf-8", STYLE)
}
