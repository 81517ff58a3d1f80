package processtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// straceSyscalls are the system calls the durability tests trace: the file's writes, fsyncs
// and renames, the directories made on the way, and the writes that answer (to a socket or
// to stdout). A leading "?" lets strace accept a name the machine's architecture lacks
// (arm64 has no rename or mkdir).
const straceSyscalls = "fsync,fdatasync,?rename,renameat,?renameat2,openat,?mkdir,mkdirat,write,pwrite64,sendto,sendmsg,writev"

// straceCommand is the command prefix that runs a process under strace, following its
// threads (-f, lines start with the thread id), writing to out with every file descriptor
// named by its path or socket addresses (-yy) and enough of each buffer (-s) to hold an
// HTTP status line and headers.
func straceCommand(t *testing.T, out string) []string {
	t.Helper()
	path, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("strace is not installed (%v): the durability tests read the system calls of the "+
			"citytwin process with it; install the Debian package strace (apt-get install strace)", err)
	}
	return []string{path, "-f", "-yy", "-s", "4096", "-e", "trace=" + straceSyscalls, "-o", out}
}

// syscallEvent is one traced system call, its entry and its return joined when strace
// printed them apart (<unfinished ...> then <... name resumed>).
type syscallEvent struct {
	pid   int
	name  string
	args  []string // the arguments as strace prints them, trimmed
	ret   string   // what it returned, as printed: "0", "-1 ENOENT (No such file...)", "?"
	start int      // the line (from 1) where the call was entered
	end   int      // the line where it returned; every line before it was printed first
}

// ok reports whether the call succeeded.
func (e *syscallEvent) ok() bool {
	return e.ret != "" && !strings.HasPrefix(e.ret, "?") && !strings.HasPrefix(e.ret, "-1")
}

// fdPath is what strace -yy shows of the file descriptor in argument i: a path, or
// "TCP:[local->remote]" for a socket; "" when there is no such annotation.
func (e *syscallEvent) fdPath(i int) string {
	if i >= len(e.args) {
		return ""
	}
	a := e.args[i]
	open, close := strings.IndexByte(a, '<'), strings.LastIndexByte(a, '>')
	if open < 0 || close < open {
		return ""
	}
	return a[open+1 : close]
}

// fd is the file descriptor number in argument i, -1 when it is none.
func (e *syscallEvent) fd(i int) int {
	if i >= len(e.args) {
		return -1
	}
	n, err := strconv.Atoi(strings.SplitN(e.args[i], "<", 2)[0])
	if err != nil {
		return -1
	}
	return n
}

// pathAt is the path in argument i, made absolute with the directory of the file descriptor
// in argument dirfd when it is relative (dirfd < 0: no such argument).
func (e *syscallEvent) pathAt(dirfd, i int) string {
	if i >= len(e.args) {
		return ""
	}
	p, _ := unquoteStrace(e.args[i])
	if dirfd >= 0 && !filepath.IsAbs(p) {
		p = filepath.Join(e.fdPath(dirfd), p)
	}
	return filepath.Clean(p)
}

// firstString is the first quoted string in the arguments (the data of a write, the first
// iov_base of a writev), decoded; "" when there is none.
func (e *syscallEvent) firstString() string {
	for _, a := range e.args {
		if i := strings.IndexByte(a, '"'); i >= 0 {
			s, _ := unquoteStrace(a[i:])
			return s
		}
	}
	return ""
}

// renamed returns where a rename, renameat or renameat2 moved a file from and to.
func (e *syscallEvent) renamed() (from, to string, ok bool) {
	switch e.name {
	case "rename":
		return e.pathAt(-1, 0), e.pathAt(-1, 1), true
	case "renameat", "renameat2":
		return e.pathAt(0, 1), e.pathAt(2, 3), true
	}
	return "", "", false
}

// madeDir returns the directory a mkdir or mkdirat made.
func (e *syscallEvent) madeDir() (string, bool) {
	switch e.name {
	case "mkdir":
		return e.pathAt(-1, 0), true
	case "mkdirat":
		return e.pathAt(0, 1), true
	}
	return "", false
}

// isSync reports whether the call is an fsync or fdatasync.
func (e *syscallEvent) isSync() bool { return e.name == "fsync" || e.name == "fdatasync" }

// isSend reports whether the call writes bytes to a file descriptor (a file, a pipe, a socket).
func (e *syscallEvent) isSend() bool {
	switch e.name {
	case "write", "pwrite64", "writev", "sendto", "sendmsg":
		return true
	}
	return false
}

// readTrace reads a strace -f output file.
func readTrace(path string) ([]*syscallEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the trace: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the trace %s: %w", path, err)
	}
	return parseTrace(lines)
}

// parseTrace turns the lines of strace -f output into system calls, in the order they
// returned. Signals, exits and calls that never returned (the process was killed in them)
// are left out.
func parseTrace(lines []string) ([]*syscallEvent, error) {
	type pending struct {
		name, text string
		start      int
	}
	unfinished := map[int]pending{} // by thread: a call entered and not yet returned
	var out []*syscallEvent
	for i, line := range lines {
		n := i + 1
		pid, rest := splitPID(line)
		var name, text string
		start := n
		switch {
		case strings.HasPrefix(rest, "<... "):
			var ok bool
			name, text, ok = strings.Cut(strings.TrimPrefix(rest, "<... "), " resumed>")
			if !ok {
				return nil, fmt.Errorf("trace line %d: %q resumes no call", n, line)
			}
			p, ok := unfinished[pid]
			if !ok || p.name != name {
				return nil, fmt.Errorf("trace line %d: %q resumes a %s that thread %d did not start", n, line, name, pid)
			}
			delete(unfinished, pid)
			text, start = p.text+text, p.start
		case strings.HasPrefix(rest, "---"), strings.HasPrefix(rest, "+++"), rest == "":
			continue // a signal, an exit
		default:
			var ok bool
			name, text, ok = strings.Cut(rest, "(")
			if !ok || !isSyscallName(name) {
				return nil, fmt.Errorf("trace line %d: %q is no system call", n, line)
			}
			if head, ok := strings.CutSuffix(text, " <unfinished ...>"); ok {
				unfinished[pid] = pending{name: name, text: head, start: n}
				continue
			}
		}
		args, after, err := splitArgs(text)
		if err != nil {
			return nil, fmt.Errorf("trace line %d: %q: %w", n, line, err)
		}
		ret, ok := strings.CutPrefix(strings.TrimSpace(after), "= ")
		if !ok {
			return nil, fmt.Errorf("trace line %d: %q has no return value", n, line)
		}
		out = append(out, &syscallEvent{pid: pid, name: name, args: args, ret: strings.TrimSpace(ret), start: start, end: n})
	}
	return out, nil
}

// splitPID takes the thread id off a line: "123 ..." (strace -f -o) or "[pid 123] ...".
func splitPID(line string) (int, string) {
	s := strings.TrimPrefix(line, "[pid ")
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits == 0 {
		return 0, line
	}
	pid, _ := strconv.Atoi(s[:digits])
	return pid, strings.TrimLeft(strings.TrimPrefix(s[digits:], "]"), " ")
}

func isSyscallName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// splitArgs splits the text after a call's "(" into its top-level arguments and what follows
// the closing ")". Commas and parentheses inside quoted strings, structures ({...}), arrays
// ([...]) and -yy annotations (<...>, which hold "->" in socket addresses) do not count.
func splitArgs(text string) (args []string, after string, err error) {
	depth, from := 0, 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case '<':
			brackets := 0
			for i++; i < len(text) && (text[i] != '>' || brackets > 0); i++ {
				switch text[i] {
				case '[':
					brackets++
				case ']':
					brackets--
				}
			}
		case '(', '[', '{':
			depth++
		case ']', '}':
			depth--
		case ')':
			if depth == 0 {
				if last := strings.TrimSpace(text[from:i]); last != "" || len(args) > 0 {
					args = append(args, last)
				}
				return args, text[i+1:], nil
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(text[from:i]))
				from = i + 1
			}
		}
	}
	return nil, "", fmt.Errorf("no closing parenthesis")
}

// unquoteStrace decodes the C-style quoted string at the start of s, as strace prints it
// (a truncated one is followed by "..."); ok is false when s starts with no string.
func unquoteStrace(s string) (string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			return b.String(), true
		}
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteByte(e)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 8)
			b.WriteByte(byte(v))
			i = j - 1
		default: // \" \\ and the like
			b.WriteByte(e)
		}
	}
	return b.String(), false
}

// childPID is the process id of parent's child (the program strace runs), 0 when it has none.
func childPID(parent int) (int, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(parent) {
			return strconv.Atoi(filepath.Base(filepath.Dir(p)))
		}
	}
	return 0, nil
}

// TestDurabilityTraceParsing reads strace -f -yy lines of the shapes the durability test
// meets: calls of two threads interleaved, one cut by the other (<unfinished ...> then
// <... resumed>), socket annotations holding "->", strings holding "), " and escapes,
// paths relative to a directory descriptor, signals and exits.
func TestDurabilityTraceParsing(t *testing.T) {
	lines := []string{
		`101 openat(AT_FDCWD</srv>, "d/.tmp-a.json-1", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 5</srv/d/.tmp-a.json-1>`,
		`101 fsync(5</srv/d/.tmp-a.json-1> <unfinished ...>`,
		`102 write(8<TCP:[127.0.0.1:80->127.0.0.1:4242]>, "HTTP/1.1 201 Created\r\nX: a), b\"\x41\101\r\n"..., 300 <unfinished ...>`,
		`101 <... fsync resumed>)              = 0`,
		`101 --- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=100, si_uid=0} ---`,
		`101 renameat(AT_FDCWD</srv>, "d/.tmp-a.json-1", AT_FDCWD</srv>, "d/a.json") = 0`,
		`102 <... write resumed>)              = 300`,
		`[pid 103] mkdirat(AT_FDCWD</srv>, "/srv/e", 0755) = -1 EEXIST (File exists)`,
		`101 +++ exited with 0 +++`,
	}
	events, err := parseTrace(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("%d calls, want openat, fsync, renameat, write, mkdirat", len(events))
	}
	open, sync, rename, write, mkdir := events[0], events[1], events[2], events[3], events[4]
	from, to, _ := rename.renamed()
	tests := []struct {
		name      string
		got, want any
	}{
		{"the opened file's descriptor is named by its path", open.ret, "5</srv/d/.tmp-a.json-1>"},
		{"a call cut by another thread starts at its entry line", sync.start, 2},
		{"and ends at its resumed line", sync.end, 4},
		{"the fsync's descriptor is named by its path", sync.fdPath(0), "/srv/d/.tmp-a.json-1"},
		{"the resumed fsync returned 0", sync.ok(), true},
		{"a rename is ordered after the fsync that returned before it", rename.start > sync.end, true},
		{"a relative rename source is resolved against its directory descriptor", from + " -> " + to, "/srv/d/.tmp-a.json-1 -> /srv/d/a.json"},
		{"the write's socket annotation keeps its arrow", write.fdPath(0), "TCP:[127.0.0.1:80->127.0.0.1:4242]"},
		{"the write has three arguments despite the commas in its data", len(write.args), 3},
		{"the written data is decoded, escapes and all", write.firstString(), "HTTP/1.1 201 Created\r\nX: a), b\"AA\r\n"},
		{"the write was entered before the fsync returned", write.start, 3},
		{"a [pid N] prefix gives the thread", mkdir.pid, 103},
		{"a failed mkdirat did not succeed", mkdir.ok(), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
