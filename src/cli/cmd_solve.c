/* `attnbif solve SPEC`: stationary state + sector spectra, written to the output dir. */
#include "cli/cli.h"

#include "attnbif/results.h"

#include <stdio.h>
#include <stdlib.h>

static void newton_progress(void *ctx, int iter, double residual, double step)
{
    (void)ctx;
    fprintf(stderr, "  newton %2d  max|F| = %9.3e  step = %9.3e\n", iter, residual, step);
}

static void say_line(void *ctx, const char *line) { fprintf(ctx, "%s\n", line); }

static ab_status write_result(const char *dir, const void *res, ab_error *err)
{
    return ab_write_solve_result(dir, res, err);
}

int ab_cmd_solve(const ab_cli_args *args)
{
    ab_spec *spec = calloc(1, sizeof *spec);
    ab_error err = {0};
    if (!spec) return AB_EXIT_INTERNAL;
    int code = ab_cli_load(args, "solve", spec);
    if (code) { free(spec); return code; }
    ab_status st = AB_OK;
    const char *dir = ab_cli_output_dir(args, spec);
    ab_outdir *od = NULL;
    if ((st = ab_cli_output_lock(dir, args->quiet, &od, &err))) { free(spec); return ab_cli_fail(st, &err); }
    if (!args->quiet)
    {
        char nodes[32];
        if (spec->disc.nodes == AB_NODES_AUTO) snprintf(nodes, sizeof nodes, "auto (<= %d)", spec->disc.nodes_max);
        else snprintf(nodes, sizeof nodes, "%d", spec->disc.nodes);
        fprintf(stderr, "attnbif solve: %s model, d = %d, beta = %g, kappa = %g, %s nodes, %s guess\n",
                ab_model_kind_name(spec->model.kind), spec->model.d, spec->model.beta, spec->kappa, nodes,
                ab_state_type_name(spec->state.type));
    }
    ab_solve_result res;
    const ab_solve_opts opts = {newton_progress, say_line, stderr};
    st = ab_solve_problem_with(spec, args->quiet ? NULL : &opts, &res, &err);
    if (st) { ab_cli_output_release(od); free(spec); return ab_cli_fail(st, &err); }
    st = ab_cli_output_write(od, write_result, &res, &err);
    if (!st) {
        if (!args->quiet)
            fprintf(stderr, "attnbif solve: r = %.12g, S = %.12g, %s (%ld unstable eigenvalues); %d nodes, %s kernel\n",
                    res.obs.r, res.obs.S, res.spectrum.stable ? "stable" : "unstable", res.spectrum.n_unstable,
                    res.resolution.nodes, res.resolution.kernel);
        printf("results written to %s/ (state.csv, spectrum.csv, summary.json)\n", dir);
    }
    ab_solve_result_free(&res);
    free(spec);
    return st ? ab_cli_fail(st, &err) : AB_EXIT_OK;
}
