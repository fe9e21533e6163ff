// bcryptprimitives.dll for Wine 8, which lacks it: Go >= 1.22 on Windows takes its random bytes from
// ProcessPrng there (runtime·osinit fails without it). This one implements ProcessPrng over
// RtlGenRandom (advapi32!SystemFunction036), which Wine has. symabi copies it into the Wine prefix's
// system32, the only folder the runtime loads system DLLs from.
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
	while (length) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n, length -= n;
	}
	return TRUE;
}
