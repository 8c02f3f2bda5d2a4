package benchmarks

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
)

// Drivers is the driver table: what one finished TcpConnect record costs
// the goroutine that logs it through each of tasklog's drivers
// (formatting it and handing it to the queue; the driver's writer
// goroutine delivers it), against the floor of tasklog.NewCore writing
// JSON to io.Discard on that goroutine. Every approach logs through
// tasklog.Log on a logger with tasklog.LoggerFields. The receivers are
// real sockets on this machine, drained by goroutines of this process.
// Close stops the drivers and the receivers.
type Drivers struct {
	Approaches []Approach

	burst   int // see NewDrivers
	cores   []*driver.Core
	closers []io.Closer
	dir     string
}

// NewDrivers opens the receivers (unix datagram sockets in a temporary
// folder, a TCP listener on 127.0.0.1) the driver approaches log to.
//
// burst is how many records an approach logs before it waits for the
// drivers' writers to deliver them (Core.Sync; every approach, the floor
// included, waits alike): a proxy whose writers keep up, where Core.Write
// hands records over unformatted. At 0 it never waits, and a window's
// records (thousands) outrun the writers: once a quarter of the queue
// waits, Core.Write formats them itself for the drivers that send a
// record a system call (syslog, the journal).
func NewDrivers(burst int) (*Drivers, error) {
	if burst < 0 {
		return nil, fmt.Errorf("benchmarks: a burst of %d records", burst)
	}
	dir, err := os.MkdirTemp("", "tasklog-bench-")
	if err != nil {
		return nil, err
	}
	d := &Drivers{dir: dir, burst: burst}
	paths := map[string]string{}
	for _, name := range []string{"rfc3164", "cee", "rfc5424", "journal"} {
		paths[name] = filepath.Join(dir, name)
		rc, err := unixgramReceiver(paths[name])
		if err != nil {
			d.Close()
			return nil, err
		}
		d.closers = append(d.closers, rc.closer)
	}
	rc, addr, err := tcpReceiver()
	if err != nil {
		d.Close()
		return nil, err
	}
	d.closers = append(d.closers, rc.closer)

	opts := driver.Options{ErrorOutput: zapcore.AddSync(io.Discard)}
	core := func(c *driver.Core, err error) zapcore.Core {
		if err != nil {
			panic(err) // the receivers above exist: only a bug gets here
		}
		d.cores = append(d.cores, c)
		return c
	}
	d.Approaches = []Approach{
		{Name: "floor: tasklog.NewCore, JSON to io.Discard", Make: d.logger(func() zapcore.Core {
			return tasklog.NewCore(tasklog.EncoderConfig(), zapcore.AddSync(io.Discard), zap.InfoLevel)
		})},
		{Name: "json to io.Discard", Make: d.logger(func() zapcore.Core { return core(driver.NewJSON(io.Discard, opts), nil) })},
		{Name: "stdout text to io.Discard", Make: d.logger(func() zapcore.Core { return core(driver.NewStdout(io.Discard, opts), nil) })},
		{Name: "syslog RFC 3164 text, unix", Make: d.logger(func() zapcore.Core {
			return core(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: paths["rfc3164"]}, opts))
		})},
		{Name: "syslog RFC 3164 CEE, unix", Make: d.logger(func() zapcore.Core {
			return core(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: paths["cee"], CEE: true}, opts))
		})},
		{Name: "syslog RFC 5424 structured data, unix", Make: d.logger(func() zapcore.Core {
			return core(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: paths["rfc5424"], RFC5424: true}, opts))
		})},
		{Name: "fluentd, TCP", Make: d.logger(func() zapcore.Core {
			return core(driver.NewFluentd(driver.FluentdConfig{Address: addr, Ident: "g3proxy"}, opts))
		})},
		{Name: "journal, unix", Make: d.logger(func() zapcore.Core {
			return core(driver.NewJournal(driver.JournalConfig{Ident: "g3proxy", Path: paths["journal"]}, opts), nil)
		})},
	}
	return d, nil
}

// logger makes an approach of a core: it logs through tasklog.Log, and
// waits for the core's writers after every d.burst records.
func (d *Drivers) logger(core func() zapcore.Core) func(*tasklog.TaskLog, io.Writer, zapcore.Clock) (func(int), func(int)) {
	burst := d.burst
	return func(rec *tasklog.TaskLog, _ io.Writer, clock zapcore.Clock) (func(int), func(int)) {
		c := core()
		l := zap.New(c, zap.WithClock(clock)).With(tasklog.LoggerFields("g3proxy")...)
		msg := rec.Reason.Text()
		// Each run starts with the driver's queue empty: the previous one's
		// records delivered, not waiting to be dropped in this one.
		setup := func(int) { _ = c.Sync() }
		return setup, func(n int) {
			for i := 1; i <= n; i++ {
				tasklog.Log(l, zap.InfoLevel, msg, rec)
				if burst > 0 && i%burst == 0 {
					_ = c.Sync()
				}
			}
		}
	}
}

// Stats sums the drivers' counters: records taken, and dropped (a
// dropped record cost the logging goroutine what a delivered one did).
func (d *Drivers) Stats() (total, dropped uint64) {
	for _, c := range d.cores {
		s := c.Stats()
		total += s.Total
		dropped += s.Dropped()
	}
	return total, dropped
}

// Close closes the drivers (which ends the TCP receiver's connection),
// then the receivers, and removes the folder.
func (d *Drivers) Close() error {
	var errs []error
	for _, c := range d.cores {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range d.closers {
		_ = c.Close()
	}
	if err := os.RemoveAll(d.dir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("benchmarks: closing the drivers: %v", errs)
	}
	return nil
}
