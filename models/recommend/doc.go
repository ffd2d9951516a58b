// Package recommend is the product-recommendation task: rank the catalog
// for a tenant's customer with a two-tower model whose product tower is
// shared and federated while customer vectors never leave their tenant.
//
// # Model
//
// Product tower: the description goes through a frozen models.Encoder and a
// fixed seed-derived Rademacher projection to P features x (public: the
// catalog text is visible to every buyer), then through the shared trainable
// matrix W (K×P): v = W·x. Customer tower: one free vector u per customer
// (length K), kept by the tenant. Training minimises the BPR loss
// −log σ(u·v⁺ − u·v⁻) over (bought, uniformly sampled) product pairs.
// Ranking, local to the tenant, scores u·v + Beta·log1p(pop) + Gamma·h,
// where pop counts the tenant's own customers who bought the product and h
// is the customer's own recency-weighted order history
// (TenantData.HistoryScores: Σ 2^(−age/half-life) over the days it ordered
// the product): with a large Gamma the customer's history comes first —
// repeat purchase, the dominant signal in wholesale — and the model
// decides the order among ties and what to add after it.
//
// # Privacy
//
// The privacy unit is a customer of a tenant. Each DP-SGD step Poisson-
// samples customers, takes the mean tower gradient over PairsPerCust of the
// customer's pairs, clips it to C, adds N(0,(zC)²) to the sum and divides by
// q·(customers). A customer's vector depends only on its own purchases and
// the tower, and popularity never enters training, so removing a customer
// changes only its own clipped contribution: the tower updates that leave
// the tenant are (ε, δ)-DP for each customer, accounted by the RDP
// accountant from (q, z, steps). Customer vectors, popularity and rankings
// stay on the tenant's server.
//
// # Catalog
//
// Every party must index the same products: the operator publishes the
// catalog (Catalog.WriteCSV, ReadCatalog) and announces Catalog.Hash, a
// domain-separated SHA-256 of codes and descriptions; a tenant whose
// catalog has another hash refuses the task. models/task runs this model
// as the federated task kind "recommend" (task.NewRecommender,
// task.RecommendSpec), where a released ranking uses no tenant popularity
// (see task.KindRecommend).
//
// # Metrics
//
// Recall@K = |top-K ∩ bought| / |bought| and NDCG@K with binary relevance
// over the products a customer bought in the held-back weeks, averaged over
// customers who bought in both periods; Ranking sums add across tenants.
// Baselines: tenant-local popularity, global popularity (needs pooled data,
// a reference), "repeat" (the customer's earlier purchases first), a
// strong reference on wholesale data where customers re-order, "own
// orders" (the customer's history alone, most often ordered first) and
// "own recent" (the history score h alone, no model).
package recommend
