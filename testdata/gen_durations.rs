// gen_durations prints the duration oracle table testdata/durations.tsv:
// one line per value, "<nanoseconds>\t<format!("{:.3?}", Duration)>", the
// exact way g3proxy prints durations. Regenerate with:
//
//     rustc -O -o /tmp/gen_durations testdata/gen_durations.rs
//     /tmp/gen_durations > testdata/durations.tsv
//
// The values cover every unit boundary, every rounding edge (below, at and
// above each half, with even and odd last digits, with and without carry
// into the integer part) at every magnitude up to Go's largest Duration,
// plus pseudo-random values of every length.
use std::collections::BTreeSet;
use std::time::Duration;

fn main() {
    let max = i64::MAX as u64; // Go's time.Duration range
    let mut v: BTreeSet<u64> = BTreeSet::new();
    // Every power of ten and its neighbours.
    let mut p: u64 = 1;
    loop {
        for d in [0u64, 1, 2, 5, 9, 10, 11] {
            v.insert(p.saturating_sub(d));
            v.insert(p.saturating_add(d));
        }
        v.insert(p / 2);
        v.insert(p * 5 / 10);
        match p.checked_mul(10) {
            Some(q) if q <= max => p = q,
            _ => break,
        }
    }
    // Rounding edges: in each unit, the remainder below the three printed
    // digits is just under, at, and just over half, for integer parts and
    // last digits of both parities, and where a carry ripples to the unit.
    for (unit, step) in [(1_000u64, 1u64), (1_000_000, 1_000), (1_000_000_000, 1_000_000)] {
        let half = step / 2;
        for int_part in [1u64, 2, 9, 10, 99, 100, 999, 1000, 3600, 86_400, 9_223_372_036] {
            for digits in [0u64, 1, 2, 499, 500, 501, 998, 999] {
                let base = match int_part.checked_mul(unit) {
                    Some(b) => b,
                    None => continue,
                };
                let at = base + digits * step;
                for off in [0i64, -1, 1, 2] {
                    let r = half as i64 + off;
                    if r < 0 {
                        continue;
                    }
                    if let Some(x) = at.checked_add(r as u64) {
                        if x <= max {
                            v.insert(x);
                        }
                    }
                }
                if step > 1 {
                    v.insert(at + step - 1);
                    v.insert(at + 1);
                }
            }
        }
    }
    // The table from SCHEMA.md.
    for x in [1u64, 999, 1000, 999_499, 999_500, 999_999, 1_000_500, 1_001_500, 1_234_567,
              9_999_500, 999_999_499, 999_999_500, 1_500_000_000, 3_600_000_000_000, 0, max] {
        v.insert(x);
    }
    // Pseudo-random values of every decimal length (xorshift, fixed seed).
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..1200u64 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let digits = (i % 19) as u32 + 1;
        let m = 10u64.pow(digits.min(18)) ;
        let mut x = s % m;
        if x > max {
            x %= max;
        }
        v.insert(x);
    }
    for x in v {
        if x <= max {
            println!("{}\t{}", x, format!("{:.3?}", Duration::from_nanos(x)));
        }
    }
}
