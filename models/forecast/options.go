package forecast

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// Setup is what every tenant of a federated forecasting task must share:
// the calendar, the held-back weeks, the baselines' settings, the number of
// description features and the evaluation clip. A coordinator announces it
// as string options (Options) and each client reads it back (ParseSetup).
type Setup struct {
	Calendar Calendar // Epoch a Monday 00:00 UTC; Weeks ≥ 3
	Holdout  int      // held-back last weeks (default 4)
	Season   int      // seasonal-naive period in weeks (default 1)
	Window   int      // moving-average window in weeks (default 4)
	TextDim  int      // projected description features (default 16; -1 for none)
	// EvalClip B bounds each evaluated customer's summed absolute error
	// and demand over its held-out rows in the released evaluation
	// statistics (B² its squared errors), and each product-level row's
	// in the deployed figures and baselines, in units (default 500, at
	// most MaxEvalClip).
	EvalClip float64
	// Quantile is the level τ of the head's pinball loss (Head.Tau;
	// default DefaultQuantile, the median, which minimises absolute
	// error); -1 selects the Huber loss of the mean-type head instead.
	Quantile float64
}

// DefaultQuantile is the default Setup.Quantile.
const DefaultQuantile = 0.5

// Tau is the head's Tau for the setup: Quantile, or 0 (Huber) for -1.
func (s Setup) Tau() float64 { return max(s.Quantile, 0) }

// DefaultEvalClip is the default evaluation clip in units. On
// online_retail split by country it is above the 99.9th percentile (322)
// and near the maximum (900) of a product's weekly demand in the
// held-back weeks, and near the 97th percentile of a customer's demand
// over its held-out rows (median 0, 90th percentile 90, 99th 1,094,
// maximum 9,743 units over 858 customers).
const DefaultEvalClip = 500

// MaxEvalClip is the largest evaluation clip: the statistics are integers
// in units of B/10⁶ (B²/10⁶ for squared errors, see models/task), so a
// larger B would round squared errors of several units to zero.
const MaxEvalClip = 10000

// Option names of Setup.
const (
	OptEpoch    = "epoch"     // first Monday, YYYY-MM-DD
	OptWeeks    = "weeks"     // calendar weeks
	OptHoldout  = "holdout"   // held-back weeks
	OptSeason   = "season"    // seasonal-naive period
	OptWindow   = "window"    // moving-average window
	OptTextDim  = "text_dim"  // description features (0: none)
	OptEvalClip = "eval_clip" // evaluation clip B, units
	OptQuantile = "quantile"  // pinball level τ in (0, 1), or -1 for Huber
)

// Filled returns s with defaults for zero fields (TextDim -1 becomes 0)
// and checks it.
func (s Setup) Filled() (Setup, error) {
	s.Holdout = cmp.Or(s.Holdout, 4)
	s.Season = cmp.Or(s.Season, 1)
	s.Window = cmp.Or(s.Window, 4)
	s.TextDim = cmp.Or(s.TextDim, 16)
	if s.TextDim < 0 {
		s.TextDim = 0
	}
	s.EvalClip = cmp.Or(s.EvalClip, DefaultEvalClip)
	s.Quantile = cmp.Or(s.Quantile, DefaultQuantile)
	return s, s.check()
}

func (s Setup) check() error {
	e := s.Calendar.Epoch
	switch {
	case e.IsZero() || e.Location() != time.UTC || !e.Equal(Week(e)):
		return fmt.Errorf("forecast: calendar epoch %v is not a Monday 00:00 UTC", e)
	case s.Calendar.Weeks < 3 || s.Calendar.Weeks > 10000:
		return fmt.Errorf("forecast: calendar of %d weeks outside [3, 10000]", s.Calendar.Weeks)
	case s.Holdout < 1 || s.Holdout > s.Calendar.Weeks-2:
		return fmt.Errorf("forecast: hold-out of %d weeks outside [1, %d] for a calendar of %d weeks", s.Holdout, s.Calendar.Weeks-2, s.Calendar.Weeks)
	case s.Season < 1 || s.Season > s.Calendar.Weeks:
		return fmt.Errorf("forecast: season of %d weeks outside [1, %d]", s.Season, s.Calendar.Weeks)
	case s.Window < 1 || s.Window > s.Calendar.Weeks:
		return fmt.Errorf("forecast: moving-average window of %d weeks outside [1, %d]", s.Window, s.Calendar.Weeks)
	case s.TextDim < 0 || s.TextDim > 1024:
		return fmt.Errorf("forecast: text dimension %d outside [0, 1024]", s.TextDim)
	case !(s.EvalClip > 0 && s.EvalClip <= MaxEvalClip):
		return fmt.Errorf("forecast: evaluation clip %v units outside (0, %d]", s.EvalClip, MaxEvalClip)
	case s.Quantile != -1 && !(s.Quantile > 0 && s.Quantile < 1):
		return fmt.Errorf("forecast: quantile %v outside (0, 1) (or -1 for the Huber loss)", s.Quantile)
	}
	return nil
}

// Dim is the feature (and parameter) dimension of the setup.
func (s Setup) Dim() int { return numBase + max(s.TextDim, 0) }

// Options returns s as task options (every field written).
func (s Setup) Options() map[string]string {
	return map[string]string{
		OptEpoch:    s.Calendar.Epoch.Format(time.DateOnly),
		OptWeeks:    strconv.Itoa(s.Calendar.Weeks),
		OptHoldout:  strconv.Itoa(s.Holdout),
		OptSeason:   strconv.Itoa(s.Season),
		OptWindow:   strconv.Itoa(s.Window),
		OptTextDim:  strconv.Itoa(max(s.TextDim, 0)),
		OptEvalClip: strconv.FormatFloat(s.EvalClip, 'g', -1, 64),
		OptQuantile: strconv.FormatFloat(s.Quantile, 'g', -1, 64),
	}
}

// ParseSetup reads announced options: epoch and weeks are required, the
// others default as in Filled, and an unknown option is an error (a
// client must not guess at settings it does not understand).
func ParseSetup(opts map[string]string) (Setup, error) {
	var s Setup
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v := opts[k]
		var err error
		switch k {
		case OptEpoch:
			s.Calendar.Epoch, err = time.Parse(time.DateOnly, v)
		case OptWeeks:
			s.Calendar.Weeks, err = strconv.Atoi(v)
		case OptHoldout:
			s.Holdout, err = positive(v)
		case OptSeason:
			s.Season, err = positive(v)
		case OptWindow:
			s.Window, err = positive(v)
		case OptTextDim:
			s.TextDim, err = strconv.Atoi(v)
			switch {
			case err == nil && s.TextDim < 0:
				err = errors.New("negative")
			case err == nil && s.TextDim == 0:
				s.TextDim = -1 // explicit none, not the default
			}
		case OptEvalClip:
			s.EvalClip, err = strconv.ParseFloat(v, 64)
			if err == nil && (s.EvalClip <= 0 || math.IsNaN(s.EvalClip)) {
				err = errors.New("not positive")
			}
		case OptQuantile:
			s.Quantile, err = strconv.ParseFloat(v, 64)
			if err == nil && s.Quantile == 0 {
				err = errors.New("0 is not a quantile level (-1 selects the Huber loss)")
			}
		default:
			return Setup{}, fmt.Errorf("forecast: unknown task option %q", k)
		}
		if err != nil {
			return Setup{}, fmt.Errorf("forecast: task option %s=%q: %w", k, v, err)
		}
	}
	if _, ok := opts[OptEpoch]; !ok {
		return Setup{}, fmt.Errorf("forecast: task option %q (first Monday of the calendar) is missing", OptEpoch)
	}
	if _, ok := opts[OptWeeks]; !ok {
		return Setup{}, fmt.Errorf("forecast: task option %q (calendar weeks) is missing", OptWeeks)
	}
	return s.Filled()
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n < 1 {
		err = errors.New("not positive")
	}
	return n, err
}
