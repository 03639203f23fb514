"""Independent reader for a published cohort (issue 5).

Usage: cohort_check.py COHORT_PARQUET OUTCOMES_JSON EXPECTED_ROWS EXPECTED_SCHEMA_JSON

Reads cohort.parquet with pyarrow and checks its schema and row count, then
recomputes every published interval and test in outcomes.json from the
published counts (Wilson score intervals, Newcombe's hybrid score interval,
the pooled two-proportion z test or Fisher's exact test) and compares.
"""

import json
import math
import sys

import pyarrow.parquet as pq

Z = 1.959963984540054


def wilson(x, n):
    p = x / n
    d = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / d
    half = Z / d * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def fisher(x1, n1, x2, n2):
    x, n = x1 + x2, n1 + n2
    prob = lambda k: math.comb(n1, k) * math.comb(n2, x - k) / math.comb(n, x)
    observed = prob(x1)
    return min(1.0, sum(prob(k) for k in range(max(0, x - n2), min(x, n1) + 1)
                        if prob(k) <= observed * (1 + 1e-7)))


def test(x1, n1, x2, n2):
    x, n = x1 + x2, n1 + n2
    expected = min(x * n1, x * n2, (n - x) * n1, (n - x) * n2) / n
    if expected < 5:
        return "fisher_exact", None, fisher(x1, n1, x2, n2)
    p = x / n
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se if se > 0 else 0.0
    return "two_proportion_z", z, math.erfc(abs(z) / math.sqrt(2))


def close(a, b, what):
    assert abs(a - b) < 1e-9, f"{what}: published {a}, reference {b}"


def main():
    cohort_path, outcomes_path, rows, schema = sys.argv[1:5]
    table = pq.read_table(cohort_path)
    assert table.num_rows == int(rows), f"{table.num_rows} rows, expected {rows}"
    got = [(f.name, str(f.type)) for f in table.schema]
    want = [tuple(c) for c in json.loads(schema)]
    assert got == want, f"schema {got}\n  expected {want}"
    meta = table.schema.metadata or {}
    assert meta.get(b"pprl.schema") == b"pprl-cohort/1", meta
    groups = set(table.column("group").to_pylist())
    assert groups <= {"participant", "comparison"}, groups

    report = json.load(open(outcomes_path))
    checked = 0
    for ind in report["indicators"]:
        rates = {}
        for g in ind["groups"]:
            x, n = g["numerator"].get("value"), g["denominator"].get("value")
            if g.get("rate") is None:
                continue
            est, low, high = wilson(x, n)
            close(g["rate"]["estimate"], est, f"{ind['name']} {g['group']} rate")
            close(g["rate"]["low"], low, f"{ind['name']} {g['group']} low")
            close(g["rate"]["high"], high, f"{ind['name']} {g['group']} high")
            rates[g["group"]] = (x, n, est, low, high)
            checked += 1
        # The primary difference is against `compared_with` (the matched
        # comparison, its participants the matched ones); under matching the
        # secondary line is all participants against the whole comparison group.
        against = ind.get("compared_with", "comparison")
        primary = "matched_participant" if against == "matched_comparison" else "participant"
        pairs = [("difference", primary, against), ("secondary_difference", "participant", "comparison")]
        for key, a, b in pairs:
            diff = (ind.get(key) or {}).get("estimate")
            if not diff:
                continue
            x1, n1, p1, l1, u1 = rates[a]
            x2, n2, p2, l2, u2 = rates[b]
            d = p1 - p2
            close(diff["interval"]["estimate"], d, f"{key} {a} - {b}")
            close(diff["interval"]["low"], d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), "newcombe low")
            close(diff["interval"]["high"], d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), "newcombe high")
            method, z, p = test(x1, n1, x2, n2)
            assert diff["test"]["method"] == method, (diff["test"], method)
            if z is not None:
                close(diff["test"]["statistic"], z, "z")
            close(diff["test"]["p_value"], p, "p value")
            checked += 1
    print(f"pyarrow {pq.__name__}: {table.num_rows} rows, {len(got)} columns, {checked} intervals checked")


main()
