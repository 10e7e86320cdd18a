#!/usr/bin/env python3
"""Probes a server while it is under load: one request per route in turn (GET one credential,
an upload that updates, a token, the resume page), one after the other, for SECONDS, and
writes every answer to OUT (CSV: time since start, route, status, milliseconds, body kind,
first bytes of the body when it is not a success).

    probe.py BASE PREPARED_DIR CLIENT_ID CLIENT_SECRET SECONDS OUT [MARK_SECONDS THRESHOLD_MS]

With MARK_SECONDS (when the overload stops, in seconds after the probe started) it also
prints a summary: how the non-2xx answers were made (Imsx bodies on /api/v1, RFC 6749 error
bodies from the token endpoint, pages elsewhere) and how long after MARK_SECONDS the service
answered every probe with a success under THRESHOLD_MS until the end.
"""
import base64
import csv
import json
import os
import sys
import time
import urllib.error
import urllib.request


def kind_of(route, status, body):
    """What shape a non-2xx body has."""
    if 200 <= status < 400:
        return "ok"
    if status == 0:
        return "no-answer"
    try:
        value = json.loads(body)
    except ValueError:
        return "html" if body.lstrip().startswith("<") else "other"
    if isinstance(value, dict) and "imsx_codeMajor" in value:
        return "imsx"
    if isinstance(value, dict) and "error" in value and route == "token":
        return "oauth"
    return "other-json"


def main():
    base, prepared, client_id, client_secret, seconds, out = sys.argv[1:7]
    mark = float(sys.argv[7]) if len(sys.argv) > 7 else None
    threshold = float(sys.argv[8]) if len(sys.argv) > 8 else None
    seconds = float(seconds)
    with open(os.path.join(prepared, "token")) as f:
        token = f.read().strip()
    with open(os.path.join(prepared, "cookies")) as f:
        cookie = f.readline().strip()
    with open(os.path.join(prepared, "read-one.urls")) as f:
        read_url = f.readline().strip()
    with open(os.path.join(prepared, "update.jsonl")) as f:
        update_bodies = [line.strip().encode() for line in f if line.strip()]
    basic = base64.b64encode(("%s:%s" % (client_id, client_secret)).encode()).decode()
    bearer = {"Authorization": "Bearer " + token}
    routes = [
        ("read_one", lambda i: urllib.request.Request(read_url, headers=bearer)),
        (
            "upload_update",
            lambda i: urllib.request.Request(
                base + "/api/v1/credentials",
                data=update_bodies[i % len(update_bodies)],
                headers=dict(bearer, **{"Content-Type": "application/json"}),
                method="POST",
            ),
        ),
        (
            "token",
            lambda i: urllib.request.Request(
                base + "/api/v1/token",
                data=b"grant_type=client_credentials",
                headers={
                    "Authorization": "Basic " + basic,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                method="POST",
            ),
        ),
        ("resume", lambda i: urllib.request.Request(base + "/resume", headers={"Cookie": cookie})),
    ]
    opener = urllib.request.build_opener(urllib.request.HTTPRedirectHandler())
    rows = []
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        name, make = routes[i % len(routes)]
        at = time.monotonic()
        try:
            with opener.open(make(i), timeout=10) as response:
                status, body = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode("utf-8", "replace")
        except Exception as error:  # noqa: BLE001 - a refused or timed-out connection is data
            status, body = 0, repr(error)
        elapsed = (time.monotonic() - at) * 1000
        kind = kind_of(name, status, body)
        rows.append((round(at - start, 3), name, status, round(elapsed, 2), kind, "" if kind == "ok" else body[:160]))
        i += 1
        time.sleep(0.05)
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["t_s", "route", "status", "ms", "kind", "body"])
        writer.writerows(rows)
    if mark is None:
        return
    during = [r for r in rows if r[0] < mark]
    failed = [r for r in during if r[4] != "ok"]
    kinds = {}
    for r in failed:
        key = "%s %s %s" % (r[1], r[2], r[4])
        kinds[key] = kinds.get(key, 0) + 1
    print("probe during the overload: %d requests, %d not successful" % (len(during), len(failed)))
    for key in sorted(kinds):
        print("  %-40s %d" % (key, kinds[key]))
    for r in failed[:3]:
        print("  sample: %s %s %s" % (r[1], r[2], r[5]))
    after = [r for r in rows if r[0] >= mark]
    # Recovered: from this probe on, every probe succeeds under the threshold.
    recovered_at = None
    for index in range(len(after)):
        if all(r[4] == "ok" and r[3] <= threshold for r in after[index:]):
            recovered_at = after[index][0]
            break
    if recovered_at is None or not after:
        print("RECOVERY none: probes after the overload still fail or are slow")
    else:
        slow = max((r[3] for r in after if r[0] >= recovered_at), default=0)
        print(
            "RECOVERY %.1f s after the overload stopped (every probe since: success under %.0f ms; slowest %.1f ms; %d probes)"
            % (max(0.0, recovered_at - mark), threshold, slow, len([r for r in after if r[0] >= recovered_at]))
        )


if __name__ == "__main__":
    main()
