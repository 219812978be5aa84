package main

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestDropTornLine: opening an alerts file cuts an incomplete last line
// (a write a crash or a full disk interrupted) and keeps whole lines.
func TestDropTornLine(t *testing.T) {
	long := make([]byte, 200<<10) // a torn line longer than one read
	for i := range long {
		long[i] = 'x'
	}
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"whole", "{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}\n{\"a\":2}\n"},
		{"torn", "{\"a\":1}\n{\"a\":", "{\"a\":1}\n"},
		{"only torn", "{\"a\":", ""},
		{"long torn", "{\"a\":1}\n" + string(long), "{\"a\":1}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "alerts.jsonl")
			writeFile(t, path, []byte(c.in))
			s, err := openFileSink(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.write([]byte("{\"a\":3}\n")); err != nil {
				t.Fatal(err)
			}
			if err := s.close(); err != nil {
				t.Fatal(err)
			}
			if got := readFileString(t, path); got != c.want+"{\"a\":3}\n" {
				t.Errorf("got %q, want %q", got, c.want+"{\"a\":3}\n")
			}
		})
	}
}

// failingWriter accepts room bytes, then fails until it is given more.
type failingWriter struct {
	got  []byte
	room int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.room-len(w.got))
	w.got = append(w.got, p[:n]...)
	if n < len(p) {
		return n, errors.New("file too large")
	}
	return n, nil
}

// TestRetryBuffer: a flush that fails part-way keeps the rest, and the
// next flush, once there is room, writes it: nothing lost or repeated.
func TestRetryBuffer(t *testing.T) {
	w := &failingWriter{room: 5}
	b := newRetryBuffer(w, 8)
	if _, err := b.Write([]byte("abc\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("defg\n")); err == nil {
		t.Fatal("no error from a write whose flush failed")
	}
	if err := b.Flush(); err == nil {
		t.Fatal("no error from a flush without room")
	}
	w.room = 100
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if string(w.got) != "abc\ndefg\n" {
		t.Errorf("got %q", w.got)
	}
}
