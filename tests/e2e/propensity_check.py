"""Independent reference for the matched comparison (issue 18).

Usage: propensity_check.py COHORT_PARQUET OUTCOMES_JSON

Reads cohort.parquet with pyarrow and outcomes.json, rebuilds the design
matrix from the covariate columns by the rules written down in
engine/src/cohort/evaluation.rs (numbers as they are, booleans 0/1, a missing
number the median plus a `<name>_missing` column, strings one-hot against
their first level in sorted order with `(missing)` last, prior counts as they
are, constant columns left out), refits the logistic propensity model with
statsmodels, and compares the coefficients and every person's score. Then it
redoes the greedy caliper matching on the published logits (participants by
person_id, one round per ratio, nearest by absolute difference, ties to the
lower person_id) and compares every matched set and count, and recomputes
the standardised mean differences before and after matching.
"""

import json
import math
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import statsmodels.api as sm

MISSING = "(missing)"


def design(df, types, y, covariates, prior):
    columns = []
    for name in covariates:
        col = df[name]
        if pa.types.is_string(types[name]) or pa.types.is_large_string(types[name]):
            values = [v if isinstance(v, str) else None for v in col]
            levels = sorted({v for v in values if v is not None})
            if any(v is None for v in values):
                levels.append(MISSING)
            for level in levels[1:]:
                columns.append((f"{name}={level}", True, np.array([1.0 if (v if v is not None else MISSING) == level else 0.0 for v in values])))
            continue
        raw = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in col]
        present = sorted(v for v in raw if v is not None)
        if not present:
            continue
        k = len(present)
        median = present[k // 2] if k % 2 == 1 else (present[k // 2 - 1] + present[k // 2]) / 2
        columns.append((name, pa.types.is_boolean(types[name]), np.array([median if v is None else v for v in raw])))
        if any(v is None for v in raw):
            columns.append((f"{name}_missing", True, np.array([1.0 if v is None else 0.0 for v in raw])))
    for name in prior:
        columns.append((name, False, df[name].astype(float).to_numpy()))
    columns = [c for c in columns if np.any(c[2] != c[2][0])]
    # A 0/1 column whose ones are all in one group separates the groups.
    return [(n, v) for n, indicator, v in columns
            if not indicator or 0 < y[v == 1].sum() < (v == 1).sum()]


def variance(v):
    return float(np.var(v, ddof=1)) if len(v) > 1 else 0.0


def main():
    cohort_path, outcomes_path = sys.argv[1:3]
    table = pq.read_table(cohort_path)
    types = {f.name: f.type for f in table.schema}
    df = table.to_pandas()
    df = df.sort_values("person_id", kind="stable").reset_index(drop=True)
    report = json.load(open(outcomes_path))
    comparison = report["comparison"]
    assert comparison["method"] == "matched", comparison
    model, matching = comparison["model"], comparison["matching"]

    y = (df["group"] == "participant").astype(float).to_numpy()
    cols = design(df, types, y, model["covariates"], model.get("prior", []))
    terms = [c["term"] for c in model["coefficients"]]
    assert terms == ["(intercept)"] + [n for n, _ in cols], f"design {terms} vs {[n for n, _ in cols]}"
    x = sm.add_constant(np.column_stack([v for _, v in cols]), has_constant="add")
    fit = sm.Logit(y, x).fit(method="newton", tol=1e-12, maxiter=200, disp=0)
    for c, b, se in zip(model["coefficients"], fit.params, fit.bse):
        assert abs(c["estimate"] - b) <= 1e-4 * max(1.0, abs(b)), f"{c['term']}: {c['estimate']} vs statsmodels {b}"
        assert abs(c["standard_error"] - se) <= 1e-3 * max(1e-3, abs(se)), f"{c['term']} se: {c['standard_error']} vs {se}"
    score = fit.predict(x)
    worst = float(np.max(np.abs(score - df["propensity_score"].to_numpy())))
    assert worst < 1e-6, f"scores differ by up to {worst}"

    logit = df["propensity_logit"].to_numpy()
    participants = np.flatnonzero(y == 1)
    controls = np.flatnonzero(y == 0)
    sd = math.sqrt((variance(logit[participants]) + variance(logit[controls])) / 2)
    caliper = matching["caliper_sd"] * sd
    assert abs(caliper - matching["caliper"]) <= 1e-9 * max(1.0, caliper), (caliper, matching["caliper"])
    ratio, replacement = matching["ratio"], matching["replacement"]
    available = np.zeros(len(df), dtype=bool)
    available[controls] = True
    mine = {t: [] for t in participants}
    active = {t: True for t in participants}
    pairs = []
    for _ in range(ratio):
        for t in participants:
            if not active[t]:
                continue
            ok = available.copy()
            if replacement:
                ok[:] = False
                ok[controls] = True
                ok[mine[t]] = False
            d = np.where(ok, np.abs(logit - logit[t]), np.inf)
            best = float(d.min())
            if not best <= caliper:
                active[t] = False
                continue
            c = int(np.flatnonzero(d == best)[0])
            mine[t].append(c)
            pairs.append((t, c))
            if not replacement:
                available[c] = False
    count = np.zeros(len(df), dtype=int)
    match_set = [None] * len(df)
    number = 0
    for t in participants:
        if mine[t]:
            number += 1
            match_set[t] = number
    for t, c in pairs:
        count[t] += 1
        count[c] += 1
        match_set[c] = match_set[t] if match_set[c] is None else min(match_set[c], match_set[t])
    published_set = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else int(v) for v in df["match_set"]]
    assert published_set == match_set, "matched sets differ: " + str(
        [(i, a, b) for i, (a, b) in enumerate(zip(published_set, match_set)) if a != b][:10])
    assert list(df["match_count"].astype(int)) == list(count), "match counts differ"

    weight = np.zeros(len(df))
    for t, c in pairs:
        weight[t] = 1.0
        weight[c] += 1.0 / count[t]
    rows = {b["covariate"]: b for b in comparison["balance"]}
    assert list(rows) == [n for n, _ in cols], (list(rows), [n for n, _ in cols])
    for name, v in cols:
        sd = math.sqrt((variance(v[participants]) + variance(v[controls])) / 2)
        before = (v[participants].mean() - v[controls].mean()) / sd
        mt, mc = (weight > 0) & (y == 1), (weight > 0) & (y == 0)
        after = (np.average(v[mt], weights=weight[mt]) - np.average(v[mc], weights=weight[mc])) / sd
        for key, want in (("smd_before", before), ("smd_after", after)):
            got = rows[name][key]
            assert abs(got - want) <= 0.0005 + 1e-9, f"{name} {key}: published {got}, reference {want}"
    print(
        f"statsmodels {sm.__name__}: {len(terms)} coefficients (largest difference "
        f"{max(abs(c['estimate'] - b) for c, b in zip(model['coefficients'], fit.params)):.2e}), "
        f"{len(df)} scores (within {worst:.1e}), {len(pairs)} matched pairs and {len(cols)} SMD rows agree"
    )


main()
