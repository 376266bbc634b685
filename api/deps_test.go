package api_test

// The generated clients import the generator's runtime; keeping it
// imported here keeps it in go.mod, so they build offline.
import _ "github.com/oapi-codegen/runtime"
