/* Error records and library initialisation. */
#include "attnbif/error.h"
#include "attnbif/version.h"

#include <gsl/gsl_errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ab_status_name(ab_status code)
{
    switch (code) {
    case AB_OK: return "success";
    case AB_EINVAL: return "invalid argument";
    case AB_ESPEC: return "invalid problem spec";
    case AB_ENOMEM: return "out of memory";
    case AB_ENOCONV: return "no convergence";
    case AB_ENAN: return "not a number";
    case AB_ELINALG: return "linear algebra failure";
    case AB_EIO: return "input/output error";
    }
    return "unknown error";
}

ab_status ab_error_set(ab_error *err, ab_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void ab_error_prefix(ab_error *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[AB_ERROR_MSG_MAX], old[AB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation of over-long messages is acceptable; keep the prefix. */
    size_t plen = strlen(prefix);
    memcpy(err->msg, prefix, plen + 1);
    strncat(err->msg, old, sizeof err->msg - plen - 1);
}

void ab_init(void)
{
    /* GSL's default handler aborts the process; we check every return code instead. */
    gsl_set_error_handler_off();
}

const char *ab_version(void) { return AB_VERSION_STRING; }
