module github.com/typedmmap/mmap/bench

go 1.26.0

require (
	github.com/typedmmap/mmap v0.0.0-00010101000000-000000000000
	golang.org/x/exp v0.0.0-20261113113407-e3970619a1a4
)

require golang.org/x/sys v0.50.0 // indirect

replace github.com/typedmmap/mmap => ../
