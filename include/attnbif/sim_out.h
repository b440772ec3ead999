/* Writers of simulation results (attnbif simulate). */
#ifndef ATTNBIF_SIM_OUT_H
#define ATTNBIF_SIM_OUT_H

#include "attnbif/sim.h"
#include "attnbif/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One row of kappa_c_n.csv. */
typedef struct {
    int n;
    double kappa_c, error;
    const char *method;
    char note[160];
} ab_kappa_c_row;

/* count == 1: histograms.csv, timeseries.csv; count > 1 (a sweep): sweep.csv,
 * kappa_c_n.csv, sweep.svg; always summary.json (last). */
ab_status ab_write_sim(const char *dir, const ab_spec *spec, const ab_sim_result *res, int count, const ab_kappa_c_row *kc,
                       int n_kc, ab_error *err);
/* kappa_c_n.csv: model, d, beta, n, kappa_c, error, method, kappa_1_mean_field. */
ab_status ab_write_kappa_c_csv(const char *path, const ab_spec *spec, const ab_kappa_c_row *rows, int count, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
