//! Property tests for disclosure control (issue 5): for random tables and
//! random cohorts, no published count lies between 1 and the minimum cell
//! count, no suppressed count can be worked out from the published ones,
//! every count is a multiple of the rounding base (or, under the cell-key
//! method, within the p-table's bound of the true count), and reports on
//! cohorts under the minimum size are withheld with a reason.
//!
//! And differencing (issue 17): a release repeated unchanged is published
//! identically, whatever the order of its people; two releases that differ
//! by one person (added to a cell, removed, moved between cells; in a
//! cohort: a late upload, a window closing, a new link) do not pin that
//! person down. See [`Differences`] for what that is taken to mean.

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use super::build::{Cohort, Indicator, Member, Value};
use super::config::{
    ComparisonMethod, DisclosureConfig, DisclosureMethod, OutcomeConfig, OutcomeKind,
};
use super::disclosure::{Perturbation, Rules, Table};
use super::ptable::{CellKey, MAX_PERTURBATION};
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

fn check(table: &Table, rules: &Rules) -> Result<(), TestCaseError> {
    let values = table.values();
    let protected = table.protect(rules);
    let suppressed: Vec<bool> = protected.items.iter().map(Result::is_err).collect();
    for (i, item) in protected.items.iter().enumerate() {
        match item {
            Ok(v) => {
                prop_assert!(*v == 0 || *v >= rules.min_cell, "item {i} published as {v}");
                match rules.perturbation {
                    Perturbation::Round { base } => {
                        prop_assert_eq!(v % base, 0, "item {} not rounded", i);
                    }
                    Perturbation::CellKey => {
                        prop_assert!(
                            (values[i] == 0) == (*v == 0),
                            "item {} ({}) published as {}",
                            i,
                            values[i],
                            v
                        );
                        if values[i] >= rules.min_cell {
                            prop_assert!(v.abs_diff(values[i]) <= MAX_PERTURBATION);
                        }
                    }
                }
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

fn perturbation() -> impl Strategy<Value = Perturbation> {
    prop_oneof![
        Just(Perturbation::CellKey),
        prop_oneof![Just(5u64), 1u64..12].prop_map(|base| Perturbation::Round { base }),
    ]
}

fn rules() -> impl Strategy<Value = Rules> {
    (prop_oneof![Just(10u64), 3u64..20], perturbation())
        .prop_map(|(min_cell, perturbation)| Rules::new(min_cell, perturbation))
}

fn keys(n: usize) -> impl Strategy<Value = Vec<CellKey>> {
    proptest::collection::vec(any::<u8>().prop_map(CellKey), n)
}

/// The sums of an r × c table: rows, columns and the grand total.
fn grid_sums(r: usize, c: usize) -> Vec<Vec<usize>> {
    let mut sums: Vec<Vec<usize>> = (0..r)
        .map(|i| (0..c).map(|j| i * c + j).collect())
        .collect();
    sums.extend((0..c).map(|j| (0..r).map(|i| i * c + j).collect()));
    sums.push((0..r * c).collect());
    sums
}

/// An r × c table with row, column and grand totals.
fn grid() -> impl Strategy<Value = Table> {
    (1usize..4, 1usize..5).prop_flat_map(|(r, c)| {
        (proptest::collection::vec(count(), r * c), keys(r * c)).prop_map(move |(cells, keys)| {
            Table {
                cells,
                sums: grid_sums(r, c),
                fixed: vec![],
                keys,
            }
        })
    })
}

/// The sums of the two-group indicator layout of the report.
fn indicator_sums() -> Vec<Vec<usize>> {
    vec![
        vec![0, 1],
        vec![3, 4],
        vec![0, 1, 2],
        vec![3, 4, 5],
        vec![0, 3],
        vec![1, 4],
        vec![2, 5],
        vec![0, 1, 3, 4],
        vec![0, 1, 2, 3, 4, 5],
    ]
}

/// The two-group indicator layout of the report, group sizes fixed.
fn indicator_table() -> impl Strategy<Value = Table> {
    (proptest::collection::vec(count(), 6), keys(6)).prop_map(|(cells, keys)| Table {
        cells,
        sums: indicator_sums(),
        fixed: vec![8, 9, 14],
        keys,
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
                baseline: false,
                baseline_window: None,
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
            baseline: None,
        })
        .collect();
    Cohort {
        members,
        attributes: vec![],
        priors: vec![],
        indicators,
        participation: None,
        comparison_method: ComparisonMethod::All,
        comparison: None,
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

/// Record keys for `n` people from a seed (SplitMix64).
fn record_keys(seed: u64, n: usize) -> Vec<CellKey> {
    let mut rng = SplitMix(seed);
    (0..n).map(|_| CellKey(rng.next() as u8)).collect()
}

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// What "does not pin the person down" is taken to mean, over the
/// randomness of the record keys (the project secret, which an evaluator
/// does not have), for two releases that differ by one person.
///
/// Each published item either has the same people in both releases — its
/// true count is unchanged — or has the person added or removed, its true
/// count one more or one fewer. Then:
///
/// 1. an item with the same people is published identically, every time
///    (consistency: nothing moves that did not change);
/// 2. an item whose count moved by ±1 is published *unchanged* in a
///    substantial share of releases (at least [`Differences::MIN_UNMOVED`]:
///    the exact share is 21.9% far from the threshold and 31% next to it,
///    `ptable::tests`), so a figure that did not move does not say the
///    person is absent;
/// 3. the published difference equals the true ±1 in at most
///    [`Differences::MAX_EXACT`] of releases (exact: 41% at most), and for
///    no item is it the same in every release: the published difference
///    does not identify the true one.
///
/// Items suppressed in either release are left out (suppression is decided
/// on the true counts, and its soundness is the other properties' concern).
/// Shares are pooled over the items and the trials of a case; the test
/// runner's seed is fixed, so the statistics are reproducible.
#[derive(Debug, Default)]
struct Differences {
    /// Items whose count moved by one, published in both releases.
    moved: u64,
    /// Of those, published unchanged.
    unmoved: u64,
    /// Of those, published with exactly the true difference.
    exact: u64,
}

impl Differences {
    const MIN_UNMOVED: f64 = 0.10;
    const MAX_EXACT: f64 = 0.60;

    /// One item in one trial: its true and published values in both releases.
    fn item(&mut self, truth: (u64, u64), published: (u64, u64)) -> Result<(), TestCaseError> {
        let delta = truth.1 as i64 - truth.0 as i64;
        let shown = published.1 as i64 - published.0 as i64;
        match delta {
            0 => prop_assert_eq!(shown, 0, "an unchanged item moved: {:?}", published),
            -1 | 1 => {
                self.moved += 1;
                self.unmoved += u64::from(shown == 0);
                self.exact += u64::from(shown == delta);
            }
            // Not a one-person count (an event count); not this property's.
            _ => {}
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        if self.moved == 0 {
            return Ok(());
        }
        let share = |n: u64| n as f64 / self.moved as f64;
        prop_assert!(
            share(self.unmoved) >= Self::MIN_UNMOVED,
            "a one-person change showed in the published figure too often: {self:?}"
        );
        prop_assert!(
            share(self.exact) <= Self::MAX_EXACT,
            "the true one-person difference was published too often: {self:?}"
        );
        Ok(())
    }
}

/// A change of one person in a table of cells.
#[derive(Debug, Clone, Copy)]
enum Change {
    Add(usize),
    Remove(usize),
    Move(usize, usize),
}

fn change(cells: usize) -> impl Strategy<Value = Change> {
    prop_oneof![
        (0..cells).prop_map(Change::Add),
        (0..cells).prop_map(Change::Remove),
        (0..cells, 0..cells).prop_map(|(a, b)| Change::Move(a, b)),
    ]
}

/// Trials (record-key draws) per case of the differencing properties.
const TRIALS: u64 = 256;

/// The two releases of a table, each a list of people (their record keys)
/// per cell, with the same keys for the same people.
fn releases(counts: &[u64], change: Change, seed: u64) -> (Vec<Vec<CellKey>>, Vec<Vec<CellKey>>) {
    let total: u64 = counts.iter().sum();
    let mut keys = record_keys(seed, total as usize + 1).into_iter();
    let first: Vec<Vec<CellKey>> = counts
        .iter()
        .map(|&c| keys.by_ref().take(c as usize).collect())
        .collect();
    let newcomer = keys.next().expect("one key was drawn for a newcomer");
    let mut second = first.clone();
    match change {
        Change::Add(i) => second[i].push(newcomer),
        Change::Remove(i) => {
            second[i].pop();
        }
        Change::Move(i, j) => {
            if let Some(k) = second[i].pop() {
                second[j].push(k);
            }
        }
    }
    (first, second)
}

fn table_of(people: &[Vec<CellKey>], sums: &[Vec<usize>]) -> Table {
    Table {
        cells: people.iter().map(|p| p.len() as u64).collect(),
        sums: sums.to_vec(),
        fixed: vec![],
        keys: people
            .iter()
            .map(|p| CellKey::sum(p.iter().copied()))
            .collect(),
    }
}

/// A cohort changed by one person in one of the ways nightly releases
/// differ.
#[derive(Debug, Clone, Copy)]
enum CohortChange {
    /// A late upload brings a new person into the cohort.
    LateUpload { participant: bool, seed: u8 },
    /// An open window closes, with or without the outcome.
    WindowCloses { hit: bool },
    /// A new link gives a person the outcome.
    LinkedOutcome,
    /// A new link to the participants list moves a person between groups.
    LinkedParticipant,
}

fn cohort_change() -> impl Strategy<Value = CohortChange> {
    prop_oneof![
        (any::<bool>(), any::<u8>())
            .prop_map(|(participant, seed)| CohortChange::LateUpload { participant, seed }),
        any::<bool>().prop_map(|hit| CohortChange::WindowCloses { hit }),
        Just(CohortChange::LinkedOutcome),
        Just(CohortChange::LinkedParticipant),
    ]
}

/// Applies a change to the member `who` (or appends one), in indicator `k`.
fn changed(c: &Cohort, change: CohortChange, who: usize, k: usize) -> Cohort {
    let mut c = copy(c);
    let who = who % c.members.len();
    let k = k % c.indicators.len();
    match change {
        CohortChange::LateUpload { participant, seed } => {
            let n = c.members.len();
            c.members.push(Member {
                person_id: format!("p_{n:016x}"),
                participant,
                index_date: 19_800,
                index_row: n,
            });
            for (j, ind) in c.indicators.iter_mut().enumerate() {
                let hit = (seed >> j) & 1 == 1;
                ind.values.push(Value {
                    closed: (seed >> 4 >> j) & 1 == 1,
                    hit,
                    count: u32::from(hit),
                    days: hit.then_some(30),
                });
            }
        }
        CohortChange::WindowCloses { hit } => {
            let v = &mut c.indicators[k].values[who];
            *v = Value {
                closed: true,
                hit,
                count: u32::from(hit),
                days: hit.then_some(181),
            };
        }
        CohortChange::LinkedOutcome => {
            let v = &mut c.indicators[k].values[who];
            if v.closed {
                v.count += 1;
                v.hit = true;
                v.days = v.days.or(Some(90));
            }
        }
        CohortChange::LinkedParticipant => {
            c.members[who].participant = !c.members[who].participant;
        }
    }
    c
}

/// A copy of a test cohort (which has no attribute columns).
fn copy(c: &Cohort) -> Cohort {
    assert!(c.attributes.is_empty(), "test cohorts have no attributes");
    Cohort {
        members: c.members.clone(),
        attributes: vec![],
        priors: vec![],
        indicators: c.indicators.clone(),
        participation: None,
        comparison_method: ComparisonMethod::All,
        comparison: None,
    }
}

/// A cohort's members in another order (a run reads its inputs in whatever
/// order they come).
fn shuffled(c: &Cohort, keys: &[CellKey], seed: u64) -> (Cohort, Vec<CellKey>) {
    let mut order: Vec<usize> = (0..c.members.len()).collect();
    let mut rng = SplitMix(seed);
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let mut out = copy(c);
    out.members = order.iter().map(|&i| c.members[i].clone()).collect();
    for (ind, orig) in out.indicators.iter_mut().zip(&c.indicators) {
        ind.values = order.iter().map(|&i| orig.values[i]).collect();
    }
    (out, order.iter().map(|&i| keys[i]).collect())
}

/// The published values of a report's counts, in a fixed order (`None`
/// where suppressed).
fn values(r: &report::OutcomesReport) -> Vec<Option<u64>> {
    counts(r).into_iter().map(Count::value).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn grids_are_protected(table in grid(), rules in rules()) {
        check(&table, &rules)?;
    }

    #[test]
    fn indicator_tables_are_protected(table in indicator_table(), rules in rules()) {
        let values = table.values();
        // Group sizes come from the cohort table, published only when not small.
        prop_assume!(values[8] >= rules.min_cell && values[9] >= rules.min_cell);
        check(&table, &rules)?;
    }

    #[test]
    fn reports_publish_only_safe_counts(
        n in 0usize..400,
        seed in proptest::collection::vec(any::<(bool, u8, u8)>(), 1..50),
        min_cell in prop_oneof![Just(10u64), 2u64..15],
        method in prop_oneof![Just(DisclosureMethod::CellKey), Just(DisclosureMethod::Round)],
        rounding in prop_oneof![Just(5u64), 1u64..10],
        min_cohort in prop_oneof![Just(60u64), 15u64..120],
        key_seed in any::<u64>(),
    ) {
        let rules = DisclosureConfig {
            min_cell,
            method,
            rounding,
            min_cohort: min_cohort.max(min_cell),
            ..DisclosureConfig::default()
        };
        let r = report::report("p", 1, "now", &cohort(n, seed), &rules, &record_keys(key_seed, n));
        if (n as u64) < rules.min_cohort {
            prop_assert!(r.withheld.as_deref().is_some_and(|w| w.contains("minimum")));
            prop_assert!(r.indicators.is_empty() && r.cohort.is_none());
        } else {
            prop_assert!(r.withheld.is_none());
            prop_assert_eq!(r.indicators.len(), 4);
        }
        prop_assert_eq!(r.disclosure.method, method);
        for c in counts(&r) {
            match c {
                Count::Value(v) => {
                    prop_assert!(*v == 0 || *v >= min_cell, "published {}", v);
                    if method == DisclosureMethod::Round {
                        prop_assert_eq!(v % rounding, 0);
                    }
                }
                Count::Suppressed(why) => prop_assert!(!why.is_empty()),
            }
        }
        // The same people give the same figure in every table: each
        // indicator's group sizes are the cohort's, under either method.
        if let (Some(sizes), None) = (&r.cohort, &r.groups_withheld) {
            for i in &r.indicators {
                let persons: Vec<&Count> = i.groups.iter().map(|g| &g.persons).collect();
                prop_assert_eq!(
                    persons,
                    vec![&sizes.participant, &sizes.comparison, &sizes.persons]
                );
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

    /// Issue 17: the same people give the same figures, whatever their
    /// order, so a release repeated unchanged is published identically.
    #[test]
    fn an_unchanged_release_is_published_identically(
        n in 60usize..300,
        seed in proptest::collection::vec(any::<(bool, u8, u8)>(), 1..50),
        key_seed in any::<u64>(),
        order_seed in any::<u64>(),
    ) {
        let rules = DisclosureConfig::default();
        let c = cohort(n, seed);
        let keys = record_keys(key_seed, n);
        let first = report::report("p", 1, "then", &c, &rules, &keys);
        let again = report::report("p", 1, "then", &c, &rules, &keys);
        prop_assert_eq!(&first, &again);
        let (c2, keys2) = shuffled(&c, &keys, order_seed);
        let reordered = report::report("p", 1, "then", &c2, &rules, &keys2);
        prop_assert_eq!(&first, &reordered);
    }
}

proptest! {
    // Statistical properties: the seed is fixed so that they are
    // reproducible (each case still draws its own record keys).
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: RngSeed::Fixed(17),
        ..ProptestConfig::default()
    })]

    /// Issue 17, on tables: one person added to a cell, removed from one or
    /// moved between two, in grids with row, column and grand totals.
    #[test]
    fn a_one_person_difference_between_tables_does_not_show(
        (r, c, counts, change) in (1usize..4, 1usize..4).prop_flat_map(|(r, c)| {
            (Just(r), Just(c), proptest::collection::vec(prop_oneof![3u64..30, 0u64..200], r * c), change(r * c))
        }),
        min_cell in prop_oneof![Just(10u64), 3u64..12],
        key_seed in any::<u64>(),
    ) {
        if let Change::Remove(i) | Change::Move(i, _) = change {
            prop_assume!(counts[i] > 0);
        }
        let sums = grid_sums(r, c);
        let rules = Rules::new(min_cell, Perturbation::CellKey);
        // Suppression is decided on the true counts: once per release.
        let (a, b) = releases(&counts, change, 0);
        let (ta, tb) = (table_of(&a, &sums), table_of(&b, &sums));
        let (sa, sb) = (ta.suppression(min_cell), tb.suppression(min_cell));
        let (va, vb) = (ta.values(), tb.values());
        let mut diffs = Differences::default();
        let mut shown: Vec<std::collections::BTreeSet<i64>> = vec![Default::default(); ta.len()];
        for trial in 0..TRIALS {
            let (a, b) = releases(&counts, change, key_seed ^ trial.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let pa = table_of(&a, &sums).publish(&sa, &rules);
            let pb = table_of(&b, &sums).publish(&sb, &rules);
            for i in 0..ta.len() {
                if let (Ok(x), Ok(y)) = (pa.items[i], pb.items[i]) {
                    diffs.item((va[i], vb[i]), (x, y))?;
                    shown[i].insert(y as i64 - x as i64);
                }
            }
        }
        diffs.check()?;
        for (i, s) in shown.iter().enumerate() {
            if va[i].abs_diff(vb[i]) == 1 && !s.is_empty() {
                prop_assert!(s.len() >= 2, "item {i} always showed the same difference {s:?}");
            }
        }
    }

}

proptest! {
    // As above; fewer cases, since each builds 2 × 64 whole reports.
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: RngSeed::Fixed(17),
        ..ProptestConfig::default()
    })]

    /// Issue 17, on whole reports: a late upload, a window closing, a new
    /// link to an outcome or to the participants list. The true counts are
    /// read from the same report published without perturbation (rounding
    /// to 1, the same suppression).
    #[test]
    fn a_one_person_difference_between_releases_does_not_show(
        n in 80usize..260,
        seed in proptest::collection::vec(any::<(bool, u8, u8)>(), 4..50),
        change in cohort_change(),
        who in any::<usize>(),
        k in 0usize..4,
        key_seed in any::<u64>(),
    ) {
        let a = cohort(n, seed);
        let b = changed(&a, change, who, k);
        let rules = DisclosureConfig::default();
        let exact = DisclosureConfig { method: DisclosureMethod::Round, rounding: 1, ..rules.clone() };
        let zero = vec![CellKey(0); a.members.len() + 1];
        let (ta, tb) = (
            values(&report::report("p", 1, "t", &a, &exact, &zero[..a.members.len()])),
            values(&report::report("p", 2, "t", &b, &exact, &zero[..b.members.len()])),
        );
        // A change that alters which tables are published (a group crossing
        // min_cell) is suppression's business, not perturbation's.
        prop_assume!(ta.len() == tb.len());
        let mut diffs = Differences::default();
        for trial in 0..TRIALS / 4 {
            let keys = record_keys(key_seed ^ trial.wrapping_mul(0x2545_F491_4F6C_DD1D), b.members.len());
            let pa = values(&report::report("p", 1, "t", &a, &rules, &keys[..a.members.len()]));
            let pb = values(&report::report("p", 2, "t", &b, &rules, &keys));
            for i in 0..ta.len() {
                if let (Some(x), Some(y), Some(t), Some(u)) = (pa[i], pb[i], ta[i], tb[i]) {
                    diffs.item((t, u), (x, y))?;
                }
            }
        }
        diffs.check()?;
    }
}
