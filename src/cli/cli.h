/* Shared pieces of the attnbif command-line program: parsed arguments, subcommands,
 * exit codes. */
#ifndef AB_CLI_H
#define AB_CLI_H

#include "attnbif/error.h"
#include "attnbif/io.h"
#include "attnbif/spec.h"

#include <stddef.h>

/* Exit codes (docs/cli.md). */
enum {
    AB_EXIT_OK = 0,
    AB_EXIT_INTERNAL = 1, /* a bug or out of memory */
    AB_EXIT_INPUT = 2,    /* bad spec, bad arguments, missing file */
    AB_EXIT_NUMERIC = 3,  /* no convergence, NaN, linear algebra failure */
    AB_EXIT_IO = 4        /* cannot write results */
};

typedef struct {
    const char *spec_path;
    const char *out_dir; /* -o DIR, or NULL */
    int quiet;           /* --quiet: no progress on stderr */
    int no_limits;       /* --no-limits: estimates are printed, not enforced */
} ab_cli_args;

/* Print "attnbif: error: <message>" on stderr and return the exit code for st. */
int ab_cli_fail(ab_status st, const ab_error *err);

/* Load the spec and check its cost estimates for command before any work (limits.h);
 * on failure prints the error and returns the exit code, else 0 with *spec filled. */
int ab_cli_load(const ab_cli_args *args, const char *command, ab_spec *spec);

/* The directory results go to: -o DIR, else the spec's output.dir. */
const char *ab_cli_output_dir(const ab_cli_args *args, const ab_spec *spec);

/* Signal handlers for SIGINT, SIGTERM, SIGHUP that clean up the output (cli/output.c). */
void ab_cli_signals_install(void);

/* Before the work: lock the result directory dir (docs/cli.md, "Output directories"), so
 * that a second run into it fails at once rather than after the work. */
ab_status ab_cli_output_lock(const char *dir, int quiet, ab_outdir **out, ab_error *err);

/* Writes a command's result files into dir (a temporary directory). */
typedef ab_status (*ab_cli_writer)(const char *dir, const void *ctx, ab_error *err);

/* After the work: write the result into a temporary directory with writer and swap it into
 * place, then release the lock (od is freed). On a signal during the writing the temporary
 * is removed and the program dies by that signal. */
ab_status ab_cli_output_write(ab_outdir *od, ab_cli_writer writer, const void *ctx, ab_error *err);

/* Release the lock without writing (after a failure); od is freed (NULL ok). */
void ab_cli_output_release(ab_outdir *od);

int ab_cmd_check(const ab_cli_args *args);
int ab_cmd_solve(const ab_cli_args *args);
int ab_cmd_run(const ab_cli_args *args);
int ab_cmd_simulate(const ab_cli_args *args);
/* plot parses its own arguments (result directories, not a spec). */
int ab_cmd_plot(int argc, char **argv);

#endif
