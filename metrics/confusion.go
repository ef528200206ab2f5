package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/kerago/kerago/graph"
)

// negInf is the value Keras gives the predictions outside a sample's top k
// (metrics_utils.NEG_INF).
const negInf = -1e10

// confusion is AUC, Precision or Recall: the weighted true and false
// positives and negatives at each threshold, summed over the epoch, as
// Keras's confusion-matrix variables. A prediction is positive at threshold
// t when it is strictly greater than t (compared in float32, as Keras's
// float32 variables); a target is positive when it is not 0.
type confusion struct {
	cfg        Config
	kind       string // "auc", "precision" or "recall"
	thresholds []float64
	// buckets selects Keras's evenly-spaced-thresholds algorithm (AUC):
	// predictions clipped to [0, 1] fall into bucket ceil(p·(T-1))-1
	// (at least 0), and a threshold counts every bucket from its own up.
	buckets bool
	pr      bool // AUC of the precision-recall curve
	topK    int  // 0: all predictions
	classID int  // -1: all classes
}

// Precision is Keras's Precision: TP / (TP + FP) over the epoch (0 when
// nothing was predicted positive), with TP and FP weighted by the sample
// weights. Options: Named, Thresholds (default 0.5; with TopK the default
// is to count every top-k prediction positive; several thresholds give one
// value each, see Vector), TopK, ClassID.
func Precision(opts ...Option) Metric { return precisionRecall("Precision", "precision", opts) }

// Recall is Keras's Recall: TP / (TP + FN) over the epoch. Options as
// Precision's.
func Recall(opts ...Option) Metric { return precisionRecall("Recall", "recall", opts) }

func precisionRecall(class, def string, opts []Option) Metric {
	c, err := configure(Config{Class: class, Name: def}, opts, "Thresholds", "TopK", "ClassID")
	m := &confusion{cfg: c, kind: def, classID: -1, thresholds: c.Thresholds}
	if m.thresholds == nil {
		m.thresholds = []float64{0.5}
		if c.TopK > 0 {
			m.thresholds = []float64{negInf}
		}
	}
	switch {
	case err != nil:
	case len(m.thresholds) == 0:
		err = errors.Errorf("metric %s: Thresholds(): give at least one threshold", class)
	case c.TopK < 0:
		err = errors.Errorf("metric %s: TopK(%d): k must be at least 1", class, c.TopK)
	case c.ClassID != nil && *c.ClassID < 0:
		err = errors.Errorf("metric %s: ClassID(%d): a class index must not be negative", class, *c.ClassID)
	}
	for _, t := range c.Thresholds {
		if err == nil && !(t >= 0 && t <= 1) {
			err = errors.Errorf("metric %s: Thresholds: %v is not in [0, 1]", class, t)
		}
	}
	if err != nil {
		return &invalid{name: def, err: err}
	}
	m.topK = c.TopK
	if c.ClassID != nil {
		m.classID = *c.ClassID
	}
	return m
}

// AUC is Keras's AUC (multi_label false): the area under the ROC curve
// (default) or the precision-recall curve, approximated over thresholds
// from confusion counts accumulated over the epoch. The thresholds are
// NumThresholds (default 200) evenly spaced ones, the first just below 0
// and the last just above 1 (0-1e-7 and 1+1e-7), or the given Thresholds
// plus those two; ROC sums trapezoids (Keras's "interpolation"), PR uses
// Keras's interpolation of true and false positives between thresholds
// (Davis & Goadrich). Targets are 0 or 1 (any non-zero is positive) and
// predictions probabilities. Options: Named, NumThresholds, Thresholds,
// Curve ("ROC" or "PR").
func AUC(opts ...Option) Metric {
	c, err := configure(Config{Class: "AUC", Name: "auc", NumThresholds: 200, Curve: "ROC"}, opts, "NumThresholds", "Thresholds", "Curve")
	m := &confusion{cfg: c, kind: "auc", classID: -1, pr: c.Curve == "PR" || c.Curve == "pr"}
	switch {
	case err != nil:
	case c.Curve != "ROC" && c.Curve != "roc" && !m.pr:
		err = errors.Errorf("metric AUC: Curve(%q): valid curves are ROC and PR", c.Curve)
	case c.Thresholds == nil && c.NumThresholds <= 1:
		err = errors.Errorf("metric AUC: NumThresholds(%d): the number of thresholds must be more than 1", c.NumThresholds)
	}
	for _, t := range c.Thresholds {
		if err == nil && !(t >= 0 && t <= 1) {
			err = errors.Errorf("metric AUC: Thresholds: %v is not in [0, 1]", t)
		}
	}
	if err != nil {
		return &invalid{name: "auc", err: err}
	}
	inner := slices.Sorted(slices.Values(c.Thresholds))
	if c.Thresholds == nil {
		n := c.NumThresholds
		for i := range n - 2 {
			inner = append(inner, float64(i+1)/float64(n-1))
		}
		m.buckets = true
	} else {
		m.cfg.NumThresholds = len(inner) + 2
		m.buckets = evenlySpaced(append(append([]float64{0}, inner...), 1))
	}
	m.thresholds = append(append([]float64{-epsilon}, inner...), 1+epsilon)
	return m
}

// evenlySpaced is Keras's is_evenly_distributed_thresholds: at least three
// thresholds, each within 1e-7 (plus numpy's relative tolerance) of i/(n-1).
func evenlySpaced(t []float64) bool {
	n := len(t)
	if n < 3 {
		return false
	}
	for i, v := range t {
		even := float64(float32(i) / float32(n-1))
		if math.Abs(v-even) > epsilon+1e-5*math.Abs(even) {
			return false
		}
	}
	return true
}

// Name implements Metric.
func (m *confusion) Name() string { return m.cfg.Name }

// Config returns the metric's constructor and options.
func (m *confusion) Config() Config { return m.cfg }

// Check implements Metric: targets of the output's shape; with ClassID an
// output (batch, classes) with more than ClassID classes.
func (m *confusion) Check(target, output graph.Shape) error {
	if err := sameShape(target, output); err != nil {
		return errors.Wrapf(err, "metric %s", m.cfg.Name)
	}
	c := output[len(output)-1]
	if m.classID >= 0 && (len(output) != 1 || m.classID >= c) {
		return errors.Errorf("metric %s: ClassID(%d) needs an output (batch, classes) with more than %d classes, got shape %v", m.cfg.Name, m.classID, m.classID, output)
	}
	if m.topK > c {
		return errors.Errorf("metric %s: TopK(%d) is more than the %d values of the output's last axis (shape %v)", m.cfg.Name, m.topK, c, output)
	}
	return nil
}

// Stats implements Metric: [TP(T), FP(T), TN(T), FN(T)] of the batch.
func (m *confusion) Stats(ctx *graph.Context, yTrue, yPred, weight graph.Node) (graph.Node, error) {
	if yTrue == nil || yPred == nil {
		return nil, errors.Errorf("%s: y_true and y_pred must not be nil", m.cfg.Name)
	}
	nt := len(m.thresholds)
	var masked, tpb, fpb []float64
	k := statsKernel{name: m.cfg.Name, size: 4 * nt,
		params: []any{m.kind, fmt.Sprint(m.thresholds), m.buckets, m.topK, m.classID},
		check: func(in []tensor.Shape) error {
			if !in[0].Eq(in[1]) || len(in[1]) < 2 {
				return errors.Errorf("%s: y_true has shape %v, y_pred %v: they must be equal, with a last axis", m.cfg.Name, in[0], in[1])
			}
			return nil
		},
		f: func(out []float64, in [][]float64, w []float64, shapes []tensor.Shape) {
			y, p := in[0], in[1]
			per := len(p) / shapes[1][0]
			c := shapes[1][len(shapes[1])-1]
			if m.topK > 0 {
				masked = topKMask(append(masked[:0], p...), c, m.topK)
				p = masked
			}
			tp, fp, tn, fn := out[:nt], out[nt:2*nt], out[2*nt:3*nt], out[3*nt:]
			if m.buckets {
				tpb, fpb = zeros(tpb, nt), zeros(fpb, nt)
			}
			var pos, neg float64
			for e, pv := range p {
				if m.classID >= 0 && e%c != m.classID {
					continue
				}
				ws := sampleWeight(w, e/per)
				isPos := y[e] != 0
				if isPos {
					pos += ws
				} else {
					neg += ws
				}
				if m.buckets {
					b := int(math.Ceil(float64(float32(min(max(pv, 0), 1))*float32(nt-1)))) - 1
					b = max(b, 0)
					if isPos {
						tpb[b] += ws
					} else {
						fpb[b] += ws
					}
					continue
				}
				for i, t := range m.thresholds {
					if float32(pv) > float32(t) {
						if isPos {
							tp[i] += ws
						} else {
							fp[i] += ws
						}
					}
				}
			}
			if m.buckets {
				var st, sf float64
				for i := nt - 1; i >= 0; i-- {
					st += tpb[i]
					sf += fpb[i]
					tp[i], fp[i] = st, sf
				}
			}
			for i := range nt {
				tn[i] = neg - fp[i]
				fn[i] = pos - tp[i]
			}
		}}
	return applyStats(k, weight, yTrue, yPred)
}

// zeros is buf resized to n zeros.
func zeros(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// topKMask keeps the k highest values of each row of c values of p (the
// first of equal values first) and sets the others to negInf, as Keras's
// _filter_top_k.
func topKMask(p []float64, c, k int) []float64 {
	for r := 0; r < len(p); r += c {
		row := p[r : r+c]
		// kth is the k-th highest value; the first k values at or above
		// it in index order... ties with it beyond k are dropped.
		sorted := slices.Clone(row)
		slices.SortFunc(sorted, func(a, b float64) int { return compareDesc(a, b) })
		kth := sorted[k-1]
		above := 0
		for _, v := range row {
			if v > kth {
				above++
			}
		}
		tiesLeft := k - above
		for j, v := range row {
			switch {
			case v > kth:
			case v == kth && tiesLeft > 0:
				tiesLeft--
			default:
				row[j] = negInf
			}
		}
	}
	return p
}

func compareDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// Len implements Vector: one value per threshold for Precision and
// Recall, one for AUC.
func (m *confusion) Len(graph.Shape) int {
	if m.kind == "auc" {
		return 1
	}
	return len(m.thresholds)
}

// Results implements Vector.
func (m *confusion) Results(sums, dst []float64) {
	if m.kind == "auc" {
		dst[0] = m.Result(sums)
		return
	}
	nt := len(m.thresholds)
	tp, fp, fn := sums[:nt], sums[nt:2*nt], sums[3*nt:]
	for i := range dst {
		if m.kind == "precision" {
			dst[i] = divNoNaN(tp[i], tp[i]+fp[i])
		} else {
			dst[i] = divNoNaN(tp[i], tp[i]+fn[i])
		}
	}
}

// Result implements Metric (the first threshold's value for Precision and
// Recall).
func (m *confusion) Result(sums []float64) float64 {
	nt := len(m.thresholds)
	tp, fp, tn, fn := sums[:nt], sums[nt:2*nt], sums[2*nt:3*nt], sums[3*nt:]
	switch m.kind {
	case "precision":
		return divNoNaN(tp[0], tp[0]+fp[0])
	case "recall":
		return divNoNaN(tp[0], tp[0]+fn[0])
	}
	if m.pr {
		return prAUC(tp, fp, fn)
	}
	auc := 0.0
	for i := range nt - 1 {
		r0, r1 := divNoNaN(tp[i], tp[i]+fn[i]), divNoNaN(tp[i+1], tp[i+1]+fn[i+1])
		f0, f1 := divNoNaN(fp[i], fp[i]+tn[i]), divNoNaN(fp[i+1], fp[i+1]+tn[i+1])
		auc += (f0 - f1) * (r0 + r1) / 2
	}
	return auc
}

// prAUC is Keras's interpolate_pr_auc: between successive thresholds the
// true positives and the predicted positives P vary linearly, and the
// area is slope·(ΔTP + intercept·log(P_A/P_B)) / (TP_B + FN_B).
func prAUC(tp, fp, fn []float64) float64 {
	auc := 0.0
	for i := range len(tp) - 1 {
		dtp := tp[i] - tp[i+1]
		pa, pb := tp[i]+fp[i], tp[i+1]+fp[i+1]
		slope := divNoNaN(dtp, max(pa-pb, 0))
		intercept := tp[i+1] - slope*pb
		ratio := 1.0
		if pa > 0 && pb > 0 {
			ratio = divNoNaN(pa, max(pb, 0))
		}
		auc += divNoNaN(slope*(dtp+intercept*math.Log(ratio)), max(tp[i+1]+fn[i+1], 0))
	}
	return auc
}
