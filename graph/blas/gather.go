package blas

import "fmt"

// Gather is a plan for packing columns gathered from scattered places of a
// source into micro-panels of mr rows, the layout the product's kernel
// reads A in (PackA: element (i, p) of a panel at p·mr+i): each column's
// rows are a few short contiguous runs of the source at fixed offsets from
// that column's base offset. A convolution's transposed im2col matrix is
// such a source: column p is an output position, its rows the patch under
// the kernel there, one run per kernel row. Build a plan with Reset and
// AddRun, once per block, and apply it to many columns with PackGather.
type Gather struct {
	mr      int
	loads   []gatherLoad
	srcLo   int // smallest source offset a run reads (relative to a base)
	srcHi   int // one past the largest
	dstHi   int // one past the largest panel column offset written, for column 0
	rowsSet uint32
}

// gatherLoad is one run of a Gather: the source values at src+i from a
// column's base go to row i of the panel column at dst (+p·mr for column
// p), for each row i in mask. Runs of one panel are adjacent; the last
// one has end set and zero the panel's rows no run supplies. The assembly
// reads this layout (20 bytes).
type gatherLoad struct {
	dst, src  int32
	mask      uint32
	zero, end uint32
}

// Reset empties the plan for panels of mr rows (1 to 16).
func (g *Gather) Reset(mr int) {
	if mr < 1 || mr > 16 {
		panic(fmt.Sprintf("blas: Gather: %d rows per panel, want 1 to 16", mr))
	}
	*g = Gather{mr: mr, loads: g.loads[:0]}
}

// AddRun adds a run: rows [row, row+n) of the micro-panel whose column 0
// is at dst take the n source values from src on (relative to each
// column's base offset). Runs must be added panel by panel, must not
// overlap, and must lie within the panel (row+n ≤ mr); rows of a panel that
// no run supplies are written zero.
func (g *Gather) AddRun(dst, row, src, n int) {
	if n < 1 || row < 0 || row+n > g.mr || dst < 0 {
		panic(fmt.Sprintf("blas: Gather.AddRun: rows [%d, %d) of a panel of %d rows at %d", row, row+n, g.mr, dst))
	}
	mask := uint32(1)<<(row+n) - uint32(1)<<row
	if k := len(g.loads); k > 0 && int(g.loads[k-1].dst) == dst {
		if g.rowsSet&mask != 0 {
			panic("blas: Gather.AddRun: runs overlap")
		}
		g.loads[k-1].end, g.loads[k-1].zero = 0, 0
	} else {
		g.rowsSet = 0
	}
	g.rowsSet |= mask
	if len(g.loads) == 0 {
		g.srcLo, g.srcHi = src, src+n
	}
	g.srcLo, g.srcHi, g.dstHi = min(g.srcLo, src), max(g.srcHi, src+n), max(g.dstHi, dst+g.mr)
	full := uint32(1)<<g.mr - 1
	g.loads = append(g.loads, gatherLoad{dst: int32(dst), src: int32(src - row), mask: mask, zero: full &^ g.rowsSet, end: 1})
}

// PackGather writes len(bases) columns of the plan's panels into dst:
// column p of the panel at offset d is dst[d+p·mr : d+(p+1)·mr], its rows
// the plan's runs read from src at bases[p] onwards. It panics when a run
// would read outside src or a column would be written outside dst. With
// AVX-512 (float32) each panel column is gathered by masked loads into one
// register and stored once; elsewhere in Go.
func PackGather[T Float](g *Gather, dst, src []T, bases []int32) {
	if len(bases) == 0 || len(g.loads) == 0 {
		return
	}
	lo, hi := bases[0], bases[0]
	for _, b := range bases {
		lo, hi = min(lo, b), max(hi, b)
	}
	if int(lo)+g.srcLo < 0 || int(hi)+g.srcHi > len(src) || g.dstHi+(len(bases)-1)*g.mr > len(dst) {
		panic(fmt.Sprintf("blas: PackGather: runs read [%d, %d) of a source of %d, columns write up to %d of %d",
			int(lo)+g.srcLo, int(hi)+g.srcHi, len(src), g.dstHi+(len(bases)-1)*g.mr, len(dst)))
	}
	if d32, ok := any(dst).([]float32); ok && vecGather {
		s32 := any(src).([]float32)
		packGather32Vec(&d32[0], g.mr, &s32[0], &bases[0], len(bases), &g.loads[0], len(g.loads), uint32(1)<<g.mr-1)
		return
	}
	packGatherGo(g, dst, src, bases)
}

// packGatherGo is PackGather in Go, the arguments checked.
func packGatherGo[T Float](g *Gather, dst, src []T, bases []int32) {
	for p, b := range bases {
		col := p * g.mr
		for _, l := range g.loads {
			d := dst[int(l.dst)+col : int(l.dst)+col+g.mr]
			at := int(b) + int(l.src) // row i reads src[at+i]
			for i := range d {
				if l.mask>>i&1 != 0 {
					d[i] = src[at+i]
				} else if l.zero>>i&1 != 0 {
					d[i] = 0
				}
			}
		}
	}
}
