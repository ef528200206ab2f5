// Package graphtest holds assertions that the tests of several kerago
// packages share (as net/http/httptest does for HTTP code).
package graphtest

import (
	"strings"
	"testing"
)

// WantErr reports an error on t unless err is non-nil and its message
// contains every one of parts; what names the case in the report.
func WantErr(t testing.TB, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not contain %q", what, err, p)
		}
	}
}
