// Package entries hands the harness the addresses of runtime symbols the host side needs but Go code
// cannot name (the harness links with -ldflags=-checklinkname=0 for these references from assembly):
// on windows, Go's vectored handlers; on linux/arm64, the words of the build's adversarial shim
// (harness/shims/sigtrampgo_linux_arm64.s) that arm its nested signal and report what it did.
package entries
