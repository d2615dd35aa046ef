package main

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	lines := []string{
		`{"Action":"start","Package":"github.com/wsexec/wsexec/e2e"}`,
		`{"Action":"run","Package":"github.com/wsexec/wsexec/e2e","Test":"TestA"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Test":"TestA","Output":"    a_test.go:9: chromium not available, skipping\n"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}`,
		`{"Action":"skip","Package":"github.com/wsexec/wsexec/e2e","Test":"TestA"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Test":"TestB","Output":"=== RUN   TestB\n"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Test":"TestB","Output":"    b_test.go:3: quiet\n"}`,
		`{"Action":"pass","Package":"github.com/wsexec/wsexec/e2e","Test":"TestB"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Output":"PASS\n"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec/e2e","Output":"ok  \tgithub.com/wsexec/wsexec/e2e\t1.0s\n"}`,
		`{"Action":"pass","Package":"github.com/wsexec/wsexec/e2e"}`,
	}
	var out strings.Builder
	if failed := summarize(strings.NewReader(strings.Join(lines, "\n")), &out); failed {
		t.Errorf("a passing run with a skip reported a failure:\n%s", out.String())
	}
	want := "ok  \tgithub.com/wsexec/wsexec/e2e\t1.0s\nskipped 1:\n  e2e TestA: chromium not available, skipping\n"
	if out.String() != want {
		t.Errorf("summary:\n%q\nwant\n%q", out.String(), want)
	}

	fail := []string{
		`{"Action":"output","Package":"github.com/wsexec/wsexec","Test":"TestC","Output":"=== RUN   TestC\n"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec","Test":"TestC","Output":"    c_test.go:5: broke\n"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec","Test":"TestC","Output":"--- FAIL: TestC (0.00s)\n"}`,
		`{"Action":"fail","Package":"github.com/wsexec/wsexec","Test":"TestC"}`,
		`{"Action":"output","Package":"github.com/wsexec/wsexec","Output":"FAIL\tgithub.com/wsexec/wsexec\t0.1s\n"}`,
		`{"Action":"fail","Package":"github.com/wsexec/wsexec"}`,
	}
	out.Reset()
	if failed := summarize(strings.NewReader(strings.Join(fail, "\n")), &out); !failed {
		t.Error("a failing run reported no failure")
	}
	want = "    c_test.go:5: broke\n--- FAIL: TestC (0.00s)\nFAIL\tgithub.com/wsexec/wsexec\t0.1s\n"
	if out.String() != want {
		t.Errorf("failure:\n%q\nwant\n%q", out.String(), want)
	}

	out.Reset()
	if failed := summarize(strings.NewReader(""), &out); !failed {
		t.Error("an empty run (go test did not start) reported no failure")
	}
}
