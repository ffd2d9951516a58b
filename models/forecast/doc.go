// Package forecast is the demand-forecasting task: each tenant (a seller)
// forecasts next week's demand for every product it actively sells, from
// its own order lines, with a regression head trained federatedly under
// DP-SGD.
//
// # Target
//
// The target is the next-week quantity per (tenant, product): the sum of
// the positive quantities of the product's order lines in that week
// (returns and cancellations are not demand). Per product rather than per
// (customer, product) because a seller plans stock and production per
// product, and because per-customer weekly series in wholesale data are
// almost all zeros (a customer orders a given product a few times a year),
// which leaves nothing to learn but "zero". A (series, week) pair is
// forecast only while the product is active: it sold in the previous
// ActiveWeeks weeks.
//
// # Features and head
//
// Features of week t use weeks < t only: lags 1–4, rolling means over 4, 8
// and 13 weeks, medians over 4, 8 and 13 weeks, the SBA (Croston) rate
// (all as log1p(q)/Scale), the fractions of the last 4, 8 and 13 weeks
// with demand, weeks since the last and the first sale, log price, and two
// calendar harmonics of the week of the year; then the product description
// through a models.Encoder reduced by a fixed seed-derived Rademacher
// projection to TextDim values. No feature is standardised with
// data-dependent statistics. The head is linear in z = log1p(q)/Scale and
// trained with the pinball loss at level Setup.Quantile (default 0.5): the
// conditional median, which is what minimises absolute error (MAE, WAPE)
// and, for intermittent demand, is often exactly 0 (a forecast the head
// gives whenever w·x ≤ 0). Its public prior is weight 1 on the 13-week
// median, so training starts from the strongest simple forecast and learns
// corrections. Forecasts are expm1(Scale·ŷ) units. (Setup.Quantile -1
// selects the earlier Huber loss of z, a mean-type fit.)
//
// # Metrics and baselines
//
// MAE and RMSE in units and WAPE = Σ|ŷ−y|/Σ|y|, as sums that add up across
// tenants (Errors). Every run reports the same panel of classical
// baselines (Panel) on the same held-back rows: zero (WAPE exactly 1),
// seasonal naive (the shared history is shorter than a year, so the
// default season is one week), moving averages over 4, 8 and 13 weeks,
// medians over 4, 8 and 13 weeks, Croston and SBA (α = 0.1). Each is what a
// seller can compute alone.
//
// # Federation and privacy
//
// Tenants are split by country (SplitByCountry; small countries pooled
// into "Other") and the last weeks are held back (Prepare). Each tenant
// runs DP-SGD (privacy.PoissonSample, per-example clipping,
// privacy.AddGaussian) on its own rows; its ε is record-level, computed by
// the RDP accountant from (q, z, steps); each step divides the noised sum
// by the public expected batch (TrainConfig.ExpectedBatch), never by the
// tenant's own row count. The privacy unit is one training row, a
// (product, week) of the tenant's aggregated series. That is not the unit
// a merchant cares about: one customer's order lines of a product in week
// t change that row's target and, through the lags, means, medians, SBA
// rate and demand fractions, every later row of the product (up to the
// calendar's length, 43 on online_retail), for every product the customer
// bought. Group privacy bounds a customer who touches k rows only by
// k·ε-type figures, meaningless for k in the hundreds, so the guarantee is
// row-level and not customer-level. The description projection and the
// calendar are public.
//
// For the real coordinator the task is models/task's KindForecast: the
// operator announces a Setup (calendar, hold-out, baselines' settings,
// description features, evaluation clip) as task options (Setup.Options,
// ParseSetup), each client builds its rows with Prepare and trains the Head
// with Head.TrainWithStats, and HoldoutBaselines gives the baselines on the
// same held-back rows.
//
// Threat model: rows, series and the per-tenant Errors are computed from
// private data and stay local; only the DP-SGD-noised head update leaves a
// tenant (and, in a deployment, the Errors sums for evaluation).
package forecast
