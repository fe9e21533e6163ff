// symabi's go_asm.h for internal/runtime/syscall/windows (go1.27.3): the offsets of StdCallInfo
// (syscall_windows.go: Fn, N, Args, R1, R2, each a uintptr), as the compiler's -asmhdr writes them.
#define StdCallInfo__size 40
#define StdCallInfo_Fn 0
#define StdCallInfo_N 8
#define StdCallInfo_Args 16
#define StdCallInfo_R1 24
#define StdCallInfo_R2 32
