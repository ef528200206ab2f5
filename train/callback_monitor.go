package train

import (
	"math"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// monitorOp is what Keras's MonitorCallback decides once: whether the
// monitored value should rise (max) or fall, and by how much at least
// (minDelta, not negative) a value must beat the reference to count as an
// improvement.
type monitorOp struct {
	max      bool
	minDelta float64
}

// newMonitorOp checks a monitored name against what the run logs, and its
// mode and minimum change, for the callback who; a name of "" is
// "val_loss". Mode "" or "auto" resolves as Keras 3's _set_monitor_op does
// for the metrics kerago has: min for "loss" and the "…_loss" of each
// output, max for the accuracies (names holding "acc" or "auc"); any other
// name needs an explicit mode.
func newMonitorOp(who, monitor, mode string, minDelta float64, p Params) (monitorOp, error) {
	if monitor == "" {
		monitor = "val_loss"
	}
	if names := loggedNames(p); !slices.Contains(names, monitor) {
		return monitorOp{}, errors.Errorf("%s: Monitor %q is never logged by this Fit; it logs %s", who, monitor, strings.Join(names, ", "))
	}
	if minDelta < 0 || math.IsNaN(minDelta) || math.IsInf(minDelta, 0) {
		return monitorOp{}, errors.Errorf("%s: MinDelta must be a finite number ≥ 0, got %v", who, minDelta)
	}
	op := monitorOp{minDelta: minDelta}
	switch mode {
	case "min":
	case "max":
		op.max = true
	case "", "auto":
		name := strings.TrimPrefix(monitor, "val_")
		switch {
		case name == "loss" || strings.HasSuffix(name, "_loss"):
		case strings.Contains(name, "acc") || strings.Contains(name, "auc"):
			op.max = true
		default:
			return monitorOp{}, errors.Errorf("%s: cannot tell whether Monitor %q should be maximized or minimized; set Mode to \"min\" or \"max\"", who, monitor)
		}
	default:
		return monitorOp{}, errors.Errorf("%s: Mode %q is not one of auto, min, max", who, mode)
	}
	return op, nil
}

// improved reports whether cur beats ref by more than the minimum change;
// any value beats no reference (hasRef false), and NaN never improves.
func (o monitorOp) improved(cur, ref float64, hasRef bool) bool {
	if !hasRef {
		return true
	}
	if o.max {
		return cur-o.minDelta > ref
	}
	return cur+o.minDelta < ref
}

// loggedNames are the names in the epoch logs of a run p describes: its
// metrics and, with validation data, their "val_" forms.
func loggedNames(p Params) []string {
	names := append([]string(nil), p.Metrics...)
	if p.Validation {
		for _, n := range p.Metrics {
			names = append(names, "val_"+n)
		}
	}
	return names
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
