#!/usr/bin/env python3
"""Sets up a running server for the mixed load, the way its users would, over HTTP only:

- a partner token (client credentials, HTTP Basic);
- PEOPLE people: for each, the partner uploads a package of three courses, the person opens
  the claim link, signs up, confirms the email from the message the SMTP sink received, and
  adds everything to the resume; their session cookies are kept;
- the files the load generators read: request bodies for new uploads (fresh assertion ids)
  and for updates (a fixed set of assertions whose content changes), the URLs of single
  credentials and of list pages.

    prepare.py BASE CLIENT_ID CLIENT_SECRET MAIL_DIR OUT_DIR

Environment: PEOPLE (default 5), NEW_BODIES (default 5000), UPDATE_SET (default 100).
Writes OUT_DIR/token, OUT_DIR/cookies (one `cc_session=…` per line), OUT_DIR/new.jsonl,
OUT_DIR/update.jsonl, OUT_DIR/read-one.urls, OUT_DIR/read-list.urls, OUT_DIR/prepared.json.
"""
import base64
import copy
import glob
import html
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "guide", "three-courses.json")
PASSWORD = "load test passphrase 1"


def request(opener, method, url, data=None, headers=None):
    body = None
    if isinstance(data, (dict, list)) and headers and headers.get("Content-Type") == "application/json":
        body = json.dumps(data).encode()
    elif isinstance(data, (dict, list)):
        body = urllib.parse.urlencode(data, doseq=True).encode()
    elif isinstance(data, str):
        body = data.encode()
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=60) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode()


def fail(message):
    print("prepare: " + message, file=sys.stderr)
    sys.exit(1)


def hidden(page, name):
    match = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    return html.unescape(match.group(1)) if match else None


def values(page, name):
    return [html.unescape(v) for v in re.findall(r'name="%s" value="([^"]*)"' % re.escape(name), page)]


def package(template, recipient_id, email, ids, variant=0, count=None):
    """The three-course package for one recipient, its credentials renamed to `ids`."""
    body = copy.deepcopy(template)
    body["recipient"]["id"] = recipient_id
    body["recipient"]["email"] = email
    credentials = body["credentials"][: count or len(body["credentials"])]
    for credential, cid in zip(credentials, ids):
        credential["id"] = cid
        credential["credentialSubject"]["achievement"]["id"] = cid
        if variant:
            description = credential["credentialSubject"]["achievement"]["description"]
            credential["credentialSubject"]["achievement"]["description"] = "%s (revision %d)" % (
                description,
                variant,
            )
    body["credentials"] = credentials
    return body


def wait_for_mail(mail_dir, address, seen, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name in sorted(glob.glob(os.path.join(mail_dir, "*.eml"))):
            if name in seen:
                continue
            with open(name) as f:
                text = f.read()
            recipients, _, message = text.partition("\n")
            if address.lower() in recipients.lower().split():
                seen.add(name)
                return message.replace("=\n", "").replace("=3D", "=")
        time.sleep(0.2)
    fail("no email to %s within %d s" % (address, timeout))


def main():
    base, client_id, client_secret, mail_dir, out = sys.argv[1:6]
    people = int(os.environ.get("PEOPLE", "5"))
    new_bodies = int(os.environ.get("NEW_BODIES", "5000"))
    update_set = int(os.environ.get("UPDATE_SET", "100"))
    run = os.environ.get("RUN_ID", str(int(time.time())))
    os.makedirs(out, exist_ok=True)
    with open(FIXTURE) as f:
        template = json.load(f)

    api = urllib.request.build_opener()
    basic = base64.b64encode(("%s:%s" % (client_id, client_secret)).encode()).decode()
    status, _, text = request(
        api,
        "POST",
        base + "/api/v1/token",
        {"grant_type": "client_credentials"},
        {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        fail("token: %d %s" % (status, text))
    token = json.loads(text)["access_token"]
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def upload(body):
        status, _, text = request(api, "POST", base + "/api/v1/credentials", body, auth)
        if status != 200:
            fail("upload: %d %s" % (status, text))
        return json.loads(text)

    # People: upload, claim link, sign-up, confirmation email, add everything.
    seen = set()
    cookies = []
    claimed = []
    for i in range(people):
        email = "person-%d-%s@load.example" % (i, run)
        ids = ["load-%s-person-%d-course-%d" % (run, i, j) for j in range(3)]
        receipt = upload(package(template, "load-%s-person-%d" % (run, i), email, ids))
        link = receipt["redirectUrl"]
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        status, _, page = request(browser, "GET", link)
        if status != 200:
            fail("claim link %d: %s" % (status, page[:300]))
        form = {
            "csrf": hidden(page, "csrf"),
            "given_name": "Load",
            "family_name": "Person %d" % i,
            "email": email,
            "password": PASSWORD,
        }
        claim = hidden(page, "claim")
        if claim:
            form["claim"] = claim
        status, _, page = request(browser, "POST", base + "/signup", form)
        if status != 200 or "Check your email" not in page:
            fail("sign-up %d: %s" % (status, page[:300]))
        message = wait_for_mail(mail_dir, email, seen)
        match = re.search(re.escape(base) + r"/verify/\S+", message)
        if not match:
            fail("no confirmation link in the email to %s" % email)
        confirm_url = match.group(0)
        status, _, page = request(browser, "GET", confirm_url)
        if status != 200:
            fail("confirmation page %d: %s" % (status, page[:300]))
        # Opening the link changes nothing; its form confirms with the password chosen.
        confirm = {"csrf": hidden(page, "csrf"), "password": PASSWORD}
        status, url, page = request(browser, "POST", confirm_url, confirm)
        if status != 200:
            fail("confirmation %d: %s" % (status, page[:300]))
        action = re.search(r'<form method="post" action="(/inbox/[^"/]+)"', page)
        if not action:
            fail("no package to add after confirmation (%s): %s" % (url, page[:300]))
        chosen = {
            "csrf": hidden(page, "csrf"),
            "credential": values(page, "credential"),
            "skill": values(page, "skill"),
        }
        status, url, page = request(browser, "POST", base + action.group(1), chosen)
        if status != 200 or "/resume" not in url:
            fail("adding to the resume %d at %s: %s" % (status, url, page[:300]))
        status, _, page = request(browser, "GET", base + "/resume")
        if status != 200 or "Calculus" not in page:
            fail("the resume does not show the courses (%d)" % status)
        session = [c.value for c in jar if c.name == "cc_session"]
        if not session:
            fail("no session cookie for %s" % email)
        cookies.append("cc_session=" + session[0])
        claimed.extend(ids)

    # The update set: uploaded once here, so that the load's uploads of it are updates.
    updates = []
    update_ids = []
    for k in range(update_set):
        ids = ["load-%s-update-%d-course-%d" % (run, k, j) for j in range(3)]
        update_ids.extend(ids)
        first = package(template, "load-%s-update-%d" % (run, k), "update-%d@load.example" % k, ids)
        upload(first)
        for variant in range(1, 5):
            updates.append(
                json.dumps(
                    package(template, "load-%s-update-%d" % (run, k), "update-%d@load.example" % k, ids, variant),
                    separators=(",", ":"),
                )
            )

    # New uploads: every line carries assertion ids of its own (one to three courses).
    with open(os.path.join(out, "new.jsonl"), "w") as f:
        for n in range(new_bodies):
            count = n % 3 + 1
            ids = ["load-%s-new-%d-course-%d" % (run, n, j) for j in range(count)]
            body = package(template, "load-%s-new-%d" % (run, n), "new-%d@load.example" % n, ids, 0, count)
            f.write(json.dumps(body, separators=(",", ":")) + "\n")
    with open(os.path.join(out, "update.jsonl"), "w") as f:
        f.write("\n".join(updates) + "\n")
    with open(os.path.join(out, "read-one.urls"), "w") as f:
        for cid in claimed + update_ids:
            f.write("%s/api/v1/credentials/%s\n" % (base, urllib.parse.quote(cid, safe="")))
    with open(os.path.join(out, "read-list.urls"), "w") as f:
        for offset in range(0, len(claimed) + len(update_ids), 20):
            f.write("%s/api/v1/credentials?limit=20&offset=%d\n" % (base, offset))
    with open(os.path.join(out, "token"), "w") as f:
        f.write(token + "\n")
    with open(os.path.join(out, "cookies"), "w") as f:
        f.write("\n".join(cookies) + "\n")
    with open(os.path.join(out, "prepared.json"), "w") as f:
        json.dump(
            {
                "people": people,
                "claimed_credentials": len(claimed),
                "update_set_credentials": len(update_ids),
                "update_bodies": len(updates),
                "new_bodies": new_bodies,
            },
            f,
        )
    print(
        "prepared: %d people signed up, confirmed and with %d claimed credentials; "
        "%d credentials in the update set; %d new-upload bodies"
        % (people, len(claimed), len(update_ids), new_bodies)
    )


if __name__ == "__main__":
    main()
