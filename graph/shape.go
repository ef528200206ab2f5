package graph

import (
	"strconv"
	"strings"
)

// Shape is a tensor shape without the batch axis.
type Shape []int

// Size is the number of elements of one sample (the product of the dims).
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

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
