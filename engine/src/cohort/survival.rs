//! Kaplan–Meier curves for `time_to_first` indicators (issue 18), under the
//! disclosure rules.
//!
//! Each member's time is the day of the first event in the window, or the
//! day it is censored: the window's end once the window has closed, else
//! the follow-up date (`as_of`) minus the index date. The window is cut
//! into at most eight intervals of a whole number of weeks; per group, a
//! table holds, per interval, the events and the censored, and the people
//! never at risk (censored before the window starts); its sums are the
//! number at risk at each interval's start and the group's size (fixed:
//! published once with the group sizes). The table goes through the same
//! suppression and perturbation as every other, and the curve is computed
//! from the published counts only — S(j) = S(j−1) · (1 − events / at risk),
//! with Greenwood's interval — and stops at the first interval whose
//! counts are withheld.

use serde::{Deserialize, Serialize};

use super::build::{Indicator, Member, day_number};
use super::disclosure::{Rules, Suppression, Table};
use super::ptable::CellKey;
use super::report::Count;
use super::stats::Z95;

/// The most intervals a curve has.
pub const MAX_STEPS: i64 = 8;

/// One group's curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub group: String,
    /// Days per interval.
    pub step_days: i64,
    /// Intervals in order, up to the first withheld one.
    pub steps: Vec<Step>,
    /// Why the curve stops before the window's end, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
}

/// One interval `(from, to]` of a curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The interval's first and last day after the index date.
    pub from: i64,
    pub to: i64,
    /// People at risk at the interval's start.
    pub at_risk: Count,
    /// First events within the interval.
    pub events: Count,
    /// The share still without an event at the interval's end, from the
    /// published counts, with Greenwood's 95% interval.
    pub survival: f64,
    pub low: f64,
    pub high: f64,
}

/// Each member's (time, event), or `None` when censored before the window.
pub fn times(indicator: &Indicator, members: &[Member]) -> Vec<Option<(i64, bool)>> {
    let (from, to) = indicator.config.days();
    let as_of = i64::from(day_number(&indicator.as_of));
    indicator
        .values
        .iter()
        .zip(members)
        .map(|(v, m)| {
            let (t, event) = match (v.hit, v.days) {
                (true, Some(d)) => (i64::from(d), true),
                _ if v.closed => (to, false),
                _ => ((as_of - i64::from(m.index_date)).min(to), false),
            };
            (t >= from).then_some((t, event))
        })
        .collect()
}

/// The intervals of a window: `(first, last)` days, at most [`MAX_STEPS`].
pub fn intervals(from: i64, to: i64) -> (i64, Vec<(i64, i64)>) {
    let len = to - from + 1;
    let step = ((len + MAX_STEPS - 1) / MAX_STEPS + 6) / 7 * 7;
    let step = step.max(7);
    let mut out = Vec::new();
    let mut a = from;
    while a <= to {
        let b = (a + step - 1).min(to);
        out.push((a, b));
        a = b + 1;
    }
    (step, out)
}

/// The curve of one group: `members` are member indices into `times`.
pub fn curve(
    group: &str,
    times: &[Option<(i64, bool)>],
    members: &[usize],
    record_keys: &[CellKey],
    window: (i64, i64),
    rules: &Rules,
) -> Curve {
    let (step_days, steps) = intervals(window.0, window.1);
    let j = steps.len();
    // Cells: never at risk, then events per interval, then censored per interval.
    let mut cells = vec![0u64; 1 + 2 * j];
    let mut keys = vec![CellKey::default(); 1 + 2 * j];
    for &i in members {
        let cell = match times[i] {
            None => 0,
            Some((t, event)) => {
                let k = steps
                    .iter()
                    .position(|&(_, b)| t <= b)
                    .expect("a time within the window");
                if event { 1 + k } else { 1 + j + k }
            }
        };
        cells[cell] += 1;
        keys[cell] = keys[cell].plus(record_keys[i]);
    }
    // Sums: at risk at each interval's start, then the group's size.
    let mut sums: Vec<Vec<usize>> = (0..j)
        .map(|k| (k..j).flat_map(|m| [1 + m, 1 + j + m]).collect())
        .collect();
    sums.push((0..cells.len()).collect());
    let size = cells.len() + j;
    let table = Table {
        cells,
        sums,
        fixed: vec![size],
        keys,
    };
    let p = table.protect(rules);
    let count = |i: usize| match p.items[i] {
        Ok(v) => Count::Value(v),
        Err(s) => Count::Suppressed(s.explain(rules.min_cell)),
    };
    let mut out = Curve {
        group: group.to_owned(),
        step_days,
        steps: Vec::new(),
        truncated: None,
    };
    let (mut s, mut greenwood) = (1.0f64, 0.0f64);
    for (k, &(a, b)) in steps.iter().enumerate() {
        let (at_risk, events) = (count(1 + 2 * j + k), count(1 + k));
        let (Some(n), Some(e)) = (at_risk.value(), events.value()) else {
            out.truncated = Some(format!(
                "from day {a}: {}",
                Suppression::Secondary.explain(rules.min_cell)
            ));
            break;
        };
        if n == 0 {
            out.truncated = Some(format!("from day {a}: no one left at risk"));
            break;
        }
        let e = e.min(n);
        s *= 1.0 - e as f64 / n as f64;
        if e < n {
            greenwood += e as f64 / (n as f64 * (n - e) as f64);
        }
        let half = Z95 * s * greenwood.sqrt();
        out.steps.push(Step {
            from: a,
            to: b,
            at_risk,
            events,
            survival: s,
            low: (s - half).clamp(0.0, 1.0),
            high: (s + half).clamp(0.0, 1.0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::disclosure::Perturbation;
    use proptest::prelude::*;

    #[test]
    fn intervals_are_whole_weeks_and_cover_the_window() {
        assert_eq!(intervals(1, 120).0, 21);
        let (step, iv) = intervals(1, 365);
        assert_eq!(step, 49);
        assert_eq!(iv.first(), Some(&(1, 49)));
        assert_eq!(iv.last(), Some(&(344, 365)));
        assert!(iv.len() as i64 <= MAX_STEPS);
        assert_eq!(
            intervals(0, 21),
            (7, vec![(0, 6), (7, 13), (14, 20), (21, 21)])
        );
    }

    /// With exact counts and no small cells, the curve is the textbook
    /// product over the intervals.
    #[test]
    fn exact_counts_give_the_product_limit() {
        // 100 people: 20 events in the first interval, 10 censored in the
        // second, 16 events in the third, the rest censored at the end.
        let mut times = Vec::new();
        times.extend((0..20).map(|_| Some((5, true))));
        times.extend((0..10).map(|_| Some((30, false))));
        times.extend((0..16).map(|_| Some((50, true))));
        times.extend((0..54).map(|_| Some((120, false))));
        let members: Vec<usize> = (0..100).collect();
        let keys = vec![CellKey::default(); 100];
        let rules = Rules::new(1, Perturbation::Round { base: 1 });
        let c = curve("g", &times, &members, &keys, (1, 120), &rules);
        assert_eq!(c.truncated, None);
        let s: Vec<f64> = c.steps.iter().map(|s| s.survival).collect();
        let want = [0.8, 0.8, 0.8 * (1.0 - 16.0 / 70.0)];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
        assert_eq!(c.steps[2].at_risk, Count::Value(70));
        assert!(c.steps[0].low < 0.8 && c.steps[0].high > 0.8);
    }

    /// A small risk set is withheld and the curve stops there.
    #[test]
    fn the_curve_stops_where_counts_are_withheld() {
        let mut times: Vec<Option<(i64, bool)>> = (0..40).map(|_| Some((3, true))).collect();
        times.extend((0..5).map(|_| Some((100, true))));
        let members: Vec<usize> = (0..45).collect();
        let keys = vec![CellKey::default(); 45];
        let rules = Rules::new(10, Perturbation::CellKey);
        let c = curve("g", &times, &members, &keys, (1, 120), &rules);
        assert!(c.truncated.is_some(), "{c:?}");
        assert!(c.steps.len() < intervals(1, 120).1.len());
        for s in &c.steps {
            for n in [&s.at_risk, &s.events] {
                assert!(n.value().is_some_and(|v| v == 0 || v >= 10), "{c:?}");
            }
        }
    }

    proptest! {
        /// Survival is between 0 and 1 and never rises; every published
        /// count is 0 or at least min_cell; intervals are in order.
        #[test]
        fn curves_never_rise(
            people in prop::collection::vec((1i64..=120, any::<bool>(), any::<u8>()), 0..300),
            min_cell in 1u64..12,
        ) {
            let times: Vec<Option<(i64, bool)>> = people.iter().map(|(t, e, _)| Some((*t, *e))).collect();
            let keys: Vec<CellKey> = people.iter().map(|(_, _, k)| CellKey(*k)).collect();
            let members: Vec<usize> = (0..people.len()).collect();
            let rules = Rules::new(min_cell, Perturbation::CellKey);
            let c = curve("g", &times, &members, &keys, (1, 120), &rules);
            let mut last = 1.0;
            let mut day = 0;
            for s in &c.steps {
                prop_assert!(s.survival <= last && s.survival >= 0.0);
                prop_assert!(s.low <= s.survival && s.survival <= s.high);
                prop_assert!(s.from > day && s.to >= s.from);
                for n in [&s.at_risk, &s.events] {
                    let v = n.value().expect("published while the curve runs");
                    prop_assert!(v == 0 || v >= min_cell);
                }
                last = s.survival;
                day = s.to;
            }
        }
    }
}
