/* Cost estimates (CPU time and memory) of solve, run and simulate, made before any work
 * and checked against the spec's `limits:` section (docs/spec.md#limits). */
#ifndef AB_SPEC_LIMITS_H
#define AB_SPEC_LIMITS_H

#include "attnbif/spec.h"

/* Default limits: every shipped problem and test fits (docs/spec.md#limits). */
#define AB_LIMIT_MEMORY_GB 4.0
#define AB_LIMIT_TIME_MINUTES 10.0
/* `run`: the worst case allowed by max_steps (one branch taking every step) may cost this
 * many times the time limit before it is refused. */
#define AB_LIMIT_WORST_FACTOR 10.0
/* Calibrated rates of one core (docs/spec.md#limits): vectorised attention drift and
 * everything else (LAPACK at these sizes, scalar loops). */
#define AB_LIMIT_RATE_DRIFT 1e10
#define AB_LIMIT_RATE_SCALAR 1e9

typedef struct {
    double seconds; /* CPU time, one core */
    double bytes;   /* peak memory */
} ab_cost;

/* One `solve` with a resolved node count (works for `nodes: auto` once resolved): Newton
 * plus a dense eigenvalue problem per sector. */
ab_cost ab_cost_solve(int nodes, int n_sectors);
/* The same for the whole sphere at harmonic degree L (docs/spec.md#limits). */
ab_cost ab_cost_solve_sphere(int degree);

/* One `run`: *expected from the continuation window, *worst if one branch takes all of
 * max_steps. */
void ab_cost_run(const ab_spec *spec, int nodes, ab_cost *expected, ab_cost *worst);
/* The curves of a run's two_parameter section (docs/curves.md): their expected cost. */
void ab_cost_curves(const ab_spec *spec, int nodes, ab_cost *expected);

/* One simulation (one kappa, one n); threads is how many replicas run at once. Fails
 * (AB_EINVAL) when the step counts are not representable (ab_sim_steps). */
ab_status ab_cost_simulation(const ab_spec *spec, double kappa, int n, int threads, ab_cost *out, ab_error *err);

/* The solve-cost check alone, for a node count resolved after parsing (`nodes: auto`): call
 * it where the discretisation is built, with the count about to be used. Honours
 * spec->limits (the CLI's --no-limits sets limits.enforce = 0). */
ab_status ab_limits_check_nodes(const ab_spec *spec, int nodes, ab_error *err);

/* The check a command makes before any work: command is "solve", "run", "simulate" or
 * "check" (all sections the spec has). nodes is the resolved node count (spec->disc.nodes
 * when fixed; <= 0 when not yet resolved: the node-dependent checks are then left to
 * ab_limits_check_nodes). Fails with AB_ESPEC and a "file:line:column: section: ..." message
 * when an estimate exceeds its limit (unless limits.enforce is false or enforce is 0), and
 * always when a simulation's dt or step counts are invalid (ab_sim_choose_dt,
 * ab_sim_steps). If report is not NULL, it gets a line per estimate. */
ab_status ab_spec_check_limits(const ab_spec *spec, const char *command, int nodes, int threads, int enforce,
                               const ab_messages *report, ab_error *err);

#endif
