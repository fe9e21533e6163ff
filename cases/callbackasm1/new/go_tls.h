// Copyright 2014 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// symabi: the windows/amd64 TLS access of src/runtime/go_tls.h written out as the Go
// assembler of April 2021 (golang/go dba2eab8267599f5f59f1f586b47f31b6552938c and its
// parent) emitted it. The original reads
//	#define	get_tls(r)	MOVQ TLS, r
//	#define	g(r)	0(r)(TLS*1)
// and that assembler encoded `MOVQ TLS, r` for Windows as `MOVQ 0x28(GS), r` ("Windows TLS
// base is always 0x28(GS)") and dropped the TLS index from `0(r)(TLS*1)`, leaving `0(r)`.
// The pinned assembler emits `MOVQ runtime.tls_g(SB), r; MOVQ (r)(GS*1), r` for
// `MOVQ TLS, r` instead, so the 2021 form is spelled out here (see case.toml, deviations).
// Only the amd64 block is needed.

#define	get_tls(r)	MOVQ 0x28(GS), r
#define	g(r)	0(r)
