// Package unix: a stand-in for golang.org/x/sys/unix, written for symabi's tests, so that the
// generated darwin libc trampolines (zsyscall_darwin_*.s, x/sys's own) build as a package.
package unix
