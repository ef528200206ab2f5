// Package hdf5 reads and writes the HDF5 files of Keras models: the Keras 3
// weights files (*.weights.h5, and model.weights.h5 inside a .keras zip)
// and the legacy Keras 2 full-model files (*.h5). No pure-Go HDF5 library
// exists, so this package implements exactly the part of HDF5 that those
// files use, as h5py writes them on the HDF5 library with its default
// ("earliest") file format, and refuses everything else. It owns the file
// format only: which groups, attributes and datasets a Keras model file
// holds is the business of the model loading and saving code above it.
//
// # The subset
//
//   - The file starts with the HDF5 signature at offset 0 (no user block),
//     followed by a version 0 superblock with 8-byte offsets and lengths,
//     base address 0 and no driver information block.
//   - Objects have version 1 object headers. Header messages may continue
//     in continuation blocks; NIL messages are padding.
//   - Groups are old-style symbol-table groups: a symbol table message
//     points to a version 1 B-tree of node type 0 (of any height, nodes
//     holding up to 2K children) whose leaves are symbol-table nodes (SNOD,
//     version 1, up to 2K entries), and to a version 0 local heap holding
//     the link names. A group may be empty. Links are hard links, each
//     object linked once.
//   - Datasets have a version 1 dataspace (scalar or up to rank 32), an
//     IEEE little-endian float32 or float64 datatype, an optional fill
//     value message (version 1 or 2; its value is never used) and a
//     version 3 contiguous data layout. Their values are read in full.
//   - Groups carry attributes (version 1 attribute messages in the object
//     header): variable-length strings (NUL-terminated, ASCII or UTF-8,
//     kept in version 1 global heap collections) or float64, either scalar
//     or 1-D, possibly empty.
//
// # What is refused
//
// Everything else is refused with an *Error of kind Unsupported naming the
// feature and the object path where it was met: superblock versions 1 to
// 3, other offset sizes, user blocks, driver information blocks, version 2
// object headers (OHDR), new-style groups (link, link info and group info
// messages, fractal heaps), soft and external links, dense attribute
// storage (attribute info messages), shared messages, compact, chunked
// and virtual layouts, filters (compression), external data files,
// modification times and comments, attributes on datasets, attributes of
// rank 2 or more, version 2 and 3 attribute messages, and every other
// datatype: integers, float16 and bfloat16, big-endian floats, fixed-length
// strings, compound, array, enum, reference, opaque and bitfield types,
// variable-length sequences, string datasets and float32 attributes.
//
// A damaged file is refused with an *Error of kind Corrupt giving the
// offset and what was expected there. The reader never panics on any
// input and never allocates more than the file holds: every size and count
// read from the file is checked against the file's size first (products of
// dimensions included, without overflow), every structure may be read only
// once (which stops cycles among groups, B-tree nodes and continuation
// blocks), group nesting is limited to 100 levels and B-trees to level 8,
// and datasets may not together take more bytes than the file holds (which
// refuses storage shared by many datasets).
//
// # Strict mode
//
// ReadOptions{Strict: true} further refuses, with errors of kind NotKeras,
// a file that is inside the subset but not laid out as Keras's files are:
// K values other than 4 (symbol-table nodes) and 16 (B-tree nodes);
// superblock consistency flags or a free-space address; an end-of-file
// address other than the file's size; a root entry whose cache type is not
// 1; object reference counts other than 1; message flags other than
// "constant" on datatype and fill value messages and none elsewhere;
// B-tree keys that do not name the last link left of them, wrong sibling
// addresses, empty nodes below a non-empty root, or a root above level 0
// with a single child (a level the HDF5 library would not add); empty
// symbol-table nodes; symbol-table entries not cached as the library does
// (cache type 1 with the B-tree and heap of a group, 0 and nothing for a
// dataset); float64 datasets, datasets without a fill value message or
// whose maximum dimensions are not their dimensions, fill values other
// than version 2 allocated late, written if set, defined and empty;
// float64 attributes other than empty 1-D arrays, attribute names or
// datatypes with extra padding, and string attributes whose data is not
// exactly their elements; strings that are not valid in their charset,
// that do not fill their heap object, or empty ones without a heap object;
// global heap collections smaller than 4096 bytes, or objects with a
// reference count. (A file may hold several collections: the HDF5 library
// starts a new one when the current is full, as in the legacy .h5 file of
// a model with many layers.)
//
// # Reading
//
// Open and Read return the whole tree in memory, dataset values included:
// Keras model files are small, reading everything at once means that a
// file is checked in full (a damaged file fails at Open, not later at
// some access), and a File holds no handle to close.
//
// # Writing
//
// File.Write writes a tree in this subset, as Keras's files are laid out
// (so that strict mode reads it): K = 4 and 16, a B-tree over as many
// levels as the group's size needs with nodes split evenly, every string
// in one global heap collection, float32 datasets in 256-byte object
// headers. It writes only float32 datasets and, as float64 attributes,
// only empty 1-D ones (Keras's weight_names of a layer without weights),
// and refuses a tree it could not write faithfully (duplicate or invalid
// names, values not matching shapes, strings with NUL or invalid in their
// charset, an attribute too large for an object header message) before
// writing anything. File.WriteFile writes to a path through a temporary
// file renamed into place.
package hdf5
