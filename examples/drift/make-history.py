#!/usr/bin/env python3
"""Writes the drift example: 40 daily partitions (JSON Lines) of analytics_db.payment_events
(2026-09-01 .. 2026-10-10) with six planted incidents, and the truth file the
drift evaluation scores against. Deterministic: the same bytes on every run.

    python3 examples/drift/make-history.py            # from the repository root

The data is committed; this script is how it was made (and how to remake it).
"""
import datetime as dt
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "lake", "example-lake", "analytics_db", "payment_events")
FIRST = dt.date(2026, 9, 1)
DAYS = 40

# day -> (detector, metric, column, what was planted)
INCIDENTS = {
    "2026-09-22": ("volume", "row_count", None, "volume drop: a source file missed the load"),
    "2026-09-25": ("completeness", "null_pct", "risk_score", "null spike: the scoring service timed out"),
    "2026-09-29": ("distribution", "new_category", "channel", "new category: a partner channel went live"),
    "2026-10-02": ("distribution", "mean", "amount", "mean shift: amounts loaded in cents"),
    "2026-10-06": ("schema", "column_removed", "risk_score", "dropped column: upstream removed risk_score"),
    "2026-10-09": ("freshness", "lag_hours", "event_ts", "stale data: yesterday's replay of old events"),
}


def pick(rng, weighted):
    x = rng.random()
    for value, w in weighted:
        x -= w
        if x < 0:
            return value
    return weighted[-1][0]


def day_rows(day, rng):
    iso = day.isoformat()
    weekend = day.weekday() >= 5
    n = int(rng.gauss(240, 8) if weekend else rng.gauss(400, 12))
    if iso == "2026-09-22":
        n = 150
    channels = [("web", 0.5), ("mobile", 0.4), ("branch", 0.1)]
    if iso == "2026-09-29":
        channels = [("web", 0.44), ("mobile", 0.35), ("branch", 0.09), ("partner", 0.12)]
    null_rate = 0.35 if iso == "2026-09-25" else 0.02
    scale = 100.0 if iso == "2026-10-02" else 1.0
    lag_days = 4 if iso == "2026-10-09" else 0
    rows = []
    for i in range(n):
        ts = dt.datetime(day.year, day.month, day.day) - dt.timedelta(days=lag_days)
        ts += dt.timedelta(seconds=int(rng.uniform(0, 86399)))
        amount = round(rng.lognormvariate(7.0, 0.35) * scale, 2)
        risk = "" if rng.random() < null_rate else "%.3f" % rng.betavariate(2, 5)
        rows.append({
            "event_id": "E%s-%05d" % (iso.replace("-", ""), i),
            "loan_id": "L%04d" % rng.randint(1, 400),
            "customer_id": "C%04d" % rng.randint(1, 250),
            "amount": "%.2f" % amount,
            "currency": pick(rng, [("USD", 0.7), ("EUR", 0.2), ("GBP", 0.1)]),
            "channel": pick(rng, channels),
            "status": pick(rng, [("SUCCESS", 0.9), ("FAILED", 0.07), ("PENDING", 0.03)]),
            "event_ts": ts.strftime("%Y-%m-%d %H:%M:%S"),
            "risk_score": risk,
        })
    return rows


def main():
    rng = random.Random(20260901)
    columns = ["event_id", "loan_id", "customer_id", "amount", "currency", "channel", "status",
               "event_ts", "risk_score"]
    for k in range(DAYS):
        day = FIRST + dt.timedelta(days=k)
        iso = day.isoformat()
        rows = day_rows(day, rng)
        cols = columns if iso < "2026-10-06" else columns[:-1]
        folder = os.path.join(ROOT, "dt=" + iso)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "part-000.json"), "w") as f:
            for r in rows:
                rec = {}
                for c in cols:
                    v = r[c]
                    if c in ("amount", "risk_score"):
                        v = float(v) if v != "" else None
                    rec[c] = v
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    truth = [{"date": d, "detector": v[0], "metric": v[1], "column": v[2], "what": v[3]}
             for d, v in sorted(INCIDENTS.items())]
    with open(os.path.join(HERE, "incidents.json"), "w") as f:
        json.dump({"table": "analytics_db.payment_events", "first": FIRST.isoformat(),
                   "last": (FIRST + dt.timedelta(days=DAYS - 1)).isoformat(),
                   "incidents": truth}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
