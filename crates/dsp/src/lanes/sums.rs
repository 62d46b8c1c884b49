//! The kernel's blocks into a mix. Two ways: [`add_lanes`] adds each lane of a block into the
//! same lane of a partial mix (`mix[i][lane] += gain·x[i][lane]`, through a pan:
//! `gain·(x[i][lane]·pan)`), side by side, no lane crossing another; [`sum_lanes`] adds the
//! lanes of a block into one output, lane after lane, lane 0 first, the very sums of adding
//! one voice's block after another (eight samples at a time: their eight lanes turned side by
//! side in registers, so each lane's eight samples are added in one operation).

use super::LANES;

/// Adds the lanes of `lanes` (`lanes[i][lane]`) whose bits are set in `used`, each times its
/// gain, to `out`, lane after lane in their order. Never allocates. Real-time thread.
pub(crate) fn sum_lanes(out: &mut [f32], lanes: &[[f32; LANES]], gains: &[f32; LANES], used: u8) {
    sum(out, lanes, None, gains, used);
}

/// [`sum_lanes`] through a pan at rest: `out[i] += gains[lane]·(lanes[i][lane]·pans[lane])`,
/// lane after lane (the pan's product first, as the pan makes it). Never allocates. Real-time
/// thread.
pub(crate) fn sum_lanes_panned(
    out: &mut [f32],
    lanes: &[[f32; LANES]],
    pans: &[f32; LANES],
    gains: &[f32; LANES],
    used: u8,
) {
    sum(out, lanes, Some(pans), gains, used);
}

/// Adds each lane of `lanes` whose bit is set in `used`, times its gain (through its pan,
/// when given), into the same lane of `mix`: `mix[i][lane] += gains[lane]·lanes[i][lane]`.
/// Compiled for each instruction set and picked at the first call (the same operations on
/// each). Never allocates. Real-time thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
pub(crate) fn add_lanes(
    mix: &mut [[f32; LANES]],
    lanes: &[[f32; LANES]],
    pans: Option<&[f32; LANES]>,
    gains: &[f32; LANES],
    used: u8,
) {
    let used: [bool; LANES] = std::array::from_fn(|l| used & 1 << l != 0);
    let every = used.iter().all(|&u| u);
    match pans {
        Some(p) if every => add_some(mix, lanes, gains, |l, x| x * p[l], |_| true),
        Some(p) => add_some(mix, lanes, gains, |l, x| x * p[l], |l| used[l]),
        None if every => add_some(mix, lanes, gains, |_, x| x, |_| true),
        None => add_some(mix, lanes, gains, |_, x| x, |l| used[l]),
    }
}

/// [`add_lanes`] through `through` (a pan, or nothing), of the lanes `used` takes.
#[inline(always)]
fn add_some(
    mix: &mut [[f32; LANES]],
    lanes: &[[f32; LANES]],
    gains: &[f32; LANES],
    through: impl Fn(usize, f32) -> f32,
    used: impl Fn(usize) -> bool,
) {
    for (m, x) in mix.iter_mut().zip(lanes) {
        add_row(m, std::array::from_fn(|l| through(l, x[l])), gains, &used);
    }
}

/// One sample of a group's lanes into the partial mixes: `m[lane] += gains[lane]·x[lane]` for
/// each lane `used` takes (the one sum both ways of mixing a group make, [`add_lanes`] and the
/// biquads' own). Real-time thread.
#[inline(always)]
pub(crate) fn add_row(
    m: &mut [f32; LANES],
    x: [f32; LANES],
    gains: &[f32; LANES],
    used: impl Fn(usize) -> bool,
) {
    let sums: [f32; LANES] = std::array::from_fn(|l| m[l] + gains[l] * x[l]);
    *m = std::array::from_fn(|l| if used(l) { sums[l] } else { m[l] });
}

/// The sums, for the instruction set picked at the first call: eight samples at a time (their
/// eight lanes turned side by side, which compiles to register shuffles), then the rest one
/// by one; every lane used (the common case) without a look at each. Real-time thread.
#[multiversion::multiversion(targets("x86_64+avx2+avx", "aarch64+neon"))]
fn sum(
    out: &mut [f32],
    lanes: &[[f32; LANES]],
    pans: Option<&[f32; LANES]>,
    gains: &[f32; LANES],
    used: u8,
) {
    if used == u8::MAX {
        sum_some(out, lanes, pans, gains, |_| true);
    } else {
        sum_some(out, lanes, pans, gains, |lane| used & 1 << lane != 0);
    }
}

/// [`sum`] of the lanes `used` takes.
#[inline(always)]
fn sum_some(
    out: &mut [f32],
    lanes: &[[f32; LANES]],
    pans: Option<&[f32; LANES]>,
    gains: &[f32; LANES],
    used: impl Fn(usize) -> bool,
) {
    let (outs, out_rest) = out.as_chunks_mut::<8>();
    let (ins, in_rest) = lanes.as_chunks::<8>();
    for (o, x) in outs.iter_mut().zip(ins) {
        let columns = transpose(x);
        let mut acc = *o;
        for (lane, column) in columns.iter().enumerate() {
            if !used(lane) {
                continue;
            }
            let v = match pans {
                Some(p) => column.map(|c| c * p[lane]),
                None => *column,
            };
            for (a, v) in acc.iter_mut().zip(v) {
                *a += gains[lane] * v;
            }
        }
        *o = acc;
    }
    for (o, x) in out_rest.iter_mut().zip(in_rest) {
        for lane in (0..LANES).filter(|&l| used(l)) {
            let v = match pans {
                Some(p) => x[lane] * p[lane],
                None => x[lane],
            };
            *o += gains[lane] * v;
        }
    }
}

/// Elements 0, 1, 4 and 5 of `a` and `b`, interleaved (each half of a 256-bit register).
#[inline(always)]
fn unpack_low(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
    [a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]]
}

/// Elements 2, 3, 6 and 7 of `a` and `b`, interleaved.
#[inline(always)]
fn unpack_high(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
    [a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]]
}

/// The first pair of each half of `a`, then of `b`.
#[inline(always)]
fn pairs_low(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
    [a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]]
}

/// The second pair of each half of `a`, then of `b`.
#[inline(always)]
fn pairs_high(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
    [a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]]
}

/// The low halves of `a` and `b`.
#[inline(always)]
fn halves_low(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
}

/// The high halves of `a` and `b`.
#[inline(always)]
fn halves_high(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
    [a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7]]
}

/// Eight samples of eight lanes (`rows[j][lane]`) as eight lanes of eight samples
/// (`[lane][j]`), in three rounds of pairings.
#[inline(always)]
fn transpose(r: &[[f32; LANES]; 8]) -> [[f32; 8]; LANES] {
    // Pairs of rows interleaved: lanes 0, 1, 4, 5 (low) and 2, 3, 6, 7 (high).
    let a = [
        unpack_low(r[0], r[1]),
        unpack_high(r[0], r[1]),
        unpack_low(r[2], r[3]),
        unpack_high(r[2], r[3]),
        unpack_low(r[4], r[5]),
        unpack_high(r[4], r[5]),
        unpack_low(r[6], r[7]),
        unpack_high(r[6], r[7]),
    ];
    // Rows 0-3 (or 4-7) of lane k in the low half, of lane k + 4 in the high half.
    let b = [
        pairs_low(a[0], a[2]),
        pairs_high(a[0], a[2]),
        pairs_low(a[1], a[3]),
        pairs_high(a[1], a[3]),
        pairs_low(a[4], a[6]),
        pairs_high(a[4], a[6]),
        pairs_low(a[5], a[7]),
        pairs_high(a[5], a[7]),
    ];
    [
        halves_low(b[0], b[4]),
        halves_low(b[1], b[5]),
        halves_low(b[2], b[6]),
        halves_low(b[3], b[7]),
        halves_high(b[0], b[4]),
        halves_high(b[1], b[5]),
        halves_high(b[2], b[6]),
        halves_high(b[3], b[7]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values whose sums round differently in another order.
    fn value(i: usize, lane: usize) -> f32 {
        ((i * 37 + lane * 101) % 997) as f32 / 97.0 - 5.0
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn the_sums_are_the_sums_of_one_lane_after_another_to_the_bit() {
        let gains: [f32; LANES] = std::array::from_fn(|l| 0.1 + l as f32 * 0.37);
        let pans: [f32; LANES] = std::array::from_fn(|l| 1.0 - l as f32 * 0.11);
        for len in [0, 1, 7, 8, 9, 64, 67] {
            let lanes: Vec<[f32; LANES]> = (0..len)
                .map(|i| std::array::from_fn(|l| value(i, l)))
                .collect();
            let start: Vec<f32> = (0..len).map(|i| value(i, 9) * 3.0).collect();
            for used in 1..=u8::MAX {
                for pans in [None, Some(&pans)] {
                    // The reference: one lane after another, one sample at a time.
                    let mut want = start.clone();
                    for lane in (0..LANES).filter(|l| used & 1 << l != 0) {
                        for (o, x) in want.iter_mut().zip(&lanes) {
                            *o += gains[lane] * pans.map_or(x[lane], |p| x[lane] * p[lane]);
                        }
                    }
                    let mut got = start.clone();
                    match pans {
                        Some(p) => sum_lanes_panned(&mut got, &lanes, p, &gains, used),
                        None => sum_lanes(&mut got, &lanes, &gains, used),
                    }
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{len} samples, lanes {used:#010b}, panned {}",
                        pans.is_some()
                    );
                }
            }
        }
    }

    #[test]
    fn each_lane_is_added_into_its_own_lane_of_the_mix_to_the_bit() {
        let gains: [f32; LANES] = std::array::from_fn(|l| 0.1 + l as f32 * 0.37);
        let pans: [f32; LANES] = std::array::from_fn(|l| 1.0 - l as f32 * 0.11);
        for len in [0, 1, 9, 64] {
            let lanes: Vec<[f32; LANES]> = (0..len)
                .map(|i| std::array::from_fn(|l| value(i, l)))
                .collect();
            let start: Vec<[f32; LANES]> = (0..len)
                .map(|i| std::array::from_fn(|l| value(i + 5, l + 3) * 3.0))
                .collect();
            for used in 0..=u8::MAX {
                for pans in [None, Some(&pans)] {
                    let mut want = start.clone();
                    for (m, x) in want.iter_mut().zip(&lanes) {
                        for l in (0..LANES).filter(|l| used & 1 << l != 0) {
                            let v = pans.map_or(x[l], |p| x[l] * p[l]);
                            m[l] += gains[l] * v;
                        }
                    }
                    let mut got = start.clone();
                    add_lanes(&mut got, &lanes, pans, &gains, used);
                    assert_eq!(
                        bits(got.as_flattened()),
                        bits(want.as_flattened()),
                        "{len} samples, lanes {used:#010b}, panned {}",
                        pans.is_some()
                    );
                }
            }
        }
    }
}
