package driver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
)

// A real systemd-journald, in a namespace of the test's own (its socket
// under /run/systemd/journal.<ns>), receives every field of every record,
// a record too large for one datagram included (the memfd path), and
// journalctl reads them back.
func TestJournaldReceivesEveryField(t *testing.T) {
	journald := needTool(t, "systemd-journald", "/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald")
	journalctl := needTool(t, "journalctl")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("journald needs root")
		}
		t.Skip("journald needs root")
	}
	ns := fmt.Sprintf("tasklogtest%d", os.Getpid())
	cmd := exec.Command(journald, ns)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	machineID, _ := os.ReadFile("/etc/machine-id")
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll("/run/systemd/journal." + ns)
		os.RemoveAll(filepath.Join("/var/log/journal", strings.TrimSpace(string(machineID))+"."+ns))
		os.RemoveAll(filepath.Join("/run/log/journal", strings.TrimSpace(string(machineID))+"."+ns))
	})
	sock := "/run/systemd/journal." + ns + "/socket"
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journald did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	big := hostileRecord()
	big.Detail.(*tasklog.HTTPForward).UserAgent = strings.Repeat("big agent ", 40000) // 400 KB: no datagram holds it
	multi := record()
	multi.User = "two\nlines"
	recs := []*tasklog.TaskLog{record(), hostileRecord(), multi, big}
	core := NewJournal(JournalConfig{Ident: "g3proxy", Path: sock}, Options{})
	for _, rec := range recs {
		logRecord(t, core, "closed by client", rec)
	}
	core.Close()
	if s := core.Stats(); s.Passed != uint64(len(recs)) {
		t.Fatalf("stats %+v", s)
	}

	var got []map[string]any
	for time.Now().Before(deadline.Add(5 * time.Second)) {
		raw, err := exec.Command(journalctl, "--namespace="+ns, "--all", "-o", "json", "--no-pager", "SYSLOG_IDENTIFIER=g3proxy").Output()
		if err != nil {
			t.Fatalf("journalctl: %v", err)
		}
		got = got[:0]
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 4<<20), 4<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if len(got) >= len(recs) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != len(recs) {
		t.Fatalf("journalctl shows %d records, want %d", len(got), len(recs))
	}
	for i, rec := range recs {
		m := got[i]
		if m["PRIORITY"] != "5" || m["MESSAGE"] != "closed by client" {
			t.Errorf("record %d: PRIORITY %v MESSAGE %v", i, m["PRIORITY"], m["MESSAGE"])
		}
		for k, w := range wantValues(t, rec) {
			key, _ := journalKey(k)
			if fmt.Sprint(m[key]) != w {
				t.Errorf("record %d: %s = %.80v, want %.80s", i, key, m[key], w)
			}
		}
	}
}

// A journald that stops reading costs each record at most WriteTimeout,
// and a closed journal driver never opens its socket again: what is
// logged after Close is counted as closed, and no goroutine or socket is
// left behind.
func TestJournalWriteTimeoutAndNoReopen(t *testing.T) {
	noLeak(t)
	path := filepath.Join(t.TempDir(), "journal.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // never read
	core := NewJournal(JournalConfig{Path: path, WriteTimeout: 20 * time.Millisecond},
		Options{ErrorOutput: discardErrors, CloseTimeout: time.Second})
	logger := zap.New(core)
	for i := 0; i < 1000; i++ {
		logger.Info("m", tasklog.Field(record()))
	}
	time.Sleep(500 * time.Millisecond)
	core.Close()
	// Without a write timeout the writer would block on the first send
	// the full socket refuses, and Close would count everything after it
	// as closed; with one, those sends fail and count as unreachable.
	s := core.Stats()
	if s.DropPeerUnreachable < 10 || s.Passed+s.Dropped() != s.Total {
		t.Errorf("stats %+v: want timed-out sends dropped and the counters balanced", s)
	}
	sink := core.q.sinks[0].(*journalSink)
	logger.Info("after close")
	if _, err := sink.socket(); err == nil {
		t.Error("the closed journal driver opened its socket again")
	}
	if after := core.Stats(); after.DropClosed != s.DropClosed+1 || after.Total != s.Total+1 {
		t.Errorf("stats %+v, then %+v: want the record after Close counted as closed", s, after)
	}
}

// A journald that restarts (its socket made anew at the same path) is
// reached again: the first send after the restart finds the connection
// refused, and the sink connects again and sends that record once more.
func TestJournalReconnectsAfterRestart(t *testing.T) {
	noLeak(t)
	path := filepath.Join(t.TempDir(), "journal.sock")
	listen := func() *net.UnixConn {
		l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	read := func(l *net.UnixConn, want string) {
		t.Helper()
		buf := make([]byte, 64<<10)
		_ = l.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := l.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(buf[:n]), "MESSAGE="+want+"\n") {
			t.Fatalf("received %q, want the record %q", buf[:n], want)
		}
	}
	l := listen()
	core := NewJournal(JournalConfig{Path: path}, Options{ErrorOutput: discardErrors})
	logger := zap.New(core)
	logger.Info("before")
	read(l, "before")
	l.Close() // journald stops, and a new one binds the path anew
	os.Remove(path)
	l = listen()
	defer l.Close()
	logger.Info("after")
	read(l, "after")
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	if s := core.Stats(); s.Passed != 2 || s.Dropped() != 0 {
		t.Errorf("stats %+v: want both records delivered", s)
	}
}
