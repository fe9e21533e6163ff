package entries

// NestedSignal is the address of runtime·symabiNestedSignal (a uint32): the signal the shim raises
// before it calls sigtrampgo, 0 for none.
func NestedSignal() uintptr

// NestedOverwritten is the address of runtime·symabiNestedOverwritten (a uint32): 1 when that signal's
// frame changed the word below sigtramp's SP.
func NestedOverwritten() uintptr
