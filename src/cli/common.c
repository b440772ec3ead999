/* Error reporting and output-directory choice shared by the subcommands. */
#include "cli/cli.h"

#include "attnbif/label.h"
#include "spec/limits.h"

#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int ab_cli_fail(ab_status st, const ab_error *err)
{
    /* Messages quote the user's input; control characters in it (an ANSI escape in a
     * name or a path) are shown escaped, never sent to the terminal raw. */
    const char *msg = err && err->msg[0] ? err->msg : ab_status_name(st);
    fputs("attnbif: error: ", stderr);
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) fprintf(stderr, "\\x%02x", *c);
        else fputc(*c, stderr);
    }
    fputc('\n', stderr);
    switch (st) {
    case AB_OK: return AB_EXIT_OK;
    case AB_EINVAL:
    case AB_ESPEC: return AB_EXIT_INPUT;
    case AB_ENOCONV:
    case AB_ENAN:
    case AB_ELINALG: return AB_EXIT_NUMERIC;
    case AB_EIO: return AB_EXIT_IO;
    case AB_ENOMEM: return AB_EXIT_INTERNAL;
    }
    return AB_EXIT_INTERNAL;
}

const char *ab_cli_output_dir(const ab_cli_args *args, const ab_spec *spec)
{
    return args->out_dir ? args->out_dir : spec->output_dir;
}

/* The library's notes and estimates, as this program prints them. */
static void say_estimate(void *ctx, const char *line) { fprintf(ctx, "attnbif: %s\n", line); }

int ab_cli_load(const ab_cli_args *args, const char *command, ab_spec *spec)
{
    ab_error err = {0};
    const ab_messages notes_to_stderr = {say_estimate, stderr};
    ab_status st = ab_spec_load(args->spec_path, spec, &err);
    if (st) return ab_cli_fail(st, &err);
    /* A label state makes the spec the label's problem (its kappa, beta, node count) before
     * the cost estimates, which depend on the node count. */
    if (strcmp(command, "simulate") != 0 &&
        (st = ab_spec_apply_label(spec, strcmp(command, "solve") != 0, args->quiet ? NULL : &notes_to_stderr, &err)))
        return ab_cli_fail(st, &err);
    if (args->no_limits) spec->limits.enforce = 0; /* also for checks made later, e.g. on a resolved node count */
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
#else
    const int threads = 1;
#endif
    /* estimates are printed by `check`, and by the others when limits are off */
    const ab_messages to_stderr = {say_estimate, stderr};
    const ab_messages *report = args->quiet ? NULL : (!strcmp(command, "check") || args->no_limits) ? &to_stderr : NULL;
    st = ab_spec_check_limits(spec, command, spec->disc.nodes, threads, !args->no_limits, report, &err);
    return st ? ab_cli_fail(st, &err) : AB_EXIT_OK;
}
