module github.com/proxylog/tasklog/benchmarks

go 1.24.0

replace github.com/proxylog/tasklog => ../

require (
	github.com/google/uuid v1.6.0
	github.com/proxylog/tasklog v0.0.0-00010101000000-000000000000
	github.com/rs/zerolog v1.35.1
	go.uber.org/zap v1.28.0
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
