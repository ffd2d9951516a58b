//go:build !amd64 || purego

package secagg

// addWordsVec and subWordsVec have no vector implementation on this
// platform: they process nothing and the generic loop does all the work.
func addWordsVec(w []uint32, b []byte) int { return 0 }

func subWordsVec(w []uint32, b []byte) int { return 0 }

func roundWordsVec(dst []uint32, x []float64, rnd []byte, f, lim float64) int { return 0 }

func sumSquaresVec(lanes *[sumLanes]float64, x []float64) int { return 0 }

func addBigEndianVec(w []uint32, b []byte) int { return 0 }

func addVectorVec(w, v []uint32) int { return 0 }

func storeBigEndianVec(b []byte, w []uint32) int { return 0 }
