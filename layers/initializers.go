package layers

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"

	"github.com/kerago/kerago/graph"
)

// fans computes Keras's (fan_in, fan_out) for a weight shape: a vector is its
// own fan, a matrix is (rows, cols), and a convolution kernel
// (k…, c_in, c_out) multiplies both channel counts by the receptive field.
func fans(shape graph.Shape) (fanIn, fanOut float64) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return float64(shape[0]), float64(shape[0])
	case 2:
		return float64(shape[0]), float64(shape[1])
	}
	rf := 1
	for _, d := range shape[:len(shape)-2] {
		rf *= d
	}
	return float64(shape[len(shape)-2] * rf), float64(shape[len(shape)-1] * rf)
}

// VarianceScaling is Keras's VarianceScaling initializer: values with
// variance Scale/n, n being fan_in, fan_out or their mean (Mode "fan_in",
// "fan_out", "fan_avg"), drawn from Distribution "truncated_normal",
// "untruncated_normal" or "uniform" ("normal", Keras 2.2's name, means
// truncated_normal). Truncated draws are cut at two standard deviations and
// rescaled so that the sample variance is still Scale/n.
type VarianceScaling struct {
	Scale        float64
	Mode         string
	Distribution string
}

// Fill implements graph.Initializer.
func (v VarianceScaling) Fill(dst []float64, shape graph.Shape, rng *rand.Rand) error {
	in, out := fans(shape)
	var n float64
	switch v.Mode {
	case "fan_in":
		n = in
	case "fan_out":
		n = out
	case "fan_avg":
		n = (in + out) / 2
	default:
		return errors.Errorf("VarianceScaling: unknown mode %q; valid modes: fan_avg, fan_in, fan_out", v.Mode)
	}
	if v.Scale <= 0 {
		return errors.Errorf("VarianceScaling: scale must be positive, got %v", v.Scale)
	}
	n = math.Max(1, n)
	switch v.Distribution {
	case "truncated_normal", "normal": // Keras 2.2's "normal" is truncated
		// Standard deviation of a unit normal truncated to (-2, 2).
		std := math.Sqrt(v.Scale/n) / 0.87962566103423978
		truncatedNormal(dst, 0, std, rng)
	case "untruncated_normal":
		std := math.Sqrt(v.Scale / n)
		for i := range dst {
			dst[i] = rng.NormFloat64() * std
		}
	case "uniform":
		limit := math.Sqrt(3 * v.Scale / n)
		uniform(dst, -limit, limit, rng)
	default:
		return errors.Errorf("VarianceScaling: unknown distribution %q; valid distributions: truncated_normal, uniform, untruncated_normal", v.Distribution)
	}
	return nil
}

func uniform(dst []float64, lo, hi float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = lo + (hi-lo)*rng.Float64()
	}
}

func truncatedNormal(dst []float64, mean, std float64, rng *rand.Rand) {
	for i := range dst {
		x := rng.NormFloat64()
		for x <= -2 || x >= 2 {
			x = rng.NormFloat64()
		}
		dst[i] = mean + std*x
	}
}

// GlorotUniform is glorot_uniform (Xavier uniform), Dense's default kernel
// initializer: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).
func GlorotUniform() graph.Initializer { return VarianceScaling{1, "fan_avg", "uniform"} }

// GlorotNormal is glorot_normal: truncated normal with variance 2/(fan_in+fan_out).
func GlorotNormal() graph.Initializer { return VarianceScaling{1, "fan_avg", "truncated_normal"} }

// HeUniform is he_uniform: U(-l, l) with l = sqrt(6 / fan_in).
func HeUniform() graph.Initializer { return VarianceScaling{2, "fan_in", "uniform"} }

// HeNormal is he_normal: truncated normal with variance 2/fan_in.
func HeNormal() graph.Initializer { return VarianceScaling{2, "fan_in", "truncated_normal"} }

// LecunUniform is lecun_uniform: U(-l, l) with l = sqrt(3 / fan_in).
func LecunUniform() graph.Initializer { return VarianceScaling{1, "fan_in", "uniform"} }

// LecunNormal is lecun_normal: truncated normal with variance 1/fan_in.
func LecunNormal() graph.Initializer { return VarianceScaling{1, "fan_in", "truncated_normal"} }

// ConstantInit fills every element with Value (Keras's Constant).
type ConstantInit struct{ Value float64 }

// Fill implements graph.Initializer.
func (c ConstantInit) Fill(dst []float64, _ graph.Shape, _ *rand.Rand) error {
	for i := range dst {
		dst[i] = c.Value
	}
	return nil
}

// Zeros is the zeros initializer, Dense's default bias initializer.
func Zeros() graph.Initializer { return ConstantInit{0} }

// Ones is the ones initializer.
func Ones() graph.Initializer { return ConstantInit{1} }

// Constant fills every element with v.
func Constant(v float64) graph.Initializer { return ConstantInit{v} }

// RandomUniformInit draws from U(Min, Max) (Keras's RandomUniform).
type RandomUniformInit struct{ Min, Max float64 }

// Fill implements graph.Initializer.
func (r RandomUniformInit) Fill(dst []float64, _ graph.Shape, rng *rand.Rand) error {
	if r.Max < r.Min {
		return errors.Errorf("RandomUniform: maxval %v is below minval %v", r.Max, r.Min)
	}
	uniform(dst, r.Min, r.Max, rng)
	return nil
}

// RandomUniform draws from U(min, max); Keras's default is (-0.05, 0.05).
func RandomUniform(min, max float64) graph.Initializer { return RandomUniformInit{min, max} }

// RandomNormalInit draws from N(Mean, Stddev²), truncated at two standard
// deviations when Truncated (Keras's RandomNormal and TruncatedNormal).
type RandomNormalInit struct {
	Mean, Stddev float64
	Truncated    bool
}

// Fill implements graph.Initializer.
func (r RandomNormalInit) Fill(dst []float64, _ graph.Shape, rng *rand.Rand) error {
	if r.Stddev < 0 {
		return errors.Errorf("RandomNormal: stddev must not be negative, got %v", r.Stddev)
	}
	if r.Truncated {
		truncatedNormal(dst, r.Mean, r.Stddev, rng)
		return nil
	}
	for i := range dst {
		dst[i] = r.Mean + r.Stddev*rng.NormFloat64()
	}
	return nil
}

// RandomNormal draws from N(mean, stddev²); Keras's default is (0, 0.05).
func RandomNormal(mean, stddev float64) graph.Initializer {
	return RandomNormalInit{mean, stddev, false}
}

// TruncatedNormal draws from N(mean, stddev²) truncated to two deviations.
func TruncatedNormal(mean, stddev float64) graph.Initializer {
	return RandomNormalInit{mean, stddev, true}
}

// OrthogonalInit is Keras's Orthogonal: the weight, viewed as a matrix
// (prod(shape[:-1]), shape[-1]), gets orthonormal rows or columns (from the
// QR decomposition of a normal matrix, signs fixed by R's diagonal), times Gain.
type OrthogonalInit struct{ Gain float64 }

// Fill implements graph.Initializer.
func (o OrthogonalInit) Fill(dst []float64, shape graph.Shape, rng *rand.Rand) error {
	if len(shape) < 2 {
		return errors.Errorf("Orthogonal: needs a weight of rank 2 or more, got shape %v", []int(shape))
	}
	cols := shape[len(shape)-1]
	rows := len(dst) / cols
	r, c := rows, cols
	if rows < cols {
		r, c = cols, rows // decompose the transpose
	}
	a := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, rr mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			qi, qj := i, j
			if rows < cols {
				qi, qj = j, i
			}
			sign := 1.0
			if rr.At(qj, qj) < 0 {
				sign = -1
			}
			dst[i*cols+j] = o.Gain * sign * q.At(qi, qj)
		}
	}
	return nil
}

// Orthogonal is the orthogonal initializer with gain 1, the default
// recurrent-kernel initializer of Keras RNNs.
func Orthogonal() graph.Initializer { return OrthogonalInit{1} }

var initializers = map[string]func() graph.Initializer{
	"glorot_uniform":   GlorotUniform,
	"glorot_normal":    GlorotNormal,
	"he_uniform":       HeUniform,
	"he_normal":        HeNormal,
	"lecun_uniform":    LecunUniform,
	"lecun_normal":     LecunNormal,
	"orthogonal":       Orthogonal,
	"zeros":            Zeros,
	"ones":             Ones,
	"random_uniform":   func() graph.Initializer { return RandomUniform(-0.05, 0.05) },
	"random_normal":    func() graph.Initializer { return RandomNormal(0, 0.05) },
	"truncated_normal": func() graph.Initializer { return TruncatedNormal(0, 0.05) },
}

// Initializer returns the initializer with the given Keras name and default
// arguments, or an error listing the valid names.
func Initializer(name string) (graph.Initializer, error) {
	if f, ok := initializers[name]; ok {
		return f(), nil
	}
	return nil, errors.Errorf("unknown initializer %q; valid initializers: %s", name, strings.Join(InitializerNames(), ", "))
}

// InitializerNames lists the Keras names Initializer knows, sorted.
func InitializerNames() []string { return slices.Sorted(maps.Keys(initializers)) }
