// Package enrollpb holds the generated code of the enrolment protocol
// (enroll.proto, package fedb2b.enroll.v1). Generated files are committed;
// regenerate with
//
//	go generate ./api/enrollpb
//
// which needs protoc, protoc-gen-go and protoc-gen-go-grpc on PATH.
package enrollpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative enroll.proto
