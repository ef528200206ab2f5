package train

import (
	"fmt"
	"strings"
)

// Logs are named values in a fixed order, as Keras's logs dictionaries:
// "loss", then metrics, then "val_…" entries.
type Logs struct {
	Names  []string
	Values []float64
}

// Get returns the value named name.
func (l Logs) Get(name string) (float64, bool) {
	for i, n := range l.Names {
		if n == name {
			return l.Values[i], true
		}
	}
	return 0, false
}

// Set sets (or appends) the value named name.
func (l *Logs) Set(name string, v float64) {
	for i, n := range l.Names {
		if n == name {
			l.Values[i] = v
			return
		}
	}
	l.Names = append(l.Names, name)
	l.Values = append(l.Values, v)
}

// Clone returns an independent copy.
func (l Logs) Clone() Logs {
	return Logs{Names: append([]string(nil), l.Names...), Values: append([]float64(nil), l.Values...)}
}

// String formats the logs as Keras's progress bar does: "loss: 0.4100 - accuracy: 0.8800".
func (l Logs) String() string {
	parts := make([]string, len(l.Names))
	for i, n := range l.Names {
		parts[i] = n + ": " + formatValue(l.Values[i])
	}
	return strings.Join(parts, " - ")
}

// formatValue is Keras's progress-bar number format: %.4f, or %.4e for
// magnitudes at or below 1e-3.
func formatValue(v float64) string {
	if v > 1e-3 || v < -1e-3 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4e", v)
}

// History records the epoch logs of Fit, as Keras's History callback:
// History.Values["loss"][i] is epoch Epochs[i]'s loss.
type History struct {
	Epochs []int
	Names  []string
	Values map[string][]float64
}

func newHistory() *History { return &History{Values: map[string][]float64{}} }

func (h *History) add(epoch int, logs Logs) {
	h.Epochs = append(h.Epochs, epoch)
	for i, n := range logs.Names {
		if _, ok := h.Values[n]; !ok {
			h.Names = append(h.Names, n)
		}
		h.Values[n] = append(h.Values[n], logs.Values[i])
	}
}

// Last returns the last epoch's value of name.
func (h *History) Last(name string) (float64, bool) {
	v := h.Values[name]
	if len(v) == 0 {
		return 0, false
	}
	return v[len(v)-1], true
}

// CSV writes the history as Keras's CSVLogger does, values included (see
// csvValue): a header "epoch" plus the log names (in log order; CSVLogger
// sorts them), one row per epoch (0-based).
func (h *History) CSV() string {
	var b strings.Builder
	b.WriteString("epoch")
	for _, n := range h.Names {
		b.WriteString("," + n)
	}
	b.WriteString("\n")
	for i, e := range h.Epochs {
		fmt.Fprintf(&b, "%d", e)
		for _, n := range h.Names {
			if i < len(h.Values[n]) {
				b.WriteString("," + csvValue(h.Values[n][i]))
			} else {
				b.WriteString(",NA")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// csvValue is a value as History.CSV and CSVLogger write it: as Keras's
// CSVLogger (Python's csv module, str()) writes a float — the shortest
// digits that read back to the same float64.
func csvValue(v float64) string { return pythonFloat(v) }
