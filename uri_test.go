package tasklog

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeURI(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		max  int
		want string
	}{
		{"plain", "http://example.com/a?b=c", 0, "http://example.com/a?b=c"},
		{"password", "http://bob:s3cret@h/", 0, "http://bob:xyz@h/"},
		{"g3 test", "https://a:b@example.com/a?b=c", 0, "https://a:xyz@example.com/a?b=c"},
		{"user only", "http://bob@h/x", 0, "http://bob@h/x"},
		{"empty password", "http://bob:@h/", 0, "http://bob:xyz@h/"},
		{"colon in password", "ftp://u:p:q@h:21/f", 0, "ftp://u:xyz@h:21/f"},
		{"at in path only", "http://h/a:b@c", 0, "http://h/a:b@c"},
		{"at in query only", "http://h?x=a:b@c", 0, "http://h/?x=a:b@c"},
		// g3 logs the parsed http::Uri: an empty path is "/", the http(s)
		// scheme lower case, the fragment gone.
		{"empty path", "http://h", 0, "http://h/"},
		{"empty path before query", "https://u:p@h:8443?q", 0, "https://u:xyz@h:8443/?q"},
		{"upper-case scheme", "HTTP://H.example/P", 0, "http://H.example/P"},
		{"mixed-case https", "hTTpS://h/", 0, "https://h/"},
		{"other scheme keeps its case", "FTP://h/x", 0, "FTP://h/x"},
		{"fragment dropped", "http://h/p?q=1#frag", 0, "http://h/p?q=1"},
		{"fragment after authority", "http://h#frag", 0, "http://h/"},
		{"fragment in origin form", "/p#x", 0, "/p"},
		{"slash counts toward the limit", "http://h", 8, "http://h"},
		{"slash fits the limit", "http://h", 9, "http://h/"},
		{"authority form has no path", "example.com:443", 0, "example.com:443"},
		{"port no userinfo", "http://h:8080/p", 0, "http://h:8080/p"},
		{"authority form", "u:pw@example.com:443", 0, "u:xyz@example.com:443"},
		{"origin form", "/a:b@c", 0, "/a:b@c"},
		{"control bytes", "http://h/a\x01b\x7fc\nd", 0, "http://h/a%01b%7Fc%0Ad"},
		{"invalid utf8", "http://h/\xff\xfe", 0, "http://h/%FF%FE"},
		{"truncated utf8", "http://h/\xe2\x82", 0, "http://h/%E2%82"},
		{"non-ascii stays", "http://h/日本?q=é", 0, "http://h/日本?q=é"},
		{"percent stays", "http://h/a%20b", 0, "http://h/a%20b"},
		{"limit in chars", "http://h/日本語", 11, "http://h/日本"},
		{"limit exact", "abcdef", 6, "abcdef"},
		{"limit cuts", "abcdef", 4, "abcd"},
		{"escape never split", "ab\x01cd", 4, "ab"},
		{"escape fits", "ab\x01cd", 5, "ab%01"},
		{"mask cut", "http://bob:pw@h/", 12, "http://bob:x"},
		{"negative is default", "abc", -1, "abc"},
		{"empty", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeURI(tt.raw, tt.max); got != tt.want {
				t.Errorf("SanitizeURI(%q, %d) = %q, want %q", tt.raw, tt.max, got, tt.want)
			}
			if got := string(AppendSanitizedURI([]byte("k="), tt.raw, tt.max)); got != "k="+tt.want {
				t.Errorf("AppendSanitizedURI(k=, %q, %d) = %q", tt.raw, tt.max, got)
			}
		})
	}
}

func TestSanitizeURIDefaultLimit(t *testing.T) {
	// 1024 characters by default, counted in code points, not bytes.
	raw := "http://h/" + strings.Repeat("é", 2000)
	got := SanitizeURI(raw, 0)
	if n := utf8.RuneCountInString(got); n != DefaultURIMaxChars {
		t.Errorf("default limit kept %d characters, want %d", n, DefaultURIMaxChars)
	}
	if !strings.HasPrefix(raw, got) {
		t.Errorf("the cut URI is not a prefix of the original")
	}
	short := "http://h/" + strings.Repeat("é", DefaultURIMaxChars-len("http://h/"))
	if got := SanitizeURI(short, 0); got != short {
		t.Errorf("a URI of exactly %d characters was changed", DefaultURIMaxChars)
	}
	if got := SanitizeURI(raw, 3000); got != raw {
		t.Errorf("URIMaxChars 3000 cut a %d-character URI", utf8.RuneCountInString(raw))
	}
}

func FuzzSanitizeURI(f *testing.F) {
	f.Add("http://bob:s3cret@h/", "s3cret", 0)
	f.Add("https://a:b@example.com/a?b=c", "b", 10)
	f.Add("u:pw@example.com:443", "pw", 5)
	f.Add("http://h/\x00\xff日本", "", 3)
	f.Fuzz(func(t *testing.T, prefix, password string, max int) {
		// A password is userinfo text: printable, and without the bytes that
		// end the userinfo ('/', '?', '#', '@'), which arrive percent-encoded.
		password = strings.Map(func(r rune) rune {
			if r <= ' ' || r >= 0x7f || strings.ContainsRune("/?#@%", r) {
				return 'p'
			}
			return r
		}, password)
		raw := "http://user:" + password + "@host/" + prefix
		got := SanitizeURI(raw, max)
		limit := max
		if limit <= 0 {
			limit = DefaultURIMaxChars
		}
		if !utf8.ValidString(got) {
			t.Fatalf("SanitizeURI(%q) = %q: not valid UTF-8", raw, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("SanitizeURI(%q) = %q: control character %U", raw, got, r)
			}
		}
		if n := utf8.RuneCountInString(got); n > limit {
			t.Fatalf("SanitizeURI(%q, %d) has %d characters", raw, max, n)
		}
		// The mask stands where the password stood, and the password itself
		// appears nowhere (unless the rest of the URI happens to hold it).
		masked := "http://user:xyz@host/"
		if n := min(len(got), len(masked)); got[:n] != masked[:n] {
			t.Fatalf("SanitizeURI(%q) = %q: want it to start with %q", raw, got, masked)
		}
		if len(password) >= 4 && !strings.Contains(masked+SanitizeURI("/"+prefix, 1<<30), password) && strings.Contains(got, password) {
			t.Fatalf("SanitizeURI(%q) = %q: the password shows", raw, got)
		}
		// Arbitrary input never panics and respects the limit too.
		any := SanitizeURI(prefix+password, max)
		if n := utf8.RuneCountInString(any); n > limit || !utf8.ValidString(any) {
			t.Fatalf("SanitizeURI(%q, %d) = %q", prefix+password, max, any)
		}
	})
}
