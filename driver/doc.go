// Package driver delivers task records the way g3proxy's log drivers do:
// each is a zapcore.Core that hands an entry to a bounded queue without
// ever blocking (a copy of it, or its formatted bytes: see [Core]), and
// formats and delivers it from a writer goroutine, dropping and counting
// what it cannot deliver, so a stuck or dead log sink never stalls a
// proxy.
//
// # Drivers
//
//   - [NewSyslog]: RFC 3164 or RFC 5424 headers, g3's text body or its
//     CEE body ("@cee:" + JSON), over a unix datagram socket or UDP
//     (lib/g3-syslog);
//   - [NewFluentd]: fluentd's forward protocol in message mode, over TCP
//     or TLS, with shared key authentication and a retry queue
//     (lib/g3-fluentd);
//   - [NewJournal]: systemd-journald's native protocol (lib/g3-journal);
//   - [NewStdout]: g3's stdout text format (lib/g3-stdlog);
//   - [NewJSON]: tasklog.NewEncoder's JSON lines with report_ts, which
//     are g3's CEE body for task, escape and resolve records;
//   - [NewCEE]: g3's CEE body as JSON lines, byte for byte what the syslog
//     driver sends after "@cee:"; [NewCEECore] writes the same lines on
//     the logging goroutine, with no queue, as tasklog.NewCore does;
//   - [NewDiscard]: nothing, g3's default.
//
// # g3's bytes
//
// The syslog, fluentd and journal drivers write what g3proxy's formatters
// write, byte for byte (testdata/g3bytes holds the golden data). g3 builds
// its records with slog, which writes a logger's keys before the record's,
// each list last to first; its loggers carry daemon_name, log_type, pid
// and the server's (escaper's, resolver's) type and name. The drivers
// follow the same rule for any zap logger: the context fields (a Logger's
// With) and those logger keys go first, last to first, then the entry's
// other fields, last to first. A task logger built with
// tasklog.LoggerFields writes
//
//	server_name, server_type, pid, log_type, daemon_name, r_wr_bytes, ..., task_id, task_type
//
// Strings are escaped with Rust's escape_debug tables in syslog text and
// structured data, as serde_json escapes them in CEE; integers go to
// fluentd in the MessagePack form of the zap method that added them
// (AddUint16 as uint 16, and so on), as g3's Rust types decide.
//
// [Config] chooses one, and [ParseYAML] reads it from g3proxy's own log
// configuration. Each Core counts its records ([Core.Stats],
// [Core.Publish] for expvar) and must be closed ([Core.Close]).
//
// # Use
//
//	core, err := driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", CEE: true}, driver.Options{})
//	if err != nil { ... }
//	defer core.Close()
//	logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
//	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "http", logger)
package driver
