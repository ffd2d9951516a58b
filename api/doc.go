// Package api holds the gRPC protocol of fedb2b (fedb2b.proto) and the code
// generated from it. Generated files are committed; regenerate with
//
//	go generate ./api
//
// which needs protoc (Debian's protobuf-compiler) and protoc-gen-go and
// protoc-gen-go-grpc (go install google.golang.org/protobuf/cmd/protoc-gen-go
// and google.golang.org/grpc/cmd/protoc-gen-go-grpc).
package api

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative fedb2b.proto
