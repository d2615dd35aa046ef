package server

import (
	"net/textproto"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/handshake"
)

func TestParseOriginRules(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want OriginRule
	}{
		{"example.com", OriginRule{Host: "example.com"}},
		{"Example.COM:8080", OriginRule{Host: "example.com", Port: "8080"}},
		{"HTTPS://example.com", OriginRule{Scheme: "https", Host: "example.com"}},
		{"http://example.com:80/", OriginRule{Scheme: "http", Host: "example.com", Port: "80"}},
		{"[::1]:3000", OriginRule{Host: "::1", Port: "3000"}},
		{"null", OriginRule{Null: true}},
		{"https://*.example.com", OriginRule{Scheme: "https", Host: "*.example.com"}},
	}
	for _, tc := range good {
		rules, err := ParseOriginRules([]string{tc.in})
		if err != nil || len(rules) != 1 || rules[0] != tc.want {
			t.Errorf("%q: got %+v %v, want %+v", tc.in, rules, err, tc.want)
		}
	}
	for _, in := range []string{"http://a/b", "a:0", "a:65536", "a:x", "http://", "user@a", "a?q", "a.*.com", "*"} {
		if rules, err := ParseOriginRules([]string{in}); err == nil {
			t.Errorf("%q: accepted as %+v", in, rules)
		} else if !strings.Contains(err.Error(), in) {
			t.Errorf("%q: error %q does not name the entry", in, err)
		}
	}
	if rules, err := ParseOriginRules([]string{"", " "}); err != nil || len(rules) != 0 {
		t.Errorf("blank entries: %+v %v", rules, err)
	}
}

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	if originPolicy(nil, false) != nil {
		t.Fatal("no rules and no sameorigin must not install a check")
	}
	rules, err := ParseOriginRules([]string{"https://app.example", "[::1]:8080", "null", "*.sub.example", "port80.example:80"})
	if err != nil {
		t.Fatal(err)
	}
	list := originPolicy(rules, false)
	same := originPolicy(nil, true)
	tests := []struct {
		name       string
		origin     []string
		host       string
		tls        bool
		list, same bool // allowed by each policy
	}{
		{"no Origin", nil, "h.example", false, true, true},
		{"listed, any port", []string{"https://app.example:444"}, "h.example", false, true, false},
		{"IPv6 listed", []string{"http://[::1]:8080"}, "[::1]:8080", false, true, true},
		{"IPv6 other port", []string{"http://[::1]:8081"}, "[::1]:8080", false, false, false},
		{"same, default ports", []string{"http://h.example"}, "h.example", false, false, true},
		{"same, explicit default port", []string{"http://h.example:80"}, "h.example", false, false, true},
		{"same under TLS", []string{"https://h.example"}, "H.example", true, false, true},
		{"https origin to plain port 80", []string{"https://h.example"}, "h.example", false, false, false},
		{"same, Host names port 80", []string{"http://h.example"}, "h.example:80", false, false, true},
		{"same under TLS, Host names port 443", []string{"https://h.example"}, "h.example:443", true, false, true},
		{"same under TLS, other port", []string{"https://h.example:8443"}, "h.example:8443", true, false, true},
		{"https origin to plain listener, same port", []string{"https://h.example:8080"}, "h.example:8080", false, false, false},
		{"https origin to plain listener, Host port 443", []string{"https://h.example"}, "h.example:443", false, false, false},
		{"http origin under TLS, same port", []string{"http://h.example:8443"}, "h.example:8443", true, false, false},
		{"http origin under TLS, Host port 80", []string{"http://h.example"}, "h.example:80", true, false, false},
		{"wss origin under TLS", []string{"wss://h.example"}, "h.example", true, false, false},
		{"listed port 80, default http port", []string{"http://port80.example"}, "h.example", false, true, false},
		{"listed port 80, any scheme", []string{"https://port80.example:80"}, "h.example", false, true, false},
		{"listed port 80, default https port", []string{"https://port80.example"}, "h.example", false, false, false},
		{"listed scheme, other scheme", []string{"http://app.example"}, "h.example", false, false, false},
		{"null", []string{"null"}, "h.example", false, true, false},
		{"two Origins", []string{"https://app.example", "https://app.example"}, "h.example", false, false, false},
		{"no scheme", []string{"app.example"}, "h.example", false, false, false},
		{"wildcard subdomain", []string{"http://a.b.sub.example:81"}, "h.example", false, true, false},
		{"wildcard is not the apex", []string{"http://sub.example"}, "h.example", false, false, false},
		{"wildcard is not a suffix", []string{"http://evilsub.example"}, "h.example", false, false, false},
	}
	for _, tc := range tests {
		r := &handshake.Request{Host: tc.host, Header: textproto.MIMEHeader{}, Secure: tc.tls}
		if tc.origin != nil {
			r.Header["Origin"] = tc.origin
		}
		if err := list(r); (err == nil) != tc.list {
			t.Errorf("%s: --origin: %v, want allowed=%v", tc.name, err, tc.list)
		}
		if err := same(r); (err == nil) != tc.same {
			t.Errorf("%s: --sameorigin: %v, want allowed=%v", tc.name, err, tc.same)
		}
	}
}
