module github.com/proxylog/tasklog

go 1.24.0

require (
	github.com/google/uuid v1.6.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	go.uber.org/zap v1.28.0
	go.yaml.in/yaml/v3 v3.0.4
	golang.org/x/net v0.45.0
)

require (
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/text v0.29.0 // indirect
)
