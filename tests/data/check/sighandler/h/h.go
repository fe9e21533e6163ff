package h

// handle is the Go half of the handlers: handle(ctx).
//
//go:nosplit
func handle(ctx uintptr) {}

// tick is a Go function without arguments.
//
//go:nosplit
func tick() {}
