package hdf5

import "fmt"

// Object header message types.
const (
	msgNIL          = 0x00
	msgDataspace    = 0x01
	msgDatatype     = 0x03
	msgFillValue    = 0x05
	msgLayout       = 0x08
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
)

// messageNames names the message types outside the subset, for errors.
var messageNames = map[uint16]string{
	0x02: "link info message (new-style group)",
	0x04: "old fill value message",
	0x06: "link message (compact link storage, soft or external links)",
	0x07: "external data files message",
	0x09: "bogus message",
	0x0A: "group info message (new-style group)",
	0x0B: "filter pipeline message (compression or other filters)",
	0x0D: "object comment message",
	0x0E: "old modification time message",
	0x0F: "shared message table message",
	0x12: "modification time message",
	0x13: "B-tree 'K' values message",
	0x14: "driver info message",
	0x15: "attribute info message (dense attribute storage)",
	0x16: "object reference count message",
	0x17: "file space info message",
}

// messageName names any message type, for errors.
func messageName(t uint16) string {
	switch t {
	case msgDataspace:
		return "dataspace message"
	case msgDatatype:
		return "datatype message"
	case msgFillValue:
		return "fill value message"
	case msgLayout:
		return "data layout message"
	case msgAttribute:
		return "attribute message"
	case msgSymbolTable:
		return "symbol table message"
	}
	if n, ok := messageNames[t]; ok {
		return n
	}
	return fmt.Sprintf("unknown message type %#x", t)
}

// message is one object header message (NIL and continuation messages are
// consumed by readHeader).
type message struct {
	typ   uint16
	flags uint8
	data  []byte
	at    int64 // file offset of data
}

// chunk is a block of object header messages.
type chunk struct {
	addr, size uint64
}

// readHeader reads the version 1 object header at addr, following its
// continuation blocks, and returns its messages other than NIL and
// continuation messages.
func (r *reader) readHeader(path string, addr uint64) ([]message, error) {
	if err := r.claim(path, addr, "object header"); err != nil {
		return nil, err
	}
	pre, err := r.read(path, addr, 16, "object header prefix")
	if err != nil {
		return nil, err
	}
	if string(pre[:4]) == "OHDR" {
		return nil, unsupported(path, int64(addr), "version 2 object header (OHDR)")
	}
	c := newCursor(pre, int64(addr), path, "object header prefix")
	if v := c.u8(); v != 1 {
		return nil, unsupported(path, int64(addr), "object header version %d (only version 1 is supported)", v)
	}
	c.skip(1)
	nmesgs, refs, size := int(c.u16()), c.u32(), c.u32()
	if r.strict && refs != 1 {
		return nil, r.notKeras(path, int64(addr)+4, "object reference count %d; Keras's objects have 1", refs)
	}
	h := headerWalk{r: r, path: path, want: nmesgs, chunks: []chunk{{addr + 16, uint64(size)}}}
	for i := 0; i < len(h.chunks); i++ {
		if err := h.readChunk(i); err != nil {
			return nil, err
		}
	}
	if h.count != nmesgs {
		return nil, corrupt(path, int64(addr)+2, "object header claims %d messages, holds %d", nmesgs, h.count)
	}
	return h.msgs, nil
}

// headerWalk is the state of reading one object header's chunks.
type headerWalk struct {
	r      *reader
	path   string
	want   int // messages the prefix claims
	count  int // messages met, NIL and continuation included
	chunks []chunk
	msgs   []message
}

// readChunk reads the messages of chunk i, queueing continuation blocks.
func (h *headerWalk) readChunk(i int) error {
	ch := h.chunks[i]
	what := "object header continuation block"
	if i == 0 {
		what = "object header messages"
	}
	if err := h.r.claim(h.path, ch.addr, what); err != nil {
		return err
	}
	b, err := h.r.read(h.path, ch.addr, ch.size, "object header messages")
	if err != nil {
		return err
	}
	if len(b)%8 != 0 {
		return corrupt(h.path, int64(ch.addr), "object header block of %d bytes is not a multiple of 8", len(b))
	}
	c := newCursor(b, int64(ch.addr), h.path, "object header message")
	for c.left() > 0 {
		at := c.off()
		typ, size, flags := c.u16(), int(c.u16()), c.u8()
		c.skip(3)
		data := c.take(size)
		if c.err != nil {
			return c.err
		}
		if size%8 != 0 {
			return corrupt(h.path, at, "%s of %d bytes is not aligned to 8 bytes", messageName(typ), size)
		}
		if h.count++; h.count > h.want {
			return corrupt(h.path, at, "object header holds more messages than the %d its prefix claims", h.want)
		}
		if err := h.r.checkFlags(h.path, at, typ, flags); err != nil {
			return err
		}
		switch typ {
		case msgNIL:
		case msgContinuation:
			if err := h.continuation(data, at+8); err != nil {
				return err
			}
		default:
			h.msgs = append(h.msgs, message{typ: typ, flags: flags, data: data, at: at + 8})
		}
	}
	return nil
}

// continuation queues the block a continuation message points to.
func (h *headerWalk) continuation(data []byte, at int64) error {
	c := newCursor(data, at, h.path, "continuation message")
	addr, size := c.u64(), c.u64()
	if c.err != nil {
		return c.err
	}
	if size == 0 || addr == undef {
		return corrupt(h.path, at, "continuation message points to %d bytes at %#x", size, addr)
	}
	h.chunks = append(h.chunks, chunk{addr, size})
	return nil
}

// checkFlags refuses shared messages and flags outside the subset; strict
// mode wants Keras's exact flags (1, "constant", on datatype and fill value
// messages, 0 elsewhere).
func (r *reader) checkFlags(path string, at int64, typ uint16, flags uint8) error {
	if flags&0x02 != 0 {
		return unsupported(path, at, "shared %s (shared object header messages)", messageName(typ))
	}
	if flags&^0x01 != 0 {
		return unsupported(path, at, "%s flags %#x", messageName(typ), flags)
	}
	if r.strict {
		want := uint8(0)
		if typ == msgDatatype || typ == msgFillValue {
			want = 1
		}
		if flags != want {
			return r.notKeras(path, at, "%s flags %d; Keras's have %d", messageName(typ), flags, want)
		}
	}
	return nil
}
