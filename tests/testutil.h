/* Tiny test harness: named checks with stated tolerances, a pass/fail tally. */
#ifndef AB_TESTUTIL_H
#define AB_TESTUTIL_H

#include <stdio.h>

typedef struct {
    int passed, failed;
} ab_tally;

/* Record one check; prints a line either way. Returns cond. */
int ab_check(ab_tally *t, int cond, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* |got - want| <= tol * max(|want|, floor): relative with an absolute floor. */
int ab_check_rel(ab_tally *t, double got, double want, double tol, double floor, const char *what);

/* Run the attnbif program ($AB_BINARY, else build/attnbif) with args, stdout discarded,
 * stderr into errfile; returns its exit code (-1 if it did not exit normally). */
int ab_run_program(const char *args, const char *errfile);
/* Read a whole (small) file into buf; "" if it cannot be read. */
void ab_slurp(const char *path, char *buf, size_t cap);
int ab_exists(const char *path);

/* Running the program as a child process with a controlled environment (tests of output
 * directories, signals and resource limits). */
typedef struct {
    const char *cwd;   /* run in this directory (NULL: the current one) */
    const char *outfile; /* stdout goes here (NULL: /dev/null) */
    int set_umask;     /* nonzero: set the umask to umask_value */
    int umask_value;
    long fsize_limit;  /* > 0: RLIMIT_FSIZE in bytes with SIGXFSZ ignored, so that a write
                          past it fails with EFBIG like a write to a full disk */
} ab_spawn_opts;

/* Start attnbif with argv (NULL-terminated, not counting the program), stdout to /dev/null,
 * stderr to errfile (NULL: /dev/null). opts may be NULL. Returns the pid (-1 on failure). */
int ab_spawn(const char *const *argv, const char *errfile, const ab_spawn_opts *opts);
/* Wait for pid at most timeout seconds (then SIGKILL it). Returns its exit code, 128 + the
 * signal if a signal ended it, or -2 if the timeout killed it. */
int ab_wait(int pid, double timeout);
/* ab_spawn + ab_wait. */
int ab_run_argv(const char *const *argv, const char *errfile, const ab_spawn_opts *opts, double timeout);
/* Seconds on the monotonic clock. */
double ab_now(void);

/* Whether two directory trees hold the same names and byte-identical regular files. */
int ab_tree_equal(const char *a, const char *b);
/* The names in dir (not . and ..), sorted, space-separated, into buf; returns how many
 * (-1 if dir cannot be read). */
int ab_list_dir(const char *dir, char *buf, size_t cap);
/* rm -rf path. */
void ab_remove_tree(const char *path);

/* Print "N passed, M failed" and return the process exit status. */
int ab_finish(const ab_tally *t);

#endif
