//! Housekeeping: what has expired is purged — claim links, partner tokens, sessions, email
//! links — while what people and partners own stays; and the purge runs once across every
//! instance sharing the database.

mod common;

use common::person::{PASSWORD, Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture, fixture_json};
use credentialconnect::services::App;
use credentialconnect::services::housekeeping::{self, PURGE, Purged};
use credentialconnect::store::housekeeping as leases;
use serde_json::{Value, json};
use std::time::Duration;

async fn listed_credentials(app: &TestApp, token: &str) -> usize {
    let response = app
        .client
        .get(app.url("/api/v1/credentials?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["credential"].as_array().map_or(0, Vec::len)
        + body["compactJwsString"].as_array().map_or(0, Vec::len)
}

with_mail_on_both_engines!(
    expired_links_tokens_and_sessions_are_purged_and_what_people_own_stays,
    |app: TestApp, smtp: SmtpServer| async move {
        // Jamie claims a package; a second package for someone else is never claimed; a
        // later package for Jamie waits unclaimed in Jamie's import inbox.
        let claimed = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &claimed, "jsmith@institutionx.edu").await;
        let mut stranger = fixture_json("guide/three-courses.json");
        stranger["recipient"] = json!({"id": "someone-else", "email": "else@example.com"});
        for (i, credential) in stranger["credentials"]
            .as_array_mut()
            .expect("credentials")
            .iter_mut()
            .enumerate()
        {
            credential["id"] = json!(format!("unclaimed-{i}"));
        }
        let unclaimed = upload(&app, "instx", stranger.to_string()).await;
        let mut later = fixture_json("guide/three-courses.json");
        later["credentials"] = json!([later["credentials"][0].clone()]);
        later["credentials"][0]["id"] = json!("new-award-1");
        later["credentials"][0]["name"] = json!("Linear Algebra");
        upload(&app, "instx", later.to_string()).await;
        assert!(person.get("/inbox").await.has("Linear Algebra"));

        let partner = credentialconnect::services::partners::rotate_secret(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            "instx",
        )
        .await
        .expect("rotate");
        let old_token = app.token(&partner, None).await;
        let credentials_before = listed_credentials(&app, &old_token).await;
        assert_eq!(app.rows_in("packages").await, 3);

        // Nothing that can still be used is purged.
        let first = housekeeping::purge_if_due(&app.app, "instance-a")
            .await
            .expect("purge")
            .expect("the first purge is due at once");
        assert_eq!(first.packages, 0, "{first:?}");
        assert_eq!(first.access_tokens, 0, "{first:?}");
        assert_eq!(first.sessions, 0, "{first:?}");
        assert_eq!(person.get(&unclaimed).await.status, 200);

        // 31 days later every link, token and session has expired.
        app.app.clock.advance(Duration::from_secs(31 * 24 * 3600));
        let purged = housekeeping::purge_if_due(&app.app, "instance-a")
            .await
            .expect("purge")
            .expect("due again");
        assert_eq!(
            purged.packages, 2,
            "the claimed and the unclaimed package: {purged:?}"
        );
        assert!(purged.access_tokens >= 1, "{purged:?}");
        assert!(purged.sessions >= 1, "{purged:?}");
        assert!(
            purged.email_tokens >= 1,
            "the used confirmation link: {purged:?}"
        );
        assert_eq!(app.rows_in("packages").await, 1, "the inbox package stays");
        assert_eq!(app.rows_in("access_tokens").await, 0);
        assert_eq!(app.rows_in("sessions").await, 0);
        assert_eq!(app.rows_in("email_tokens").await, 0);

        // The expired link answers as before; the old token is refused.
        assert_eq!(person.get(&unclaimed).await.status, 404);
        let refused = app
            .client
            .get(app.url("/api/v1/credentials"))
            .bearer_auth(&old_token)
            .send()
            .await
            .expect("list");
        assert_eq!(refused.status(), 401);

        // The partner still holds every credential it sent.
        let token = app.token(&partner, None).await;
        assert_eq!(listed_credentials(&app, &token).await, credentials_before);

        // Jamie logs in again: the resume and the inbox are as they were.
        let again = Person::new(&app);
        let form = again.get("/login").await;
        let resume = again
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "jsmith@institutionx.edu"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(resume.status, 200, "{}", resume.html);
        let resume = again.get("/resume").await;
        assert!(
            resume.has("Calculus w/Analytic Geometry I"),
            "{}",
            resume.html
        );
        assert!(again.get("/inbox").await.has("Linear Algebra"));
    }
);

/// Every instance calls the purge at the same moment, several times over: one run happens.
async fn purge_from_everywhere(instances: &[App]) -> Vec<Purged> {
    let mut calls = Vec::new();
    for (i, app) in instances.iter().enumerate() {
        for attempt in 0..8 {
            let app = app.clone();
            let holder = format!("instance-{i}-{attempt}");
            calls.push(tokio::spawn(async move {
                housekeeping::purge_if_due(&app, &holder).await
            }));
        }
    }
    let mut ran = Vec::new();
    for call in calls {
        if let Some(purged) = call.await.expect("task").expect("purge") {
            ran.push(purged);
        }
    }
    ran
}

on_both_engines!(
    the_purge_runs_once_across_instances_and_again_when_it_is_due,
    |app: TestApp| async move {
        let other = App::open(app.app.config.as_ref().clone())
            .await
            .expect("a second instance on the same database");
        let instances = [app.app.clone(), other.clone()];
        let advance = |by: Duration| {
            app.app.clock.advance(by);
            other.clock.advance(by);
        };
        let runs = || async {
            app.app
                .store
                .read(|conn| leases::history(conn, PURGE))
                .await
                .expect("history")
                .0
        };

        assert_eq!(purge_from_everywhere(&instances).await.len(), 1);
        assert_eq!(runs().await, 1);
        assert!(
            purge_from_everywhere(&instances).await.is_empty(),
            "not due again yet"
        );

        advance(app.app.config.housekeeping.every + Duration::from_secs(1));
        assert_eq!(purge_from_everywhere(&instances).await.len(), 1);
        assert_eq!(runs().await, 2);

        // An instance that took the lease and died keeps the others out only until its
        // lease runs out.
        advance(app.app.config.housekeeping.every + Duration::from_secs(1));
        let now = app.app.clock.now_ms();
        let taken = app
            .app
            .store
            .write(move |conn| leases::try_start(conn, PURGE, "crashed", now, 0, 600_000))
            .await
            .expect("lease");
        assert!(taken);
        assert!(purge_from_everywhere(&instances).await.is_empty());
        advance(Duration::from_secs(601));
        assert_eq!(purge_from_everywhere(&instances).await.len(), 1);
        assert_eq!(runs().await, 3);
    }
);

/// A connection that notes every statement it is given.
struct Recording<'c> {
    inner: &'c mut dyn credentialconnect::store::Conn,
    statements: std::collections::BTreeSet<String>,
}

impl credentialconnect::store::Conn for Recording<'_> {
    fn execute(
        &mut self,
        sql: &str,
        params: &[credentialconnect::store::Value],
    ) -> Result<u64, credentialconnect::store::StoreError> {
        self.statements.insert(sql.to_string());
        self.inner.execute(sql, params)
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[credentialconnect::store::Value],
    ) -> Result<Vec<credentialconnect::store::Row>, credentialconnect::store::StoreError> {
        self.statements.insert(sql.to_string());
        self.inner.query(sql, params)
    }
    fn batch(&mut self, sql: &str) -> Result<(), credentialconnect::store::StoreError> {
        self.statements.insert(sql.to_string());
        self.inner.batch(sql)
    }
}

// Both engines keep prepared statements per connection. A purge whose SQL were written for
// the number of packages it removes would add statements for every new number, each as big
// as its list, until the caches are full.
on_both_engines!(
    purging_any_number_of_packages_uses_the_same_statements,
    |app: TestApp| async move {
        let partner = app.partner("instx").await;
        let mut statements = Vec::new();
        for (round, count) in [2, 5].into_iter().enumerate() {
            let token = app.token(&partner, None).await;
            for n in 0..count {
                let mut package = fixture_json("guide/three-courses.json");
                package["credentials"] = json!([package["credentials"][0].clone()]);
                package["credentials"][0]["id"] = json!(format!("round-{round}-{n}"));
                assert_eq!(app.upload(&token, package.to_string()).await.status(), 200);
            }
            app.app.clock.advance(Duration::from_secs(31 * 24 * 3600));
            let now = app.app.clock.now_ms();
            let (removed, used) = app
                .app
                .store
                .write(move |conn| {
                    let mut recording = Recording {
                        inner: conn,
                        statements: Default::default(),
                    };
                    let removed = credentialconnect::store::holding::purge_expired_packages(
                        &mut recording,
                        now,
                        1_000,
                    )?;
                    Ok((removed, recording.statements))
                })
                .await
                .expect("purge");
            assert_eq!(removed, count);
            statements.push(used);
        }
        assert_eq!(statements[0], statements[1]);
    }
);

with_mail_on_both_engines!(
    the_personal_data_of_a_package_nobody_claimed_is_erased_after_its_retention,
    |app: TestApp, smtp: SmtpServer| async move {
        let claimed = upload(&app, "instx", fixture("guide/three-courses.json")).await;
        let person = claim_everything(&app, &smtp, &claimed, "jsmith@institutionx.edu").await;
        // A later package for Jamie waits in the inbox, unclaimed, as long as Jamie likes.
        let mut later = fixture_json("guide/three-courses.json");
        later["credentials"] = json!([later["credentials"][0].clone()]);
        later["credentials"][0]["id"] = json!("new-award-1");
        later["credentials"][0]["name"] = json!("Linear Algebra");
        upload(&app, "instx", later.to_string()).await;
        let waiting = || async {
            app.app
                .store
                .read(|conn| {
                    let row = conn.query_one(
                        "SELECT recipient, recipient_id, activation_email_key FROM packages WHERE claimed_by IS NULL",
                        &[],
                    )?;
                    Ok((row.text(0)?, row.opt_text(1)?, row.opt_text(2)?))
                })
                .await
                .expect("the waiting package")
        };
        let purge = || async {
            housekeeping::purge_if_due(&app.app, "instance-a")
                .await
                .expect("purge")
                .expect("due")
        };
        assert_eq!(purge().await.unclaimed_recipients, 0);
        let (recipient, recipient_id, _) = waiting().await;
        assert!(recipient.contains("jsmith@institutionx.edu"), "{recipient}");
        assert!(recipient_id.is_some());

        // 89 days on it is kept; past 90 it is erased, and the package still waits.
        app.app.clock.advance(Duration::from_secs(89 * 24 * 3600));
        assert_eq!(purge().await.unclaimed_recipients, 0);
        app.app.clock.advance(Duration::from_secs(2 * 24 * 3600));
        assert_eq!(purge().await.unclaimed_recipients, 1);
        assert_eq!(waiting().await, ("{}".to_string(), None, None));
        let again = Person::new(&app);
        let form = again.get("/login").await;
        again
            .post(
                "/login",
                &[
                    ("csrf", &form.csrf()),
                    ("email", "jsmith@institutionx.edu"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert!(again.get("/inbox").await.has("Linear Algebra"));
        app.app.clock.advance(Duration::from_secs(3600));
        assert_eq!(purge().await.unclaimed_recipients, 0, "once");
        drop(person);
    }
);
