// A fluentd forward server for tasklog's driver tests: @fluent-org/logger's
// FluentServer, on loopback. Options come as one JSON argument:
//   {"port": n, "sharedKey": "...", "users": {"name": "password"}, "tls": {"key": PEM, "cert": PEM}}
// It prints "PORT <n>" once listening, then one JSON line per entry:
//   {"tag": ..., "sec": ..., "nsec": ..., "record": {...}}
// and exits when its standard input closes.
"use strict";
const { FluentServer } = require("@fluent-org/logger");

const opts = JSON.parse(process.argv[2] || "{}") || {};
const serverOpts = { listenOptions: { host: "127.0.0.1", port: opts.port || 0 } };
if (opts.sharedKey) {
  serverOpts.security = {
    serverHostname: "tasklog-test-server",
    sharedKey: opts.sharedKey,
    authorize: !!opts.users,
    userDict: opts.users || {},
  };
}
if (opts.tls) {
  serverOpts.tlsOptions = { key: opts.tls.key, cert: opts.tls.cert };
}
const server = new FluentServer(serverOpts);
server.on("entry", (tag, time, record) => {
  const sec = typeof time === "number" ? time : time.epoch;
  const nsec = typeof time === "number" ? 0 : time.nano;
  const rec = {};
  for (const [k, v] of Object.entries(record)) {
    rec[k] = typeof v === "bigint" ? v.toString() : v;
  }
  process.stdout.write(JSON.stringify({ tag, sec, nsec, record: rec }) + "\n");
});
server.listen().then(() => {
  process.stdout.write("PORT " + server.port + "\n");
});
process.stdin.on("end", () => server.close().then(() => process.exit(0)));
process.stdin.resume();
