#!/usr/bin/env python3
"""Judges a soak's samples (scripts/load/mixed.sh --soak): are memory and database flat?

    flat.py SAMPLES.csv

Memory: the server's resident set after warm-up must not grow. The mean RSS over the last
sixth of the run (the last 5 minutes of 30) is compared with the mean over its second sixth
(minutes 5-10 of 30); flat means within 10 %.

Database: it cannot stay the same size while requests write, because some rows are kept by
design: every upload records a package (with a package_credentials row per credential it
carried; claim links live CC_PACKAGE_TTL_DAYS), and every token issued is a row until it has
been idle for CC_TOKEN_IDLE_SECONDS. Flat therefore means: (a) the credentials table does not
grow beyond the new assertions the mix sends (updates change rows in place), and (b) the
database grows by a constant number of bytes per kept row, i.e. there is no growth that rows
do not account for. (b) compares the bytes per kept row (packages + package_credentials +
access_tokens) of the first half after warm-up with the second half; flat means within 15 %.
On SQLite the main file and the write-ahead log are judged apart: the main file by (b), the
WAL by not growing in the second half (its file keeps its largest size; a WAL that keeps
growing means checkpoints cannot catch up). Exit status 0 when all hold.
"""
import csv
import sys


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def main():
    with open(sys.argv[1]) as f:
        rows = [{k: float(v or 0) for k, v in r.items()} for r in csv.DictReader(f)]
    if len(rows) < 6:
        print("FLAT unknown: too few samples (%d)" % len(rows))
        return 1
    end = rows[-1]["t_s"]
    sixth = end / 6
    warm = [r for r in rows if sixth <= r["t_s"] < 2 * sixth]
    last = [r for r in rows if r["t_s"] >= end - sixth]
    rss_warm = mean([r["rss_kb"] for r in warm]) / 1024
    rss_last = mean([r["rss_kb"] for r in last]) / 1024
    rss_max = max(r["rss_kb"] for r in rows) / 1024
    memory_growth = rss_last / rss_warm - 1
    memory_ok = memory_growth <= 0.10
    print(
        "memory: RSS mean %.1f MiB over %.0f-%.0f min, %.1f MiB over the last %.0f min (%+.1f %%); "
        "largest sample %.1f MiB; first sample %.1f MiB"
        % (rss_warm, sixth / 60, 2 * sixth / 60, rss_last, sixth / 60, 100 * memory_growth, rss_max, rows[0]["rss_kb"] / 1024)
    )

    def kept(r):
        return r["packages"] + r["package_credentials"] + r["access_tokens"]

    start = min(rows, key=lambda r: abs(r["t_s"] - sixth))
    middle = min(rows, key=lambda r: abs(r["t_s"] - (sixth + end) / 2))
    final = rows[-1]

    def per_row(a, b):
        rows_added = kept(b) - kept(a)
        return (b["db_bytes"] - a["db_bytes"]) / rows_added if rows_added > 0 else float("nan")

    first_half, second_half = per_row(start, middle), per_row(middle, final)
    db_ok = abs(second_half / first_half - 1) <= 0.15 if first_half > 0 else False
    sqlite = any(r["db_wal"] > 0 for r in rows)
    if sqlite:
        main_first = per_row(dict(start, db_bytes=start["db_main"]), dict(middle, db_bytes=middle["db_main"]))
        main_second = per_row(dict(middle, db_bytes=middle["db_main"]), dict(final, db_bytes=final["db_main"]))
        main_ok = abs(main_second / main_first - 1) <= 0.15 if main_first > 0 else False
        wal_ok = final["db_wal"] <= middle["db_wal"] * 1.10 + 4 * 2**20
        print(
            "database: main file %.0f bytes per kept row in the first half after warm-up, %.0f in the second (%+.1f %%); "
            "WAL %.1f MiB at the middle, %.1f MiB at the end"
            % (main_first, main_second, 100 * (main_second / main_first - 1), middle["db_wal"] / 2**20, final["db_wal"] / 2**20)
        )
        db_ok = main_ok and wal_ok
    credentials_added = final["credentials"] - rows[0]["credentials"]
    print(
        "database: %.1f MiB at the start, %.1f MiB at the end (WAL at most %.1f MiB); "
        "kept rows +%d (packages +%d, package_credentials +%d, access_tokens +%d), credentials +%d"
        % (
            rows[0]["db_bytes"] / 2**20,
            final["db_bytes"] / 2**20,
            max(r["db_wal"] for r in rows) / 2**20,
            kept(final) - kept(rows[0]),
            final["packages"] - rows[0]["packages"],
            final["package_credentials"] - rows[0]["package_credentials"],
            final["access_tokens"] - rows[0]["access_tokens"],
            credentials_added,
        )
    )
    print(
        "database (with the WAL): %.0f bytes per kept row in the first half after warm-up, %.0f in the second (%+.1f %%)"
        % (first_half, second_half, 100 * (second_half / first_half - 1) if first_half > 0 else float("nan"))
    )
    if sqlite:
        print(
            "FLAT memory: %s; database main file: %s; WAL: %s"
            % ("yes" if memory_ok else "NO", "yes" if main_ok else "NO", "yes" if wal_ok else "NO")
        )
    else:
        print("FLAT memory: %s; database: %s" % ("yes" if memory_ok else "NO", "yes" if db_ok else "NO"))
    return 0 if memory_ok and db_ok else 1


if __name__ == "__main__":
    sys.exit(main())
