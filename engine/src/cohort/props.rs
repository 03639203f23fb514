//! Property tests for disclosure control (issue 5): for random tables and
//! random cohorts, no published count lies between 1 and the minimum cell
//! count, no suppressed count can be worked out from the published ones,
//! every count is a multiple of the rounding base, and reports on cohorts
//! under the minimum size are withheld with a reason.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::build::{Cohort, Indicator, Member, Value};
use super::config::{DisclosureConfig, OutcomeConfig, OutcomeKind};
use super::disclosure::{Rules, Table};
use super::report::{self, Count};

/// Exact rank over the integers (fraction-free elimination), independent of
/// the floating-point rank in the code under test.
fn exact_rank(mut rows: Vec<Vec<i128>>) -> usize {
    let width = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for col in 0..width {
        let Some(p) = (rank..rows.len()).find(|&r| rows[r][col] != 0) else {
            continue;
        };
        rows.swap(rank, p);
        for r in 0..rows.len() {
            if r != rank && rows[r][col] != 0 {
                let (a, b) = (rows[rank][col], rows[r][col]);
                let pivot = rows[rank].clone();
                for (x, y) in rows[r].iter_mut().zip(&pivot) {
                    *x = *x * a - *y * b;
                }
                let g = rows[r].iter().fold(0i128, |g, v| gcd(g, v.abs()));
                if g > 1 {
                    rows[r].iter_mut().for_each(|v| *v /= g);
                }
            }
        }
        rank += 1;
    }
    rank
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Whether item `target` is determined by the published items of `table`.
fn determined(table: &Table, suppressed: &[bool], target: usize) -> bool {
    let unknown: Vec<usize> = (0..table.len()).filter(|&i| suppressed[i]).collect();
    let k = table.cells.len();
    let rows: Vec<Vec<i128>> = table
        .sums
        .iter()
        .enumerate()
        .map(|(j, members)| {
            unknown
                .iter()
                .map(|&u| {
                    if u == k + j {
                        -1
                    } else {
                        i128::from(members.contains(&u))
                    }
                })
                .collect()
        })
        .collect();
    let mut with = rows.clone();
    with.push(unknown.iter().map(|&u| i128::from(u == target)).collect());
    exact_rank(rows) == exact_rank(with)
}

fn check(table: &Table, rules: Rules) -> Result<(), TestCaseError> {
    let values = table.values();
    let protected = table.protect(rules);
    let suppressed: Vec<bool> = protected.items.iter().map(Result::is_err).collect();
    for (i, item) in protected.items.iter().enumerate() {
        match item {
            Ok(v) => {
                prop_assert!(*v == 0 || *v >= rules.min_cell, "item {i} published as {v}");
                prop_assert_eq!(v % rules.rounding, 0, "item {} not rounded", i);
                prop_assert!(
                    values[i] >= rules.min_cell || values[i] == 0 || table.fixed.contains(&i),
                    "small item {} ({}) published",
                    i,
                    values[i]
                );
            }
            Err(_) => prop_assert!(
                !determined(table, &suppressed, i),
                "suppressed item {i} can be worked out: {values:?} {suppressed:?}"
            ),
        }
    }
    Ok(())
}

/// Small counts are the interesting ones.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..15, 0u64..200]
}

fn rules() -> impl Strategy<Value = Rules> {
    (
        prop_oneof![Just(10u64), 3u64..20],
        prop_oneof![Just(5u64), 1u64..12],
    )
        .prop_map(|(min_cell, rounding)| Rules { min_cell, rounding })
}

/// An r × c table with row, column and grand totals.
fn grid() -> impl Strategy<Value = Table> {
    (1usize..4, 1usize..5).prop_flat_map(|(r, c)| {
        proptest::collection::vec(count(), r * c).prop_map(move |cells| {
            let mut sums: Vec<Vec<usize>> = (0..r)
                .map(|i| (0..c).map(|j| i * c + j).collect())
                .collect();
            sums.extend((0..c).map(|j| (0..r).map(|i| i * c + j).collect()));
            sums.push((0..r * c).collect());
            Table {
                cells,
                sums,
                fixed: vec![],
            }
        })
    })
}

/// The two-group indicator layout of the report, group sizes fixed.
fn indicator_table() -> impl Strategy<Value = Table> {
    proptest::collection::vec(count(), 6).prop_map(|cells| Table {
        cells,
        sums: vec![
            vec![0, 1],
            vec![3, 4],
            vec![0, 1, 2],
            vec![3, 4, 5],
            vec![0, 3],
            vec![1, 4],
            vec![2, 5],
            vec![0, 1, 3, 4],
            vec![0, 1, 2, 3, 4, 5],
        ],
        fixed: vec![8, 9, 14],
    })
}

fn cohort(n: usize, seed: Vec<(bool, u8, u8)>) -> Cohort {
    let kinds = [
        OutcomeKind::AnyEvent,
        OutcomeKind::Count,
        OutcomeKind::TimeToFirst,
        OutcomeKind::StatusOnDay,
    ];
    let members: Vec<Member> = (0..n)
        .map(|i| Member {
            person_id: format!("p_{i:016x}"),
            participant: seed[i % seed.len()].0,
            index_date: 19_800 + i as i32 % 300,
            index_row: i,
        })
        .collect();
    let indicators = kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| Indicator {
            config: OutcomeConfig {
                name: format!("o{k}"),
                label: None,
                kind: *kind,
                dataset: "d".to_owned(),
                date: None,
                window: Some([1, 182]),
                start: None,
                end: None,
                day: None,
                filters: vec![],
            },
            as_of: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid"),
            values: (0..n)
                .map(|i| {
                    let (_, a, b) = seed[(i * 7 + k) % seed.len()];
                    let hit = a % (k as u8 + 2) == 0;
                    Value {
                        closed: b % 9 != 0,
                        hit,
                        count: u32::from(hit) * u32::from(1 + b % 3),
                        days: hit.then_some(i32::from(a % 180) + 1),
                    }
                })
                .collect(),
        })
        .collect();
    Cohort {
        members,
        attributes: vec![],
        indicators,
    }
}

/// Every count in a report, published or not.
fn counts(r: &report::OutcomesReport) -> Vec<&Count> {
    let mut out = Vec::new();
    if let Some(c) = &r.cohort {
        out.extend([&c.persons, &c.participant, &c.comparison]);
    }
    for i in &r.indicators {
        for g in &i.groups {
            out.extend([
                &g.persons,
                &g.not_yet_followed_up,
                &g.denominator,
                &g.numerator,
                &g.without,
            ]);
            out.extend(g.events.as_ref());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn grids_are_protected(table in grid(), rules in rules()) {
        check(&table, rules)?;
    }

    #[test]
    fn indicator_tables_are_protected(table in indicator_table(), rules in rules()) {
        let values = table.values();
        // Group sizes come from the cohort table, published only when not small.
        prop_assume!(values[8] >= rules.min_cell && values[9] >= rules.min_cell);
        check(&table, rules)?;
    }

    #[test]
    fn reports_publish_only_safe_rounded_counts(
        n in 0usize..400,
        seed in proptest::collection::vec(any::<(bool, u8, u8)>(), 1..50),
        min_cell in prop_oneof![Just(10u64), 2u64..15],
        rounding in prop_oneof![Just(5u64), 1u64..10],
        min_cohort in prop_oneof![Just(60u64), 15u64..120],
    ) {
        let rules = DisclosureConfig {
            min_cell,
            rounding,
            min_cohort: min_cohort.max(min_cell),
            ..DisclosureConfig::default()
        };
        let r = report::report("p", 1, "now", &cohort(n, seed), &rules);
        if (n as u64) < rules.min_cohort {
            prop_assert!(r.withheld.as_deref().is_some_and(|w| w.contains("minimum")));
            prop_assert!(r.indicators.is_empty() && r.cohort.is_none());
        } else {
            prop_assert!(r.withheld.is_none());
            prop_assert_eq!(r.indicators.len(), 4);
        }
        for c in counts(&r) {
            match c {
                Count::Value(v) => {
                    prop_assert!(*v == 0 || *v >= min_cell, "published {}", v);
                    prop_assert_eq!(v % rounding, 0);
                }
                Count::Suppressed(why) => prop_assert!(!why.is_empty()),
            }
        }
        for i in &r.indicators {
            for g in &i.groups {
                if let Some(rate) = g.rate {
                    prop_assert!(rate.low <= rate.estimate && rate.estimate <= rate.high);
                    prop_assert!(g.numerator.value().is_some() && g.denominator.value().is_some());
                }
            }
        }
    }
}
