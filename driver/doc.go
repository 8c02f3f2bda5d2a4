// Package driver delivers task records the way g3proxy's log drivers do:
// each is a zapcore.Core that formats an entry on the calling goroutine,
// hands it to a bounded queue without ever blocking, and delivers it from
// a writer goroutine, dropping and counting what it cannot deliver, so a
// stuck or dead log sink never stalls a proxy.
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
//   - [NewJSON]: tasklog's JSON lines, the object g3 sends as CEE;
//   - [NewDiscard]: nothing, g3's default.
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
