package torchinfer_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

func exampleModel(name string) string {
	dir := os.Getenv("TORCHINFER_TEST_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "models")
	}
	return filepath.Join(dir, name)
}

// Load a model, run it on one row and read an output by name.
func Example() {
	m, err := torchinfer.Load(exampleModel("demo.pt")) // forward(features [1,4]) -> {"logits", "probs"}
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	x, err := torchinfer.NewTensor([]float32{0.5, -1, 2, 0.1}, 1, 4)
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()

	out, err := m.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()

	probs, err := out.Find("probs")
	if err != nil {
		log.Fatal(err)
	}
	defer probs.Close()
	values, err := probs.Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Inputs(), out.Names(), probs.Shape(), len(values))
	// Output: [features] [logits probs] [1 3] 3
}

// Call a model with inputs by name; omitted arguments take their defaults.
func ExampleModel_PredictNamed() {
	m, err := torchinfer.Load(exampleModel("named.pt")) // forward(ids, mask, bias=None, scale=1.0)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ids, _ := torchinfer.NewTensor([]float32{1, 2, 3}, 1, 3)
	mask, _ := torchinfer.NewTensor([]float32{1, 0, 1}, 1, 3)
	scale, _ := torchinfer.Scalar(2.0) // a `float` argument takes a one-element tensor
	defer ids.Close()
	defer mask.Close()
	defer scale.Close()

	out, err := m.PredictNamed(map[string]*torchinfer.Tensor{"mask": mask, "ids": ids, "scale": scale})
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	y, _ := out.Get(0)
	defer y.Close()
	v, _ := y.Float32s()
	fmt.Println(v)
	// Output: [2 0 6]
}

// Call a method whose arguments are lists, tuples, dicts and strings, with
// Go values, and read tensor, string and None results.
func ExampleModel_RunValues() {
	// forward(pairs: List[Tuple[Tensor, Tensor]], by_id: Dict[int, Tensor], text: str,
	//         words: List[str], maybe: Optional[Tensor] = None, k: int = 2, scale: float = 1.0)
	m, err := torchinfer.Load(exampleModel("values.pt"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	a, _ := torchinfer.NewTensor([]float32{1, 2}, 2)
	b, _ := torchinfer.NewTensor([]float32{3, 4}, 2)
	defer a.Close()
	defer b.Close()

	out, err := m.RunValues(context.Background(), "", map[string]any{
		"pairs": [][]*torchinfer.Tensor{{a, b}},     // pairs.0.0, pairs.0.1
		"by_id": map[int64]*torchinfer.Tensor{7: a}, // by_id.7
		"text":  "hello",
		"words": []string{"x", "y"},
		"k":     3, // maybe and scale keep their defaults
	})
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	for i, name := range out.Names() {
		switch out.Kind(i) {
		case torchinfer.KindString:
			s, _ := out.Text(i)
			fmt.Printf("%s: %q\n", name, s)
		case torchinfer.KindNone:
			fmt.Printf("%s: None\n", name)
		default:
			fmt.Printf("%s: %v %v\n", name, out.DType(i), out.Shape(i))
		}
	}
	// Output:
	// 0: float32 []
	// 1.p\.q: float32 []
	// 1.n: int64 []
	// 2: "HELLO!!!"
	// 3.0: "y"
	// 3.1: "x"
	// 4: None
}

// Many goroutines (request handlers, say) predict one row each; the Batcher
// runs their rows as batched calls and gives each its own result.
func ExampleBatcher() {
	m, err := torchinfer.Load(exampleModel("batch_rows.pt")) // forward(x) -> {"y": x * 2 + 1, "rows": ...}
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{MaxBatch: 32, MaxDelay: 2 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	results := make([][]float32, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, _ := torchinfer.NewTensor([]float32{float32(i), 1}, 1, 2) // one row
			defer x.Close()
			out, err := b.Predict(context.Background(), x) // a handler would pass r.Context()
			if err != nil {
				log.Print(err)
				return
			}
			defer out.Close()
			y, err := out.Find("y")
			if err != nil {
				log.Print(err)
				return
			}
			defer y.Close()
			results[i], _ = y.Float32s()
		}()
	}
	wg.Wait()
	fmt.Println(results)
	// Output: [[1 3] [3 3] [5 3] [7 3]]
}
