//! End to end in a real headless Chromium (Debian's `chromium` and `chromium-driver`): a
//! partner uploads the guide's three-course and SkillSync packages; a new person opens the
//! claim link, signs up with the pre-filled form, confirms their email from the message the
//! SMTP server received, sees the courses and four verified skills, hides a course, cannot
//! edit a verified skill; a second person cannot take the credentials; someone the partner
//! sent no link finds theirs on the partner's activation page; a signed-in person imports
//! their credentials from a partner (pull) through the reference partner's portal; an
//! employer signs up for a viewer account from a shared resume, confirms it and opens a
//! credential's verification details; an admin sets their password from the operator's link,
//! sets up their authenticator, places an unknown achievement type from its alert and
//! rotates a partner's secret.
//! Screenshots of the main pages go to `docs/screenshots/`.

mod common;

#[path = "common/reference_partner.rs"]
mod reference_partner;
#[path = "common/wallets.rs"]
mod wallets;

use common::chromium::{browser, fill, open_disclosure, start_driver, wait_for_text};
use common::smtp::SmtpServer;
use common::{TestApp, fixture};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Screenshots are always taken; they are written to `docs/screenshots/` only when
/// `CC_SCREENSHOTS=1` (to refresh the ones the README shows), else to a scratch folder.
fn screenshots() -> PathBuf {
    let dir = if std::env::var("CC_SCREENSHOTS").is_ok_and(|v| v == "1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        std::env::temp_dir().join("credentialconnect-screenshots")
    };
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    dir
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn click_button(browser: &Client, text: &str) {
    let xpath = format!("//button[normalize-space(.)='{text}']");
    browser
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("button {text}: {e}"))
        .click()
        .await
        .expect("click");
}

async fn upload(app: &TestApp, token: &str, body: Vec<u8>) -> String {
    let response: Value = app.upload(token, body).await.json().await.expect("json");
    response["redirectUrl"]
        .as_str()
        .expect("redirect")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_person_claims_their_credentials_in_a_real_browser() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url)
    })
    .await;
    let partner = app.partner("instx").await;
    let token = app.token(&partner, None).await;
    let courses = upload(&app, &token, fixture("guide/three-courses.json")).await;
    let skills = upload(&app, &token, fixture("guide/skillsync.json")).await;
    let driver = start_driver().await;
    let browser = browser(&driver).await;

    // The claim link: a sign-up form pre-filled from the package.
    browser.goto(&courses).await.expect("open the claim link");
    let email = browser
        .find(Locator::Id("email"))
        .await
        .expect("email field");
    assert_eq!(
        email.prop("value").await.expect("value").as_deref(),
        Some("jsmith@institutionx.edu")
    );
    assert!(
        browser
            .find(Locator::LinkText("Log in instead"))
            .await
            .is_ok()
    );
    screenshot(&browser, "claim-sign-up").await;
    fill(&browser, "given_name", "Jordan").await;
    fill(&browser, "family_name", "Smith").await;
    // Too short a password: the claim page comes back with its credentials, the problem
    // listed at the top of the form and the focus on the password field.
    fill(&browser, "password", "short").await;
    click_button(&browser, "Create my account").await;
    let again = wait_for_text(&browser, "There is a problem").await;
    assert!(
        again.contains("Introduction to Psychology"),
        "the credentials are still listed"
    );
    let focused = browser.active_element().await.expect("focus");
    assert_eq!(
        focused.attr("id").await.expect("id").as_deref(),
        Some("password")
    );
    assert!(
        browser.title().await.expect("title").starts_with("Error: "),
        "the title says so first"
    );
    screenshot(&browser, "claim-sign-up-error").await;
    fill(&browser, "password", "correct horse battery").await;
    click_button(&browser, "Create my account").await;
    wait_for_text(&browser, "Check your email").await;
    screenshot(&browser, "check-email").await;

    // The confirmation link from the message the SMTP server received.
    app.deliver_mail().await;
    let link = smtp
        .last_to("jsmith@institutionx.edu")
        .and_then(|m| m.link(&format!("{}/verify/", app.base)))
        .expect("link");
    browser.goto(&link).await.expect("confirm");
    wait_for_text(&browser, "Confirm your email address").await;
    screenshot(&browser, "confirm-email").await;
    fill(&browser, "password", "correct horse battery").await;
    click_button(&browser, "Confirm my email").await;
    wait_for_text(&browser, "Add selected to my SmartResume").await;
    let boxes = browser
        .find_all(Locator::Css("input[type=checkbox][name=credential]"))
        .await
        .expect("checkboxes");
    assert_eq!(boxes.len(), 3);
    for checkbox in &boxes {
        assert!(
            checkbox.is_selected().await.expect("state"),
            "every item starts checked"
        );
    }
    screenshot(&browser, "claim-choose").await;
    click_button(&browser, "Add selected to my SmartResume").await;
    wait_for_text(&browser, "3 items were added").await;

    // The SkillSync package, now signed in. The guide's example was sent for another
    // address, so the person first confirms they read that address's mail, with a code.
    browser.goto(&skills).await.expect("skills link");
    wait_for_text(&browser, "Sent for john.q.sample@somedomain.com").await;
    screenshot(&browser, "claim-another-address").await;
    click_button(&browser, "Email a code to john.q.sample@somedomain.com").await;
    wait_for_text(
        &browser,
        "Enter the code sent to john.q.sample@somedomain.com",
    )
    .await;
    app.deliver_mail().await;
    let code = smtp.recipient_code("john.q.sample@somedomain.com");
    fill(&browser, "code", &code).await;
    click_button(&browser, "Confirm the address").await;
    wait_for_text(&browser, "The address is confirmed.").await;
    click_button(&browser, "Add selected to my SmartResume").await;
    let resume = wait_for_text(&browser, "4 items were added").await;
    let coursework = resume
        .find("Relevant Coursework")
        .expect("Relevant Coursework section");
    for course in [
        "Calculus w/Analytic Geometry I",
        "Introduction to Psychology",
        "First-Year Composition",
    ] {
        assert!(
            resume[coursework..].contains(course),
            "{course} under Relevant Coursework"
        );
    }
    // The guide's carrier has an illustrative proof: its skills are verified by the partner.
    let pills = browser
        .find_all(Locator::Css("details.pill.attested"))
        .await
        .expect("pills");
    assert_eq!(pills.len(), 4, "four skills verified by the partner");
    for pill in &pills {
        let summary = pill
            .find(Locator::Css("summary"))
            .await
            .expect("summary")
            .text()
            .await
            .expect("text");
        assert_eq!(summary, "verified by the partner");
    }
    screenshot(&browser, "resume").await;

    // Who verified a skill, and that it cannot be edited: no control, and the page says so.
    pills[0]
        .find(Locator::Css("summary"))
        .await
        .expect("summary")
        .click()
        .await
        .expect("open");
    let opened = pills[0].text().await.expect("text");
    assert!(opened.contains("Verified by Institution X"), "{opened}");
    assert!(opened.contains("Verified skills cannot be edited"));
    let teaching = browser
        .find(Locator::XPath(
            "//li[contains(@class,'skill')][.//strong[text()='Teaching']]",
        ))
        .await
        .expect("Teaching");
    assert!(
        teaching.find(Locator::Css("select")).await.is_err(),
        "no level control on a verified skill"
    );
    screenshot(&browser, "verified-skill").await;

    // Hide one course.
    let calculus = browser
        .find(Locator::XPath(
            "//li[contains(@class,'entry')][.//h3[text()='Calculus w/Analytic Geometry I']]",
        ))
        .await
        .expect("the course");
    calculus
        .find(Locator::Css("button"))
        .await
        .expect("hide button")
        .click()
        .await
        .expect("hide");
    wait_for_text(&browser, "Hidden from your resume").await;
    let calculus = browser
        .find(Locator::XPath(
            "//li[contains(@class,'entry')][.//h3[text()='Calculus w/Analytic Geometry I']]",
        ))
        .await
        .expect("the course");
    assert!(
        calculus
            .attr("class")
            .await
            .expect("class")
            .unwrap_or_default()
            .contains("hidden-entry")
    );

    // On a phone.
    browser.set_window_size(390, 844).await.expect("resize");
    browser
        .goto(&format!("{}/resume", app.base))
        .await
        .expect("resume");
    screenshot(&browser, "resume-phone").await;
    browser.set_window_size(1280, 1000).await.expect("resize");

    // The person shares their resume; an employer opens the link without an account and
    // sees the courses, and not the hidden one.
    click_button(&browser, "Make a share link").await;
    wait_for_text(&browser, "Your resume is shared").await;
    let share = browser
        .find(Locator::Id("share-link"))
        .await
        .expect("the share link")
        .prop("value")
        .await
        .expect("value")
        .expect("a link");
    // The copy button (shown by its script) copies it, and the resume shows it again.
    click_button(&browser, "Copy link").await;
    wait_for_text(&browser, "Link copied.").await;
    browser
        .goto(&format!("{}/resume", app.base))
        .await
        .expect("resume");
    let shown = browser
        .find(Locator::Id("share-link"))
        .await
        .expect("the link on the resume")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(shown.as_deref(), Some(share.as_str()));
    click_button(&browser, "Copy link").await;
    wait_for_text(&browser, "Link copied.").await;
    screenshot(&browser, "resume-share-link").await;
    browser.delete_all_cookies().await.expect("sign out");
    browser.goto(&share).await.expect("shared resume");
    let shared = wait_for_text(&browser, "What the labels mean").await;
    assert!(
        shared.contains("Introduction to Psychology") && !shared.contains("Calculus w/Analytic"),
        "{shared}"
    );
    screenshot(&browser, "shared-resume").await;

    // A second person opening the same link cannot take them.
    browser.goto(&courses).await.expect("open again");
    wait_for_text(&browser, "already on another resume").await;
    screenshot(&browser, "already-claimed").await;

    // Someone the partner sent no link finds their credentials on its activation page, and
    // the link mailed to the address on record opens their claim page.
    let mut for_alex: Value =
        serde_json::from_slice(&fixture("guide/three-courses.json")).expect("json");
    for_alex["recipient"] = json!({
        "id": "alex-1", "givenName": "Alex", "familyName": "Brown", "email": "alex@institutionx.edu"
    });
    for credential in for_alex["credentials"].as_array_mut().expect("credentials") {
        credential["id"] = format!("alex-{}", credential["id"].as_str().expect("id")).into();
    }
    upload(&app, &token, for_alex.to_string().into_bytes()).await;
    browser
        .goto(&format!("{}/find/instx", app.base))
        .await
        .expect("activation page");
    fill(&browser, "given_name", "alex").await;
    fill(&browser, "family_name", "Brown").await;
    fill(&browser, "email", "Alex@InstitutionX.edu").await;
    screenshot(&browser, "activation").await;
    click_button(&browser, "Find my credentials").await;
    wait_for_text(&browser, "Check your email").await;
    app.deliver_mail().await;
    let link = smtp
        .last_to("alex@institutionx.edu")
        .and_then(|m| m.link(&format!("{}/createmyresume/f_", app.base)))
        .expect("the one-time link");
    browser.goto(&link).await.expect("open the one-time link");
    wait_for_text(&browser, "This link works once").await;
    let email = browser
        .find(Locator::Id("email"))
        .await
        .expect("email field");
    assert_eq!(
        email.prop("value").await.expect("value").as_deref(),
        Some("alex@institutionx.edu")
    );
    browser.close().await.expect("close");
}

/// Pull, the whole way in a browser: a signed-in person opens Import Credentials, picks the
/// partner, passes through the partner's portal (the reference partner, which uploads their
/// credentials with the recipient token it was given and sends them back), chooses on the
/// return page and finds the credentials on their resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_imports_their_credentials_from_a_partner_in_a_real_browser() {
    let (app, smtp) = TestApp::spawn_with_mail_and(common::Engine::Sqlite, |config| {
        // The portal runs on this machine over plain http: allowed for tests only.
        config.fetch.allow_loopback = true;
    })
    .await;
    reference_partner::start(&app, "instx", "Institution X").await;
    let person = common::person::Person::new(&app);
    person
        .sign_up(
            &app,
            &smtp,
            "/signup",
            "jamie@example.com",
            common::person::PASSWORD,
        )
        .await;
    let driver = start_driver().await;
    let browser = browser(&driver).await;

    browser.goto(&app.url("/login")).await.expect("log-in page");
    fill(&browser, "email", "jamie@example.com").await;
    fill(&browser, "password", common::person::PASSWORD).await;
    click_button(&browser, "Log in").await;
    wait_for_text(&browser, "Log out").await;
    browser
        .find(Locator::LinkText("Import Credentials"))
        .await
        .expect("the navigation's link")
        .click()
        .await
        .expect("open Import Credentials");
    wait_for_text(&browser, "Import from Institution X").await;
    screenshot(&browser, "import").await;
    click_button(&browser, "Import from Institution X").await;

    // Through the portal and back: the return page offers what it sent, all ticked.
    wait_for_text(&browser, "Credentials from Institution X").await;
    assert_eq!(
        browser.current_url().await.expect("URL").as_str(),
        app.url("/import/return/instx")
    );
    let boxes = browser
        .find_all(Locator::Css("input[type=checkbox][name=credential]"))
        .await
        .expect("checkboxes");
    assert_eq!(boxes.len(), 3, "the three courses");
    for checkbox in &boxes {
        assert!(checkbox.is_selected().await.expect("state"));
    }
    screenshot(&browser, "import-return").await;
    click_button(&browser, "Add selected to my SmartResume").await;
    let resume = wait_for_text(&browser, "3 items were added").await;
    for course in [
        "Calculus w/Analytic Geometry I",
        "Introduction to Psychology",
        "First-Year Composition",
    ] {
        assert!(resume.contains(course), "{course} on the resume");
    }
    browser.close().await.expect("close");
}

/// Wallet push in a browser: the person presses "Send to …" on their resume, goes on to the
/// wallet's landing page, and back on their resume sees that the wallet received it; the
/// wallet (the reference wallet) holds the resume credential, verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sends_their_resume_to_a_wallet_in_a_real_browser() {
    let (app, smtp) = TestApp::spawn_with_mail_and(common::Engine::Sqlite, |config| {
        // The wallet runs on this machine over plain http: allowed for tests only.
        config.fetch.allow_loopback = true;
    })
    .await;
    let wallet = wallets::start_connected(&app).await;
    let person = common::person::Person::new(&app);
    person
        .sign_up(
            &app,
            &smtp,
            "/signup",
            "jamie@example.com",
            common::person::PASSWORD,
        )
        .await;
    let driver = start_driver().await;
    let browser = browser(&driver).await;
    browser.goto(&app.url("/login")).await.expect("log-in page");
    fill(&browser, "email", "jamie@example.com").await;
    fill(&browser, "password", common::person::PASSWORD).await;
    click_button(&browser, "Log in").await;
    wait_for_text(&browser, "Share To My Wallet").await;

    click_button(&browser, "Send to Partner refwallet").await;
    wait_for_text(&browser, "Your resume is on its way to this wallet").await;
    assert_eq!(
        browser.current_url().await.expect("URL").as_str(),
        wallet.url("/landing")
    );
    assert_eq!(
        credentialconnect::services::wallet::deliver_due(&app.app)
            .await
            .expect("deliver"),
        1
    );
    let held = wallet.held.credentials();
    assert_eq!(held.len(), 1);
    assert_eq!(
        held.values().next().expect("one").state,
        credentialconnect::domain::verification::VerificationState::Verified
    );
    browser.goto(&app.url("/resume")).await.expect("resume");
    wait_for_text(&browser, "Received by the wallet on").await;
    screenshot(&browser, "resume-wallet").await;
    browser.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employer_signs_up_from_a_shared_resume_and_opens_a_credentials_details_in_a_real_browser()
 {
    let (app, smtp) = TestApp::spawn_with_mail(common::Engine::Sqlite).await;
    common::publish_issuer_documents(&app.app.verifier);
    let signed = common::fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    let link =
        common::person::upload(&app, "issuer", json!({"credentials": [signed]}).to_string()).await;
    let person = common::person::claim_everything(&app, &smtp, &link, "sam@example.org").await;
    let share = common::person::make_share_link(&person).await;

    let driver = start_driver().await;
    let browser = browser(&driver).await;
    browser.goto(&share).await.expect("shared resume");
    wait_for_text(&browser, "Teamwork Badge").await;
    browser
        .find(Locator::LinkText("create a free viewer account"))
        .await
        .expect("the viewer account's link")
        .click()
        .await
        .expect("click");
    wait_for_text(&browser, "Create a free viewer account").await;
    fill(&browser, "name", "Riley Chen").await;
    fill(&browser, "organisation", "Acme Hiring").await;
    fill(&browser, "email", "riley@acme.example").await;
    fill(&browser, "password", common::person::PASSWORD).await;
    click_button(&browser, "Create my viewer account").await;
    wait_for_text(&browser, "Check your email").await;

    app.deliver_mail().await;
    let confirm = smtp
        .last_to("riley@acme.example")
        .and_then(|m| m.link(&format!("{}/verify/", app.base)))
        .expect("a confirmation link");
    browser.goto(&confirm).await.expect("confirmation link");
    fill(&browser, "password", common::person::PASSWORD).await;
    click_button(&browser, "Confirm my email").await;
    wait_for_text(&browser, "My viewer account").await;
    assert_eq!(
        browser.current_url().await.expect("URL").as_str(),
        share,
        "confirming leads back to the resume"
    );

    browser
        .find(Locator::XPath(
            "//a[starts-with(normalize-space(.),'Verification details')]",
        ))
        .await
        .expect("a details link")
        .click()
        .await
        .expect("click");
    let page = wait_for_text(&browser, "Every check the verifier made").await;
    assert!(page.contains("signature verified"), "{page}");
    assert!(page.contains("Example Corp"));
    open_disclosure(&browser, "Show the credential (JSON)").await;
    let original = browser
        .find(Locator::Css("pre.original"))
        .await
        .expect("the original credential")
        .text()
        .await
        .expect("text");
    let shown: Value = serde_json::from_str(&original).expect("the credential as JSON");
    assert_eq!(shown["name"], "Teamwork Badge");
    assert!(shown["proof"]["proofValue"].is_string());
    screenshot(&browser, "credential-details").await;
    browser.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_with_a_code_and_places_an_unknown_type_from_its_alert_in_a_real_browser()
{
    use credentialconnect::domain::audit::Actor;
    let app = TestApp::spawn(common::Engine::Sqlite).await;
    let partner = app.partner("instx").await;
    let token = app.token(&partner, None).await;
    let mut package: Value =
        serde_json::from_slice(&fixture("guide/three-courses.json")).expect("JSON");
    package["credentials"][0]["credentialSubject"]["achievement"]["achievementType"] =
        json!("ext:Apprenticeship");
    upload(&app, &token, package.to_string().into_bytes()).await;
    let created = credentialconnect::services::admins::create(
        &app.app,
        &Actor::operator(),
        "ops@example.org",
    )
    .await
    .expect("admin");

    let driver = start_driver().await;
    let browser = browser(&driver).await;
    browser
        .goto(&created.set_password_link)
        .await
        .expect("set-password page");
    fill(&browser, "password", common::person::PASSWORD).await;
    click_button(&browser, "Save my new password").await;
    let setup = wait_for_text(&browser, "Admin sign-in: second step").await;
    let code = common::operators::totp_code(&app, &common::operators::totp_key(&setup));
    fill(&browser, "code", &code).await;
    click_button(&browser, "Continue").await;
    wait_for_text(&browser, "Your recovery codes").await;
    browser
        .find(Locator::LinkText("Go to the admin area"))
        .await
        .expect("link")
        .click()
        .await
        .expect("click");
    wait_for_text(&browser, "1 open").await;
    browser
        .goto(&app.url("/admin/alerts"))
        .await
        .expect("alerts");
    wait_for_text(&browser, "ext:Apprenticeship").await;
    screenshot(&browser, "admin-alerts").await;
    browser
        .find(Locator::Css("select[name=section]"))
        .await
        .expect("the section choice")
        .select_by_value("experience")
        .await
        .expect("choose Experience");
    click_button(&browser, "Assign section").await;
    wait_for_text(&browser, "1 waiting credential(s) moved").await;
    assert!(
        !browser
            .source()
            .await
            .expect("page")
            .contains("ext:Apprenticeship"),
        "the alert is settled"
    );
    let sections = app
        .app
        .store
        .read(|conn| {
            conn.query(
                "SELECT section FROM credentials WHERE achievement_type = 'ext:Apprenticeship'",
                &[],
            )
        })
        .await
        .expect("read");
    assert_eq!(sections.len(), 1);
    assert_eq!(sections[0].text(0).expect("section"), "experience");

    // Rotating the partner's secret: the new one is shown once and works; the old one stops.
    browser
        .goto(&app.url("/admin/partners/instx"))
        .await
        .expect("partner page");
    click_button(&browser, "Rotate secret").await;
    let shown = wait_for_text(&browser, "Copy the secret now").await;
    screenshot(&browser, "admin-new-secret").await;
    let marker = "<code id=\"client-secret\">";
    let start = shown.find(marker).expect("the secret") + marker.len();
    let secret = shown[start..]
        .split('<')
        .next()
        .expect("secret")
        .to_string();
    use common::operators::token_status;
    assert_eq!(token_status(&app, &partner.client_id, &secret).await, 200);
    assert_eq!(
        token_status(&app, &partner.client_id, &partner.client_secret).await,
        401
    );
    browser.close().await.expect("close");
}
