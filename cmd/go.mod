module github.com/typedmmap/mmap/cmd

go 1.26.0

require github.com/typedmmap/mmap v0.0.0-00010101000000-000000000000

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.50.0
	golang.org/x/tools v0.52.1-0.20261106145633-d407941a339a
)

replace github.com/typedmmap/mmap => ../
