// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// From golang/go, src/runtime/sys_linux_amd64.s at go1.7 (before the fix of golang/go#17641), reduced to
// runtime·sigfwd.

#include "textflag.h"

TEXT runtime·sigfwd(SB),NOSPLIT|NOFRAME,$0-32
	MOVL	sig+8(FP), DI
	MOVQ	info+16(FP), SI
	MOVQ	ctx+24(FP), DX
	MOVQ	fn+0(FP), AX
	CALL	AX
	RET
