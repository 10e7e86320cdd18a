//! Every page, in the states a person meets, checked in a real headless Chromium with
//! axe-core (vendored in `tests/fixtures/axe-core/`) against WCAG 2.0 and 2.1, levels A and
//! AA: the home page, sign-up, log-in and reset (empty and after a failed submit: the title,
//! the focus and the summary of problems are checked too), a claim page (and after a failed
//! sign-up), the resume with a hidden item and verified skills, after a failed add and with its
//! share link, the inbox with a delivery and after dismissing it, Import Credentials with no
//! partner to import from and with one, an import's return page before anything arrived and
//! with a delivery, the shared resume, a credential's details signed out and as a viewer
//! account, the viewer sign-up (and after a failed submit), the viewer's own page, the
//! resume with who viewed it, a partner's activation page (with and without its
//! logo), a claim page with a marketplace's landing and logo, and the API reference. The test
//! fails listing every violation.
//! On a 320 px and a 390 px wide phone, the pages people read there do not scroll sideways.

mod common;

#[path = "common/reference_partner.rs"]
mod reference_partner;
#[path = "common/wallets.rs"]
mod wallets;

use common::chromium::{browser, fill, open_disclosure, start_driver, wait_for_text};
use common::images;
use common::person::{PASSWORD, Person, claim_everything, upload};
use common::smtp::SmtpServer;
use common::{TestApp, fixture, fixture_json};
use credentialconnect::services::logos::LogoChange;
use fantoccini::{Client, Locator};
use serde_json::json;

/// Runs axe-core on the page the browser shows; returns one line per violation: the page,
/// the rule, its impact and the elements it found.
async fn audit(browser: &Client, page: &str) -> Vec<String> {
    let axe = String::from_utf8(fixture("axe-core/axe.min.js")).expect("axe.min.js is text");
    // Run as a WebDriver script, not a <script> element: the pages' policy allows no scripts.
    browser
        .execute(&format!("{axe}\nreturn typeof axe;"), vec![])
        .await
        .expect("inject axe-core");
    let violations = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(result => done(result.violations.map(v => ({
                 id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')) }))))
               .catch(error => done([{ id: 'axe-error', impact: String(error), nodes: [] }]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    violations
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|v| {
            format!(
                "{page}: {} ({}) on {}",
                v["id"].as_str().unwrap_or_default(),
                v["impact"].as_str().unwrap_or("no impact"),
                v["nodes"]
            )
        })
        .collect()
}

/// Runs `script` (it returns a list of problems, as text) on the page, each problem named
/// with `page`.
async fn page_problems(browser: &Client, page: &str, script: &str) -> Vec<String> {
    let problems = browser.execute(script, vec![]).await.expect("measure");
    problems
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| format!("{page}: {}", p.as_str().unwrap_or_default()))
        .collect()
}

/// What axe-core does not check at WCAG 2.1: the focus ring at least 3:1 against white
/// (1.4.11), checkboxes and links standing on their own at least 24 px tall, and an error
/// notice in the error colour of the field errors rather than the success colours, and a
/// verified skill's disclosure naming the skill (not just "verified, collapsed").
async fn beyond_axe(browser: &Client, page: &str) -> Vec<String> {
    page_problems(
        browser,
        page,
            "const problems = [];
             const luminance = colour => {
               const [r, g, b] = colour.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(c => {
                 c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); });
               return 0.2126 * r + 0.7152 * g + 0.0722 * b;
             };
             const field = document.querySelector('main input:not([type=hidden]), main button');
             if (field) {
               field.focus();
               const ring = getComputedStyle(field).outlineColor;
               const ratio = 1.05 / (luminance(ring) + 0.05);
               if (ratio < 3) problems.push(`focus ring ${ring} is ${ratio.toFixed(2)}:1 on white`);
               field.blur();
             }
             document.querySelectorAll('input[type=checkbox], header.site a, header.site button, .actions a, .downloads a')
               .forEach(target => {
                 const height = target.getBoundingClientRect().height;
                 if (height > 0 && height < 24) problems.push(`${target.outerHTML.slice(0, 60)} is ${height} px tall`);
               });
             const alert = document.querySelector('[role=alert]');
             const success = document.createElement('p');
             success.className = 'notice';
             document.body.appendChild(success);
             if (alert && getComputedStyle(alert).color === getComputedStyle(success).color)
               problems.push('the error notice is in the success colours');
             success.remove();
             document.querySelectorAll('li.skill details.pill > summary').forEach(summary => {
               const skill = summary.closest('li.skill').querySelector('strong').textContent;
               if (!(summary.getAttribute('aria-label') || '').includes(skill))
                 problems.push(`the disclosure ${summary.textContent} does not name ${skill}`);
             });
             return problems;",
    )
    .await
}

/// Whether the page is wider than the window (it would scroll sideways).
async fn scrolls_sideways(browser: &Client) -> bool {
    browser
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("measure")
        .as_bool()
        .expect("a boolean")
}

/// After a failed submit the title says so first, as screen readers read it on load.
async fn error_title(browser: &Client, page: &str) -> Option<String> {
    let title = browser.title().await.expect("title");
    (!title.starts_with("Error: "))
        .then(|| format!("{page}: the title {title:?} does not start with \"Error: \""))
}

/// After a failed submit the first field with a problem has the focus, and the summary at
/// the top links to each field with a problem.
async fn focus_and_summary(browser: &Client, page: &str) -> Vec<String> {
    page_problems(
        browser,
        page,
            "const problems = [];
             const invalid = [...document.querySelectorAll('[aria-invalid=true]')];
             if (!invalid.length) problems.push('no field is marked invalid');
             else if (document.activeElement !== invalid[0])
               problems.push(`the focus is on ${document.activeElement.outerHTML.slice(0, 60)}, not #${invalid[0].id}`);
             const links = [...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href'));
             invalid.forEach(field => {
               if (!document.getElementById(field.getAttribute('aria-describedby')))
                 problems.push(`#${field.id} names no message`);
             });
             if (!links.length || !links.every(href => document.querySelector(href)?.getAttribute('aria-invalid') === 'true'))
               problems.push(`the summary links ${links} do not all lead to invalid fields`);
             return problems;",
    )
    .await
}

/// Audits a page sent back after a failed submit: axe-core, the checks beyond it, its title,
/// its focus and its summary.
async fn audit_sent_back(browser: &Client, page: &str) -> Vec<String> {
    wait_for_text(browser, "error-summary").await;
    let mut problems = error_title(browser, page)
        .await
        .into_iter()
        .collect::<Vec<_>>();
    problems.extend(focus_and_summary(browser, page).await);
    problems.extend(audit(browser, page).await);
    problems.extend(beyond_axe(browser, page).await);
    problems
}

/// Submits the page's form with the given button, past the browser's own checks of the
/// fields (`required`, `type=email`), so the server's answer to a wrong form is what shows.
async fn submit_unchecked(browser: &Client, button: &str) {
    browser
        .execute(
            "document.querySelectorAll('form').forEach(f => f.noValidate = true);",
            vec![],
        )
        .await
        .expect("noValidate");
    let xpath = format!("//main//button[normalize-space(.)='{button}']");
    browser
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("button {button}: {e}"))
        .click()
        .await
        .expect("click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_meets_wcag_2_1_aa_in_a_real_browser() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(common::Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url);
        // The reference partner's portal runs on this machine over plain http.
        config.fetch.allow_loopback = true;
    })
    .await;
    let courses = upload(&app, "instx", fixture("guide/three-courses.json")).await;
    // The guide's skills, sent for the person who claims the courses (its example names
    // someone else, whose address the person would have to confirm first).
    let mut skills =
        credentialconnect::domain::lenient_json::parse(&fixture("guide/skillsync.json"))
            .expect("skills");
    skills["recipient"]["email"] = json!("jsmith@institutionx.edu");
    let skills = upload(&app, "instx", skills.to_string()).await;
    let driver = start_driver().await;
    let browser = browser(&driver).await;
    let mut violations = Vec::new();

    browser.goto(&app.base).await.expect("home");
    violations.extend(audit(&browser, "home").await);
    violations.extend(beyond_axe(&browser, "home").await);

    browser.goto(&app.url("/signup")).await.expect("sign-up");
    violations.extend(audit(&browser, "sign-up").await);
    violations.extend(beyond_axe(&browser, "sign-up").await);
    fill(&browser, "email", "not an address").await;
    submit_unchecked(&browser, "Create my account").await;
    violations.extend(audit_sent_back(&browser, "sign-up after a failed submit").await);

    browser.goto(&app.url("/login")).await.expect("log-in");
    violations.extend(audit(&browser, "log-in").await);
    violations.extend(beyond_axe(&browser, "log-in").await);
    fill(&browser, "email", "nobody@example.com").await;
    fill(&browser, "password", "not the password").await;
    submit_unchecked(&browser, "Log in").await;
    violations.extend(audit_sent_back(&browser, "log-in after a failed submit").await);

    browser.goto(&app.url("/reset")).await.expect("reset");
    fill(&browser, "email", "not an address").await;
    submit_unchecked(&browser, "Send me a link").await;
    violations.extend(audit_sent_back(&browser, "reset after a failed submit").await);

    browser.goto(&courses).await.expect("claim page");
    violations.extend(audit(&browser, "claim page, signed out").await);
    violations.extend(beyond_axe(&browser, "claim page, signed out").await);
    fill(&browser, "password", "short").await;
    submit_unchecked(&browser, "Create my account").await;
    let sent_back = "claim page after a failed sign-up";
    violations.extend(audit_sent_back(&browser, sent_back).await);
    assert!(
        browser
            .source()
            .await
            .expect("source")
            .contains("Introduction to Psychology"),
        "{sent_back}: the credentials are still listed"
    );

    // A person with the three courses, the partner's verified skills and a later delivery.
    let person = claim_everything(&app, &smtp, &courses, "jsmith@institutionx.edu").await;
    add_everything(&person, &skills).await;
    let mut later = fixture_json("guide/three-courses.json");
    later["credentials"] = json!([later["credentials"][0].clone()]);
    later["credentials"][0]["id"] = json!("new-award-1");
    later["credentials"][0]["name"] = json!("Linear Algebra");
    upload(&app, "instx", later.to_string()).await;

    browser.goto(&app.url("/login")).await.expect("log-in");
    fill(&browser, "email", "jsmith@institutionx.edu").await;
    fill(&browser, "password", PASSWORD).await;
    submit_unchecked(&browser, "Log in").await;
    wait_for_text(&browser, "Make a share link").await;
    browser
        .find(Locator::XPath(
            "//li[contains(@class,'entry')]//button[starts-with(normalize-space(.),'Hide')]",
        ))
        .await
        .expect("a Hide button")
        .click()
        .await
        .expect("hide");
    wait_for_text(&browser, "hidden-entry").await;
    assert!(
        browser.source().await.expect("source").contains("attested"),
        "verified skills on the resume"
    );
    violations.extend(audit(&browser, "/resume with a hidden item and verified skills").await);
    violations.extend(beyond_axe(&browser, "/resume with a hidden item and verified skills").await);

    browser.set_window_size(390, 844).await.expect("resize");
    browser.goto(&app.url("/resume")).await.expect("resume");
    assert!(
        !scrolls_sideways(&browser).await,
        "/resume scrolls sideways at 390 px"
    );
    browser.set_window_size(1280, 1000).await.expect("resize");

    browser.goto(&app.url("/inbox")).await.expect("inbox");
    wait_for_text(&browser, "Linear Algebra").await;
    violations.extend(audit(&browser, "/inbox with a delivery").await);
    violations.extend(beyond_axe(&browser, "/inbox with a delivery").await);
    submit_unchecked(&browser, "Dismiss").await;
    wait_for_text(&browser, "was dismissed").await;
    violations.extend(audit(&browser, "/inbox after dismissing").await);
    violations.extend(beyond_axe(&browser, "/inbox after dismissing").await);

    // A package sent for another of the person's addresses: a code sent there comes first.
    let mut elsewhere = fixture_json("guide/three-courses.json");
    elsewhere["recipient"] = json!({"email": "j.smith@work.example"});
    elsewhere["credentials"] = json!([elsewhere["credentials"][1].clone()]);
    elsewhere["credentials"][0]["id"] = json!("work-award-1");
    let elsewhere = upload(&app, "instx", elsewhere.to_string()).await;
    browser.goto(&elsewhere).await.expect("claim page");
    wait_for_text(&browser, "Sent for j.smith@work.example").await;
    let gate = "claim page, sent for another address";
    violations.extend(audit(&browser, gate).await);
    violations.extend(beyond_axe(&browser, gate).await);
    submit_unchecked(&browser, "Email a code to j.smith@work.example").await;
    wait_for_text(&browser, "Enter the code sent to").await;
    violations.extend(audit(&browser, "the recipient code page").await);
    violations.extend(beyond_axe(&browser, "the recipient code page").await);
    fill(&browser, "code", "12").await;
    submit_unchecked(&browser, "Confirm the address").await;
    violations
        .extend(audit_sent_back(&browser, "the recipient code page after a wrong code").await);

    // Importing (pull): no partner offers it yet; then the reference partner's portal does.
    browser.goto(&app.url("/import")).await.expect("import");
    wait_for_text(&browser, "No organisation offers importing").await;
    violations.extend(audit(&browser, "/import with no partner").await);
    violations.extend(beyond_axe(&browser, "/import with no partner").await);
    reference_partner::start(&app, "refuni", "Reference University").await;
    browser.goto(&app.url("/import")).await.expect("import");
    wait_for_text(&browser, "Import from Reference University").await;
    violations.extend(audit(&browser, "/import with a partner").await);
    violations.extend(beyond_axe(&browser, "/import with a partner").await);
    browser
        .goto(&app.url("/import/return/refuni"))
        .await
        .expect("return page");
    wait_for_text(&browser, "Nothing has arrived").await;
    violations.extend(audit(&browser, "/import/return before anything arrived").await);
    violations.extend(beyond_axe(&browser, "/import/return before anything arrived").await);
    browser.goto(&app.url("/import")).await.expect("import");
    submit_unchecked(&browser, "Import from Reference University").await;
    wait_for_text(&browser, "Add selected to my SmartResume").await;
    violations.extend(audit(&browser, "/import/return with a delivery").await);
    violations.extend(beyond_axe(&browser, "/import/return with a delivery").await);

    browser.goto(&app.url("/resume")).await.expect("resume");
    submit_unchecked(&browser, "Add entry").await;
    violations.extend(audit_sent_back(&browser, "/resume after a failed add").await);

    browser.goto(&app.url("/resume")).await.expect("resume");
    browser
        .find(Locator::XPath(
            "//button[normalize-space(.)='Make a share link']",
        ))
        .await
        .expect("share button")
        .click()
        .await
        .expect("share");
    wait_for_text(&browser, "Your resume is shared").await;
    violations.extend(audit(&browser, "share link made").await);
    violations.extend(beyond_axe(&browser, "share link made").await);
    let share = browser
        .find(Locator::Id("share-link"))
        .await
        .expect("the share link")
        .prop("value")
        .await
        .expect("value")
        .expect("a link");
    browser.goto(&app.url("/resume")).await.expect("resume");
    wait_for_text(&browser, "Copy link").await;
    violations.extend(audit(&browser, "/resume with its share link").await);
    violations.extend(beyond_axe(&browser, "/resume with its share link").await);

    // "Share To My Wallet": a wallet offered, and a push that reached it.
    let _wallet = wallets::start_connected(&app).await;
    browser.goto(&app.url("/resume")).await.expect("resume");
    submit_unchecked(&browser, "Send to Partner refwallet").await;
    wait_for_text(&browser, "on its way to this wallet").await;
    credentialconnect::services::wallet::deliver_due(&app.app)
        .await
        .expect("deliver");
    browser.goto(&app.url("/resume")).await.expect("resume");
    wait_for_text(&browser, "Received by the wallet on").await;
    violations.extend(audit(&browser, "/resume with a wallet push").await);
    violations.extend(beyond_axe(&browser, "/resume with a wallet push").await);

    // The person's data: the download and erasure page, and the erasure refused for a wrong
    // password (nothing is erased).
    browser.goto(&app.url("/account")).await.expect("account");
    violations.extend(audit(&browser, "/account").await);
    violations.extend(beyond_axe(&browser, "/account").await);
    fill(&browser, "password", "not my password").await;
    submit_unchecked(&browser, "Erase my account").await;
    violations.extend(audit_sent_back(&browser, "/account after a wrong password").await);

    browser.delete_all_cookies().await.expect("sign out");
    browser.goto(&share).await.expect("shared resume");
    violations.extend(audit(&browser, "/r/{token}").await);
    violations.extend(beyond_axe(&browser, "/r/{token}").await);

    // An employer: a credential's details signed out (401), the viewer sign-up (empty and
    // sent back), the resume, a credential's details and the viewer's own page signed in as
    // a viewer account; then the person's resume with who viewed it.
    let details = browser
        .find(Locator::XPath(
            "//a[starts-with(normalize-space(.),'Verification details')]",
        ))
        .await
        .expect("a details link")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    browser.goto(&app.url(&details)).await.expect("details");
    violations.extend(audit(&browser, "credential details, signed out (401)").await);
    browser
        .goto(&format!("{share}/signup"))
        .await
        .expect("viewer sign-up");
    violations.extend(audit(&browser, "viewer sign-up").await);
    violations.extend(beyond_axe(&browser, "viewer sign-up").await);
    submit_unchecked(&browser, "Create my viewer account").await;
    violations.extend(audit_sent_back(&browser, "viewer sign-up after a failed submit").await);
    fill(&browser, "name", "Riley Chen").await;
    fill(&browser, "organisation", "Acme Hiring").await;
    fill(&browser, "email", "riley@acme.example").await;
    fill(&browser, "password", PASSWORD).await;
    submit_unchecked(&browser, "Create my viewer account").await;
    wait_for_text(&browser, "Check your email").await;
    app.deliver_mail().await;
    let confirm = smtp
        .last_to("riley@acme.example")
        .and_then(|m| m.link(&format!("{}/verify/", app.base)))
        .expect("a confirmation link");
    browser.goto(&confirm).await.expect("confirmation");
    fill(&browser, "password", PASSWORD).await;
    submit_unchecked(&browser, "Confirm my email").await;
    wait_for_text(&browser, "My viewer account").await;
    violations.extend(audit(&browser, "/r/{token} as a viewer account").await);
    browser.goto(&app.url(&details)).await.expect("details");
    wait_for_text(&browser, "The original credential").await;
    open_disclosure(&browser, "Show the credential (JSON)").await;
    violations.extend(audit(&browser, "credential details").await);
    violations.extend(beyond_axe(&browser, "credential details").await);
    browser
        .goto(&app.url("/viewer"))
        .await
        .expect("viewer page");
    violations.extend(audit(&browser, "/viewer").await);
    violations.extend(beyond_axe(&browser, "/viewer").await);
    browser.delete_all_cookies().await.expect("sign out");
    browser.goto(&app.url("/login")).await.expect("log-in");
    fill(&browser, "email", "jsmith@institutionx.edu").await;
    fill(&browser, "password", PASSWORD).await;
    submit_unchecked(&browser, "Log in").await;
    wait_for_text(&browser, "Riley Chen, Acme Hiring").await;
    violations.extend(audit(&browser, "/resume with who viewed it").await);
    violations.extend(beyond_axe(&browser, "/resume with who viewed it").await);
    browser.delete_all_cookies().await.expect("sign out");
    browser
        .goto(&app.url("/find/instx"))
        .await
        .expect("activation page");
    violations.extend(audit(&browser, "/find/instx").await);
    violations.extend(beyond_axe(&browser, "/find/instx").await);

    // A partner's logo on its activation page, and a marketplace's landing with its logo on
    // the claim page of a package from an issuer routed to it.
    credentialconnect::services::partners::set_logo(
        &app.app,
        &credentialconnect::domain::audit::Actor::operator(),
        "instx",
        LogoChange::Set(images::logo(images::PNG)),
    )
    .await
    .expect("partner logo");
    credentialconnect::services::marketplaces::add(
        &app.app, &credentialconnect::domain::audit::Actor::operator(),
        credentialconnect::services::marketplaces::MarketplaceRequest {
            name: "Marketplace of Bob".into(),
            issuers: vec!["123456789".into()],
            landing: Some(
                "Bob's marketplace places people by what they can do.\n\nCreate your account and employers on Bob's see your verified courses."
                    .into(),
            ),
            logo: Some(LogoChange::Set(images::logo(images::SVG.as_bytes()))),
        },
    )
    .await
    .expect("marketplace");
    let mut routed = fixture_json("guide/three-courses.json");
    routed["recipient"]["id"] = json!("bob-1");
    for (i, credential) in routed["credentials"]
        .as_array_mut()
        .expect("credentials")
        .iter_mut()
        .enumerate()
    {
        credential["id"] = json!(format!("bob-award-{i}"));
    }
    let routed = upload(&app, "instx", routed.to_string()).await;
    browser.goto(&routed).await.expect("claim page");
    wait_for_text(&browser, "Marketplace of Bob").await;
    let page = "claim page with a marketplace's landing and logo";
    violations.extend(audit(&browser, page).await);
    violations.extend(beyond_axe(&browser, page).await);
    violations.extend(images_shown(&browser, page, 1).await);
    browser
        .goto(&app.url("/find/instx"))
        .await
        .expect("activation page");
    let page = "/find/instx with the partner's logo";
    violations.extend(audit(&browser, page).await);
    violations.extend(beyond_axe(&browser, page).await);
    violations.extend(images_shown(&browser, page, 1).await);
    browser.goto(&app.url("/api/v1/docs")).await.expect("docs");
    violations.extend(audit(&browser, "/api/v1/docs").await);
    violations.extend(beyond_axe(&browser, "/api/v1/docs").await);

    // The admin area: the second factor (set-up, a wrong code, the recovery codes), the
    // dashboard, an alert to place, the audit log.
    let mut unknown = fixture_json("guide/three-courses.json");
    unknown["recipient"]["email"] = json!("someone@example.org");
    for (i, credential) in unknown["credentials"]
        .as_array_mut()
        .expect("credentials")
        .iter_mut()
        .enumerate()
    {
        credential["id"] = json!(format!("apprenticeship-{i}"));
        credential["credentialSubject"]["achievement"]["achievementType"] =
            json!("ext:Apprenticeship");
    }
    upload(&app, "instx", unknown.to_string()).await;
    let admin = credentialconnect::services::admins::create(
        &app.app,
        &credentialconnect::domain::audit::Actor::operator(),
        "ops@example.org",
    )
    .await
    .expect("admin");
    browser.delete_all_cookies().await.expect("sign out");
    browser.goto(&admin.set_password_link).await.expect("link");
    fill(&browser, "password", PASSWORD).await;
    submit_unchecked(&browser, "Save my new password").await;
    let setup = wait_for_text(&browser, "Admin sign-in: second step").await;
    violations.extend(audit(&browser, "/admin/second-factor (set-up)").await);
    violations.extend(beyond_axe(&browser, "/admin/second-factor (set-up)").await);
    fill(&browser, "code", "000000").await;
    submit_unchecked(&browser, "Continue").await;
    violations.extend(audit_sent_back(&browser, "/admin/second-factor after a wrong code").await);
    let code = common::operators::totp_code(&app, &common::operators::totp_key(&setup));
    fill(&browser, "code", &code).await;
    submit_unchecked(&browser, "Continue").await;
    wait_for_text(&browser, "Your recovery codes").await;
    violations.extend(audit(&browser, "the recovery codes").await);
    violations.extend(beyond_axe(&browser, "the recovery codes").await);
    for page in [
        "/admin",
        "/admin/alerts",
        "/admin/audit",
        "/admin/partners",
        "/admin/partners/instx",
        "/admin/marketplaces",
        "/admin/mail",
    ] {
        browser.goto(&app.url(page)).await.expect("admin page");
        violations.extend(audit(&browser, page).await);
        violations.extend(beyond_axe(&browser, page).await);
    }
    browser
        .goto(&app.url("/admin/partners/instx"))
        .await
        .expect("partner");
    submit_unchecked(&browser, "Rotate secret").await;
    wait_for_text(&browser, "Copy the secret now").await;
    violations.extend(audit(&browser, "a partner's new secret").await);
    violations.extend(beyond_axe(&browser, "a partner's new secret").await);
    browser
        .goto(&app.url("/admin/audit?since=yesterday"))
        .await
        .expect("audit");
    violations.extend(audit(&browser, "/admin/audit with a date it cannot read").await);

    let mut too_wide = Vec::new();
    for (width, page) in [
        (320, app.url("/api/v1/docs")),
        (320, share.clone()),
        (390, share.clone()),
        (320, format!("{share}/signup")),
    ] {
        browser.set_window_size(width, 844).await.expect("resize");
        browser.goto(&page).await.expect("page");
        if scrolls_sideways(&browser).await {
            too_wide.push(format!("{page} at {width} px"));
        }
    }
    browser.close().await.expect("close");
    assert!(
        violations.is_empty(),
        "{} accessibility problems (WCAG 2.1 AA):\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert!(too_wide.is_empty(), "pages scroll sideways: {too_wide:?}");
}

/// Whether the page shows `count` images, each loaded (the policy allowed it, the bytes
/// decoded as an image).
async fn images_shown(browser: &Client, page: &str, count: usize) -> Vec<String> {
    let mut problems = page_problems(
        browser,
        page,
        "return [...document.images]
           .filter(image => !image.complete || image.naturalWidth === 0)
           .map(image => `the image ${image.getAttribute('src')} did not load`);",
    )
    .await;
    let shown = browser
        .execute("return document.images.length;", vec![])
        .await
        .expect("count")
        .as_u64()
        .unwrap_or(0);
    if shown != count as u64 {
        problems.push(format!("{page}: {shown} images instead of {count}"));
    }
    problems
}

/// Opens a claim link as a signed-in person and adds everything it offers.
async fn add_everything(person: &Person, link: &str) {
    let offer = person.get(link).await;
    assert_eq!(offer.status, 200, "{}", offer.html);
    let resume = person.add_everything(&offer, link).await;
    assert!(resume.url.contains("/resume"), "{}", resume.html);
}
