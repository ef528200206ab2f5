package train

import (
	"fmt"
	"strings"

	"github.com/kerago/kerago/graph"
)

// Summary returns the model's layer table as Keras's model.summary() prints
// it: each layer with its class, output shape and parameter count (and, for
// non-sequential graphs, the layers it is connected to), then the total,
// trainable and non-trainable parameter counts.
func (m *Model) Summary() string {
	layers, shapes := m.net.OutputShapes()
	linear := m.isLinear()
	width := 65
	stops := []int{29, 55, 65}
	header := []string{"Layer (type)", "Output Shape", "Param #"}
	if !linear {
		width = 98
		stops = []int{33, 55, 67, 98}
		header = append(header, "Connected to")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q\n", m.name)
	b.WriteString(strings.Repeat("_", width) + "\n")
	b.WriteString(row(header, stops) + "\n")
	b.WriteString(strings.Repeat("=", width) + "\n")
	calls := m.net.Calls()
	for i, l := range layers {
		shape := "multiple"
		if len(shapes[i]) == 1 {
			shape = shapes[i][0].String()
		}
		fields := []string{fmt.Sprintf("%s (%s)", l.Name(), l.Class()), shape, groupDigits(countParams(l.Weights(), nil))}
		if !linear {
			var conn []string
			for _, t := range calls[i] {
				conn = append(conn, fmt.Sprintf("%s[0][%d]", t.Layer().Name(), t.Index()))
			}
			if len(conn) == 0 {
				conn = []string{""}
			}
			fields = append(fields, conn[0])
			b.WriteString(row(fields, stops) + "\n")
			for _, c := range conn[1:] {
				b.WriteString(row([]string{"", "", "", c}, stops) + "\n")
			}
		} else {
			b.WriteString(row(fields, stops) + "\n")
		}
		if i < len(layers)-1 {
			b.WriteString(strings.Repeat("_", width) + "\n")
		}
	}
	b.WriteString(strings.Repeat("=", width) + "\n")
	trainable := true
	total := countParams(m.net.Weights(), nil)
	train := countParams(m.net.Weights(), &trainable)
	fmt.Fprintf(&b, "Total params: %s\n", groupDigits(total))
	fmt.Fprintf(&b, "Trainable params: %s\n", groupDigits(train))
	fmt.Fprintf(&b, "Non-trainable params: %s\n", groupDigits(total-train))
	b.WriteString(strings.Repeat("_", width) + "\n")
	return b.String()
}

// isLinear reports whether the model is a plain stack: one input, one
// output, and every layer applied once to the previous layer's output.
func (m *Model) isLinear() bool {
	if len(m.net.Inputs()) != 1 || len(m.net.Outputs()) != 1 {
		return false
	}
	calls := m.net.Calls()
	layers, _ := m.net.OutputShapes()
	for i := 1; i < len(calls); i++ {
		if len(calls[i]) != 1 || calls[i][0].Layer() != layers[i-1] {
			return false
		}
	}
	return true
}

// CountParams is the number of weight elements of the model.
func (m *Model) CountParams() int { return countParams(m.net.Weights(), nil) }

func countParams(ws []*graph.Weight, trainable *bool) int {
	n := 0
	for _, w := range ws {
		if trainable == nil || w.Trainable() == *trainable {
			n += w.Shape().Size()
		}
	}
	return n
}

// row lays fields out at the column stops, as Keras's print_row: each field
// truncated to its column, the last character before a new field replaced
// by a space.
func row(fields []string, stops []int) string {
	line := ""
	for i, f := range fields {
		if i > 0 {
			line = line[:len(line)-1] + " "
		}
		line += f
		if len(line) > stops[i] {
			line = line[:stops[i]]
		}
		line += strings.Repeat(" ", stops[i]-len(line))
	}
	return strings.TrimRight(line, " ")
}

// groupDigits formats 1234567 as 1,234,567.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
