/* Status codes and the error record every fallible ab_ function fills in. */
#ifndef ATTNBIF_ERROR_H
#define ATTNBIF_ERROR_H

#include "attnbif/version.h" /* ab_version(): error.h has always offered it */

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. Functions return AB_OK (0) on success and fill an ab_error otherwise;
 * the CLI maps them to exit codes (see docs/cli.md). */
typedef enum {
    AB_OK = 0,
    AB_EINVAL,    /* an argument or parameter is out of range */
    AB_ESPEC,     /* a problem spec is malformed (message names file:line:column and key) */
    AB_ENOMEM,    /* allocation failed */
    AB_ENOCONV,   /* an iterative solver did not converge */
    AB_ENAN,      /* a NaN or Inf appeared in a computed quantity */
    AB_ELINALG,   /* LAPACK/ARPACK reported a failure (singular matrix, no convergence) */
    AB_EIO        /* reading or writing a file failed */
} ab_status;

#define AB_ERROR_MSG_MAX 1024

/* A status plus a human-readable message saying what went wrong and, where possible,
 * what to change. Zero-initialise before use. */
typedef struct {
    ab_status code;
    char msg[AB_ERROR_MSG_MAX];
} ab_error;

/* Short name of a status code ("invalid argument", ...). */
const char *ab_status_name(ab_status code);

/* Record an error (printf-style message) and return code, so callers can write
 * `return ab_error_set(err, AB_EINVAL, "...")`. err may be NULL. */
ab_status ab_error_set(ab_error *err, ab_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefix an existing message with context ("while solving: ..."). */
void ab_error_prefix(ab_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Where the library sends lines for the user (notes, estimates, progress): line gets one
 * line at a time, without a newline or any program name; the caller decides where it goes
 * and how it is prefixed. */
typedef struct {
    void (*line)(void *ctx, const char *line);
    void *ctx;
} ab_messages;

/* One-time library set-up: switches off GSL's abort-on-error handler so that every GSL
 * failure comes back as a return code. Idempotent; call before any other ab_ function. */
void ab_init(void);

#ifdef __cplusplus
}
#endif
#endif
