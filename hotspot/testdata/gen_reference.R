# Reference values for the hotspot package tests, computed by R's spdep
# (Debian r-cran-spdep, with spData) and base R's stats.
#
#   cd hotspot/testdata && Rscript gen_reference.R
#
# Every number is written with 17 significant digits (%.17g) so the Go tests can
# compare to 1e-6 without rounding getting in the way. Neighbour lists are
# written as 0-based (i, j) pairs, one row per pair.

suppressMessages(library(spdep))

fmt <- function(x) sprintf("%.17g", x)

write_pairs <- function(nb, file) {
  i <- rep(seq_along(nb), card(nb))
  j <- unlist(nb[card(nb) > 0])
  write.csv(data.frame(i = i - 1L, j = j - 1L), file, row.names = FALSE)
}

# --- spData getisord: the 16x16 lattice of Getis and Ord (1996) ---------
# localG's help page example: point 120 (length - 136) at d = 30 has
# Gi = 1.221979 and Gi* = 1.45078.
data(getisord, package = "spData")
xy <- cbind(go_xyz$x, go_xyz$y)
nb30 <- dnearneigh(xy, 0, 30)
gi <- as.numeric(localG(go_xyz$val, nb2listw(nb30, style = "B")))
gistar <- as.numeric(localG(go_xyz$val, nb2listw(include.self(nb30), style = "B")))
write.csv(data.frame(x = fmt(go_xyz$x), y = fmt(go_xyz$y), val = fmt(go_xyz$val),
                     gi = fmt(gi), gistar = fmt(gistar)),
          "getisord.csv", row.names = FALSE, quote = FALSE)
write_pairs(nb30, "getisord_nb30.csv")

# --- columbus: CRIME with the contiguity weights of columbus.gal ---------
data(columbus, package = "spData")
nbc <- col.gal.nb
gistar_c <- as.numeric(localG(columbus$CRIME, nb2listw(include.self(nbc), style = "B")))
gi_c <- as.numeric(localG(columbus$CRIME, nb2listw(nbc, style = "B")))
xyc <- cbind(columbus$X, columbus$Y)
# k = 4 nearest neighbours on the polygon centroids, self included.
knn4 <- knn2nb(knearneigh(xyc, k = 4))
gistar_k <- as.numeric(localG(columbus$CRIME, nb2listw(include.self(knn4), style = "B")))
# A fixed distance band on the same centroids.
band <- 4
nbd <- dnearneigh(xyc, 0, band)  # every centroid has a neighbour within 3.37
gistar_d <- as.numeric(localG(columbus$CRIME, nb2listw(include.self(nbd), style = "B"), zero.policy = FALSE))
write.csv(data.frame(x = fmt(columbus$X), y = fmt(columbus$Y), crime = fmt(columbus$CRIME),
                     gi = fmt(gi_c), gistar = fmt(gistar_c),
                     gistar_knn4 = fmt(gistar_k), gistar_d4 = fmt(gistar_d)),
          "columbus.csv", row.names = FALSE, quote = FALSE)
write_pairs(nbc, "columbus_nb.csv")
write_pairs(knn4, "columbus_knn4.csv")
write_pairs(nbd, "columbus_d4.csv")

# --- Mann-Kendall: base R's Kendall test of x against time ---------------
# cor.test(exact = FALSE, continuity = TRUE) uses the tie-corrected variance
# and the continuity correction, which is the Mann-Kendall test.
set.seed(20240601)
series <- list(
  c(1, 2, 3, 4, 5),
  c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3),
  c(5, 4, 3, 2, 1, 0),
  round(rnorm(52) + seq(0, 1.5, length.out = 52), 1),
  round(rnorm(30), 0),
  c(2, 2, 2, 3, 3, 1, 1, 1, 4)
)
mk <- do.call(rbind, lapply(series, function(x) {
  n <- length(x)
  s <- sum(sapply(1:(n - 1), function(i) sum(sign(x[(i + 1):n] - x[i]))))
  t <- table(x)
  v <- (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5))) / 18
  ct <- suppressWarnings(cor.test(x, seq_len(n), method = "kendall",
                                  exact = FALSE, continuity = TRUE))
  data.frame(series = paste(fmt(x), collapse = ";"), s = fmt(s), var = fmt(v),
             z = fmt(unname(ct$statistic)), p = fmt(ct$p.value))
}))
write.csv(mk, "mannkendall.csv", row.names = FALSE, quote = FALSE)

# --- count tails for alerts: P(Y >= y) ----------------------------------
tails <- expand.grid(y = c(0, 1, 3, 7, 15, 40), mu = c(0.2, 2.5, 9.7))
tails$size <- 0
nb_tails <- expand.grid(y = c(0, 1, 3, 7, 15, 40), mu = c(0.2, 2.5, 9.7), size = c(0.6, 4))
tails$p <- ppois(tails$y - 1, tails$mu, lower.tail = FALSE)
nb_tails$p <- pnbinom(nb_tails$y - 1, size = nb_tails$size, mu = nb_tails$mu, lower.tail = FALSE)
# Nearly Poisson baselines give huge sizes (variance a hair above the mean):
# the tail must then tend to the Poisson one, not drown in rounding.
nb_big <- expand.grid(y = c(1, 3, 7, 40), mu = c(1.375, 9.7), size = c(1e3, 1e8, 8e15))
nb_big$p <- pnbinom(nb_big$y - 1, size = nb_big$size, mu = nb_big$mu, lower.tail = FALSE)
all_tails <- rbind(tails, nb_tails, nb_big)
write.csv(data.frame(y = all_tails$y, mu = fmt(all_tails$mu), size = fmt(all_tails$size),
                     p = fmt(all_tails$p)),
          "tails.csv", row.names = FALSE, quote = FALSE)

# --- Benjamini-Hochberg adjusted p-values --------------------------------
p <- c(0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
       0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000, 0.0278)
write.csv(data.frame(p = fmt(p), q = fmt(p.adjust(p, "BH"))), "bh.csv",
          row.names = FALSE, quote = FALSE)
