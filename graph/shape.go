package graph

import (
	"slices"
	"strconv"
	"strings"
)

// Shape is a tensor shape without the batch axis. A dim may be Unknown.
type Shape []int

// Unknown is the size of an axis known only when data arrives, Keras's None
// (Input(shape=(None,)) for text of any length): a network with such axes
// compiles one program per concrete shape it meets (Network.Concrete).
const Unknown = -1

// Size is the number of elements of one sample (the product of the dims),
// or Unknown when a dim is.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		if d == Unknown {
			return Unknown
		}
		n *= d
	}
	return n
}

// Known reports whether every dim of s is known.
func (s Shape) Known() bool { return !slices.Contains(s, Unknown) }

// Fits reports whether the concrete shape c fits s: the same rank, and
// the same size on every axis s knows.
func (s Shape) Fits(c Shape) bool {
	if len(s) != len(c) {
		return false
	}
	for i, d := range s {
		if d != Unknown && d != c[i] {
			return false
		}
	}
	return true
}

// SameDim reports whether two axis sizes may be equal: they are, or one is
// Unknown.
func SameDim(a, b int) bool { return a == b || a == Unknown || b == Unknown }

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// Equal reports whether s and o have the same dims.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// WithBatch returns (batch, s...) as a Gorgonia-ready slice.
func (s Shape) WithBatch(batch int) []int { return append([]int{batch}, s...) }

// String formats s the Keras way, with the batch axis as None: (None, 28, 28, 1).
func (s Shape) String() string {
	parts := []string{"None"}
	for _, d := range s {
		if d == Unknown {
			parts = append(parts, "None")
			continue
		}
		parts = append(parts, strconv.Itoa(d))
	}
	if len(parts) == 1 {
		return "(None,)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func shapesString(ss []Shape) string {
	if len(ss) == 1 {
		return ss[0].String()
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
