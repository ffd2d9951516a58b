package privacy

import (
	"math"
	"testing"
)

func TestOrderLists(t *testing.T) {
	if len(DefaultRDPOrders) != 156 || len(OpacusRDPOrders) != 151 {
		t.Fatalf("order list lengths %d, %d; want 156, 151", len(DefaultRDPOrders), len(OpacusRDPOrders))
	}
	if DefaultRDPOrders[9] != 2 || DefaultRDPOrders[99] != 11 || DefaultRDPOrders[155] != 1024 {
		t.Errorf("DefaultRDPOrders has wrong entries: %v %v %v", DefaultRDPOrders[9], DefaultRDPOrders[99], DefaultRDPOrders[155])
	}
	if OpacusRDPOrders[98] != 10.9 || OpacusRDPOrders[99] != 12 || OpacusRDPOrders[150] != 63 {
		t.Errorf("OpacusRDPOrders has wrong entries")
	}
}

// TestRDPReference checks every sgm row: exact RDP over Opacus' orders must
// match eps_rdp_opacus (1e-6 relative) and best_order_opacus exactly; over
// dp_accounting's orders it must match the 40-digit mpmath value
// eps_rdp_mpmath_dpaccounting_orders (1e-6 relative) and never exceed
// dp_accounting's own (looser, absolute-value series) eps_rdp_dpaccounting.
func TestRDPReference(t *testing.T) {
	n := 0
	for _, r := range loadReference(t) {
		if r.kind != "sgm" {
			continue
		}
		n++
		q, sigma, delta := r.get("q"), r.get("sigma"), r.get("delta")

		op := NewRDPAccountant(OpacusRDPOrders)
		if err := op.Compose(q, sigma, r.steps); err != nil {
			t.Fatalf("line %d: %v", r.line, err)
		}
		eps, order, err := op.Epsilon(delta)
		if err != nil {
			t.Fatalf("line %d: %v", r.line, err)
		}
		if e := relErr(eps, r.get("eps_rdp_opacus")); e > 1e-6 {
			t.Errorf("line %d q=%g σ=%g T=%d δ=%g: Opacus orders eps %.12g, want %.12g (rel %.2g)",
				r.line, q, sigma, r.steps, delta, eps, r.get("eps_rdp_opacus"), e)
		}
		if order != r.get("best_order_opacus") {
			t.Errorf("line %d: best order %g, want %g", r.line, order, r.get("best_order_opacus"))
		}

		dp := NewRDPAccountant(nil)
		if err := dp.Compose(q, sigma, r.steps); err != nil {
			t.Fatalf("line %d: %v", r.line, err)
		}
		eps2, _, err := dp.Epsilon(delta)
		if err != nil {
			t.Fatalf("line %d: %v", r.line, err)
		}
		if e := relErr(eps2, r.get("eps_rdp_mpmath_dpaccounting_orders")); e > 1e-6 {
			t.Errorf("line %d q=%g σ=%g T=%d δ=%g: default orders eps %.12g, want mpmath %.12g (rel %.2g)",
				r.line, q, sigma, r.steps, delta, eps2, r.get("eps_rdp_mpmath_dpaccounting_orders"), e)
		}
		if eps2 > r.get("eps_rdp_dpaccounting")*(1+1e-9) {
			t.Errorf("line %d: default orders eps %.12g exceeds dp_accounting's %.12g", r.line, eps2, r.get("eps_rdp_dpaccounting"))
		}
		conv, err := RDPEpsilon(q, sigma, r.steps, delta)
		if err != nil || conv != eps2 {
			t.Errorf("line %d: RDPEpsilon = %v, %v; want %v", r.line, conv, err, eps2)
		}
	}
	if n < 100 {
		t.Fatalf("only %d sgm rows", n)
	}
}

// TestRDPHeterogeneous: composing in pieces equals composing at once, and
// Clone is independent.
func TestRDPHeterogeneous(t *testing.T) {
	a := NewRDPAccountant(nil)
	b := NewRDPAccountant(nil)
	if err := a.Compose(0.01, 1.1, 1000); err != nil {
		t.Fatal(err)
	}
	if err := a.Compose(0.1, 2, 50); err != nil {
		t.Fatal(err)
	}
	c := a.Clone()
	for i := 0; i < 10; i++ {
		if err := b.Compose(0.1, 2, 5); err != nil {
			t.Fatal(err)
		}
		if err := b.Compose(0.01, 1.1, 100); err != nil {
			t.Fatal(err)
		}
	}
	ea, oa, _ := a.Epsilon(1e-5)
	eb, ob, _ := b.Epsilon(1e-5)
	if relErr(ea, eb) > 1e-12 || oa != ob {
		t.Errorf("piecewise composition %g@%g != %g@%g", eb, ob, ea, oa)
	}
	if a.Steps() != 1050 || b.Steps() != 1050 {
		t.Errorf("steps %d %d", a.Steps(), b.Steps())
	}
	if err := c.Compose(0.5, 1, 10); err != nil {
		t.Fatal(err)
	}
	ec, _, _ := c.Epsilon(1e-5)
	ea2, _, _ := a.Epsilon(1e-5)
	if ea2 != ea || !(ec > ea) {
		t.Errorf("clone not independent: a %g -> %g, clone %g", ea, ea2, ec)
	}
	// Adding a second mechanism can only increase epsilon.
	single, _ := RDPEpsilon(0.01, 1.1, 1000, 1e-5)
	if !(ea > single) {
		t.Errorf("composed eps %g not above single %g", ea, single)
	}
}

func TestRDPInvalid(t *testing.T) {
	a := NewRDPAccountant(nil)
	for _, c := range []struct {
		q, sigma float64
		steps    int
	}{{0, 1, 1}, {-0.1, 1, 1}, {1.5, 1, 1}, {math.NaN(), 1, 1}, {0.1, 0, 1}, {0.1, -1, 1}, {0.1, math.Inf(1), 1}, {0.1, math.NaN(), 1}, {0.1, 1, -1}} {
		if err := a.Compose(c.q, c.sigma, c.steps); err == nil {
			t.Errorf("Compose(%g, %g, %d) accepted", c.q, c.sigma, c.steps)
		}
	}
	if a.Steps() != 0 {
		t.Errorf("failed compositions changed the accountant")
	}
	if eps, _, err := a.Epsilon(1e-5); err != nil || eps != 0 {
		t.Errorf("empty accountant: %g, %v", eps, err)
	}
	for _, d := range []float64{0, 1, -1, math.NaN(), 2} {
		if _, _, err := a.Epsilon(d); err == nil {
			t.Errorf("Epsilon(%g) accepted", d)
		}
	}
	if err := a.Compose(0.1, 1, 0); err != nil || a.Steps() != 0 {
		t.Errorf("zero steps: %v", err)
	}
}

// TestLogAMatchesDirect cross-checks the series against a direct
// trapezoid-rule evaluation of A_α = E_{z~N(0,σ²)}[(1−q+q e^{(2z−1)/(2σ²)})^α].
func TestLogAMatchesDirect(t *testing.T) {
	for _, c := range []struct{ q, sigma, alpha float64 }{
		{0.01, 1, 2.5}, {0.1, 2, 7.3}, {0.5, 1.1, 1.5}, {0.3, 0.8, 3}, {0.001, 5, 32.7}, {0.2, 1, 12},
	} {
		var sum float64
		h := c.sigma * 1e-3
		for z := -40 * c.sigma; z <= 40*c.sigma; z += h {
			w := math.Exp(-z*z/(2*c.sigma*c.sigma)) / (c.sigma * math.Sqrt(2*math.Pi))
			sum += h * w * math.Pow(1-c.q+c.q*math.Exp((2*z-1)/(2*c.sigma*c.sigma)), c.alpha)
		}
		got, err := stepRDP(c.q, c.sigma, c.alpha)
		if err != nil {
			t.Fatal(err)
		}
		want := math.Log(sum) / (c.alpha - 1)
		if relErr(got, want) > 1e-7 {
			t.Errorf("q=%g σ=%g α=%g: RDP %.12g, direct %.12g", c.q, c.sigma, c.alpha, got, want)
		}
	}
}

func TestLogErfc(t *testing.T) {
	for _, x := range []float64{-3, 0, 1, 5, 20, 24.9} {
		if got, want := logErfc(x), math.Log(math.Erfc(x)); math.Abs(got-want) > 1e-13*math.Max(1, math.Abs(want)) {
			t.Errorf("logErfc(%g) = %g, want %g", x, got, want)
		}
	}
	// Continuity across the switch to the asymptotic expansion.
	if d := logErfc(25) - math.Log(math.Erfc(25)); math.Abs(d) > 1e-12 {
		t.Errorf("logErfc discontinuous at 25: %g", d)
	}
	if v := logErfc(100); math.Abs(v-(-10000-math.Log(100*math.Sqrt(math.Pi))+math.Log1p(-1/(2*1e4)))) > 1e-7 {
		t.Errorf("logErfc(100) = %g", v)
	}
}
