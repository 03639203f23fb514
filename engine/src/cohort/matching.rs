//! Greedy nearest-neighbour matching on the logit of the propensity score
//! with a caliper (issue 18), in a fixed order so that an independent
//! implementation reproduces it exactly (`tests/e2e/propensity_check.py`):
//!
//! - participants are taken in member order (by person identifier, which
//!   is random and so as good as a random order, but stable);
//! - `ratio` rounds: in round `r` each participant that found a match in
//!   every earlier round takes the nearest comparison person still
//!   available (without replacement) or not yet matched to it (with
//!   replacement) — by absolute difference of the logits, ties to the
//!   earlier member;
//! - a candidate further than the caliper is no match, and a participant
//!   without one in a round takes no more.

use std::collections::BTreeSet;

/// The matching's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches {
    /// `(participant, comparison)` member indices, in the order made.
    pub pairs: Vec<(usize, usize)>,
}

/// Orders floats totally (as `f64::total_cmp`), as an integer key.
fn key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// Matches `participants` to `controls` (member indices, each in member
/// order) on `logit` (indexed by member), within `caliper` (absolute, on
/// the logit scale).
pub fn greedy(
    logit: &[f64],
    participants: &[usize],
    controls: &[usize],
    caliper: f64,
    ratio: u32,
    replacement: bool,
) -> Matches {
    let mut pairs = Vec::new();
    if replacement {
        let mut sorted: Vec<(i64, usize)> = controls.iter().map(|&c| (key(logit[c]), c)).collect();
        sorted.sort_unstable();
        let all: BTreeSet<(i64, usize)> = sorted.into_iter().collect();
        // With replacement, participants do not compete: each takes its
        // `ratio` nearest, in order of distance (ties to the earlier
        // member), round by round as long as it found one.
        let mut mine: Vec<Vec<usize>> = vec![Vec::new(); participants.len()];
        let mut active: Vec<bool> = vec![true; participants.len()];
        for _ in 0..ratio {
            for (t_index, &t) in participants.iter().enumerate() {
                if !active[t_index] {
                    continue;
                }
                match nearest(&all, logit, logit[t], &mine[t_index], caliper) {
                    Some(c) => {
                        mine[t_index].push(c);
                        pairs.push((t, c));
                    }
                    None => active[t_index] = false,
                }
            }
        }
        return Matches { pairs };
    }
    let mut available: BTreeSet<(i64, usize)> =
        controls.iter().map(|&c| (key(logit[c]), c)).collect();
    let mut active: Vec<bool> = vec![true; participants.len()];
    for _ in 0..ratio {
        for (t_index, &t) in participants.iter().enumerate() {
            if !active[t_index] {
                continue;
            }
            match nearest(&available, logit, logit[t], &[], caliper) {
                Some(c) => {
                    available.remove(&(key(logit[c]), c));
                    pairs.push((t, c));
                }
                None => active[t_index] = false,
            }
        }
    }
    Matches { pairs }
}

/// The nearest member of `set` to `at` within `caliper`, not in `taken`;
/// ties to the earlier member.
fn nearest(
    set: &BTreeSet<(i64, usize)>,
    logit: &[f64],
    at: f64,
    taken: &[usize],
    caliper: f64,
) -> Option<usize> {
    let k = key(at);
    let free = |c: &usize| !taken.contains(c);
    // Walk outwards on each side, one logit value at a time, keeping the
    // best (distance, member) seen; stop a side once it is further than
    // the best or the caliper.
    let mut best: Option<(f64, usize)> = None;
    let better = |best: &Option<(f64, usize)>, d: f64, c: usize| {
        best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc))
    };
    for &(_, c) in set.range((k, 0)..) {
        let d = (logit[c] - at).abs();
        if d > caliper || best.is_some_and(|(bd, _)| d > bd) {
            break;
        }
        if free(&c) && better(&best, d, c) {
            best = Some((d, c));
        }
    }
    for &(_, c) in set.range(..(k, 0)).rev() {
        let d = (logit[c] - at).abs();
        if d > caliper || best.is_some_and(|(bd, _)| d > bd) {
            break;
        }
        if free(&c) && better(&best, d, c) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_within_the_caliper_ties_to_the_earlier_member() {
        // Members 0, 1 participants; 2..6 controls.
        let logit = [0.0, 1.0, 0.1, -0.1, 0.95, 3.0, 0.1];
        let m = greedy(&logit, &[0, 1], &[2, 3, 4, 5, 6], 0.2, 1, false);
        // 0: 2, 3 and 6 are all 0.1 away; member 2 is first.
        assert_eq!(m.pairs, vec![(0, 2), (1, 4)]);
        let m = greedy(&logit, &[0, 1], &[2, 3, 4, 5, 6], 0.2, 2, false);
        assert_eq!(m.pairs, vec![(0, 2), (1, 4), (0, 3)]);
        // With replacement both may take the same control.
        let logit = [0.0, 0.01, 0.005, 2.0];
        let m = greedy(&logit, &[0, 1], &[2, 3], 0.5, 1, true);
        assert_eq!(m.pairs, vec![(0, 2), (1, 2)]);
        // Nothing within the caliper: no match, and no second round.
        let m = greedy(&logit, &[0], &[3], 0.5, 3, false);
        assert!(m.pairs.is_empty());
    }

    /// A brute-force reference: the same rule, by scanning every control.
    fn reference(
        logit: &[f64],
        participants: &[usize],
        controls: &[usize],
        caliper: f64,
        ratio: u32,
        replacement: bool,
    ) -> Vec<(usize, usize)> {
        let mut used = vec![false; logit.len()];
        let mut mine: Vec<Vec<usize>> = vec![Vec::new(); logit.len()];
        let mut active = vec![true; logit.len()];
        let mut pairs = Vec::new();
        for _ in 0..ratio {
            for &t in participants {
                if !active[t] {
                    continue;
                }
                let best = controls
                    .iter()
                    .copied()
                    .filter(|&c| {
                        if replacement {
                            !mine[t].contains(&c)
                        } else {
                            !used[c]
                        }
                    })
                    .map(|c| ((logit[c] - logit[t]).abs(), c))
                    .filter(|(d, _)| *d <= caliper)
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                match best {
                    Some((_, c)) => {
                        used[c] = true;
                        mine[t].push(c);
                        pairs.push((t, c));
                    }
                    None => active[t] = false,
                }
            }
        }
        pairs
    }

    proptest! {
        /// The fast matcher equals the brute-force rule; every pair is
        /// within the caliper; without replacement no control is used twice;
        /// no participant gets more than `ratio`.
        #[test]
        fn matches_follow_the_rule(
            values in prop::collection::vec((any::<bool>(), 0u8..40), 2..80),
            caliper in 0.01f64..1.0,
            ratio in 1u32..4,
            replacement in any::<bool>(),
        ) {
            // Coarse logits, so ties are common.
            let logit: Vec<f64> = values.iter().map(|(_, v)| f64::from(*v) / 10.0 - 2.0).collect();
            let participants: Vec<usize> = (0..values.len()).filter(|&i| values[i].0).collect();
            let controls: Vec<usize> = (0..values.len()).filter(|&i| !values[i].0).collect();
            let m = greedy(&logit, &participants, &controls, caliper, ratio, replacement);
            prop_assert_eq!(&m.pairs, &reference(&logit, &participants, &controls, caliper, ratio, replacement));
            for &(t, c) in &m.pairs {
                prop_assert!((logit[t] - logit[c]).abs() <= caliper);
                prop_assert!(values[t].0 && !values[c].0);
            }
            let mut seen = std::collections::HashSet::new();
            for &(t, c) in &m.pairs {
                prop_assert!(seen.insert((t, c)), "a pair twice");
                if !replacement {
                    prop_assert_eq!(m.pairs.iter().filter(|p| p.1 == c).count(), 1);
                }
                prop_assert!(m.pairs.iter().filter(|p| p.0 == t).count() <= ratio as usize);
            }
        }
    }
}
