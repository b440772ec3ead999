/* Results of a run and their writers (CSV for tables, JSON for programs); every file is
 * written atomically. */
#ifndef ATTNBIF_RESULTS_H
#define ATTNBIF_RESULTS_H

#include "attnbif/diagram.h"
#include "attnbif/disc.h"
#include "attnbif/io.h"
#include "attnbif/solve.h"
#include "attnbif/spec.h"
#include "attnbif/state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write branches.csv, special_points.csv, profiles/<label>.csv, labels/<label>.csv (for
 * restarts, attnbif/label.h), diagram.svg, diagram.gp and summary.json (last) into dir. */
ab_status ab_write_diagram(const char *dir, const ab_diagram *diagram, ab_error *err);

/* Write state.csv, spectrum.csv and summary.json into dir (created). summary.json is
 * written last, so its presence marks a complete result. */
ab_status ab_write_solve_result(const char *dir, const ab_solve_result *result, ab_error *err);

/* The spec, normalised (defaults filled in), as a JSON object value. */
void ab_json_spec(ab_json *json, const ab_spec *spec);
/* The keys every summary.json starts with: program, version, command, spec. */
/* The clusters of a state on the sphere as a JSON array (centre, mass, mass_error, peak,
 * prominence; docs/sphere.md, "Clusters"). */
void ab_json_clusters(ab_json *json, const ab_cluster *clusters, int n);
void ab_json_summary_header(ab_json *json, const char *command, const ab_spec *spec);

#ifdef __cplusplus
}
#endif
#endif
