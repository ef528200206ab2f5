package kerago

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"io/fs"
	"math"

	"github.com/pkg/errors"
)

// maxIDXBytes bounds the data of one IDX file (the full MNIST training
// images are 47 MB): a header asking for more is refused before anything
// is allocated, and decompression stops there.
const maxIDXBytes = 1 << 30

// maxDeflateRatio is the most deflate can expand its input (1032:1): a
// gzip file of n bytes cannot hold more than about n·1032 bytes of data.
const maxDeflateRatio = 1032

// readIDX reads an IDX file of unsigned bytes (gzip-compressed or plain)
// from open(name): the data and the dims. The header is checked before the
// data is allocated: 1 to 4 dims, each positive, whose product neither
// overflows nor exceeds maxIDXBytes nor what the file can hold (its size,
// or for gzip its size times deflate's largest ratio); the data must then
// end exactly where the dims say.
func readIDX(open func(string) (io.ReadCloser, error), name string) ([]byte, []int, error) {
	f, err := open(name)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "MNIST: opening %s", name)
	}
	defer f.Close()
	size := int64(-1)
	if st, ok := f.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if info, err := st.Stat(); err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
	}
	data, shape, err := decodeIDX(f, size)
	return data, shape, errors.WithMessagef(err, "MNIST: %s", name)
}

// decodeIDX reads an IDX stream of fileSize bytes (-1 if unknown).
func decodeIDX(r io.Reader, fileSize int64) ([]byte, []int, error) {
	br := bufio.NewReader(r)
	limit := int64(math.MaxInt64)
	if fileSize >= 0 {
		limit = fileSize
	}
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, errors.Wrap(err, "bad gzip stream")
		}
		src = zr
		if fileSize >= 0 && fileSize < math.MaxInt64/maxDeflateRatio {
			limit = fileSize * maxDeflateRatio
		}
	}
	var head [4]byte
	if _, err := io.ReadFull(src, head[:]); err != nil {
		return nil, nil, errors.New("truncated header")
	}
	if head[0] != 0 || head[1] != 0 || head[2] != 8 {
		return nil, nil, errors.Errorf("not an IDX file of unsigned bytes (magic % x)", head)
	}
	dims := int(head[3])
	if dims < 1 || dims > 4 {
		return nil, nil, errors.Errorf("%d dims; an IDX file of samples has 1 to 4", dims)
	}
	shape := make([]int, dims)
	total := int64(1)
	for i := range shape {
		var d [4]byte
		if _, err := io.ReadFull(src, d[:]); err != nil {
			return nil, nil, errors.New("truncated header")
		}
		n := int64(binary.BigEndian.Uint32(d[:]))
		if n == 0 {
			return nil, nil, errors.Errorf("dim %d is 0: no samples", i)
		}
		if total > maxIDXBytes/n {
			return nil, nil, errors.Errorf("dims %v… ask for more than %d bytes", shape[:i+1], maxIDXBytes)
		}
		shape[i] = int(n)
		total *= n
	}
	if header := int64(4 + 4*dims); total > limit-header {
		return nil, nil, errors.Errorf("dims %v ask for %d bytes of data, more than the file can hold", shape, total)
	}
	data := make([]byte, total)
	if _, err := io.ReadFull(src, data); err != nil {
		return nil, nil, errors.Errorf("dims %v ask for %d bytes of data, the file has fewer (%v)", shape, total, err)
	}
	var one [1]byte
	switch _, err := io.ReadFull(src, one[:]); err {
	case io.EOF:
		return data, shape, nil
	case nil:
		return nil, nil, errors.Errorf("more data than dims %v hold", shape)
	default:
		return nil, nil, errors.Wrap(err, "corrupt data after the samples")
	}
}
