package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodeJSONData fills t (name, datatype and shape set) from a JSON "data"
// value: the elements in row-major order, as a flat array, nested arrays
// (nesting is not checked against the shape: the element count is), or one
// bare element. Numbers (true/false for BOOL, strings for BYTES) are parsed
// straight into the datatype's raw form, without a []any in between.
func decodeJSONData(t *wireTensor, data []byte) error {
	n, err := numElements(t.shape)
	if err != nil {
		return badRequest("input %q: %v", t.name, err)
	}
	// Room for the elements, but no more than data can hold (an element takes at least two
	// bytes of JSON, "1,"): a tiny request must not make the server allocate for a huge shape.
	room := min(n, len(data)/2+1)
	var put elementWriter
	if t.datatype == bytesType {
		t.strs = make([][]byte, 0, room)
	} else {
		put = jsonElement(t.datatype)
		t.raw = make([]byte, 0, room*dtypeOf[t.datatype].Size())
	}
	count := 0
	err = scanJSONElements(data, func(tok []byte, quoted bool) error {
		count++
		if count > n {
			return nil // counted, reported below
		}
		if t.datatype == bytesType {
			if !quoted {
				return fmt.Errorf("%s is not a string (BYTES data are JSON strings)", tok)
			}
			s, err := unquote(tok)
			t.strs = append(t.strs, s)
			return err
		}
		if quoted {
			return fmt.Errorf("%s is a string, not a %s", tok, t.datatype)
		}
		var err error
		t.raw, err = put(t.raw, tok)
		return err
	})
	if err != nil {
		return badRequest("input %q: data: %v", t.name, err)
	}
	if count != n {
		return badRequest("input %q: %d elements in data, but shape %v takes %d", t.name, count, t.shape, n)
	}
	return nil
}

// maxJSONDepth bounds the nesting of a data array.
const maxJSONDepth = 64

// scanJSONElements calls elem for each scalar of a JSON value made of arrays
// and scalars, in order: numbers, true and false as their text, strings with
// their quotes (quoted = true). null and objects are errors. data is valid
// JSON (encoding/json checked it as a RawMessage).
func scanJSONElements(data []byte, elem func(tok []byte, quoted bool) error) error {
	depth := 0
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ',':
			i++
		case '[':
			if depth++; depth > maxJSONDepth {
				return fmt.Errorf("arrays nested deeper than %d", maxJSONDepth)
			}
			i++
		case ']':
			depth--
			i++
		case '{':
			return fmt.Errorf("an object where an element belongs")
		case '"':
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			if err := elem(data[i:j+1], true); err != nil {
				return err
			}
			i = j + 1
		default:
			j := i
			for j < len(data) && !isDelimiter(data[j]) {
				j++
			}
			if tok := data[i:j]; string(tok) == "null" {
				return fmt.Errorf("null where an element belongs")
			} else if err := elem(tok, false); err != nil {
				return err
			}
			i = j
		}
	}
	return nil
}

// unquote decodes a JSON string token (quotes included) into its bytes.
func unquote(tok []byte) ([]byte, error) {
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return bytes.Clone(inner), nil
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func isDelimiter(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']'
}
