// Package npy reads and writes numpy's .npy format: the header (its magic,
// version and Python dict, parsed as Python's ast.literal_eval reads it, and
// built byte for byte as numpy 1.24 and later write it) and the dtype its
// descr names. It knows nothing of Go types or of this project's array
// files, whose rules package arrayfile holds.
package npy
