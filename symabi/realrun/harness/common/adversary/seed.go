package adversary

import (
	"math/rand/v2"
	"os"
	"strconv"
)

// Seed is the sentinels' seed: SYMABI_REALRUN_SEED (to replay a run) or a random one.
func Seed() uint64 {
	if s, err := strconv.ParseUint(os.Getenv("SYMABI_REALRUN_SEED"), 0, 64); err == nil {
		return s
	}
	return rand.Uint64()
}
