use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::router;
use crate::auth::Role;
use crate::service::{Actor, Linker};
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

#[tokio::test]
async fn the_linker_key_is_shown_to_partners_and_administrators_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let linker = linker(dir.path());
    let config = "name = \"p\"\nkey_fingerprint = \"0011223344556677\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n";
    linker.create_project(config, &Actor::Cli).expect("created");
    let token = |role, project: Option<&str>, partner: Option<&str>| {
        linker
            .issue_token(role, project, partner, None, &Actor::Cli)
            .expect("issued")
            .expose_secret()
            .to_string()
    };
    let get = |token: &str| {
        Request::get("/v1/projects/p/linker-key")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let identity = linker.secrets.identity();
    for token in [
        token(Role::Partner, Some("p"), Some("x")),
        token(Role::Administrator, None, None),
    ] {
        let (status, body) = send(router(linker.clone()), get(&token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let view: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(view["recipient"], identity.recipient());
        assert_eq!(view["fingerprint"], identity.fingerprint().to_string());
        assert_eq!(view.as_object().map(|o| o.len()), Some(3), "{view}");
        assert!(!body.contains("AGE-SECRET-KEY"), "{body}");
    }
    let evaluator = token(Role::Evaluator, Some("p"), None);
    let (status, body) = send(router(linker.clone()), get(&evaluator)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = send(
        router(linker.clone()),
        Request::get("/v1/projects/other/linker-key")
            .header(
                "authorization",
                format!("Bearer {}", token(Role::Partner, Some("p"), Some("x"))),
            )
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
