package driver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap/zapcore"
)

// DefaultJournalPath is systemd-journald's native protocol socket.
const DefaultJournalPath = "/run/systemd/journal/socket"

// JournalConfig configures [NewJournal].
type JournalConfig struct {
	// Ident is SYSLOG_IDENTIFIER; default: the name of this program
	// (g3proxy's is "g3proxy").
	Ident string
	// Path is journald's socket; default DefaultJournalPath. Tests point
	// it at a socket of their own.
	Path string
	// WriteTimeout bounds one send, as the syslog driver's does: a
	// journald that stops reading fills its socket's queue, and a send
	// that waits longer drops its record (DropPeerUnreachable). Default
	// 1s.
	WriteTimeout time.Duration
}

// NewJournal returns a Core that sends each entry to systemd-journald over
// its native protocol, as g3proxy's journal driver does (lib/g3-journal):
// one datagram of fields, PRIORITY ("5" for info, g3's notice),
// SYSLOG_IDENTIFIER, then every key upper-cased (characters other than
// letters and digits become '_'; a key that does not start with a letter
// or is longer than 64 bytes is left out) and MESSAGE last. A value with a
// newline uses the binary-safe form (KEY, newline, 64-bit little-endian
// length, value, newline). A record too large for one datagram goes in a
// sealed memfd passed with SCM_RIGHTS, as journald expects. Unset keys are
// left out; in a key's value, a byte that is not part of valid UTF-8 is
// sent as U+FFFD (g3's Rust strings cannot hold one).
func NewJournal(cfg JournalConfig, opts Options) *Core {
	if cfg.Ident == "" {
		cfg.Ident = programName()
	}
	if cfg.Path == "" {
		cfg.Path = DefaultJournalPath
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Second
	}
	f := newJournalFormatter(cfg.Ident)
	return newCore("journal", f, opts, func(q *queue) sink {
		return &journalSink{cfg: cfg, q: q, addr: &net.UnixAddr{Name: cfg.Path, Net: "unixgram"}}
	})
}

func newJournalFormatter(ident string) *journalFormatter {
	return &journalFormatter{ident: ident, text: newJournalText(fastLines{})}
}

type journalFormatter struct {
	snapshotsAll
	kvLines
	ident string
	kv    kvFormatter
	text  taskText // the straight-line writer of kvLines' context
}

func (f *journalFormatter) with(fields []zapcore.Field) formatter {
	l := f.kvLines.with(fields)
	return &journalFormatter{ident: f.ident, kv: f.kv.withCtx(fields), kvLines: l, text: newJournalText(l.lines)}
}

// render is the deferred path's writer half (see lineFormatter and
// kvLines); the line is in g3's order, as collectG3's pairs.
func (f *journalFormatter) render(b []byte, ent *zapcore.Entry, line []byte, _ *[]byte) ([]byte, bool) {
	return renderPairs(b, ent, line, f.appendPairs)
}

// format writes one finished task record straight from the record
// (taskText), any other entry from its collected pairs.
func (f *journalFormatter) format(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	if tk, ok := f.text.entry(fields); ok {
		b = f.text.write(f.head(b, &ent), tk)
		return appendJournalField(b, "MESSAGE", ent.Message), nil
	}
	e := f.kv.collectG3(fields)
	defer putKV(e)
	return f.appendPairs(b, &ent, e), nil
}

// appendPairs appends the record of ent and e's pairs, in their order.
func (f *journalFormatter) appendPairs(b []byte, ent *zapcore.Entry, e *kvEncoder) []byte {
	b = appendJournalPairs(f.head(b, ent), e)
	return appendJournalField(b, "MESSAGE", ent.Message)
}

// head appends the fields before the keys.
func (f *journalFormatter) head(b []byte, ent *zapcore.Entry) []byte {
	b = append(b, "PRIORITY="...)
	b = append(b, byte('0'+severity(ent.Level)), '\n')
	return appendJournalField(b, "SYSLOG_IDENTIFIER", f.ident)
}

// appendJournalPairs appends e's pairs as fields, in their order.
func appendJournalPairs(b []byte, e *kvEncoder) []byte {
	names := e.journalNames()
	for i := range e.pairs {
		p := &e.pairs[i]
		key := names[i]
		if p.kind == kindNone || key == "" {
			continue
		}
		if p.kind == kindStr {
			b = appendJournalValue(append(b, key...), p.s, true)
			continue
		}
		e.scratch, _ = p.text(e.scratch[:0])
		b = appendJournalField(b, key, unsafe.String(unsafe.SliceData(e.scratch), len(e.scratch)))
	}
	return b
}

// journalNames returns the journal field name of each of e.pairs, "" for
// a key the journal leaves out: the last record's names when its keys were
// the same (records of one kind are), else looked up in the cache below.
func (e *kvEncoder) journalNames() []string {
	if len(e.nameKeys) == len(e.pairs) {
		same := true
		for i := range e.pairs {
			if e.nameKeys[i] != e.pairs[i].key {
				same = false
				break
			}
		}
		if same {
			return e.names
		}
	}
	e.names = e.names[:0]
	for i := range e.pairs {
		name, ok := cachedJournalKey(e.pairs[i].key)
		if !ok {
			name = ""
		}
		e.names = append(e.names, name)
	}
	e.nameKeys = ownKeys(e.nameKeys, &e.nameArena, len(e.pairs), func(i int) string { return e.pairs[i].key })
	return e.names
}

// journalKeys caches cleaned keys: a record's keys are a small fixed set.
// Readers load the map without a lock (looking a string up allocates
// nothing); a new key copies it. It stops growing at a bound, for
// programs that log unbounded key names.
var (
	journalKeys   atomic.Pointer[map[string]string] // "" when the key is left out
	journalKeysMu sync.Mutex
)

func cachedJournalKey(k string) (string, bool) {
	if m := journalKeys.Load(); m != nil {
		if s, ok := (*m)[k]; ok {
			return s, s != ""
		}
	}
	s, ok := journalKey(k)
	journalKeysMu.Lock()
	defer journalKeysMu.Unlock()
	old := journalKeys.Load()
	if old == nil || len(*old) < 4096 {
		m := make(map[string]string, 64)
		if old != nil {
			for k, v := range *old {
				m[k] = v
			}
		}
		m[strings.Clone(k)] = s // k may be a view of a record's bytes
		journalKeys.Store(&m)
	}
	return s, ok
}

// appendJournalField appends KEY=value\n, or the binary-safe form when the
// value holds a newline.
func appendJournalField(b []byte, key string, v string) []byte {
	return appendJournalValue(append(b, key...), v, false)
}

// appendJournalValue appends what follows a field's name for the value v:
// =value\n, or the binary-safe form when v holds a newline (a newline,
// the value's 64-bit little-endian length, the value, a newline). With
// fix, each byte of v that is not part of valid UTF-8 goes as U+FFFD.
func appendJournalValue(b []byte, v string, fix bool) []byte {
	at := -1 // where the binary-safe form's length goes
	if strings.IndexByte(v, '\n') >= 0 {
		b = append(b, '\n')
		at = len(b)
		b = binary.LittleEndian.AppendUint64(b, 0)
	} else {
		b = append(b, '=')
	}
	start := len(b)
	if fix && !utf8.ValidString(v) {
		b = appendValidUTF8(b, v)
	} else {
		b = append(b, v...)
	}
	if at >= 0 {
		binary.LittleEndian.PutUint64(b[at:], uint64(len(b)-start))
	}
	return append(b, '\n')
}

// journalKey cleans a key as g3 does: it must start with an ASCII letter
// and be at most 64 bytes; letters are upper-cased, digits kept, anything
// else becomes '_'.
func journalKey(s string) (string, bool) {
	if s == "" || len(s) > 64 || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return "", false
	}
	var k strings.Builder
	k.Grow(len(s))
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			k.WriteRune(r)
		case 'a' <= r && r <= 'z':
			k.WriteRune(r - 'a' + 'A')
		default:
			k.WriteByte('_')
		}
	}
	return k.String(), true
}

// journalSink sends datagrams on a unix socket connected to journald's
// path. A connected socket lets a full journald hold the writer back (the
// kernel wakes it when journald has read); an unconnected one reports
// itself writable while journald's queue is full, and the writer spun,
// taking the cores journald needed. When journald restarts, the next
// send finds the connection refused: the sink connects again and sends
// the record once more.
type journalSink struct {
	cfg   JournalConfig
	q     *queue
	addr  *net.UnixAddr // journald's socket, made once
	batch batchSender   // the writer goroutine's own

	mu     sync.Mutex
	conn   *net.UnixConn
	closed bool // once closed, the socket is never opened again
}

func (s *journalSink) socket() (*net.UnixConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, net.ErrClosed
	}
	if s.conn == nil {
		c, err := net.DialUnix("unixgram", nil, s.addr)
		if err != nil {
			return nil, err
		}
		s.conn = c
	}
	return s.conn, nil
}

// lost forgets the connection c after journald went away, so that the
// next socket call connects again.
func (s *journalSink) lost(c *net.UnixConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == c {
		s.conn.Close()
		s.conn = nil
	}
}

// connectionLost reports whether err says the socket's peer is gone
// (journald stopped or restarted), rather than busy or refusing a record.
func connectionLost(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTCONN) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// deliverBatch sends the records that waited together with one sendmmsg
// call where the system has it, as many as journald's socket takes; a
// record that cannot go (too large for a datagram: it goes in a memfd)
// takes the one-record path, which tells why and counts it.
func (s *journalSink) deliverBatch(recs [][]byte) {
	sendBatch(recs, s, s.q, &s.batch, s.cfg.WriteTimeout)
}

func (s *journalSink) batchConn() net.Conn {
	if c, err := s.socket(); err == nil {
		return c
	}
	return nil
}

func (s *journalSink) deliver(rec []byte) {
	if s.q.abandoned.Load() {
		return // Close has counted it
	}
	err := s.send(rec)
	if connectionLost(err) && !s.q.abandoned.Load() {
		err = s.send(rec) // once more, on a new connection
	}
	if err != nil {
		s.q.drop(dropPeerUnreachable, 1)
		s.q.report(err)
		return
	}
	s.q.pass(len(rec))
}

// send sends one record: as a datagram, or when it is too large for one,
// in a memfd. A lost connection is forgotten, for the next send.
func (s *journalSink) send(rec []byte) error {
	c, err := s.socket()
	if err != nil {
		return err
	}
	_ = c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	_, err = c.Write(rec)
	if errors.Is(err, syscall.EMSGSIZE) || errors.Is(err, syscall.ENOBUFS) {
		err = sendMemfd(c, rec)
	}
	if connectionLost(err) {
		s.lost(c)
	}
	return err
}

func (s *journalSink) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// sendMemfd writes rec to a sealed memfd and passes it to journald, the
// native protocol's way for records larger than a datagram.
func sendMemfd(c *net.UnixConn, rec []byte) error {
	if sysMemfdCreate == 0 {
		return errors.New("memfd_create is not available here; the record is too large for one datagram")
	}
	name, _ := syscall.BytePtrFromString("journal-logging")
	const mfdAllowSealing = 0x2
	fd, _, errno := syscall.Syscall(sysMemfdCreate, uintptr(unsafe.Pointer(name)), mfdAllowSealing, 0)
	if errno != 0 {
		return fmt.Errorf("memfd_create: %w", errno)
	}
	f := os.NewFile(fd, "journal-logging")
	defer f.Close()
	if _, err := f.Write(rec); err != nil {
		return err
	}
	const fAddSeals, sealAll = 1033, 0x1 | 0x2 | 0x4 | 0x8 // F_SEAL_SEAL|SHRINK|GROW|WRITE
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fAddSeals, sealAll); errno != 0 {
		return fmt.Errorf("sealing the memfd: %w", errno)
	}
	return sendRights(c, syscall.UnixRights(int(fd)))
}

// sendRights sends a datagram of no bytes carrying oob (SCM_RIGHTS) on the
// connected socket c, within its write deadline. Go's WriteMsgUnix
// refuses a connected datagram socket.
func sendRights(c *net.UnixConn, oob []byte) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	werr := rc.Write(func(fd uintptr) bool {
		serr = syscall.Sendmsg(int(fd), nil, oob, nil, syscall.MSG_DONTWAIT)
		return serr != syscall.EAGAIN
	})
	if werr != nil {
		return werr
	}
	return serr
}
