package torchinfer_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

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
