/* Results of a run and their writers (CSV for tables, JSON for programs); every file is
 * written atomically. */
#ifndef ATTNBIF_RESULTS_H
#define ATTNBIF_RESULTS_H

#include "attnbif/disc.h"
#include "attnbif/io.h"
#include "attnbif/solve.h"
#include "attnbif/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything `attnbif solve` produces. */
typedef struct {
    const ab_spec *spec;
    const char *disc_name;
    ab_params params;
    ab_newton_report newton;
    ab_observables obs;
    ab_spectrum spectrum;
    ab_profile nodes; /* density at the discretisation nodes */
    ab_profile fine;  /* density on a uniform theta grid, for plotting */
} ab_solve_result;

/* The whole `solve` computation for a spec: discretisation, initial guess, Newton, a check
 * that a non-uniform guess did not fall back to the uniform state, observables, spectrum
 * of the spec's sectors and the density profiles. On success res owns its arrays (free
 * with ab_solve_result_free); on failure nothing is left allocated. progress may be NULL. */
ab_status ab_solve_problem(const ab_spec *spec, void (*progress)(void *, int, double, double),
                           void *progress_ctx, ab_solve_result *res, ab_error *err);
void ab_solve_result_free(ab_solve_result *res);

/* Initial guess for the spec's state section, including saved profiles (type: file). */
ab_status ab_initial_state(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err);

/* Write state.csv, spectrum.csv and summary.json into dir (created). summary.json is
 * written last, so its presence marks a complete result. */
ab_status ab_write_solve_result(const char *dir, const ab_solve_result *result, ab_error *err);

/* The spec, normalised (defaults filled in), as a JSON object value. */
void ab_json_spec(ab_json *json, const ab_spec *spec);
/* The keys every summary.json starts with: program, version, command, spec. */
void ab_json_summary_header(ab_json *json, const char *command, const ab_spec *spec);

#ifdef __cplusplus
}
#endif
#endif
