//! g3bytes writes, for every record of records.tsv, the bytes g3proxy's
//! log drivers put on the wire for it: the driver differential test's
//! golden data (g3bytes.tsv). It is not g3's code: it is written from
//! g3's formatters (bytedance/g3 lib/g3-syslog format/{rfc3164,rfc5424,
//! cee}.rs, lib/g3-fluentd format.rs, lib/g3-journal format.rs at commit
//! 7d237e22595556d0aebeae4eaec1900eb57289e3), and the behaviours that
//! decide their bytes come from the libraries g3 itself uses:
//!
//!   - the order of the keys: each record is a real slog Record, logged
//!     through a real slog Logger whose key-values are chained with
//!     slog's own KV impls, so slog's serialization order (the logger's
//!     keys, then the record's, each last to first) is slog's;
//!   - escaping: Rust's char::escape_debug, from the standard library;
//!   - MessagePack: rmp's write_* functions, one per Rust type as g3's
//!     FormatterKv calls them; integers with itoa.
//!
//! Its output was also checked against g3's own formatter code, compiled
//! from the sources above (with stand-ins only for the clock and for
//! float formatting, which task records do not use): byte for byte the
//! same for every record and format. That check is not kept here: this
//! repository holds none of g3's code.
//!
//! Usage: g3bytes records.tsv > g3bytes.tsv
//!
//! records.tsv: per record a line "record\tNAME\tMSG", then one line per
//! key, "logger|kv\tKEY\tTYPE\tVALUE", in g3's source order; TYPE is str,
//! u16, u32, u64, usize, i64, bool or none; MSG and VALUE are hex of the
//! UTF-8 bytes. Output: "NAME\tFORMAT\tHEX" per record and format.

use std::fmt::Arguments;
use std::sync::{Arc, Mutex};

use slog::{Drain, Key, Level, Logger, OwnedKVList, Record, Serializer, KV};

// Fixed header values: the Go test uses the same.
const PID: u32 = 4242;
const IDENT: &str = "g3proxy";
const HOSTNAME: &str = "host.example";
const RFC3164_TIME: &str = "Nov 24 10:30:04"; // 2026-11-24T10:30:04.987654321Z in UTC
const RFC5424_TIME: &str = "2026-11-24T10:30:04.987654Z";
const UNIX_SECS: i64 = 1795516204;
const NANOS: u32 = 987654321;

#[derive(Clone)]
enum Val {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Usize(usize),
    I64(i64),
    Bool(bool),
    None,
}

impl slog::Value for Val {
    fn serialize(&self, _: &Record, key: Key, s: &mut dyn Serializer) -> slog::Result {
        match self {
            Val::Str(v) => s.emit_str(key, v),
            Val::U16(v) => s.emit_u16(key, *v),
            Val::U32(v) => s.emit_u32(key, *v),
            Val::U64(v) => s.emit_u64(key, *v),
            Val::Usize(v) => s.emit_usize(key, *v),
            Val::I64(v) => s.emit_i64(key, *v),
            Val::Bool(v) => s.emit_bool(key, *v),
            Val::None => s.emit_none(key),
        }
    }
}

type DynKV = Box<dyn KV + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe>;

/// chain builds the key-values as slog's kv!/o! macros build them from
/// the keys in source order: each key wraps what came before it,
/// (last, (..., (first, ()))), and slog's own tuple impl serializes them.
fn chain(pairs: &[(&'static str, Val)]) -> DynKV {
    let mut kv: DynKV = Box::new(());
    for (k, v) in pairs.iter() {
        kv = Box::new((slog::SingleKV(*k, v.clone()), kv));
    }
    kv
}

// ---- formats ----

#[derive(Clone, Copy)]
enum Format {
    Rfc3164 { report_ts: bool, hostname: bool, facility: u8 },
    Rfc3164Cee { report_ts: bool, flag: &'static str },
    Rfc5424 { report_ts: bool, hostname: bool, eid: i32, mid: Option<&'static str> },
    Rfc5424Cee { report_ts: bool, mid: Option<&'static str>, flag: &'static str },
    Fluentd,
    Journal,
    Stdout,
}

const FORMATS: &[(&str, Format)] = &[
    ("rfc3164", Format::Rfc3164 { report_ts: false, hostname: false, facility: 3 }),
    ("rfc3164-user-hostname-report_ts", Format::Rfc3164 { report_ts: true, hostname: true, facility: 1 }),
    ("rfc3164-cee", Format::Rfc3164Cee { report_ts: false, flag: "@cee:" }),
    ("rfc3164-cee-flag-report_ts", Format::Rfc3164Cee { report_ts: true, flag: "@json:" }),
    ("rfc5424", Format::Rfc5424 { report_ts: false, hostname: false, eid: 0, mid: None }),
    ("rfc5424-eid-mid-hostname-report_ts", Format::Rfc5424 { report_ts: true, hostname: true, eid: 32473, mid: Some("TASK") }),
    ("rfc5424-cee", Format::Rfc5424Cee { report_ts: false, mid: None, flag: "@cee:" }),
    ("rfc5424-cee-mid-flag-report_ts", Format::Rfc5424Cee { report_ts: true, mid: Some("TASK"), flag: "@json:" }),
    ("fluentd", Format::Fluentd),
    ("journal", Format::Journal),
    ("stdout", Format::Stdout),
];

fn severity(level: Level) -> u8 {
    // lib/g3-syslog util.rs level_to_severity
    match level {
        Level::Critical => 2,
        Level::Error => 3,
        Level::Warning => 4,
        Level::Info => 5,
        Level::Debug => 6,
        Level::Trace => 7,
    }
}

fn push_escape_debug(w: &mut Vec<u8>, s: &str, sd: bool) {
    for c in s.chars() {
        if sd && c == ']' {
            w.extend_from_slice(b"\\]");
            continue;
        }
        for e in c.escape_debug() {
            let mut b = [0u8; 4];
            w.extend_from_slice(e.encode_utf8(&mut b).as_bytes());
        }
    }
}

fn push_int<T: itoa::Integer>(w: &mut Vec<u8>, v: T) {
    let mut buf = itoa::Buffer::new();
    w.extend_from_slice(buf.format(v).as_bytes());
}

/// A value as the text formats see it: a string (quoted in RFC 3164
/// text) or a number or bool (bare); None is left out.
enum Text {
    Quoted(String),
    Bare(String),
}

/// TextKV collects what a text serializer is handed, in slog's order.
struct TextKV(Vec<(String, Text)>);

impl Serializer for TextKV {
    fn emit_arguments(&mut self, key: Key, val: &Arguments) -> slog::Result {
        self.0.push((key.to_string(), Text::Quoted(val.to_string())));
        Ok(())
    }
    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        self.0.push((key.to_string(), Text::Quoted(val.to_string())));
        Ok(())
    }
    fn emit_none(&mut self, _key: Key) -> slog::Result {
        Ok(())
    }
    fn emit_bool(&mut self, key: Key, val: bool) -> slog::Result {
        self.0.push((key.to_string(), Text::Bare(val.to_string())));
        Ok(())
    }
    fn emit_u16(&mut self, key: Key, val: u16) -> slog::Result {
        self.bare(key, val)
    }
    fn emit_u32(&mut self, key: Key, val: u32) -> slog::Result {
        self.bare(key, val)
    }
    fn emit_u64(&mut self, key: Key, val: u64) -> slog::Result {
        self.bare(key, val)
    }
    fn emit_usize(&mut self, key: Key, val: usize) -> slog::Result {
        self.bare(key, val)
    }
    fn emit_i64(&mut self, key: Key, val: i64) -> slog::Result {
        self.bare(key, val)
    }
}

impl TextKV {
    fn bare<T: itoa::Integer>(&mut self, key: Key, v: T) -> slog::Result {
        let mut buf = itoa::Buffer::new();
        self.0.push((key.to_string(), Text::Bare(buf.format(v).to_string())));
        Ok(())
    }
}

fn push_rfc3164_header(w: &mut Vec<u8>, facility: u8, level: Level, hostname: bool) {
    push_priority(w, facility, level);
    w.extend_from_slice(RFC3164_TIME.as_bytes());
    if hostname {
        w.push(b' ');
        w.extend_from_slice(HOSTNAME.as_bytes());
    }
    w.push(b' ');
    w.extend_from_slice(IDENT.as_bytes());
    w.push(b'[');
    push_int(w, PID);
    w.extend_from_slice(b"]: ");
}

fn push_priority(w: &mut Vec<u8>, facility: u8, level: Level) {
    w.push(b'<');
    push_int(w, (facility << 3) | severity(level));
    w.push(b'>');
}

fn push_rfc5424_header(w: &mut Vec<u8>, level: Level, hostname: bool, mid: Option<&str>) {
    push_priority(w, 3, level);
    w.extend_from_slice(b"1 ");
    w.extend_from_slice(RFC5424_TIME.as_bytes());
    w.push(b' ');
    if hostname {
        w.extend_from_slice(HOSTNAME.as_bytes());
    } else {
        w.push(b'-');
    }
    w.push(b' ');
    w.extend_from_slice(IDENT.as_bytes());
    w.push(b' ');
    push_int(w, PID);
    w.push(b' ');
    w.extend_from_slice(mid.unwrap_or("-").as_bytes());
    w.push(b' ');
}

/// push_json_str writes s as serde_json does (the CEE body's writer).
fn push_json_str(w: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    w.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => w.extend_from_slice(b"\\\""),
            b'\\' => w.extend_from_slice(b"\\\\"),
            0x08 => w.extend_from_slice(b"\\b"),
            0x0c => w.extend_from_slice(b"\\f"),
            b'\n' => w.extend_from_slice(b"\\n"),
            b'\r' => w.extend_from_slice(b"\\r"),
            b'\t' => w.extend_from_slice(b"\\t"),
            0..=0x1f => w.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]),
            _ => w.push(b),
        }
    }
    w.push(b'"');
}

fn text_pairs(record: &Record, values: &OwnedKVList) -> Vec<(String, Text)> {
    let mut kv = TextKV(Vec::new());
    values.serialize(record, &mut kv).unwrap();
    record.kv().serialize(record, &mut kv).unwrap();
    kv.0
}

fn format_syslog(fmt: Format, record: &Record, values: &OwnedKVList) -> Vec<u8> {
    let mut w = Vec::new();
    let msg = record.msg().to_string();
    let pairs = text_pairs(record, values);
    match fmt {
        Format::Rfc3164 { report_ts, hostname, facility } => {
            push_rfc3164_header(&mut w, facility, record.level(), hostname);
            push_escape_debug(&mut w, &msg, false);
            for (k, v) in &pairs {
                w.extend_from_slice(b", ");
                w.extend_from_slice(k.as_bytes());
                w.push(b'=');
                match v {
                    Text::Quoted(s) => {
                        w.push(b'"');
                        push_escape_debug(&mut w, s, false);
                        w.push(b'"');
                    }
                    Text::Bare(s) => w.extend_from_slice(s.as_bytes()),
                }
            }
            if report_ts {
                w.extend_from_slice(b", report_ts=");
                push_int(&mut w, UNIX_SECS);
            }
        }
        Format::Rfc5424 { report_ts, hostname, eid, mid } => {
            push_rfc5424_header(&mut w, record.level(), hostname, mid);
            w.extend_from_slice(b"[g3proxy@");
            push_int(&mut w, eid);
            for (k, v) in &pairs {
                w.push(b' ');
                w.extend_from_slice(k.as_bytes());
                w.extend_from_slice(b"=\"");
                match v {
                    Text::Quoted(s) => push_escape_debug(&mut w, s, true),
                    Text::Bare(s) => w.extend_from_slice(s.as_bytes()),
                }
                w.push(b'"');
            }
            if report_ts {
                w.extend_from_slice(b" report_ts=\"");
                push_int(&mut w, UNIX_SECS);
                w.push(b'"');
            }
            w.extend_from_slice(b"] ");
            push_escape_debug(&mut w, &msg, true);
        }
        Format::Rfc3164Cee { report_ts, flag } | Format::Rfc5424Cee { report_ts, mid: _, flag } => {
            match fmt {
                Format::Rfc5424Cee { mid, .. } => push_rfc5424_header(&mut w, record.level(), false, mid),
                _ => push_rfc3164_header(&mut w, 3, record.level(), false),
            }
            w.extend_from_slice(flag.as_bytes());
            w.push(b'{');
            let mut first = true;
            let mut sep = |w: &mut Vec<u8>| {
                if !first {
                    w.push(b',');
                }
                first = false;
            };
            for (k, v) in &pairs {
                sep(&mut w);
                push_json_str(&mut w, k);
                w.push(b':');
                match v {
                    Text::Quoted(s) => push_json_str(&mut w, s),
                    Text::Bare(s) => w.extend_from_slice(s.as_bytes()),
                }
            }
            if report_ts {
                sep(&mut w);
                w.extend_from_slice(b"\"report_ts\":");
                push_int(&mut w, UNIX_SECS);
            }
            sep(&mut w);
            w.extend_from_slice(b"\"msg\":");
            push_json_str(&mut w, &msg);
            w.push(b'}');
        }
        _ => unreachable!(),
    }
    w
}

/// FluentKV writes each value with the rmp call g3's FormatterKv makes
/// for its type (lib/g3-fluentd format.rs).
struct FluentKV<'a>(&'a mut Vec<u8>, u32);

impl FluentKV<'_> {
    fn key(&mut self, key: Key) {
        self.1 += 1;
        rmp::encode::write_str(self.0, key).unwrap();
    }
}

impl Serializer for FluentKV<'_> {
    fn emit_arguments(&mut self, key: Key, val: &Arguments) -> slog::Result {
        self.key(key);
        rmp::encode::write_str(self.0, &val.to_string()).unwrap();
        Ok(())
    }
    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        self.key(key);
        rmp::encode::write_str(self.0, val).unwrap();
        Ok(())
    }
    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.key(key);
        rmp::encode::write_nil(self.0).unwrap();
        Ok(())
    }
    fn emit_bool(&mut self, key: Key, val: bool) -> slog::Result {
        self.key(key);
        rmp::encode::write_bool(self.0, val).unwrap();
        Ok(())
    }
    fn emit_u16(&mut self, key: Key, val: u16) -> slog::Result {
        self.key(key);
        rmp::encode::write_u16(self.0, val).unwrap();
        Ok(())
    }
    fn emit_u32(&mut self, key: Key, val: u32) -> slog::Result {
        self.key(key);
        rmp::encode::write_u32(self.0, val).unwrap();
        Ok(())
    }
    fn emit_u64(&mut self, key: Key, val: u64) -> slog::Result {
        self.key(key);
        rmp::encode::write_u64(self.0, val).unwrap();
        Ok(())
    }
    fn emit_usize(&mut self, key: Key, val: usize) -> slog::Result {
        self.emit_u64(key, val as u64)
    }
    fn emit_i64(&mut self, key: Key, val: i64) -> slog::Result {
        self.key(key);
        rmp::encode::write_i64(self.0, val).unwrap();
        Ok(())
    }
}

fn format_fluentd(record: &Record, values: &OwnedKVList) -> Vec<u8> {
    let mut w = Vec::new();
    rmp::encode::write_array_len(&mut w, 3).unwrap();
    rmp::encode::write_str(&mut w, "g3proxy.Task").unwrap();
    rmp::encode::write_ext_meta(&mut w, 8, 0).unwrap();
    w.extend_from_slice(&(UNIX_SECS as u32).to_be_bytes());
    w.extend_from_slice(&NANOS.to_be_bytes());
    // The map's length first (g3 counts the keys with a serializer of
    // its own), then the keys, then msg.
    let mut body = Vec::new();
    let mut kv = FluentKV(&mut body, 0);
    values.serialize(record, &mut kv).unwrap();
    record.kv().serialize(record, &mut kv).unwrap();
    let n = kv.1;
    rmp::encode::write_map_len(&mut w, n + 1).unwrap();
    w.extend_from_slice(&body);
    rmp::encode::write_str(&mut w, "msg").unwrap();
    rmp::encode::write_str(&mut w, &record.msg().to_string()).unwrap();
    w
}

/// journal_key cleans a key as lib/g3-journal format.rs sanitized_key.
fn journal_key(key: &str) -> Option<String> {
    let first = key.chars().next()?;
    if !first.is_ascii_alphabetic() || key.len() > 64 {
        return None;
    }
    Some(
        key.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
            .collect(),
    )
}

fn push_journal_field(w: &mut Vec<u8>, key: &str, v: &str) {
    if v.contains('\n') {
        w.extend_from_slice(key.as_bytes());
        w.push(b'\n');
        w.extend_from_slice(&(v.len() as u64).to_le_bytes());
        w.extend_from_slice(v.as_bytes());
        w.push(b'\n');
    } else {
        w.extend_from_slice(key.as_bytes());
        w.push(b'=');
        w.extend_from_slice(v.as_bytes());
        w.push(b'\n');
    }
}

fn format_journal(record: &Record, values: &OwnedKVList) -> Vec<u8> {
    let mut w = Vec::new();
    w.extend_from_slice(b"PRIORITY=5\n"); // info: LOG_NOTICE
    push_journal_field(&mut w, "SYSLOG_IDENTIFIER", IDENT);
    for (k, v) in text_pairs(record, values) {
        if let Some(k) = journal_key(&k) {
            let s = match v {
                Text::Quoted(s) | Text::Bare(s) => s,
            };
            push_journal_field(&mut w, &k, &s);
        }
    }
    push_journal_field(&mut w, "MESSAGE", &record.msg().to_string());
    w
}

// ---- the drain: formats every record it is handed ----

/// StdKV collects the pairs as lib/g3-stdlog's FormatterKv does: every
/// value as its text (itoa for integers, "true"/"false"), None left out.
struct StdKV(Vec<(String, String)>);

impl Serializer for StdKV {
    fn emit_arguments(&mut self, key: Key, val: &Arguments) -> slog::Result {
        self.0.push((key.to_string(), val.to_string()));
        Ok(())
    }
    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        self.0.push((key.to_string(), val.to_string()));
        Ok(())
    }
    fn emit_none(&mut self, _key: Key) -> slog::Result {
        Ok(())
    }
    fn emit_bool(&mut self, key: Key, val: bool) -> slog::Result {
        self.0.push((key.to_string(), if val { "true" } else { "false" }.to_string()));
        Ok(())
    }
    fn emit_u16(&mut self, key: Key, val: u16) -> slog::Result {
        self.int(key, val)
    }
    fn emit_u32(&mut self, key: Key, val: u32) -> slog::Result {
        self.int(key, val)
    }
    fn emit_u64(&mut self, key: Key, val: u64) -> slog::Result {
        self.int(key, val)
    }
    fn emit_usize(&mut self, key: Key, val: usize) -> slog::Result {
        self.int(key, val)
    }
    fn emit_i64(&mut self, key: Key, val: i64) -> slog::Result {
        self.int(key, val)
    }
}

impl StdKV {
    fn int<T: itoa::Integer>(&mut self, key: Key, v: T) -> slog::Result {
        let mut buf = itoa::Buffer::new();
        self.0.push((key.to_string(), buf.format(v).to_string()));
        Ok(())
    }
}

/// format_stdout writes lib/g3-stdlog's plain line (write_plain): the
/// time (g3_datetime STDIO: "%b %d %H:%M:%S%.3f", here the fixed UTC time
/// of every record), slog's level, the sorted pairs as " k: v,", then the
/// message or "()".
fn format_stdout(record: &Record, values: &OwnedKVList) -> Vec<u8> {
    let mut kv = StdKV(Vec::new());
    values.serialize(record, &mut kv).unwrap();
    record.kv().serialize(record, &mut kv).unwrap();
    kv.0.sort();
    let mut w = Vec::new();
    w.extend_from_slice(format!("Nov 24 10:30:04.987 {}", record.level()).as_bytes());
    for (k, v) in &kv.0 {
        w.extend_from_slice(format!(" {k}: {v},").as_bytes());
    }
    let msg = record.msg().to_string();
    w.push(b' ');
    w.extend_from_slice(if msg.is_empty() { b"()" as &[u8] } else { msg.as_bytes() });
    w.push(b'\n');
    w
}

struct Collect(Arc<Mutex<Vec<(String, Vec<u8>)>>>);

impl Drain for Collect {
    type Ok = ();
    type Err = slog::Never;
    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), slog::Never> {
        let mut out = self.0.lock().unwrap();
        for (name, fmt) in FORMATS {
            let bytes = match fmt {
                Format::Fluentd => format_fluentd(record, values),
                Format::Journal => format_journal(record, values),
                Format::Stdout => format_stdout(record, values),
                _ => format_syslog(*fmt, record, values),
            };
            out.push((name.to_string(), bytes));
        }
        Ok(())
    }
}

fn unhex(s: &str) -> String {
    let b: Vec<u8> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
    String::from_utf8(b).expect("records.tsv: a value is not UTF-8")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn parse_val(typ: &str, v: &str) -> Val {
    let s = unhex(v);
    match typ {
        "str" => Val::Str(s),
        "u16" => Val::U16(s.parse().unwrap()),
        "u32" => Val::U32(s.parse().unwrap()),
        "u64" => Val::U64(s.parse().unwrap()),
        "usize" => Val::Usize(s.parse().unwrap()),
        "i64" => Val::I64(s.parse().unwrap()),
        "bool" => Val::Bool(s.parse().unwrap()),
        "none" => Val::None,
        _ => panic!("records.tsv: unknown type {typ}"),
    }
}

struct Rec {
    name: String,
    msg: String,
    logger: Vec<(&'static str, Val)>,
    kv: Vec<(&'static str, Val)>,
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: g3bytes records.tsv");
    let input = std::fs::read_to_string(&path).unwrap();
    let mut recs: Vec<Rec> = Vec::new();
    for line in input.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "record" => recs.push(Rec { name: f[1].to_string(), msg: unhex(f[2]), logger: vec![], kv: vec![] }),
            "logger" => recs.last_mut().unwrap().logger.push((leak(f[1]), parse_val(f[2], f[3]))),
            "kv" => recs.last_mut().unwrap().kv.push((leak(f[1]), parse_val(f[2], f[3]))),
            _ => panic!("records.tsv: bad line {line}"),
        }
    }
    for rec in &recs {
        let out = Arc::new(Mutex::new(Vec::new()));
        let logger = Logger::root(Collect(out.clone()), slog::OwnedKV(chain(&rec.logger)));
        let kv = chain(&rec.kv);
        static RS: slog::RecordStatic<'static> = slog::RecordStatic {
            location: &slog::RecordLocation { file: "g3bytes", line: 0, column: 0, function: "", module: "g3bytes" },
            level: Level::Info,
            tag: "",
        };
        logger.log(&Record::new(&RS, &format_args!("{}", rec.msg), slog::BorrowedKV(&kv)));
        for (format, bytes) in out.lock().unwrap().iter() {
            println!("{}\t{}\t{}", rec.name, format, hex(bytes));
        }
    }
}
