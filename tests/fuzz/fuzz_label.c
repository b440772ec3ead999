/* libFuzzer target: the label reader (state: {type: label}, restarts from
 * labels/LABEL.csv), on the input as an in-memory stream. */
#define _POSIX_C_SOURCE 200809L
#include "spec/label_in.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    ab_label lab;
    ab_error err = {0};
    if (ab_label_read_stream(f, "fuzz.csv", NULL, &lab, &err) == AB_OK) ab_label_free(&lab);
    fclose(f);
    return 0;
}
