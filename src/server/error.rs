//! Handler failures mapped to HTTP status codes in one place. Internal details are logged with
//! their chain, never sent to the client.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// What can go wrong in a handler.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed; the message says which parameter and why.
    BadRequest(String),
    /// 401: an admin route without the right bearer token.
    Unauthorized(String),
    /// 404: no such output, feed or page.
    NotFound(String),
    /// 503: the server cannot do this now (e.g. refreshing from a read-only server).
    Unavailable(String),
    /// 500: logged in full, answered without detail.
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the server log".to_string(),
                )
            }
        };
        let mut resp = (
            status,
            axum::Json(json!({ "error": message, "status": status.as_u16() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
