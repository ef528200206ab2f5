package kerago

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

// idxFile is an IDX file of unsigned bytes with the given dims and data.
func idxFile(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestDecodeIDX reads good files, plain and gzip-compressed, and refuses
// bad ones before allocating their claimed size: no dims, a zero dim, dims
// whose product overflows, data the file cannot hold, a gzip bomb (far
// more data than the dims), truncated data.
func TestDecodeIDX(t *testing.T) {
	good := idxFile([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	for _, f := range [][]byte{good, gzipped(good)} {
		data, shape, err := decodeIDX(bytes.NewReader(f), int64(len(f)))
		if err != nil || len(shape) != 2 || shape[0] != 2 || shape[1] != 3 || !bytes.Equal(data, []byte{1, 2, 3, 4, 5, 6}) {
			t.Errorf("good file: %v %v %v", data, shape, err)
		}
	}
	bomb := gzipped(idxFile([]uint32{16}, make([]byte, 8<<20))) // 8 MiB of zeros after a 16-byte shape
	huge := idxFile([]uint32{1 << 20, 1 << 20, 1 << 20}, nil)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated header"},
		{"magic", []byte{0, 0, 9, 1, 0, 0, 0, 1, 0}, "not an IDX file of unsigned bytes"},
		{"no dims", idxFile(nil, nil), "0 dims"},
		{"five dims", idxFile([]uint32{1, 1, 1, 1, 1}, []byte{0}), "5 dims"},
		{"zero dim", idxFile([]uint32{0, 28}, nil), "dim 0 is 0: no samples"},
		{"overflow", huge, "ask for more than 1073741824 bytes"},
		{"beyond the file", idxFile([]uint32{1000, 1000}, []byte{1, 2}), "more than the file can hold"},
		{"beyond the gzip", gzipped(idxFile([]uint32{30000, 30000}, []byte{1})), "more than the file can hold"},
		{"bomb", bomb, "more data than dims [16] hold"},
		{"truncated", idxFile([]uint32{4}, []byte{1, 2}), "more than the file can hold"},
		{"truncated stream", idxFile([]uint32{4}, []byte{1, 2}), "the file has fewer"},
	}
	for i, c := range cases {
		size := int64(len(c.file))
		if i == len(cases)-1 {
			size = -1 // a stream of unknown size: the data runs out
		}
		_, _, err := decodeIDX(bytes.NewReader(c.file), size)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// FuzzDecodeIDX feeds arbitrary bytes to the IDX reader: it must return
// data whose length is the product of the dims, or an error, never panic
// or allocate beyond the bound.
func FuzzDecodeIDX(f *testing.F) {
	f.Add(idxFile([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(gzipped(idxFile([]uint32{3}, []byte{7, 8, 9})))
	f.Add(idxFile([]uint32{0}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		data, shape, err := decodeIDX(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(data) != n {
			t.Fatalf("%d bytes for dims %v", len(data), shape)
		}
	})
}
