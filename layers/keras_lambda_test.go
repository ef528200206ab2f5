package layers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/graph/backend"
)

// TestLambdaByRegisteredName checks that a Lambda whose function is
// registered is written as Keras writes a registered function and read back
// to the same computation, and the errors for what cannot be saved or
// loaded.
func TestLambdaByRegisteredName(t *testing.T) {
	RegisterLambda("kerago_test>l2norm", func(_ *graph.Context, in []graph.Node) (graph.Node, error) {
		return backend.L2Normalize(in[0], -1)
	})
	in := graph.Input(3)
	lam := NewRegisteredLambda("kerago_test>l2norm", WithName("norm"))
	out := lam.Apply(in)
	obj, err := SerializeLayer(lam, "float32")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(obj.Config), `"registered_name":"kerago_test>l2norm"`) || !strings.Contains(string(obj.Config), `"class_name":"function"`) {
		t.Errorf("Lambda config %s", obj.Config)
	}
	back, err := DeserializeLayer(obj)
	if err != nil {
		t.Fatal(err)
	}
	in2 := graph.Input(3)
	x := []float64{3, 4, 0, 1, 2, 2}
	want, _ := runOnce(t, newNet(t, in, out, dtypes[1], 1), graph.ProgramSpec{Batch: 2}, x)
	got, _ := runOnce(t, newNet(t, in2, graph.Apply1(back, in2), dtypes[1], 1), graph.ProgramSpec{Batch: 2}, x)
	if err := closeTo(got, want, tolFor(dtypes[1])); err != nil || closeTo(want[:2], []float64{0.6, 0.8}, tolFor(dtypes[1])) != nil {
		t.Errorf("reloaded Lambda: %v, %v (want %v)", got, err, want)
	}
	_, err = SerializeLayer(NewLambda(func(_ *graph.Context, x graph.Node) (graph.Node, error) { return x, nil }, WithName("anon")), "float32")
	if err == nil || !strings.Contains(err.Error(), "layer anon (Lambda): its Go function has no registered name") {
		t.Errorf("unregistered Lambda: %v", err)
	}
	for _, c := range []struct{ cfg, want string }{
		{`{"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "4wEA"}}}`, "its function is a Python lambda stored as bytecode"},
		{`{"name": "l", "function": {"module": "__main__", "class_name": "function", "config": "nope", "registered_name": "pkg>nope"}}`, `its function "pkg>nope" is not registered: register a Go function under that name with layers.RegisterLambda("pkg>nope", fn)`},
		{`{"name": "l", "function": {"class_name": "function", "config": "l2norm", "registered_name": "kerago_test>l2norm"}, "arguments": {"k": 1}}`, "key arguments: only no arguments is supported"},
		{`{"name": "l"}`, `missing key "function"`},
	} {
		_, err := DeserializeLayer(KerasObject{ClassName: "Lambda", Config: json.RawMessage(c.cfg)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}
