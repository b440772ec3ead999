/* Output plumbing shared by every writer: atomic files (temp + rename), directory
 * creation, and a small streaming JSON emitter. */
#ifndef ATTNBIF_IO_H
#define ATTNBIF_IO_H

#include "attnbif/error.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A file being written atomically: data goes to a hidden temp file in the same directory
 * and only ab_file_commit renames it over the final path, so readers never see a
 * half-written file. */
typedef struct ab_file ab_file;

ab_status ab_file_open(const char *path, ab_file **out, ab_error *err);
FILE *ab_file_stream(ab_file *file);
/* Flush, fsync, close and rename; frees file. Checks for earlier write errors. */
ab_status ab_file_commit(ab_file *file, ab_error *err);
/* Close and delete the temp file; frees file. NULL is allowed. */
void ab_file_abort(ab_file *file);

/* ab_file_open on dir/name. */
ab_status ab_file_open_in(const char *dir, const char *name, ab_file **out, ab_error *err);

/* mkdir -p (new directories get 0777 minus the umask). */
ab_status ab_mkdir_p(const char *dir, ab_error *err);

/* Open an input file for reading, refusing anything that is not a regular file (a FIFO
 * would block, a directory or device makes no sense) without blocking on it. Errors carry
 * code and read "<path>: cannot open <what>: <reason>". */
ab_status ab_open_input(const char *path, const char *what, ab_status code, FILE **out, ab_error *err);

/* A result directory written as a whole (docs/cli.md, "Output directories"): a lock file
 * `.NAME.lock` beside the target serialises runs; the result is built in a hidden sibling
 * `.NAME.tmp-PID-XXXXXX` and swapped into place by ab_outdir_commit, so the target is always
 * either the previous complete result, the new complete result, or absent. */
typedef struct ab_outdir ab_outdir;

/* Take the lock of result directory dir (creating its parent if needed) without waiting.
 * Fails with AB_EIO if another run holds it, if dir exists and is neither empty nor an
 * attnbif result (a summary.json written by attnbif), or if it is not a directory; with
 * AB_EINVAL if dir names no directory of its own (".", "..", "/"). Removes temporaries of
 * dir left by killed runs (they are stale because the lock is ours). */
ab_status ab_outdir_lock(const char *dir, ab_outdir **out, ab_error *err);
/* The result directory (a symbolic link resolved) and the lock file's path (for a signal
 * handler that must remove it). */
const char *ab_outdir_target(const ab_outdir *od);
const char *ab_outdir_lock_path(const ab_outdir *od);
/* Stale temporaries removed by ab_outdir_lock. */
int ab_outdir_stale_removed(const ab_outdir *od);
/* Create the hidden temporary directory the result is written into; *path is its name. */
ab_status ab_outdir_begin(ab_outdir *od, const char **path, ab_error *err);
/* Swap the temporary into place (renameat2 RENAME_EXCHANGE over a previous result, else
 * rename) and remove the previous result. On failure the temporary is removed and the
 * previous result is left as it was. */
ab_status ab_outdir_commit(ab_outdir *od, ab_error *err);
/* Remove the temporary directory, if any. */
void ab_outdir_discard(ab_outdir *od);
/* Discard any temporary, remove the lock file and release the lock; frees od (NULL ok). */
void ab_outdir_unlock(ab_outdir *od);

/* Join dir and name into out (cap bytes); error if it does not fit. */
ab_status ab_path_join(char *out, size_t cap, const char *dir, const char *name, ab_error *err);

/* Read a density profile CSV (state.csv of `solve`, or profiles/<label>.csv of `run`):
 * lines starting with '#' are comments, then the header grid,t,theta,rho. Returns the
 * `node` rows if there are any, else the `plot` rows; *t and *rho are allocated (free()).
 * Errors name the file and line. */
ab_status ab_read_profile(const char *path, int *n, double **t, double **rho, ab_error *err);

/* Streaming JSON writer with indentation. Numbers are written with 17 significant digits
 * (round-trip exact); NaN and Inf become null. Keys are written with ab_json_key before a
 * value inside an object. Calls on a writer in error state do nothing. */
typedef struct ab_json ab_json;

ab_json *ab_json_create(FILE *stream);
void ab_json_destroy(ab_json *json);
void ab_json_begin_object(ab_json *json);
void ab_json_end_object(ab_json *json);
void ab_json_begin_array(ab_json *json);
void ab_json_end_array(ab_json *json);
void ab_json_key(ab_json *json, const char *key);
void ab_json_string(ab_json *json, const char *value);
void ab_json_number(ab_json *json, double value);
void ab_json_int(ab_json *json, long value);
void ab_json_bool(ab_json *json, int value);
void ab_json_null(ab_json *json);
/* Convenience: key + value. */
void ab_json_kv_string(ab_json *json, const char *key, const char *value);
void ab_json_kv_number(ab_json *json, const char *key, double value);
void ab_json_kv_int(ab_json *json, const char *key, long value);
void ab_json_kv_bool(ab_json *json, const char *key, int value);

#ifdef __cplusplus
}
#endif
#endif
