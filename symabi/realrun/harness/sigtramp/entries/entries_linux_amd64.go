package entries

// NestedSignal: the linux/amd64 shim raises no nested signal (System V keeps a 128-byte red zone below
// RSP that no signal frame touches, and sigtramp keeps nothing below its SP).
func NestedSignal() uintptr { return 0 }

// NestedOverwritten: see NestedSignal.
func NestedOverwritten() uintptr { return 0 }
