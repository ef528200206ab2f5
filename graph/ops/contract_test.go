package ops

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The contract every kernel keeps, checked for every kernel of the package
// through a registry of example graphs: each op's test file registers the
// graphs that exercise its kernels (forward and, through Gorgonia's Grad,
// gradient), and TestKernelContract runs every node of every example
// through the adapter, in both dtypes, small and large (parallel paths):
//
//   - a run into a dirty output buffer (NaN, large values, its own previous
//     result) writes into that buffer and gives Do's result bit for bit;
//   - a buffer of the wrong shape is left alone;
//   - a run that reuses its output allocates at most the example's budget
//     (zero for most kernels).
//
// TestEveryKernelHasAnExample fails for a kernel type of this package that
// no example exercises, so the registry cannot fall behind.

// kernelExample is a small graph exercising some kernels.
type kernelExample struct {
	name string
	// build adds the example's nodes, its inputs taken from in, and returns
	// the outputs a random-weighted cost is made of; the test differentiates
	// the cost with respect to every input made with in.x or in.ties.
	build func(in *exampleInputs) ([]*G.Node, error)
}

// allocBudget is how many allocations a run that reuses its output may
// make, for the kernels that still allocate per run (scratch slices and
// closures); every other kernel allocates nothing.
var allocBudget = map[string]float64{
	"convKernel":           8,
	"bnKernel":             7,
	"bnGradKernel":         10,
	"movingKernel":         4,
	"poolKernel":           2,
	"poolGradKernel":       2,
	"globalPoolKernel":     5,
	"globalPoolGradKernel": 5,
	"reduceKernel":         6,
	"reduceGradKernel":     6,
	"gatherKernel":         2,
	"scatterAddKernel":     2,
}

var kernelExamples []kernelExample

// registerExample adds e to the registry (test files call it in a var
// declaration).
func registerExample(e kernelExample) bool {
	kernelExamples = append(kernelExamples, e)
	return true
}

// exampleInputs makes the inputs of an example graph.
type exampleInputs struct {
	g    *G.ExprGraph
	dt   tensor.Dtype
	rng  *rand.Rand
	n    int       // the batch size: small, or large enough for parallel paths
	wrt  []*G.Node // the differentiable inputs
	seen []*G.Node // every input
	tag  int
}

func (in *exampleInputs) input(vals []float64, shape []int, diff bool) *G.Node {
	in.tag++
	n := G.NewTensor(in.g, in.dt, len(shape), G.WithShape(shape...), G.WithName(fmt.Sprintf("in%d", in.tag)),
		G.WithValue(convDense(in.dt, shape, vals)))
	if diff {
		in.wrt = append(in.wrt, n)
	}
	in.seen = append(in.seen, n)
	return n
}

// x is a differentiable input of uniform values in [-1, 1].
func (in *exampleInputs) x(shape ...int) *G.Node {
	return in.input(tieRand(in.rng, tensor.Shape(shape).TotalSize(), false), shape, true)
}

// ties is x on a grid of quarters, so that maxima tie.
func (in *exampleInputs) ties(shape ...int) *G.Node {
	return in.input(tieRand(in.rng, tensor.Shape(shape).TotalSize(), true), shape, true)
}

// positive is a constant input of values in [0.5, 1.5] (variances).
func (in *exampleInputs) positive(shape ...int) *G.Node {
	v := tieRand(in.rng, tensor.Shape(shape).TotalSize(), false)
	for i := range v {
		v[i] = math.Abs(v[i]) + 0.5
	}
	return in.input(v, shape, false)
}

// labels is a constant input of class indices in [0, classes).
func (in *exampleInputs) labels(classes int, shape ...int) *G.Node {
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float64(in.rng.Intn(classes))
	}
	return in.input(v, shape, false)
}

// mask is a constant (N, T) input of 0s and 1s whose first sample is fully
// masked.
func (in *exampleInputs) mask(n, t int) *G.Node {
	v := make([]float64, n*t)
	for i := t; i < len(v); i++ {
		v[i] = float64(in.rng.Intn(2))
	}
	return in.input(v, []int{n, t}, false)
}

// costOf is Σ_out Σ out ⊙ w, w random.
func costOf(in *exampleInputs, outs []*G.Node) (*G.Node, error) {
	var cost *G.Node
	for _, o := range outs {
		term := o
		if !o.IsScalar() {
			w := in.input(tieRand(in.rng, o.Shape().TotalSize(), false), o.Shape(), false)
			p, err := G.HadamardProd(o, w)
			if err != nil {
				return nil, err
			}
			if term, err = G.Sum(p); err != nil {
				return nil, err
			}
		}
		if cost == nil {
			cost = term
			continue
		}
		var err error
		if cost, err = G.Add(cost, term); err != nil {
			return nil, err
		}
	}
	return cost, nil
}

// topo lists the nodes outs depend on, children first.
func topo(g *G.ExprGraph, outs []*G.Node) []*G.Node {
	var order []*G.Node
	seen := map[*G.Node]bool{}
	var visit func(n *G.Node)
	visit = func(n *G.Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		it := g.From(n.ID())
		for it.Next() {
			visit(it.Node().(*G.Node))
		}
		order = append(order, n)
	}
	for _, o := range outs {
		visit(o)
	}
	return order
}

// runExample builds e, differentiates its cost, evaluates every node in
// order and, with check, checks every kernel node's contract. It returns
// the kernel type names it met.
func runExample(t *testing.T, e kernelExample, dt tensor.Dtype, big, check bool) []string {
	t.Helper()
	in := &exampleInputs{g: G.NewGraph(), dt: dt, rng: rand.New(rand.NewSource(3)), n: 3}
	if big {
		in.n = 40
	}
	name := fmt.Sprintf("%s/%v/big=%t", e.name, dt, big)
	outs, err := e.build(in)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	roots := append([]*G.Node(nil), outs...)
	if len(in.wrt) > 0 {
		cost, err := costOf(in, outs)
		if err != nil {
			t.Fatalf("%s: cost: %v", name, err)
		}
		grads, err := G.Grad(cost, in.wrt...)
		if err != nil {
			t.Fatalf("%s: grad: %v", name, err)
		}
		roots = append(roots, grads...)
	}
	vals := map[*G.Node]G.Value{}
	var kinds []string
	for _, n := range topo(in.g, roots) {
		var args []G.Value
		for it := in.g.From(n.ID()); it.Next(); {
			args = append(args, vals[it.Node().(*G.Node)])
		}
		if n.Op() == nil || len(args) == 0 {
			vals[n] = n.Value()
			if vals[n] == nil {
				v, err := n.Op().Do()
				if err != nil {
					t.Fatalf("%s: constant %v: %v", name, n, err)
				}
				vals[n] = v
			}
			continue
		}
		v, err := n.Op().Do(args...)
		if err != nil {
			t.Fatalf("%s: %v: %v", name, n.Op(), err)
		}
		vals[n] = v
		if o, ok := n.Op().(*op); ok {
			kinds = append(kinds, kernelTypeName(o.k))
			if !check {
				continue
			}
			checkContract(t, fmt.Sprintf("%s/%s", name, o.k.Name()), o, args, allocBudget[kernelTypeName(o.k)])
		}
	}
	return kinds
}

// kernelTypeName is the name of k's type, without package or pointer.
func kernelTypeName(k Kernel) string {
	s := fmt.Sprintf("%T", k)
	return s[strings.LastIndex(s, ".")+1:]
}

// checkContract runs o through Do and through UsePreallocDo on dirty
// buffers and on a buffer of the wrong shape, and counts the allocations
// of a run that reuses its output.
func checkContract(t *testing.T, name string, o *op, in []G.Value, allocs float64) {
	t.Helper()
	want, err := o.Do(in...)
	if err != nil {
		t.Errorf("%s: Do: %v", name, err)
		return
	}
	wd, isTensor := want.(*tensor.Dense)
	if !isTensor {
		// A scalar: the op's own value, the same on every run.
		again, err := o.UsePreallocDo(want, in...)
		if err != nil || again != want {
			t.Errorf("%s: a scalar result is not the op's own value (%v)", name, err)
		}
	} else {
		want = wd.Clone().(*tensor.Dense)
		buf := dirty(wd, true)
		for round, nan := range []bool{true, false, false} {
			if round < 2 {
				fill(buf, nan)
			}
			got, err := o.UsePreallocDo(buf, in...)
			if err != nil {
				t.Errorf("%s: UsePreallocDo (round %d): %v", name, round, err)
				return
			}
			if got != G.Value(buf) {
				t.Errorf("%s: UsePreallocDo (round %d) did not write into the buffer", name, round)
			}
			if err := sameBits(got, want); err != nil {
				t.Errorf("%s: UsePreallocDo (round %d): %v", name, round, err)
			}
		}
		other := tensor.New(tensor.Of(wd.Dtype()), tensor.WithShape(wd.Shape().TotalSize()+1))
		fill(other, true)
		got, err := o.UsePreallocDo(other, in...)
		if err != nil {
			t.Errorf("%s: UsePreallocDo with a wrong buffer: %v", name, err)
			return
		}
		if got == G.Value(other) {
			t.Errorf("%s: UsePreallocDo wrote into a buffer of the wrong shape", name)
		}
		if err := sameBits(got, want); err != nil {
			t.Errorf("%s: UsePreallocDo with a wrong buffer: %v", name, err)
		}
	}
	if parMinWork != defaultParMinWork || raceEnabled {
		return // goroutines and the race detector allocate; the budget is for serial runs
	}
	prev, _ := o.Do(in...)
	if a := testing.AllocsPerRun(5, func() { prev, _ = o.UsePreallocDo(prev, in...) }); a > allocs {
		t.Errorf("%s: %v allocations per reused run, want at most %v", name, a, allocs)
	}
}

var defaultParMinWork = parMinWork

// TestKernelContract checks every node of every example, in both dtypes,
// for small tensors and for tensors large enough to take the parallel
// paths.
func TestKernelContract(t *testing.T) {
	defer func() { parMinWork = defaultParMinWork }()
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, big := range []bool{false, true} {
			parMinWork = defaultParMinWork
			if big {
				parMinWork = 1 // every loop in parallel
			}
			for _, e := range kernelExamples {
				runExample(t, e, dt, big, true)
			}
		}
	}
}

// TestEveryKernelHasAnExample checks that every type of this package with
// a Forward method appears in some registered example.
func TestEveryKernelHasAnExample(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || fd.Name.Name != "Forward" {
					continue
				}
				typ := fd.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				if id, ok := typ.(*ast.Ident); ok {
					defined[id.Name] = true
				}
			}
		}
	}
	met := map[string]bool{}
	for _, e := range kernelExamples {
		for _, k := range runExample(t, e, tensor.Float64, false, false) {
			met[k] = true
		}
	}
	var missing []string
	for k := range defined {
		if !met[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("kernels with no example in the registry: %s", strings.Join(missing, ", "))
	}
	if len(defined) < 20 {
		t.Errorf("found only %d kernel types: is the parser looking at the package?", len(defined))
	}
}

// dirty returns a tensor of t's dtype and shape holding garbage: NaN in
// every element when nan is set, else large values of both signs.
func dirty(t *tensor.Dense, nan bool) *tensor.Dense {
	d := tensor.New(tensor.Of(t.Dtype()), tensor.WithShape(t.Shape().Clone()...))
	fill(d, nan)
	return d
}

func fill(d *tensor.Dense, nan bool) {
	for i := 0; i < d.DataSize(); i++ {
		v := math.NaN()
		if !nan {
			v = 1e30 * float64(1-2*(i%2))
		}
		switch d.Dtype() {
		case tensor.Float32:
			d.Float32s()[i] = float32(v)
		case tensor.Float64:
			d.Float64s()[i] = v
		}
	}
}

// sameBits reports whether two values hold bit-identical elements.
func sameBits(a, b G.Value) error {
	x, y := Float64s(a), Float64s(b)
	if len(x) != len(y) {
		return fmt.Errorf("%d values, want %d", len(x), len(y))
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
			return fmt.Errorf("element %d is %v, want %v", i, x[i], y[i])
		}
	}
	if ta, ok := a.(tensor.Tensor); ok {
		if tb, ok := b.(tensor.Tensor); ok && !sameShape(ta.Shape(), tb.Shape()) {
			return fmt.Errorf("shape %v, want %v", ta.Shape(), tb.Shape())
		}
	}
	return nil
}

// tieRand returns n values in [-1, 1] on a grid of quarters (so that
// maxima tie) when ties, else uniform.
func tieRand(rng *rand.Rand, n int, ties bool) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.Float64()*2 - 1
		if ties {
			v[i] = math.Round(v[i]*4) / 4
		}
	}
	return v
}

// opOf is the adapter of k for input values like in (tests run kernels
// without a graph through it).
func opOf(k Kernel, in ...*tensor.Dense) (*op, error) {
	shapes := make([]tensor.Shape, len(in))
	dts := make([]tensor.Dtype, len(in))
	for i, v := range in {
		shapes[i], dts[i] = v.Shape().Clone(), v.Dtype()
	}
	return opFor(k, shapes, dts)
}

// runKernel runs k once on in and returns its output.
func runKernel(k Kernel, in ...*tensor.Dense) (*tensor.Dense, error) {
	o, err := opOf(k, in...)
	if err != nil {
		return nil, err
	}
	vals := make([]G.Value, len(in))
	for i, v := range in {
		vals[i] = v
	}
	v, err := o.Do(vals...)
	if err != nil {
		return nil, err
	}
	if d, ok := v.(*tensor.Dense); ok {
		return d, nil
	}
	return convDense(o.dt, tensor.Shape{1}, Float64s(v)), nil
}
