package train

import "github.com/pkg/errors"

// guard turns a panic inside a public entry point into an error, so that
// no panic escapes the API (a kerago bug then surfaces as an error naming
// the call, not as a crash). Use: defer guard("Fit", &err).
func guard(call string, err *error) {
	if r := recover(); r != nil {
		*err = errors.Errorf("%s: internal error: %v", call, r)
	}
}
