//! `POST /api/v1/token`: OAuth 2.0 client credentials as partners send them.

mod common;

use common::TestApp;
use credentialconnect::services::partners::IssuedCredentials;
use serde_json::Value;
use std::time::Duration;

/// A form body as (name, value) pairs.
type Form<'a> = &'a [(&'a str, &'a str)];

async fn json(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("json"))
}

on_both_engines!(
    basic_auth_with_form_body_gets_a_bearer_token_that_is_not_cached,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let response = app
            .token_request(&partner)
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "delete readonly replace"),
            ])
            .send()
            .await
            .expect("send");
        let (status, headers, body) = json(response).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "readonly replace delete");
        assert!(
            body["access_token"].as_str().expect("token").len() >= 43,
            "≥ 256 bits"
        );
    }
);

on_both_engines!(
    multipart_body_as_postman_sends_it_is_accepted,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let form = reqwest::multipart::Form::new()
            .text("grant_type", "client_credentials")
            .text("scope", "readonly");
        let response = app
            .token_request(&partner)
            .multipart(form)
            .send()
            .await
            .expect("send");
        let (status, _, body) = json(response).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], "readonly");
    }
);

on_both_engines!(
    client_credentials_in_the_form_are_accepted,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let response = app
            .client
            .post(app.url("/api/v1/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &partner.client_id),
                ("client_secret", &partner.client_secret),
            ])
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
    }
);

on_both_engines!(
    omitted_scope_grants_every_scope_the_client_holds,
    |app: TestApp| async move {
        let partner = app
            .partner_with("reader", |r| {
                r.scopes =
                    credentialconnect::domain::scopes::Scopes::parse("readonly").expect("scopes")
            })
            .await;
        let response = app
            .token_request(&partner)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("send");
        let (_, _, body) = json(response).await;
        assert_eq!(body["scope"], "readonly");
        let response = app
            .token_request(&partner)
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "readonly replace"),
            ])
            .send()
            .await
            .expect("send");
        let (status, _, body) = json(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope"))
        );
    }
);

on_both_engines!(
    rfc6749_errors_name_what_is_wrong,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let cases: [(Form, u16, &str); 4] = [
            (&[], 400, "invalid_request"),
            (&[("grant_type", "password")], 400, "unsupported_grant_type"),
            (
                &[("grant_type", "client_credentials"), ("scope", "admin")],
                400,
                "invalid_scope",
            ),
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("grant_type", "client_credentials"),
                ],
                400,
                "invalid_request",
            ),
        ];
        for (form, status, error) in cases {
            let response = app
                .token_request(&partner)
                .form(form)
                .send()
                .await
                .expect("send");
            let (got, headers, body) = json(response).await;
            assert_eq!(
                (got, body["error"].as_str()),
                (status, Some(error)),
                "{form:?}: {body}"
            );
            assert!(
                body["error_description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
            assert_eq!(headers["cache-control"], "no-store");
        }
    }
);

on_both_engines!(
    wrong_secret_is_invalid_client_and_leaves_no_trace,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let before = app.snapshot().await;
        for (id, secret) in [
            (partner.client_id.as_str(), "wrong"),
            ("unknown-client", partner.client_secret.as_str()),
        ] {
            let response = app
                .client
                .post(app.url("/api/v1/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("send");
            let (status, headers, body) = json(response).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("invalid_client"))
            );
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .expect("header")
                    .starts_with("Basic")
            );
        }
        assert_eq!(app.snapshot().await, before);
    }
);

on_both_engines!(
    unknown_parameters_are_ignored_even_when_repeated_but_known_ones_may_not_repeat,
    |app: TestApp| async move {
        // RFC 6749 §3.2: unknown request parameters are ignored; only the ones it defines
        // may not be sent twice.
        let partner = app.partner("uni").await;
        let cases: [(Form, u16); 4] = [
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("utm_source", "a"),
                    ("utm_source", "b"),
                    ("", "x"),
                    ("", "y"),
                ],
                200,
            ),
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "readonly"),
                    ("scope", "readonly"),
                ],
                400,
            ),
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "someone"),
                    ("client_id", "someone"),
                ],
                400,
            ),
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("client_secret", "a"),
                    ("client_secret", "b"),
                ],
                400,
            ),
        ];
        for (form, status) in cases {
            let response = app
                .token_request(&partner)
                .form(form)
                .send()
                .await
                .expect("send");
            let (got, _, body) = json(response).await;
            assert_eq!(got, status, "{form:?}: {body}");
            if status == 400 {
                assert_eq!(body["error"], "invalid_request", "{form:?}: {body}");
                assert!(
                    body["error_description"]
                        .as_str()
                        .is_some_and(|d| d.contains("more than once")),
                    "{body}"
                );
            }
        }
    }
);

on_both_engines!(
    disabled_partner_cannot_get_or_use_tokens,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let token = app.token(&partner, None).await;
        credentialconnect::services::partners::disable(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "uni",
        )
        .await
        .expect("disable");
        let response = app
            .token_request(&partner)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 401);
        let response = app
            .client
            .get(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        let (status, _) = common::imsx_error(response).await;
        assert_eq!(status, 401);
    }
);

on_both_engines!(
    tokens_and_secrets_are_stored_only_as_digests,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let token = app.token(&partner, None).await;
        let dump = app.snapshot().await.join("\n");
        assert!(!dump.contains(&token), "the token is stored in plain text");
        assert!(
            !dump.contains(&partner.client_secret),
            "the secret is stored in plain text"
        );
    }
);

on_both_engines!(
    token_expires_after_an_hour_without_use,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let token = app.token(&partner, None).await;
        app.app.clock.advance(Duration::from_secs(61 * 60));
        let response = app
            .client
            .get(app.url("/api/v1/credentials"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("header")
            .to_string();
        let (status, body) = common::imsx_error(response).await;
        assert_eq!(status, 401);
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(
            body["imsx_description"]
                .as_str()
                .expect("description")
                .contains("expired")
        );
    }
);

on_both_engines!(
    each_accepted_request_slides_the_window_up_to_the_absolute_cap,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let token = app.token(&partner, None).await;
        let list = || {
            app.client
                .get(app.url("/api/v1/credentials"))
                .bearer_auth(&token)
                .send()
        };
        // 50 minutes apart, 29 times: never idle for an hour, but past the 24-hour cap at the end.
        for step in 1..=29 {
            app.app.clock.advance(Duration::from_secs(50 * 60));
            let status = list().await.expect("send").status().as_u16();
            let expected = if step * 50 < 24 * 60 { 200 } else { 401 };
            assert_eq!(status, expected, "after {} minutes", step * 50);
        }
    }
);

// An upload slides its token's idle window in the store, not only in the instance's memory
// (another instance, or this one restarted, reads it there), and at most once a minute: on
// PostgreSQL the slide is a part of the upload's one statement, present only in the
// statements of the uploads that slide.
on_both_engines!(
    uploads_slide_the_stored_window_at_most_once_a_minute,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let token = app.token(&partner, None).await;
        let hash = credentialconnect::secrets::digest(&token);
        let stored_last_use = || {
            let hash = hash.clone();
            app.app.store.read(move |conn| {
                conn.query_one(
                    "SELECT last_used_at FROM access_tokens WHERE token_hash = $1",
                    credentialconnect::params![&hash],
                )?
                .int(0)
            })
        };
        let body = common::fixture("guide/three-courses.json");
        // A new package, then (the same package again) a known one, each 50 minutes after the
        // token was last used; within the minute after each, another upload of it.
        for round in ["a new package", "a known package"] {
            app.app.clock.advance(Duration::from_secs(50 * 60));
            let sent_at = app.app.clock.now_ms();
            assert_eq!(app.upload(&token, body.clone()).await.status(), 200);
            let answered_at = app.app.clock.now_ms();
            let slid_at = stored_last_use().await.expect("the token");
            assert!(
                (sent_at..=answered_at).contains(&slid_at),
                "{round} slid the window: last use {slid_at}, the upload {sent_at}–{answered_at}"
            );
            app.app.clock.advance(Duration::from_secs(10));
            assert_eq!(app.upload(&token, body.clone()).await.status(), 200);
            assert_eq!(
                stored_last_use().await.expect("the token"),
                slid_at,
                "{round} sent again within the minute left the window as it was"
            );
        }
    }
);

on_both_engines!(
    rotating_the_secret_revokes_tokens_so_a_replayed_request_fails_and_leaves_no_trace,
    |app: TestApp| async move {
        let partner = app.partner("uni").await;
        let token = app.token(&partner, None).await;
        let body = common::fixture("guide/three-courses.json");
        assert_eq!(app.upload(&token, body.clone()).await.status(), 200);
        credentialconnect::services::partners::rotate_secret(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "uni",
        )
        .await
        .expect("rotate");
        let before = app.snapshot().await;
        let (status, _) = common::imsx_error(app.upload(&token, body).await).await;
        assert_eq!(status, 401);
        assert_eq!(app.snapshot().await, before);
        let response = app
            .token_request(&partner)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 401, "the old secret no longer works");
    }
);

/// One more token request for `partner`, answered 429 `slow_down` with `Retry-After`; the body.
async fn slowed_down(app: &TestApp, partner: &IssuedCredentials) -> Value {
    let response = app
        .token_request(partner)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    let (status, headers, body) = json(response).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("slow_down")));
    assert_eq!(headers["retry-after"], "60");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_token_requests_for_one_client_slow_down_and_others_go_on() {
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.token_rate_per_minute = 0;
        config.token_rate_per_client_per_minute = 3;
    })
    .await;
    let busy = app.partner("busy").await;
    let calm = app.partner("calm").await;
    for _ in 0..3 {
        app.token(&busy, None).await;
    }
    let before = app.snapshot().await;
    let body = slowed_down(&app, &busy).await;
    assert!(
        body["error_description"]
            .as_str()
            .expect("description")
            .contains("for this client"),
        "{body}"
    );
    assert_eq!(app.snapshot().await, before);
    app.token(&calm, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_token_requests_from_one_address_slow_down_and_store_nothing() {
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.token_rate_per_minute = 3
    })
    .await;
    let partner = app.partner("uni").await;
    for _ in 0..3 {
        app.token(&partner, None).await;
    }
    let before = app.snapshot().await;
    slowed_down(&app, &partner).await;
    assert_eq!(app.snapshot().await, before);
}
