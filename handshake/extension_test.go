package handshake

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wsexec/wsexec/wsproto"
)

type ext = wsproto.Extension
type param = wsproto.ExtensionParam

func TestParseExtensions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		want   []ext
		err    string // a substring of the error; "" for success
	}{
		{name: "none", values: nil, want: nil},
		{name: "empty header", values: []string{""}, want: nil},
		{name: "one", values: []string{"permessage-deflate"}, want: []ext{{Name: "permessage-deflate"}}},
		{name: "RFC 7692 offer", values: []string{"permessage-deflate; client_max_window_bits"},
			want: []ext{{Name: "permessage-deflate", Params: []param{{Name: "client_max_window_bits"}}}}},
		{name: "several offers", values: []string{"permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate, x-webkit-deflate-frame"},
			want: []ext{
				{Name: "permessage-deflate", Params: []param{{Name: "client_max_window_bits", Value: "10"}, {Name: "server_no_context_takeover"}}},
				{Name: "permessage-deflate"},
				{Name: "x-webkit-deflate-frame"},
			}},
		{name: "repeated headers", values: []string{"foo", "bar; baz=2", "qux"},
			want: []ext{{Name: "foo"}, {Name: "bar", Params: []param{{Name: "baz", Value: "2"}}}, {Name: "qux"}}},
		{name: "quoted value", values: []string{`foo; a="1"`},
			want: []ext{{Name: "foo", Params: []param{{Name: "a", Value: "1"}}}}},
		{name: "quoted with escapes", values: []string{`foo; a="x\"y\\z\q"`},
			want: []ext{{Name: "foo", Params: []param{{Name: "a", Value: `x"y\zq`}}}}},
		{name: "quoted with separators", values: []string{`foo; a="b, c; d=e"; f`},
			want: []ext{{Name: "foo", Params: []param{{Name: "a", Value: "b, c; d=e"}, {Name: "f"}}}}},
		{name: "empty quoted value", values: []string{`foo; a=""`},
			want: []ext{{Name: "foo", Params: []param{{Name: "a"}}}}},
		{name: "obs-text in quotes", values: []string{"foo; a=\"\xe9\""},
			want: []ext{{Name: "foo", Params: []param{{Name: "a", Value: "\xe9"}}}}},
		{name: "whitespace everywhere", values: []string{" \tfoo \t; \ta \t= \t1 \t;b\t,\t bar ; c = \"d\" "},
			want: []ext{{Name: "foo", Params: []param{{Name: "a", Value: "1"}, {Name: "b"}}},
				{Name: "bar", Params: []param{{Name: "c", Value: "d"}}}}},
		{name: "empty list elements", values: []string{", foo ,, bar ,"},
			want: []ext{{Name: "foo"}, {Name: "bar"}}},

		{name: "unterminated quote", values: []string{`foo; a="1`}, err: "unterminated quoted string"},
		{name: "escape at end", values: []string{`foo; a="1\`}, err: "bad escape"},
		{name: "control char in quotes", values: []string{"foo; a=\"1\x01\""}, err: "control character"},
		{name: "empty name", values: []string{"; a=1"}, err: "expected an extension name"},
		{name: "empty parameter name", values: []string{"foo; =1"}, err: "expected a parameter name"},
		{name: "trailing semicolon", values: []string{"foo;"}, err: "expected a parameter name"},
		{name: "missing value", values: []string{"foo; a="}, err: "expected a value for parameter a"},
		{name: "bad token in name", values: []string{"fo@o"}, err: `unexpected '@' after extension fo`},
		{name: "bad token in value", values: []string{"foo; a=b/c"}, err: `unexpected '/'`},
		{name: "space inside name", values: []string{"foo bar"}, err: `unexpected 'b'`},
		{name: "junk after quoted value", values: []string{`foo; a="1"x`}, err: `unexpected 'x'`},
		{name: "error in second header", values: []string{"foo", "bar;;"}, err: "offset 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExtensions(tc.values)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseExtensions(%q) = %+v, %v; want an error containing %q", tc.values, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExtensions(%q): %v", tc.values, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseExtensions(%q) =\n%+v\nwant\n%+v", tc.values, got, tc.want)
			}
			// Round trip: what parses formats to a value that parses the same.
			again, err := ParseExtensions([]string{FormatExtensions(got)})
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("ParseExtensions(FormatExtensions(x)) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestFormatExtensions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		exts []ext
		want string
	}{
		{"none", nil, ""},
		{"name only", []ext{{Name: "foo"}}, "foo"},
		{"params", []ext{{Name: "permessage-deflate", Params: []param{{Name: "server_no_context_takeover"}, {Name: "client_max_window_bits", Value: "10"}}}},
			"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{"several", []ext{{Name: "a"}, {Name: "b", Params: []param{{Name: "c"}}}}, "a, b; c"},
		{"quoted when not a token", []ext{{Name: "a", Params: []param{{Name: "p", Value: `x y,"z"\`}}}},
			`a; p="x y,\"z\"\\"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatExtensions(tc.exts); got != tc.want {
				t.Fatalf("FormatExtensions = %q, want %q", got, tc.want)
			}
		})
	}
}
