/* libFuzzer target: the density-profile reader (state: {type: file} and restarts from
 * profiles/LABEL.csv), on the input as an in-memory stream. */
#define _POSIX_C_SOURCE 200809L
#include "io/profile_in.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    int n;
    double *t, *rho;
    ab_error err = {0};
    if (ab_read_profile_stream(f, "fuzz.csv", &n, &t, &rho, &err) == AB_OK) {
        free(t);
        free(rho);
    }
    fclose(f);
    return 0;
}
