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
// and 13 weeks (all as log1p(q)/Scale), the fraction of the last 8 weeks
// with demand, weeks since the last and the first sale, log price, and
// two calendar harmonics of the week of the year; then the product
// description through a models.Encoder reduced by a fixed seed-derived
// Rademacher projection to TextDim values. No feature is standardised with
// data-dependent statistics. The head is linear in z = log1p(q)/Scale with
// a Huber loss: the log target and the Huber loss together keep the heavy
// tail of wholesale orders (a few lines of thousands of units) from
// dominating. Forecasts are expm1(Scale·ŷ) units.
//
// # Metrics and baselines
//
// MAE and RMSE in units and WAPE = Σ|ŷ−y|/Σ|y|, as sums that add up across
// tenants (Errors). Baselines: seasonal naive (the demand of week t−season;
// the shared history is shorter than a year, so the default season is one
// week) and the 4-week moving average (HoldoutBaselines, which also reports
// the all-zero forecast, strong on intermittent demand: its WAPE is exactly
// 1).
//
// # Federation and privacy
//
// Tenants are split by country (SplitByCountry; small countries pooled
// into "Other") and the last weeks are held back (Prepare). Each tenant
// runs DP-SGD (privacy.PoissonSample, per-example clipping,
// privacy.AddGaussian) on its own rows; its ε is record-level, computed by
// the RDP accountant from (q, z, steps). The privacy unit is one training
// row, a (product, week) of the tenant's aggregated series: one customer's
// order lines change several rows (the week's target and later weeks'
// lags), so this is not customer-level DP. The description projection and
// the calendar are public.
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
