package coordinator

import (
	"math"
	"strings"
)

func nanF() float64               { return math.NaN() }
func contains(s, sub string) bool { return strings.Contains(s, sub) }
