#!/usr/bin/env python3
"""Judges a soak's samples (scripts/load/mixed.sh --soak): are memory and database flat?

    flat.py SAMPLES.csv

The run is cut in sixths (5 minutes each of 30). The first third is warm-up: two lifetimes of
the soak's claim links and tokens (5 minutes each). In the first the tables fill; in the
second the purge deletes what expired and the space it frees is reused for the first time
(on PostgreSQL only once autovacuum, which looks every minute, has marked it free, so its
files grow through this lifetime and level off after it). The third sixth is the reference;
the last sixth is compared with it. (The second sixth, the reference until PostgreSQL soaks
showed it still inside that second lifetime, is printed as well, for comparison.)

Memory: the server's mean resident set over the last sixth is within 10 % of the
reference's.

Database: the soak runs with short lifetimes for claim links and tokens and a frequent
purge (mixed.sh sets CC_PACKAGE_TTL_SECONDS, CC_TOKEN_IDLE_SECONDS, CC_PURGE_EVERY_SECONDS),
and its uploads re-send a fixed set of credentials, so nothing it writes is kept for good:
the rows kept (packages, package_credentials, access_tokens) level off once the first ones
expire, and the database must level off with them. Flat means: the mean size over the last
sixth is within 10 % (or 1 MiB) of the reference's, the kept rows within 15 %, and the
credentials table does not grow. On SQLite the size is the database file's; the write-ahead
log beside it is judged on its own: it must stay under its bound (the writer empties it
every 10 s and SQLite truncates it to 16 MiB whenever it restarts, so between checkpoints it
is anywhere from nothing to a few MiB, which would make the file's trend unreadable if the
two were added). Exit status 0 when all hold.
"""
import csv
import sys

WAL_BOUND = 20 * 2**20


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
    ref = [r for r in rows if 2 * sixth <= r["t_s"] < 3 * sixth]
    early = [r for r in rows if sixth <= r["t_s"] < 2 * sixth]
    last = [r for r in rows if r["t_s"] >= end - sixth]
    window = "%.0f-%.0f min" % (2 * sixth / 60, 3 * sixth / 60)

    def against_early(key, unit=1):
        a, b = mean([key(r) for r in early]) / unit, mean([key(r) for r in last]) / unit
        return "; against %.0f-%.0f min %+.1f %%" % (sixth / 60, 2 * sixth / 60, 100 * (b / a - 1) if a else float("inf"))

    def compare(name, key, unit=1, fmt="%.1f"):
        a, b = mean([key(r) for r in ref]) / unit, mean([key(r) for r in last]) / unit
        change = b / a - 1 if a else float("inf")
        return a, b, change, ("%s: " + fmt + " over " + window + ", " + fmt + " over the last %.0f min (%+.1f %%)") % (
            name, a, b, sixth / 60, 100 * change)

    _, _, memory_change, text = compare("memory (RSS, MiB)", lambda r: r["rss_kb"], 1024)
    memory_ok = memory_change <= 0.10
    print(text + "; largest sample %.1f MiB; first %.1f MiB"
          % (max(r["rss_kb"] for r in rows) / 1024, rows[0]["rss_kb"] / 1024)
          + against_early(lambda r: r["rss_kb"]))

    sqlite = any(r["db_wal"] > 0 for r in rows)

    def size(r):
        return r["db_main"] if sqlite else r["db_bytes"]

    a, b, db_change, text = compare("database (MiB%s)" % (", file without its log" if sqlite else ""), size, 2**20)
    db_ok = db_change <= 0.10 or (b - a) <= 1.0
    print(text + "; first sample %.1f MiB, largest %.1f MiB"
          % (size(rows[0]) / 2**20, max(size(r) for r in rows) / 2**20)
          + against_early(size))

    def kept(r):
        return r["packages"] + r["package_credentials"] + r["access_tokens"]

    _, _, kept_change, text = compare("kept rows (packages + package_credentials + access_tokens)", kept, 1, "%.0f")
    kept_ok = abs(kept_change) <= 0.15
    print(text + "; largest %d" % max(kept(r) for r in rows))

    credentials_grew = rows[-1]["credentials"] - mean([r["credentials"] for r in ref])
    credentials_ok = credentials_grew <= 0
    print("credentials: %d at the start, %d at the end" % (rows[0]["credentials"], rows[-1]["credentials"]))

    wal_ok = True
    if sqlite:
        wal_max = max(r["db_wal"] for r in rows if r["t_s"] >= sixth)
        wal_ok = wal_max <= WAL_BOUND
        print("write-ahead log: at most %.1f MiB after warm-up (bound %.0f MiB), %.1f MiB at the end"
              % (wal_max / 2**20, WAL_BOUND / 2**20, rows[-1]["db_wal"] / 2**20))

    verdict = lambda ok: "yes" if ok else "NO"
    print("FLAT memory: %s; database: %s; kept rows: %s; credentials: %s%s" % (
        verdict(memory_ok), verdict(db_ok), verdict(kept_ok), verdict(credentials_ok),
        "; WAL: %s" % verdict(wal_ok) if sqlite else ""))
    return 0 if memory_ok and db_ok and kept_ok and credentials_ok and wal_ok else 1


if __name__ == "__main__":
    sys.exit(main())
