//! Apportioning whole boxes by weights.
//!
//! Allocation is in whole boxes (最小包装単位) and nobody gives more than it received. A
//! proposal divides what a parent received among its children by weights (capacity, desired
//! quantity, population, stock and usage) with the **largest-remainder method**: each child
//! first gets the whole part of its exact share, and the boxes left over go one each to the
//! children with the largest fractional parts. Ties go to the larger weight, then to the
//! smaller key, so the same input always gives the same proposal whatever the order of the
//! children. All arithmetic is exact (integers), so no rounding error can create or lose a box.

/// Divides `total` boxes among `weights` (key, weight) in proportion to the weights.
///
/// - The result has one entry per input, in the input's order, and sums to `total` exactly
///   when any weight is positive; when every weight is zero nobody gets anything (there is no
///   basis to divide on) and the sum is 0.
/// - Each amount is its exact quota rounded down or up (the quota rule), and a zero weight
///   gets zero.
/// - Keys must be unique; they only break ties.
pub fn apportion<K: Ord + Clone>(total: u64, weights: &[(K, u64)]) -> Vec<(K, u64)> {
    let weight_sum: u128 = weights.iter().map(|(_, w)| u128::from(*w)).sum();
    if weight_sum == 0 {
        return weights.iter().map(|(k, _)| (k.clone(), 0)).collect();
    }
    let total_wide = u128::from(total);
    // Exact quota of each: total × weight / weight_sum = whole + remainder / weight_sum.
    let mut amounts: Vec<u64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<u128> = Vec::with_capacity(weights.len());
    for (_, weight) in weights {
        let numerator = total_wide * u128::from(*weight);
        let whole = numerator / weight_sum;
        amounts.push(u64::try_from(whole).expect("a share never exceeds the total"));
        remainders.push(numerator % weight_sum);
    }
    let given: u64 = amounts.iter().sum();
    let left =
        usize::try_from(total - given).expect("fewer boxes are left than there are children");
    // Children in the order they receive the leftover boxes.
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| remainders[i] > 0).collect();
    order.sort_by(|&a, &b| {
        remainders[b]
            .cmp(&remainders[a])
            .then_with(|| weights[b].1.cmp(&weights[a].1))
            .then_with(|| weights[a].0.cmp(&weights[b].0))
    });
    for &i in order.iter().take(left) {
        amounts[i] += 1;
    }
    weights
        .iter()
        .zip(amounts)
        .map(|((key, _), amount)| (key.clone(), amount))
        .collect()
}

/// Boxes needed for `doses` when a box holds `per_box` (needles and syringes: 100 a box).
pub fn boxes_for_doses(doses: u64, per_box: u64) -> u64 {
    doses.div_ceil(per_box.max(1))
}

/// The needle (or syringe) line that follows a vaccine line: each child gets enough boxes for
/// its vaccine doses, `ceil(vaccine boxes × doses per vaccine box / per_box)`, but together no
/// more than the parent `received`. When the parent received fewer than the children need, it
/// is apportioned by their needs with [`apportion`] (the seed's Meguro: 49 needle boxes for 5
/// vaccine boxes of 975 doses; five facilities needing 10 each get 10, 10, 10, 10 and 9).
pub fn follow_on_boxes<K: Ord + Clone>(
    vaccine_boxes: &[(K, u64)],
    doses_per_vaccine_box: u64,
    per_box: u64,
    received: u64,
) -> Vec<(K, u64)> {
    let needs: Vec<(K, u64)> = vaccine_boxes
        .iter()
        .map(|(key, boxes)| {
            let doses = boxes.saturating_mul(doses_per_vaccine_box);
            (key.clone(), boxes_for_doses(doses, per_box))
        })
        .collect();
    let needed: u64 = needs.iter().map(|(_, n)| n).sum();
    if needed <= received {
        needs
    } else {
        apportion(received, &needs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PFIZER_DOSES_PER_BOX: u64 = 195 * 5;

    fn amounts<K>(result: &[(K, u64)]) -> Vec<u64> {
        result.iter().map(|(_, a)| *a).collect()
    }

    #[test]
    fn the_seeds_worked_example_in_doses_and_follow_on_boxes() {
        // Nation 2,000 boxes = 1,950,000 doses → 19,500 needle boxes.
        assert_eq!(boxes_for_doses(2_000 * PFIZER_DOSES_PER_BOX, 100), 19_500);
        // Tokyo 160 boxes = 156,000 doses → 1,560.
        assert_eq!(boxes_for_doses(160 * PFIZER_DOSES_PER_BOX, 100), 1_560);
        // Meguro 5 boxes = 4,875 doses → 49 needle boxes (4,900 doses).
        assert_eq!(boxes_for_doses(5 * PFIZER_DOSES_PER_BOX, 100), 49);
        // Meguro Hospital 01: 1 box = 975 doses → 10.
        assert_eq!(boxes_for_doses(PFIZER_DOSES_PER_BOX, 100), 10);
    }

    #[test]
    fn needles_are_capped_at_what_the_parent_received() {
        // Meguro received 49 needle boxes and gives each of five facilities one vaccine box.
        let facilities: Vec<(&str, u64)> =
            vec![("f1", 1), ("f2", 1), ("f3", 1), ("f4", 1), ("f5", 1)];
        let needles = follow_on_boxes(&facilities, PFIZER_DOSES_PER_BOX, 100, 49);
        assert_eq!(amounts(&needles), vec![10, 10, 10, 10, 9]);
        // With enough received, each gets what its doses need.
        let needles = follow_on_boxes(&facilities[..4], PFIZER_DOSES_PER_BOX, 100, 49);
        assert_eq!(amounts(&needles), vec![10, 10, 10, 10]);
    }

    #[test]
    fn leftover_boxes_go_to_the_largest_remainders() {
        // 10 boxes by 5:3:2 is exact; 7 boxes by 1:1:1 gives the leftover to the first key.
        assert_eq!(
            amounts(&apportion(10, &[("a", 5), ("b", 3), ("c", 2)])),
            vec![5, 3, 2]
        );
        assert_eq!(
            amounts(&apportion(7, &[("a", 1), ("b", 1), ("c", 1)])),
            vec![3, 2, 2]
        );
        // 5 boxes by 0.45 / 0.35 / 0.20: quotas 2.25, 1.75, 1.0 → 2, 2, 1.
        assert_eq!(
            amounts(&apportion(5, &[("a", 45), ("b", 35), ("c", 20)])),
            vec![2, 2, 1]
        );
    }

    #[test]
    fn ties_go_to_the_larger_weight_then_the_smaller_key_whatever_the_order() {
        // Quotas 0.5 and 1.5: equal remainders, and the larger weight wins the box.
        assert_eq!(amounts(&apportion(2, &[("a", 1), ("b", 3)])), vec![0, 2]);
        assert_eq!(amounts(&apportion(2, &[("b", 3), ("a", 1)])), vec![2, 0]);
        // Equal remainders and equal weights: the smaller key wins.
        let result = apportion(3, &[("a", 1), ("b", 1), ("c", 4)]);
        assert_eq!(amounts(&result), vec![1, 0, 2]);
        let shuffled = apportion(3, &[("c", 4), ("b", 1), ("a", 1)]);
        assert_eq!(amounts(&shuffled), vec![2, 0, 1]);
    }

    #[test]
    fn zero_weights_get_nothing_and_all_zero_gives_nothing() {
        assert_eq!(amounts(&apportion(9, &[("a", 0), ("b", 3)])), vec![0, 9]);
        assert_eq!(amounts(&apportion(9, &[("a", 0), ("b", 0)])), vec![0, 0]);
        assert!(apportion::<&str>(9, &[]).is_empty());
    }

    /// A small deterministic generator, so the property runs the same cases everywhere.
    struct Cases(u64);

    impl Cases {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below.max(1)
        }
    }

    #[test]
    fn every_apportionment_sums_to_the_total_and_keeps_the_quota_rule() {
        let mut cases = Cases(0x5eed_1234_abcd_9876);
        for _ in 0..5_000 {
            let children = 1 + cases.next(60) as usize;
            let total = cases.next(5_000);
            let weights: Vec<(usize, u64)> = (0..children)
                .map(|i| {
                    let weight = if cases.next(5) == 0 {
                        0
                    } else {
                        cases.next(1_000_000)
                    };
                    (i, weight)
                })
                .collect();
            let result = apportion(total, &weights);
            let weight_sum: u128 = weights.iter().map(|(_, w)| u128::from(*w)).sum();
            let sum: u64 = result.iter().map(|(_, a)| a).sum();
            if weight_sum == 0 {
                assert_eq!(sum, 0);
                continue;
            }
            assert_eq!(sum, total, "{weights:?}");
            for ((_, weight), (_, amount)) in weights.iter().zip(&result) {
                let exact = u128::from(total) * u128::from(*weight);
                let floor = exact / weight_sum;
                let ceil = exact.div_ceil(weight_sum);
                let amount = u128::from(*amount);
                assert!(floor <= amount && amount <= ceil, "{weights:?} {result:?}");
            }
            // The order of the children changes nothing.
            let mut reversed = weights.clone();
            reversed.reverse();
            let mut again = apportion(total, &reversed);
            again.reverse();
            assert_eq!(again, result);
        }
    }
}
