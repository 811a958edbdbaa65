//! The page, the JSON API, `/metrics` and `/healthz`. Server-rendered HTML with its styles
//! inline: no script, no external asset, usable from a text browser. Acknowledging is a form
//! POST carrying a per-process token and checked against `Origin`; the JSON API's POST wants
//! `Content-Type: application/json`, which a cross-site form cannot send.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::metrics::Metrics;
use crate::store::{History, ObservationRecord, Store, StoredEvent, TagSummary, now_ms};

/// Rows on the page at most; the API takes `limit`.
const PAGE_LIMIT: usize = 500;

/// What the handlers share.
pub struct Web {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    /// Random per process: proves a form came from a page this server rendered.
    csrf: String,
}

impl Web {
    pub fn new(store: Arc<Store>, metrics: Arc<Metrics>) -> Web {
        let mut bytes = [0u8; 32];
        // Without an OS random source there is no safe token: refuse every form then.
        let csrf = match getrandom::fill(&mut bytes) {
            Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
            Err(_) => String::new(),
        };
        Web {
            store,
            metrics,
            csrf,
        }
    }
}

/// The routes.
pub fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/tags/{id}", get(tag_page))
        .route("/events/{id}/ack", post(ack_form))
        .route("/api/v1/tags", get(api_tags))
        .route("/api/v1/tags/{id}/history", get(api_history))
        .route("/api/v1/events", get(api_events))
        .route("/api/v1/events/{id}/ack", post(api_ack))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(web)
}

/// Binds `addr` (a loopback address unless the operator says otherwise) and returns the
/// listener, so that the caller knows the port before serving.
pub async fn bind(addr: &str) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    Ok((listener, local))
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    replica: String,
    csrf: String,
    alerts: Vec<StoredEvent>,
    tags: Vec<TagSummary>,
    watched: i64,
    query: String,
    limit: usize,
}

impl IndexPage {
    fn short<'a>(&self, digest: &'a str) -> &'a str {
        crate::event::short(digest)
    }
}

enum Item {
    Observation(ObservationRecord),
    Event(StoredEvent),
}

#[derive(Template)]
#[template(path = "tag.html")]
struct TagPage {
    replica: String,
    csrf: String,
    history: History,
    /// Newest first.
    timeline: Vec<Item>,
}

/// Runs a store call on a blocking thread; a failure is a 500 with its message.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()),
    }
}

fn html(page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            [
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
                (header::X_FRAME_OPTIONS, "DENY"),
            ],
            Html(body),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct TagsQuery {
    q: Option<String>,
    all: Option<bool>,
    limit: Option<usize>,
}

async fn index(State(web): State<Arc<Web>>, Query(q): Query<TagsQuery>) -> Response {
    let store = web.store.clone();
    let query = q.q.clone().unwrap_or_default();
    let filter = query.clone();
    let data = blocking(move || {
        Ok((
            store.events(true, PAGE_LIMIT)?,
            store.tags(Some(&filter), false, PAGE_LIMIT)?,
            store.count_watched()?,
        ))
    })
    .await;
    match data {
        Ok((alerts, tags, watched)) => html(&IndexPage {
            replica: web.store.replica().to_string(),
            csrf: web.csrf.clone(),
            alerts,
            tags,
            watched,
            query,
            limit: PAGE_LIMIT,
        }),
        Err(r) => r,
    }
}

async fn tag_page(State(web): State<Arc<Web>>, Path(id): Path<i64>) -> Response {
    let store = web.store.clone();
    match blocking(move || store.history(id)).await {
        Ok(Some(history)) => {
            let mut timeline: Vec<(String, i64, Item)> = history
                .observations
                .iter()
                .map(|o| (o.first_seen.clone(), o.id, Item::Observation(o.clone())))
                .chain(
                    history
                        .events
                        .iter()
                        .map(|e| (e.at.clone(), i64::MAX, Item::Event(e.clone()))),
                )
                .collect();
            // Newest first; at the same second the event after the observation it is about.
            timeline.sort_by(|a, b| (&b.0, b.1).cmp(&(&a.0, a.1)));
            html(&TagPage {
                replica: web.store.replica().to_string(),
                csrf: web.csrf.clone(),
                history,
                timeline: timeline.into_iter().map(|(_, _, i)| i).collect(),
            })
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such tag").into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct AckForm {
    csrf: String,
    back: Option<String>,
}

/// True when the request's `Origin` (or, without one, `Referer`) is this server, or absent.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match from {
        None => true,
        Some(url) => {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"))
                .unwrap_or("");
            rest.split('/').next() == Some(host)
        }
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn ack_form(
    State(web): State<Arc<Web>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<AckForm>,
) -> Response {
    if web.csrf.is_empty()
        || !constant_time_eq(form.csrf.as_bytes(), web.csrf.as_bytes())
        || !same_origin(&headers)
    {
        return (
            StatusCode::FORBIDDEN,
            "this form did not come from this page",
        )
            .into_response();
    }
    let store = web.store.clone();
    let by = who(&headers);
    if let Err(r) = blocking(move || store.acknowledge(id, &by, now_ms())).await {
        return r;
    }
    // Only a path on this server, never another site.
    let back = form
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    Redirect::to(&back).into_response()
}

/// Who acknowledged: the address the page was used from (no login here).
fn who(headers: &HeaderMap) -> String {
    headers
        .get("x-tagwarden-user")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64)
        .map_or_else(|| "web".to_string(), |v| format!("web:{v}"))
}

async fn api_tags(State(web): State<Arc<Web>>, Query(q): Query<TagsQuery>) -> Response {
    let store = web.store.clone();
    let limit = q.limit.unwrap_or(10_000).min(100_000);
    match blocking(move || store.tags(q.q.as_deref(), q.all.unwrap_or(false), limit)).await {
        Ok(tags) => axum::Json(serde_json::json!({ "version": 1, "tags": tags })).into_response(),
        Err(r) => r,
    }
}

async fn api_history(State(web): State<Arc<Web>>, Path(id): Path<i64>) -> Response {
    let store = web.store.clone();
    match blocking(move || store.history(id)).await {
        Ok(Some(history)) => axum::Json(history).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such tag").into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    open: Option<bool>,
    limit: Option<usize>,
}

async fn api_events(State(web): State<Arc<Web>>, Query(q): Query<EventsQuery>) -> Response {
    let store = web.store.clone();
    let limit = q.limit.unwrap_or(500).min(10_000);
    match blocking(move || store.events(q.open.unwrap_or(false), limit)).await {
        Ok(events) => {
            axum::Json(serde_json::json!({ "version": 1, "events": events })).into_response()
        }
        Err(r) => r,
    }
}

async fn api_ack(State(web): State<Arc<Web>>, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json || !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "send Content-Type: application/json from this origin",
        )
            .into_response();
    }
    let store = web.store.clone();
    let by = who(&headers);
    match blocking(move || store.acknowledge(id, &by, now_ms())).await {
        Ok(true) => axum::Json(serde_json::json!({ "acknowledged": id })).into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, "no such open event").into_response(),
        Err(r) => r,
    }
}

async fn metrics(State(web): State<Arc<Web>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        web.metrics.encode(),
    )
        .into_response()
}

async fn healthz(State(web): State<Arc<Web>>) -> Response {
    let store = web.store.clone();
    match blocking(move || store.count_watched()).await {
        Ok(_) => "ok\n".into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store does not answer\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_must_be_this_server() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8465")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8465"),
            ("origin", "http://127.0.0.1:8465")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8465"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8465"),
            ("referer", "http://127.0.0.1:8465.evil.example/x")
        ])));
        assert!(!same_origin(&HeaderMap::new()));
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
