// gen_escape_debug prints which chars Rust's char::escape_debug writes as
// \u{...}: one line per range, "<first>\t<last>" in hex, the table of
// driver/escape_table.go. g3's syslog formatters escape every char of a
// string this way (lib/g3-syslog format/rfc3164.rs and rfc5424.rs), so the
// table decides which chars reach a syslog daemon raw and which escaped.
// The chars with a backslash-letter escape (\0 \t \r \n \' \" \\) are
// printed too, as "<char>\t<escape>" after a line "#short".
//
// Regenerate (the Unicode tables are rustc's own: the output names its
// version, and changes when Rust updates Unicode):
//
//     rustc -O -o /tmp/gen_escape_debug driver/testdata/gen_escape_debug.rs
//     /tmp/gen_escape_debug > driver/testdata/escape_debug.tsv
use std::fmt::Write;

fn main() {
    let mut out = String::new();
    let mut start: Option<u32> = None;
    let mut short = Vec::new();
    for cp in 0..=0x10FFFFu32 {
        let escaped = match char::from_u32(cp) {
            Some(c) => {
                let e: String = c.escape_debug().collect();
                if e.starts_with("\\u{") {
                    true
                } else {
                    if e != c.to_string() {
                        short.push((cp, e));
                    }
                    false
                }
            }
            None => false, // surrogates: never in a Rust string
        };
        match (escaped, start) {
            (true, None) => start = Some(cp),
            (false, Some(s)) => {
                writeln!(out, "{:x}\t{:x}", s, cp - 1).unwrap();
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        writeln!(out, "{:x}\t{:x}", s, 0x10FFFF).unwrap();
    }
    out.push_str("#short\n");
    for (cp, e) in short {
        writeln!(out, "{:x}\t{}", cp, e).unwrap();
    }
    print!("{}", out);
}
