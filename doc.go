// Package tasklog writes g3proxy's task log from Go proxies: one structured
// record per proxy task (a CONNECT tunnel, a forwarded HTTP request, a UDP
// session) with the keys, enum words and value formats that ByteDance's
// g3proxy prints, so that log pipelines built for g3proxy read a Go proxy's
// lines unchanged. Where g3proxy's code and its documentation pages
// disagree, tasklog follows the code (g3proxy/src/log/task/*.rs), which is
// what pipelines see; docs/SCHEMA.md in the repository lists every key and
// which events carry it.
//
// # What a line is
//
// Each record is one JSON object per line: the body g3proxy sends as the
// "@cee:" payload of its syslog driver, and the same keys and values it
// sends as fields to journald and fluentd. g3proxy's stdout driver prints a
// text format instead, not these lines. g3proxy adds report_ts only when
// its driver is told to; [EncoderConfig] writes it, and a TimeKey of ""
// leaves it out. Keys come in g3's order, as its slog-built lines have
// them: the logger's keys (server_name, server_type, pid, log_type,
// daemon_name), then the record's keys last to first, then report_ts and
// msg; with [EncoderConfig] and [LoggerFields], [NewCore] and [NewEncoder]
// write g3's CEE body byte for byte ([NewEncoder] has the rule for any
// other entry). Package driver
// (github.com/proxylog/tasklog/driver) delivers records the way g3's log
// drivers do, syslog, fluentd, journald and stdout, byte for byte in g3's
// order.
//
// # Records
//
// A [TaskLog] holds the shared keys (server, task id, stage, times, reason)
// and a [Detail] with the keys of its sub-type: [TCPConnect],
// [HTTPForward], [FTPOverHTTP], [UDPAssociate] or [UDPConnect]. Enums
// ([ServerType], [Stage], [Event], [Reason]) print g3's exact words, and
// durations print as Rust's {:.3?} does ("12.346ms"), see [FormatDuration].
//
// [Server] and [Task] are the task helper: they measure a task, count its
// bytes and write its records, exactly one finished record per task.
// [Task.Dial] connects a task to its upstream as g3's direct escaper does
// (happy eyeballs, tries, timeouts; a [Dialer] per server) and records the
// escaper, tries, spend and addresses; [Task.Relay] relays a tunnel.
//
// Beside the task log, g3proxy writes an Escape log: an [EscapeLog] is one
// failed attempt to reach the next hop (a TCP connect, a TLS handshake, a
// UDP send), joined to the task by task_id; write it with [EscapeField]
// through a logger built with [EscapeLoggerFields]. Its resolvers write a
// Resolve log: a [ResolveLog] is one failed resolution, with g3's error
// words and texts ([ResolveErrorText]); write it with [ResolveField]
// through a logger built with [ResolveLoggerFields].
//
// # Logging with zap
//
// [Field] writes a record's keys at the top level of the entry, the layout
// of g3proxy's lines; [Object] nests them under one key. [EncoderConfig]
// and [LoggerFields] shape the rest of the line like g3proxy's, and
// [NewEncoder] writes it: zap's JSON encoding, with a fast path for task
// records (zapcore.NewJSONEncoder works too, more slowly):
//
//	enc := tasklog.NewEncoder(tasklog.EncoderConfig())
//	logger := zap.New(zapcore.NewCore(enc, os.Stdout, zap.InfoLevel)).
//		With(tasklog.LoggerFields("g3proxy")...)
//	if ce := logger.Check(zap.InfoLevel, rec.Reason.Text()); ce != nil {
//		ce.Write(tasklog.Field(rec))
//	}
//
// Marshaling a record allocates nothing of its own. [NewCore] is a core
// that writes those lines with no second copy, and [Log] writes a record
// without building a field slice.
//
// # Logging with slog
//
// *TaskLog is a [log/slog.LogValuer] with the same keys and values:
//
//	slog.Info(rec.Reason.Text(), slog.Any("", rec))
//
// # Bad records
//
// A record with missing or invalid keys is still written, with every valid
// key and an error under [ErrorKey] naming each bad key and its value;
// [TaskLog.Validate] returns the same error. Values from the wire (user,
// method, user agent, URI, upstream) never make a key disappear: bytes
// that are not valid UTF-8 are written as U+FFFD.
package tasklog
