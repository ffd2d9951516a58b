package pki

import (
	"math/big"
	"net/url"
)

type urlURL = url.URL

func bigOne() *big.Int { return big.NewInt(1) }
