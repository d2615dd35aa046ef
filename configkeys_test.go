//go:build !tiny

package main

import "testing"

// TestNearestFlag checks which unknown keys get a suggestion: a slip or
// two, not another word, and never a flag a file cannot set.
func TestNearestFlag(t *testing.T) {
	t.Parallel()
	fl := withConfigFile(flags())
	for _, tc := range []struct{ key, want string }{
		{"orgin", "origin"},
		{"prot", "port"},
		{"PORT", "port"},
		{"--port", "port"},
		{"header_ws", "header-ws"},
		{"hedaer-htpp", "header-http"}, // two slips in 11 letters
		{"maxfork", "maxforks"},
		{"ud", "uds"},
		{"ssl-cert", "sslcert"},
		{"sameoriginn", "sameorigin"},
		{"pört", "port"},   // one slip: letters count, not bytes
		{"tls", ""},        // two slips from ssl: too many for three letters
		{"static", ""},     // another word, three letters short of staticdir
		{"confg", ""},      // config cannot be set from a file
		{"licence", ""},    // nor license
		{"frobnicate", ""}, // nothing near
		{"oriiiiigin", ""}, // four slips
		{"", ""},
	} {
		if got := nearestFlag(tc.key, fl); got != tc.want {
			t.Errorf("nearestFlag(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"port", "port", 0},
		{"prot", "port", 1}, // a swap is one edit
		{"orgin", "origin", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment: a swapped pair is not edited again
		{"pört", "port", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}
