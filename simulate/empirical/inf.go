package empirical

import "math"

var inf = math.Inf(1)
