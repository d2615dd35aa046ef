//go:build !tiny

package server

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	nets, err := ParseTrustedProxies([]string{"10.0.0.0/8", " 127.0.0.1 ", "", "::1", "fd00::/8", "192.168.1.7/16"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nets {
		got = append(got, n.String())
	}
	if want := "10.0.0.0/8 127.0.0.1/32 ::1/128 fd00::/8 192.168.0.0/16"; strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	for _, in := range []string{"10.0.0.0/33", "example.com", "10.0.0", "fe80::1%eth0", "1.2.3.4/x", "*"} {
		if nets, err := ParseTrustedProxies([]string{in}); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("%q: %v %v, want an error naming it", in, nets, err)
		}
	}
}

// TestForward: the client's address, scheme and host as a trusted proxy
// gives them, and nothing taken from anyone else.
func TestForward(t *testing.T) {
	t.Parallel()
	nets, err := ParseTrustedProxies([]string{"127.0.0.0/8", "10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	tp := trustedProxies(nets)
	tests := []struct {
		name    string
		peer    string
		tls     bool
		headers []string
		// want: RemoteAddr, scheme, Host; or an error holding bad
		addr, scheme, host string
		bad                string
	}{
		{name: "untrusted peer", peer: "192.0.2.9:1234",
			headers: []string{"X-Forwarded-For: 203.0.113.5", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example"},
			addr:    "192.0.2.9:1234", scheme: "http", host: "wsexec.local"},
		{name: "no headers", peer: "127.0.0.1:1234", addr: "127.0.0.1:1234", scheme: "http", host: "wsexec.local"},
		{name: "nginx", peer: "127.0.0.1:1234",
			headers: []string{"X-Forwarded-For: 203.0.113.5", "X-Forwarded-Proto: https", "X-Forwarded-Host: app.example:8443"},
			addr:    "203.0.113.5", scheme: "https", host: "app.example:8443"},
		{name: "a spoofed entry left of the client", peer: "127.0.0.1:1234",
			headers: []string{"X-Forwarded-For: 6.6.6.6, 203.0.113.5"}, addr: "203.0.113.5", scheme: "http", host: "wsexec.local"},
		{name: "a chain of trusted proxies", peer: "127.0.0.1:1234",
			headers: []string{"X-Forwarded-For: 6.6.6.6", "X-Forwarded-For: 203.0.113.5, 10.1.2.3"}, addr: "203.0.113.5", scheme: "http", host: "wsexec.local"},
		{name: "every entry trusted", peer: "127.0.0.1:1234",
			headers: []string{"X-Forwarded-For: 10.9.9.9, 10.1.2.3"}, addr: "10.9.9.9", scheme: "http", host: "wsexec.local"},
		{name: "IPv6 client, IPv6 proxy", peer: "[::1]:1234",
			headers: []string{"X-Forwarded-For: 2001:db8::7"}, addr: "2001:db8::7", scheme: "http", host: "wsexec.local"},
		{name: "mapped IPv4 peer", peer: "[::ffff:127.0.0.1]:1234",
			headers: []string{"X-Forwarded-For: [2001:db8::7]:4711"}, addr: "[2001:db8::7]:4711", scheme: "http", host: "wsexec.local"},
		{name: "proto over TLS", peer: "127.0.0.1:1234", tls: true,
			headers: []string{"X-Forwarded-Proto: http"}, addr: "127.0.0.1:1234", scheme: "http", host: "wsexec.local"},
		{name: "appended proto and host", peer: "127.0.0.1:1234",
			headers: []string{"X-Forwarded-Proto: http, HTTPS", "X-Forwarded-Host: a.example, b.example"}, addr: "127.0.0.1:1234", scheme: "https", host: "b.example"},
		{name: "Forwarded", peer: "127.0.0.1:1234",
			headers: []string{`Forwarded: for=6.6.6.6;proto=http, for="[2001:db8::7]:4711";proto=https;host="app.example", for=10.1.2.3;proto=http;host=inner`},
			addr:    "[2001:db8::7]:4711", scheme: "https", host: "app.example"},
		{name: "X-Forwarded-For wins over Forwarded", peer: "127.0.0.1:1234",
			headers: []string{"Forwarded: for=6.6.6.6", "X-Forwarded-For: 203.0.113.5"}, addr: "203.0.113.5", scheme: "http", host: "wsexec.local"},
		{name: "unknown client", peer: "127.0.0.1:1234", headers: []string{"X-Forwarded-For: unknown"}, bad: `X-Forwarded-For: "unknown" is not an address`},
		{name: "obfuscated client", peer: "127.0.0.1:1234", headers: []string{"Forwarded: for=_hidden"}, bad: "Forwarded"},
		{name: "garbage trusted hop", peer: "127.0.0.1:1234", headers: []string{"X-Forwarded-For: 203.0.113.5, x"}, bad: "not an address"},
		{name: "empty X-Forwarded-For", peer: "127.0.0.1:1234", headers: []string{"X-Forwarded-For: "}, bad: "not an address"},
		{name: "Forwarded without for", peer: "127.0.0.1:1234", headers: []string{"Forwarded: proto=https"}, bad: "without for="},
		{name: "Forwarded unterminated", peer: "127.0.0.1:1234", headers: []string{`Forwarded: for="1.2.3.4`}, bad: "unterminated"},
		{name: "bad scheme", peer: "127.0.0.1:1234", headers: []string{"X-Forwarded-Proto: ftp"}, bad: `"ftp" is not http or https`},
		{name: "bad host", peer: "127.0.0.1:1234", headers: []string{"X-Forwarded-Host: a.example:99999"}, bad: "malformed forwarded host"},
		{name: "host with a space", peer: "127.0.0.1:1234", headers: []string{"X-Forwarded-Host: a b"}, bad: "malformed forwarded host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := http.NewRequest(http.MethodGet, "http://wsexec.local/", nil)
			r.RemoteAddr = tc.peer
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, h := range tc.headers {
				name, value, _ := strings.Cut(h, ": ")
				r.Header.Add(name, value)
			}
			got := fromHTTP(r)
			err := tp.forward(got)
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %v, want one holding %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.remoteAddr != tc.addr || requestScheme(got) != tc.scheme || got.Host != tc.host {
				t.Fatalf("RemoteAddr %q, scheme %q, Host %q; want %q, %q, %q", got.remoteAddr, requestScheme(got), got.Host, tc.addr, tc.scheme, tc.host)
			}
			if r.RemoteAddr != tc.peer || r.Host != "wsexec.local" {
				t.Fatal("the request given was changed")
			}
		})
	}
}

func TestParseForwarded(t *testing.T) {
	t.Parallel()
	elems, err := parseForwarded([]string{`For="[2001:db8:cafe::17]:4711"; proto=https ;by=203.0.113.43`, `for=192.0.2.60;host="a\"b"`})
	if err != nil {
		t.Fatal(err)
	}
	if len(elems) != 2 || elems[0]["for"] != "[2001:db8:cafe::17]:4711" || elems[0]["proto"] != "https" ||
		elems[0]["by"] != "203.0.113.43" || elems[1]["for"] != "192.0.2.60" || elems[1]["host"] != `a"b` {
		t.Fatalf("got %v", elems)
	}
	for _, bad := range []string{"for", "for=1.2.3.4;for=5.6.7.8", `for="1.2.3.4"x`, "=1", "proto=http"} {
		if elems, err := parseForwarded([]string{bad}); err == nil {
			t.Errorf("%q: parsed as %v", bad, elems)
		}
	}
}
