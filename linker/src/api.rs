//! The HTTP API: routes, the authentication extractor, errors, streaming uploads.

use std::io::Write;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::auth::{PresentedToken, Principal, Role};
use crate::ids::{DatasetVersion, RunId};
use crate::schedule::Decision;
use crate::service::{Actor, Linker, OpError};
use crate::store::{AuditEvent, Blob, PublishedFile, StagedBlob, VersionRecord};

/// Header carrying the client's BLAKE3 checksum of an upload (64 hex digits).
pub const CHECKSUM_HEADER: &str = "x-pprl-blake3";

/// The API's routes over a linker.
pub fn router(linker: Linker) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/projects", post(create_project))
        .route("/v1/projects/{project}", put(update_project))
        .route("/v1/projects/{project}/versions", get(list_versions))
        .route(
            "/v1/projects/{project}/datasets/{dataset}/versions",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/projects/{project}/runs",
            post(start_run).get(list_runs),
        )
        .route("/v1/projects/{project}/runs/{run}", get(run_status))
        .route("/v1/projects/{project}/outputs", get(list_outputs))
        .route(
            "/v1/projects/{project}/outputs/{file}",
            get(download_output),
        )
        .route("/v1/audit", get(audit_log))
        .layer(middleware::from_fn_with_state(
            linker.clone(),
            refuse_tokens_in_urls,
        ))
        .with_state(linker)
}

/// An API error: status, stable code, message and the next step.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    hint: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                hint: self.hint.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Unauthenticated => ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a valid API token is required")
                .hint("send `Authorization: Bearer <token>`; ask your project administrator for a token if yours was revoked"),
            OpError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            OpError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            OpError::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", m),
            OpError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            OpError::Config(c) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_config", c.to_string()),
            OpError::Refused(r) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code, r.message).hint(r.hint),
            OpError::Store(s) => {
                tracing::error!(error = %s, "storage failure");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
            }
        }
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OpError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server could not complete the request",
            ))
        }
    }
}

/// Refuses requests that put anything token-like in the query string.
async fn refuse_tokens_in_urls(
    State(linker): State<Linker>,
    request: Request,
    next: Next,
) -> Response {
    let suspicious = request.uri().query().is_some_and(|q| {
        q.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
            matches!(
                name.as_str(),
                "token" | "access_token" | "api_key" | "apikey" | "key" | "auth" | "bearer"
            ) || pair.contains("pprl_")
        })
    });
    if suspicious {
        // The query is never logged: it holds the token.
        let detail = format!(
            "400 token_in_url: {} {}",
            request.method(),
            request.uri().path()
        );
        audit_refusal(&linker, "request", detail).await;
        return ApiError::new(StatusCode::BAD_REQUEST, "token_in_url", "tokens are never accepted in URLs")
            .hint("send the token in the `Authorization: Bearer` header, and revoke the token that was put in a URL")
            .into_response();
    }
    next.run(request).await
}

/// Audits a refusal that happens before a caller is known.
async fn audit_refusal(linker: &Linker, action: &'static str, detail: String) {
    let linker = linker.clone();
    let _ = tokio::task::spawn_blocking(move || {
        linker.audit(
            &Actor::Anonymous,
            action,
            None,
            None,
            "refused",
            Some(detail),
        );
    })
    .await;
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<Linker> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        linker: &Linker,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let request = format!("{} {}", parts.method, parts.uri.path());
        let Some(token) = header else {
            audit_refusal(
                linker,
                "authenticate",
                format!("401 unauthenticated: no bearer token on {request}"),
            )
            .await;
            return Err(OpError::Unauthenticated.into());
        };
        // The public id of a well-formed token, for the audit log; never the secret.
        let id = PresentedToken::parse(&token).map(|t| t.id.clone());
        let principal = {
            let linker = linker.clone();
            blocking(move || linker.authenticate(&token)).await
        };
        if principal.is_err() {
            tracing::info!("refused a request with a missing or invalid token");
            let who = id.map_or_else(
                || "a malformed token".to_owned(),
                |id| format!("token {id} (unknown or revoked)"),
            );
            audit_refusal(
                linker,
                "authenticate",
                format!("401 unauthenticated: {who} on {request}"),
            )
            .await;
        }
        principal.map(Caller)
    }
}

fn require_admin(caller: &Principal) -> Result<(), ApiError> {
    if caller.role == Role::Administrator {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs an administrator token",
        ))
    }
}

async fn healthz(State(linker): State<Linker>) -> Result<&'static str, ApiError> {
    blocking(move || linker.meta.projects().map(|_| ()).map_err(OpError::from)).await?;
    Ok("ok\n")
}

#[tracing::instrument(skip_all)]
async fn create_project(
    State(linker): State<Linker>,
    Caller(caller): Caller,
    body: String,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let config = blocking(move || linker.create_project(&body, &Actor::Caller(&caller))).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"project": config.name})),
    )
        .into_response())
}

#[tracing::instrument(skip_all, fields(project = %project))]
async fn update_project(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
    body: String,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let config = blocking(move || linker.update_project(&body, &Actor::Caller(&caller))).await?;
    if config.name != project {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the config's name differs from the URL's project",
        ));
    }
    Ok(Json(serde_json::json!({"project": config.name})).into_response())
}

#[derive(Serialize)]
struct VersionView {
    dataset: String,
    version: DatasetVersion,
    checksum: String,
    bytes: u64,
    rows: u64,
    key_fingerprint: String,
    uploaded_at: String,
}

impl From<VersionRecord> for VersionView {
    fn from(v: VersionRecord) -> Self {
        VersionView {
            dataset: v.dataset,
            version: v.version,
            checksum: v.checksum,
            bytes: v.bytes,
            rows: v.rows,
            key_fingerprint: v.key_fingerprint,
            uploaded_at: v.uploaded_at,
        }
    }
}

#[tracing::instrument(skip_all, fields(project = %project))]
async fn list_versions(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    let versions = blocking(move || linker.list_versions(&caller, &project)).await?;
    Ok(Json(versions.into_iter().map(VersionView::from).collect()))
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<usize>,
}

async fn audit_log(
    State(linker): State<Linker>,
    Caller(caller): Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    require_admin(&caller)?;
    let limit = query.limit.unwrap_or(100).min(10_000);
    Ok(Json(
        blocking(move || linker.meta.audit_log(limit).map_err(OpError::from)).await?,
    ))
}

#[derive(Deserialize)]
struct StartRunQuery {
    /// `false`: run only if some dataset has a new version since the last
    /// publication. Manual runs are forced by default.
    force: Option<bool>,
}

/// `POST /v1/projects/{project}/runs[?force=false]`: starts a linkage run in
/// the background; refused (409) while another run of the project runs.
#[tracing::instrument(skip_all, fields(project = %project))]
async fn start_run(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Query(query): Query<StartRunQuery>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let force = query.force.unwrap_or(true);
    let started = {
        let (linker, project) = (linker.clone(), project.clone());
        blocking(move || {
            if let Decision::Skip(reason) = linker.run_decision(&project, force)? {
                return Ok(Err(reason));
            }
            linker.begin_run(&project, &Actor::Caller(&caller)).map(Ok)
        })
        .await
        .map_err(|e| {
            if e.status == StatusCode::CONFLICT {
                e.hint("follow the run in progress with GET /v1/projects/{project}/runs, then start another if needed")
            } else {
                e
            }
        })?
    };
    let run_id = match started {
        Ok(run_id) => run_id,
        Err(reason) => {
            return Ok(
                Json(serde_json::json!({"status": "skipped", "reason": reason})).into_response(),
            );
        }
    };
    // CPU-heavy: a blocking thread, not an async one.
    tokio::task::spawn_blocking(move || {
        let _ = linker.execute_run(&project, run_id);
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"run_id": run_id, "status": "running"})),
    )
        .into_response())
}

/// A project's runs and schedule, for `GET /v1/projects/{project}/runs`.
#[derive(Serialize)]
struct RunsView {
    project: String,
    /// The schedule, if any, with its next due time.
    schedule: Option<ScheduleView>,
    /// Whether a run now would link anything new, and why.
    new_versions: bool,
    reason: String,
    /// Newest first.
    runs: Vec<crate::store::RunRecord>,
}

#[derive(Serialize)]
struct ScheduleView {
    cron: String,
    max_attempts: u32,
    retry_after_seconds: u64,
    next_due: Option<String>,
}

/// `GET /v1/projects/{project}/runs`: the schedule and every run, newest first.
async fn list_runs(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<RunsView>, ApiError> {
    require_admin(&caller)?;
    let view = blocking(move || {
        let config = linker.project_config(&project)?;
        let schedule = config.schedule.map(|s| ScheduleView {
            next_due: s
                .parse()
                .ok()
                .and_then(|cron| crate::schedule::next_due(&cron, chrono::Utc::now()))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            cron: s.cron,
            max_attempts: s.max_attempts,
            retry_after_seconds: s.retry_after_seconds,
        });
        let (new_versions, reason) = match linker.run_decision(&project, false)? {
            Decision::Run(reason) => (true, reason),
            Decision::Skip(reason) => (false, reason),
        };
        let mut runs = linker.meta.runs(&project)?;
        runs.reverse();
        Ok(RunsView {
            project,
            schedule,
            new_versions,
            reason,
            runs,
        })
    })
    .await?;
    Ok(Json(view))
}

/// `GET /v1/projects/{project}/runs/{run}`: a run's status.
async fn run_status(
    State(linker): State<Linker>,
    Path((project, run)): Path<(String, RunId)>,
    Caller(caller): Caller,
) -> Result<Json<crate::store::RunRecord>, ApiError> {
    require_admin(&caller)?;
    let record = blocking(move || linker.meta.run(run).map_err(OpError::from)).await?;
    match record {
        Some(r) if r.project == project => Ok(Json(r)),
        _ => Err(OpError::NotFound.into()),
    }
}

/// Checks that the caller may read a project's published outputs.
fn may_read_outputs(caller: &Principal, project: &str) -> Result<(), ApiError> {
    if !caller.may_see(project) {
        return Err(OpError::NotFound.into());
    }
    match caller.role {
        Role::Administrator | Role::Evaluator => Ok(()),
        Role::Partner => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "published outputs are for evaluators; partner tokens upload only",
        )),
    }
}

#[derive(Serialize)]
struct OutputsView {
    project: String,
    run_id: RunId,
    published_at: String,
    files: Vec<PublishedFile>,
}

/// `GET /v1/projects/{project}/outputs`: the files of the latest publication.
async fn list_outputs(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<OutputsView>, ApiError> {
    may_read_outputs(&caller, &project)?;
    let p = project.clone();
    let (run_id, published_at, files) = blocking(move || linker.latest_outputs(&p)).await?;
    Ok(Json(OutputsView {
        project,
        run_id,
        published_at,
        files,
    }))
}

/// `GET /v1/projects/{project}/outputs/{file}`: one file, streamed.
#[tracing::instrument(skip_all, fields(project = %project, file = %file))]
async fn download_output(
    State(linker): State<Linker>,
    Path((project, file)): Path<(String, String)>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    may_read_outputs(&caller, &project)?;
    let (blob, published) = {
        let (linker, project, file) = (linker.clone(), project.clone(), file.clone());
        blocking(move || linker.open_output(&project, &file)).await?
    };
    {
        let detail = format!("{} ({} bytes)", published.name, published.bytes);
        tokio::task::spawn_blocking(move || {
            linker.audit(
                &Actor::Caller(&caller),
                "download",
                Some(&project),
                None,
                "ok",
                Some(detail),
            );
        });
    }
    let content_type = if file.ends_with(".json") {
        "application/json"
    } else if file.ends_with(".html") {
        "text/html; charset=utf-8"
    } else {
        "application/vnd.apache.parquet"
    };
    let body = Body::from_stream(blob_stream(blob));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, published.bytes.to_string()),
            (
                header::HeaderName::from_static(CHECKSUM_HEADER),
                published.blake3,
            ),
        ],
        body,
    )
        .into_response())
}

/// Bytes read from a stored file per blocking read while streaming it.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// A stored file as a body stream, each chunk read on a blocking thread.
fn blob_stream(
    blob: Blob,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + Send + 'static {
    futures_util::stream::try_unfold((blob, 0u64), |(blob, offset)| async move {
        if offset >= blob.len() {
            return Ok(None);
        }
        let (blob, chunk) = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0u8; READ_CHUNK_BYTES];
            let n = blob.read_at(offset, &mut chunk)?;
            chunk.truncate(n);
            Ok::<_, std::io::Error>((blob, chunk))
        })
        .await
        .map_err(std::io::Error::other)??;
        if chunk.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let next = offset + chunk.len() as u64;
        Ok(Some((axum::body::Bytes::from(chunk), (blob, next))))
    })
}

#[derive(Serialize)]
struct UploadResponse {
    project: String,
    dataset: String,
    version: DatasetVersion,
    rows: u64,
    checksum: String,
    /// False when the same file was already a version of the dataset.
    new: bool,
}

/// `POST /v1/projects/{project}/datasets/{dataset}/versions`: a token file, streamed.
#[tracing::instrument(skip_all, fields(project = %project, dataset = %dataset))]
async fn upload(
    State(linker): State<Linker>,
    Path((project, dataset)): Path<(String, String)>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let result = receive(&linker, &caller, &project, &dataset, &headers, body).await;
    let (outcome, detail) = match &result {
        Ok(r) if r.new => (
            "ok",
            format!(
                "version {} ({} rows, blake3 {})",
                r.version, r.rows, r.checksum
            ),
        ),
        Ok(r) => (
            "ok",
            format!("unchanged: same file as version {}", r.version),
        ),
        Err(e) => (
            "refused",
            format!("{} {}: {}", e.status.as_u16(), e.code, e.message),
        ),
    };
    {
        let linker = linker.clone();
        let (project, dataset) = (project.clone(), dataset.clone());
        let _ = tokio::task::spawn_blocking(move || {
            linker.audit(
                &Actor::Caller(&caller),
                "upload",
                Some(&project),
                Some(&dataset),
                outcome,
                Some(detail),
            );
        })
        .await;
    }
    let response = result?;
    tracing::info!(
        version = response.version.0,
        rows = response.rows,
        new = response.new,
        "upload accepted"
    );
    let status = if response.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(response)).into_response())
}

/// Body bytes gathered before one blocking write to the staged blob.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// Appends `chunks` to the staged blob on a blocking thread, and hands it back.
async fn write_staged(
    mut staged: Box<dyn StagedBlob>,
    chunks: Vec<axum::body::Bytes>,
) -> Result<Box<dyn StagedBlob>, ApiError> {
    if chunks.is_empty() {
        return Ok(staged);
    }
    blocking(move || {
        for chunk in &chunks {
            staged
                .write_all(chunk)
                .map_err(|e| OpError::Store(e.into()))?;
        }
        Ok(staged)
    })
    .await
}

async fn receive(
    linker: &Linker,
    caller: &Principal,
    project: &str,
    dataset: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<UploadResponse, ApiError> {
    let claimed = headers
        .get(CHECKSUM_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "checksum_missing", format!("the `{CHECKSUM_HEADER}` header must hold the BLAKE3 checksum of the body (64 hex digits)"))
        })?;
    let config = {
        let (linker, caller, project, dataset) = (
            linker.clone(),
            caller.clone(),
            project.to_owned(),
            dataset.to_owned(),
        );
        blocking(move || linker.authorise_upload(&caller, &project, &dataset)).await?
    };
    let cap = linker.settings.max_upload_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the upload is larger than this server's limit of {cap} bytes"),
        )
        .hint("ask the linker's operator to raise max_upload_bytes, or split the extract")
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    // The staged blob deletes itself when dropped uncommitted: on every
    // early return below, and if the client goes away mid-body.
    let mut staged = {
        let linker = linker.clone();
        blocking(move || linker.blobs.stage().map_err(OpError::from)).await?
    };
    let mut hasher = blake3::Hasher::new();
    let mut received = 0u64;
    let mut pending = Vec::new();
    let mut pending_bytes = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "interrupted",
                format!("the upload was interrupted: {e}"),
            )
            .hint("send it again")
        })?;
        received += chunk.len() as u64;
        if received > cap {
            return Err(too_large());
        }
        hasher.update(&chunk);
        pending_bytes += chunk.len();
        pending.push(chunk);
        if pending_bytes >= WRITE_BATCH_BYTES {
            staged = write_staged(staged, std::mem::take(&mut pending)).await?;
            pending_bytes = 0;
        }
    }
    staged = write_staged(staged, pending).await?;
    let actual = hasher.finalize().to_hex().to_string();
    if actual != claimed {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "checksum_mismatch",
            format!("the body's BLAKE3 checksum is {actual}, the client said {claimed}: the file changed or was damaged in transit"),
        )
        .hint("send it again; if it keeps failing, check that nothing is writing the file while it uploads"));
    }
    let accepted = {
        let (linker, caller, dataset) = (linker.clone(), caller.clone(), dataset.to_owned());
        blocking(move || {
            linker.accept_upload(&caller, &config, &dataset, staged, &actual, received)
        })
        .await?
    };
    Ok(UploadResponse {
        project: project.to_owned(),
        dataset: dataset.to_owned(),
        version: accepted.version.version,
        rows: accepted.version.rows,
        checksum: accepted.version.checksum,
        new: accepted.new,
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::settings::{Overrides, Settings, SettingsFile};

    fn linker(dir: &std::path::Path) -> Linker {
        let settings = Settings::resolve(
            SettingsFile::default(),
            Overrides {
                data_dir: Some(dir.to_owned()),
                ..Default::default()
            },
        )
        .expect("valid settings");
        Linker::open(settings).expect("stores open")
    }

    async fn send(router: Router, request: Request<Body>) -> (StatusCode, String) {
        let response = router.oneshot(request).await.expect("the router answers");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn healthz_answers_without_a_token() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (status, body) = send(
            router(linker(dir.path())),
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
    }

    #[tokio::test]
    async fn requests_without_a_valid_token_are_refused_alike() {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = router(linker(dir.path()));
        let no_token = Request::get("/v1/projects/p/versions")
            .body(Body::empty())
            .expect("request");
        let bad_token = Request::get("/v1/projects/p/versions")
            .header(
                "authorization",
                format!("Bearer pprl_{}_{}", "0".repeat(16), "1".repeat(64)),
            )
            .body(Body::empty())
            .expect("request");
        let (a, body_a) = send(app.clone(), no_token).await;
        let (b, body_b) = send(app, bad_token).await;
        assert_eq!((a, b), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
        assert_eq!(body_a, body_b);
        assert!(body_a.contains("unauthenticated"));
    }

    #[tokio::test]
    async fn tokens_in_urls_are_refused_before_anything_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let request = Request::get("/v1/projects/p/versions?access_token=abc")
            .body(Body::empty())
            .expect("request");
        let (status, body) = send(router(linker(dir.path())), request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("token_in_url"), "{body}");
    }

    #[tokio::test]
    async fn admin_creates_a_project_and_others_cannot() {
        let dir = tempfile::tempdir().expect("temp dir");
        let linker = linker(dir.path());
        let admin = linker
            .issue_token(Role::Administrator, None, None, None, &Actor::Cli)
            .expect("issued");
        let config = "name = \"p\"\nkey_fingerprint = \"0011223344556677\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n";
        let create = |token: &str| {
            Request::post("/v1/projects")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(config))
                .expect("request")
        };
        let (status, _) = send(router(linker.clone()), create(&admin.expose_secret())).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, body) = send(router(linker.clone()), create(&admin.expose_secret())).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let evaluator = linker
            .issue_token(Role::Evaluator, Some("p"), None, None, &Actor::Cli)
            .expect("issued");
        let (status, _) = send(router(linker), create(&evaluator.expose_secret())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn the_runs_view_shows_the_schedule_and_unforced_runs_skip_when_nothing_is_new() {
        let dir = tempfile::tempdir().expect("temp dir");
        let linker = linker(dir.path());
        let config = "name = \"p\"\nkey_fingerprint = \"0011223344556677\"\nschedule = \"0 2 * * *\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n";
        linker.create_project(config, &Actor::Cli).expect("created");
        let admin = linker
            .issue_token(Role::Administrator, None, None, None, &Actor::Cli)
            .expect("issued")
            .expose_secret()
            .to_string();
        let request = |method: &str, uri: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", format!("Bearer {admin}"))
                .body(Body::empty())
                .expect("request")
        };
        let (status, body) = send(
            router(linker.clone()),
            request("GET", "/v1/projects/p/runs"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let view: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(view["schedule"]["cron"], "0 2 * * *");
        assert_eq!(view["schedule"]["max_attempts"], 4);
        assert!(
            view["schedule"]["next_due"]
                .as_str()
                .expect("a due time")
                .ends_with("T02:00:00Z"),
            "{view}"
        );
        assert_eq!(view["new_versions"], false);
        assert_eq!(view["runs"], serde_json::json!([]));

        let (status, body) = send(
            router(linker.clone()),
            request("POST", "/v1/projects/p/runs?force=false"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.contains("\"skipped\"") && body.contains("no dataset"),
            "{body}"
        );
        assert!(linker.meta.runs("p").expect("runs").is_empty());
    }
}
