package train_test

import (
	"fmt"
	"sync"

	"gorgonia.org/tensor"

	"github.com/kerago/kerago/train"
)

// One model serves several goroutines; each keeps its own result tensor
// and predicts into it with PredictInto, so that a steady stream of calls
// allocates next to nothing for results.
func ExampleModel_PredictInto() {
	m, err := train.LoadModel("../testdata/keras/mlp.keras")
	if err != nil {
		fmt.Println(err)
		return
	}
	var wg sync.WaitGroup
	sums := make([]float32, 4)
	for g := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := tensor.New(tensor.WithShape(8, 20), tensor.WithBacking(make([]float32, 8*20)))
			probs := tensor.New(tensor.Of(m.DType()), tensor.WithShape(8, 3))
			for range 100 {
				if err := m.PredictInto(probs, x); err != nil {
					fmt.Println(err)
					return
				}
			}
			for _, p := range probs.Float32s() {
				sums[g] += p
			}
		}()
	}
	wg.Wait()
	fmt.Printf("each goroutine's 8 rows of probabilities sum to %.3f %.3f %.3f %.3f\n", sums[0], sums[1], sums[2], sums[3])
	// Output: each goroutine's 8 rows of probabilities sum to 8.000 8.000 8.000 8.000
}
