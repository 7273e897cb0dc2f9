module github.com/wasisim/wasisim

go 1.26.0

require (
	github.com/go-git/go-billy/v5 v5.9.2
	github.com/google/btree v1.1.3
	github.com/spf13/afero v1.15.0
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
	pgregory.net/rapid v1.3.0
)

require golang.org/x/text v0.43.0 // indirect
