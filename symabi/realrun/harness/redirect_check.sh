#!/bin/sh
# The harness build's -toolexec when it redirects a call to an adversarial shim (harnesses.toml's
# `redirect`, symabi/realrun/overlay.py). Every Go tool runs as cmd/go asks, but the assembler run on
# an overlaid copy of a redirected file (in $SYMABI_REDIRECT_DIR): symabi/realrun/redirect_check.py
# runs that one and checks it against the tree's own file. The tool IDs (-V=full) say that the check
# is on, so cmd/go's cache never hands a build with it a runtime built without it.
if [ "$2" = "-V=full" ]; then
	version=$("$@") || exit $?
	echo "$version symabi-redirect-check-1"
	exit 0
fi
eval last=\${$#}
case "$1" in
*/asm | */asm.exe)
	case "$last" in "$SYMABI_REDIRECT_DIR"/*.s) exec "$SYMABI_REDIRECT_PYTHON" "$SYMABI_REDIRECT_CHECKER" "$@" ;; esac ;;
esac
exec "$@"
