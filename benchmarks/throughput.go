package benchmarks

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
)

// ThroughputResult is one driver's delivery rate into a receiver that
// keeps up, beside one goroutine writing the same bytes straight to the
// same kind of socket or pipe, in rounds that take turns.
type ThroughputResult struct {
	Name     string
	Driver   float64 // median over the rounds of records a second the receiver got through the driver
	Straight float64 // median over the rounds of records a second the receiver got from the straight writer
	// Ratio is the median over the rounds of the driver's rate over the
	// straight writer's in the same round, Low and High their spread.
	Ratio, Low, High float64
	Dropped          uint64 // records the driver dropped (the ratio holds only at 0)
	DriverLost       int    // records the driver sent that never arrived (UDP; the ratio holds only at 0)
	Lost             int    // records the straight writer sent that never arrived (UDP)
}

// receiver drains one socket or pipe in this process and counts what
// arrives: datagrams, or for a stream bytes.
type receiver struct {
	dgrams, bytes atomic.Int64
	first         chan []byte // the first read, once
	once          sync.Once
	closer        io.Closer
}

func (r *receiver) drain(read func([]byte) (int, error)) {
	buf := make([]byte, 1<<20)
	for {
		n, err := read(buf)
		if err != nil {
			return
		}
		r.once.Do(func() { r.first <- append([]byte(nil), buf[:n]...) })
		r.dgrams.Add(1)
		r.bytes.Add(int64(n))
	}
}

func newReceiver() *receiver { return &receiver{first: make(chan []byte, 1)} }

// received is how many records of size bytes arrived (for a stream) or
// how many datagrams did.
func (r *receiver) received(stream bool, size int) int64 {
	if stream {
		return r.bytes.Load() / int64(size)
	}
	return r.dgrams.Load()
}

// transport is one driver and the kind of socket it writes to.
type transport struct {
	name   string
	stream bool
	// open starts a receiver, and returns the driver's core writing to
	// it and a straight writer's opener.
	open func(dir string) (core *driver.Core, rc *receiver, straight straightFunc, err error)
}

// straightFunc opens a receiver like the driver's and a writer to it; the
// func it returns closes both.
type straightFunc func() (io.Writer, *receiver, func(), error)

// dialStraight is a straightFunc for a socket: listen starts a receiver
// and returns its address, which the writer dials over network.
func dialStraight(network string, listen func() (*receiver, string, error)) straightFunc {
	return func() (io.Writer, *receiver, func(), error) {
		sr, addr, err := listen()
		if err != nil {
			return nil, nil, nil, err
		}
		c, err := net.Dial(network, addr)
		if err != nil {
			sr.closer.Close()
			return nil, nil, nil, err
		}
		return c, sr, func() { c.Close(); sr.closer.Close() }, nil
	}
}

func unixgramReceiver(path string) (*receiver, error) {
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	_ = l.SetReadBuffer(4 << 20)
	r := newReceiver()
	r.closer = l
	go r.drain(l.Read)
	return r, nil
}

func udpReceiver() (*receiver, string, error) {
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, "", err
	}
	_ = l.SetReadBuffer(4 << 20)
	r := newReceiver()
	r.closer = l
	go r.drainMany(l)
	return r, l.LocalAddr().String(), nil
}

func tcpReceiver() (*receiver, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	r := newReceiver()
	r.closer = l
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); r.drain(c.Read) }()
		}
	}()
	return r, l.Addr().String(), nil
}

func pipeReceiver() (*receiver, *os.File, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	r := newReceiver()
	r.closer = pr
	go r.drain(pr.Read)
	return r, pw, nil
}

func transports(opts driver.Options) []transport {
	unixgram := func(name string, cfg func(path string) (*driver.Core, error)) transport {
		return transport{name: name, open: func(parent string) (*driver.Core, *receiver, straightFunc, error) {
			dir, err := os.MkdirTemp(parent, "t")
			if err != nil {
				return nil, nil, nil, err
			}
			path := filepath.Join(dir, "d.sock")
			rc, err := unixgramReceiver(path)
			if err != nil {
				return nil, nil, nil, err
			}
			core, err := cfg(path)
			straight := dialStraight("unixgram", func() (*receiver, string, error) {
				spath := filepath.Join(dir, "s.sock")
				sr, err := unixgramReceiver(spath)
				return sr, spath, err
			})
			return core, rc, straight, err
		}}
	}
	return []transport{
		unixgram("syslog RFC 3164 text, unix", func(p string) (*driver.Core, error) {
			return driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: p}, opts)
		}),
		unixgram("syslog RFC 3164 CEE, unix", func(p string) (*driver.Core, error) {
			return driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: p, CEE: true}, opts)
		}),
		unixgram("journal, unix", func(p string) (*driver.Core, error) {
			return driver.NewJournal(driver.JournalConfig{Ident: "g3proxy", Path: p}, opts), nil
		}),
		{name: "syslog RFC 5424, UDP", open: func(string) (*driver.Core, *receiver, straightFunc, error) {
			rc, addr, err := udpReceiver()
			if err != nil {
				return nil, nil, nil, err
			}
			core, err := driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UDPAddr: addr, RFC5424: true}, opts)
			return core, rc, dialStraight("udp", udpReceiver), err
		}},
		{name: "fluentd, TCP", stream: true, open: func(string) (*driver.Core, *receiver, straightFunc, error) {
			rc, addr, err := tcpReceiver()
			if err != nil {
				return nil, nil, nil, err
			}
			core, err := driver.NewFluentd(driver.FluentdConfig{Address: addr, Ident: "g3proxy"}, opts)
			return core, rc, dialStraight("tcp", tcpReceiver), err
		}},
		{name: "stdout text, pipe", stream: true, open: func(string) (*driver.Core, *receiver, straightFunc, error) {
			rc, pw, err := pipeReceiver()
			if err != nil {
				return nil, nil, nil, err
			}
			rc.closer = closeBoth{rc.closer, pw}
			core := driver.NewStdout(pw, opts)
			straight := func() (io.Writer, *receiver, func(), error) {
				sr, spw, err := pipeReceiver()
				if err != nil {
					return nil, nil, nil, err
				}
				return spw, sr, func() { spw.Close(); sr.closer.Close() }, nil
			}
			return core, rc, straight, nil
		}},
	}
}

// closeBoth closes a pipe's two ends.
type closeBoth [2]io.Closer

func (c closeBoth) Close() error { return errors.Join(c[0].Close(), c[1].Close()) }

// waitFor waits until got() reaches want, or nothing has arrived for
// 200 ms; it returns when the last record arrived.
func waitFor(got func() int64, want int64, start time.Time) (int64, time.Duration) {
	last, lastAt := got(), time.Now()
	for last < want {
		time.Sleep(100 * time.Microsecond)
		if n := got(); n != last {
			last, lastAt = n, time.Now()
		} else if time.Since(lastAt) > 200*time.Millisecond {
			break
		}
	}
	return last, lastAt.Sub(start)
}

// Throughput logs n TcpConnect records through each driver from one
// goroutine, as fast as it can, into a receiver in this process that
// drains its socket or pipe, and measures records a second from the
// first record to the last one's arrival; then one goroutine writes the
// same record's bytes n times straight to a receiver of the same kind.
// The two take turns for the given rounds (the straight writer first in
// every other round), each round on the same driver and the same
// straight writer. The queue holds n records, so that a driver slower
// than the logging goroutine still drops nothing.
//
// The receiver stands for another process (rsyslog, fluentd, a
// collector), which the kernel schedules beside the logging process: the
// measurement runs with one more P than the machine has cores (see
// runtime.GOMAXPROCS), so that Go's scheduler never makes the receiver
// wait behind the logging goroutine and the writer. With as many Ps as
// cores, on two cores, the in-process UDP receiver waited for a P long
// enough that its socket buffer (about 3,600 records) overflowed, from a
// driver and from g3's one-datagram-a-call sending alike. The UDP
// receiver reads as rsyslog's imudp does, up to 32 datagrams a call.
func Throughput(n, rounds int) ([]ThroughputResult, error) {
	if n < 1 || rounds < 1 {
		return nil, fmt.Errorf("throughput: %d records in %d rounds: need at least one of each", n, rounds)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.NumCPU() + 1))
	dir, err := os.MkdirTemp("", "tasklog-throughput-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	opts := driver.Options{QueueSize: n + 1, ErrorOutput: zapcore.AddSync(io.Discard)}
	var out []ThroughputResult
	for _, tr := range transports(opts) {
		res, err := throughput(tr, dir, n, rounds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tr.name, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// throughput measures one transport (see Throughput).
func throughput(tr transport, dir string, n, rounds int) (ThroughputResult, error) {
	res := ThroughputResult{Name: tr.name}
	core, rc, straight, err := tr.open(dir)
	if err != nil {
		return res, err
	}
	defer rc.closer.Close()
	defer core.Close()
	logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
	rec := tcpRecord()
	msg := rec.Reason.Text()
	// One record first: its bytes, for the straight writer.
	tasklog.Log(logger, zap.InfoLevel, msg, rec)
	var one []byte
	select {
	case one = <-rc.first:
	case <-time.After(5 * time.Second):
		return res, errors.New("the first record never arrived")
	}
	w, sr, closeStraight, err := straight()
	if err != nil {
		return res, err
	}
	defer closeStraight()

	var drv, str, ratios []float64
	var got, sgot int64
	driverRound := func() float64 {
		base := rc.received(tr.stream, len(one))
		start := time.Now()
		for i := 0; i < n; i++ {
			tasklog.Log(logger, zap.InfoLevel, msg, rec)
		}
		g, took := waitFor(func() int64 { return rc.received(tr.stream, len(one)) - base }, int64(n), start)
		got += g
		return float64(g) / took.Seconds()
	}
	var werr error
	straightRound := func() float64 {
		base := sr.received(tr.stream, len(one))
		start := time.Now()
		for i := 0; i < n && werr == nil; i++ {
			_, werr = w.Write(one)
		}
		g, took := waitFor(func() int64 { return sr.received(tr.stream, len(one)) - base }, int64(n), start)
		sgot += g
		return float64(g) / took.Seconds()
	}
	for r := 0; r < rounds && werr == nil; r++ {
		var d, s float64
		if r%2 == 0 {
			d = driverRound()
			s = straightRound()
		} else {
			s = straightRound()
			d = driverRound()
		}
		drv, str, ratios = append(drv, d), append(str, s), append(ratios, d/s)
	}
	if werr != nil {
		return res, fmt.Errorf("straight writer: %w", werr)
	}
	_ = core.Close()
	st := core.Stats()
	total := int64(n) * int64(rounds)
	res.Driver, res.Straight = median(drv), median(str)
	res.Ratio = median(ratios)
	res.Low, res.High = minMax(ratios)
	res.Dropped = st.Dropped()
	res.DriverLost = int(total - got - int64(st.Dropped()))
	res.Lost = int(total - sgot)
	return res, nil
}
