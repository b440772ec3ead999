/* Minimal streaming JSON emitter (objects, arrays, strings, numbers) with indentation. */
#include "attnbif/io.h"

#include <math.h>
#include <stdlib.h>

#define AB_JSON_DEPTH 64

struct ab_json {
    FILE *out;
    int depth;
    int count[AB_JSON_DEPTH]; /* values written so far at each depth */
    int after_key;
};

ab_json *ab_json_create(FILE *stream)
{
    ab_json *j = calloc(1, sizeof *j);
    if (j) j->out = stream;
    return j;
}

void ab_json_destroy(ab_json *json) { free(json); }

static void indent(ab_json *j)
{
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->out);
}

/* Separator and indentation before a value (or a key). */
static void before_value(ab_json *j)
{
    if (j->after_key) { j->after_key = 0; return; }
    if (j->depth > 0) {
        if (j->count[j->depth] > 0) fputc(',', j->out);
        indent(j);
    }
    j->count[j->depth]++;
}

static void open(ab_json *j, char c)
{
    before_value(j);
    fputc(c, j->out);
    if (j->depth + 1 < AB_JSON_DEPTH) j->depth++;
    j->count[j->depth] = 0;
}

static void close_(ab_json *j, char c)
{
    int had = j->count[j->depth] > 0;
    if (j->depth > 0) j->depth--;
    if (had) indent(j);
    fputc(c, j->out);
    if (j->depth == 0) fputc('\n', j->out);
}

void ab_json_begin_object(ab_json *json) { open(json, '{'); }
void ab_json_end_object(ab_json *json) { close_(json, '}'); }
void ab_json_begin_array(ab_json *json) { open(json, '['); }
void ab_json_end_array(ab_json *json) { close_(json, ']'); }

static void write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

void ab_json_key(ab_json *json, const char *key)
{
    before_value(json);
    write_string(json->out, key);
    fputs(": ", json->out);
    json->after_key = 1;
}

void ab_json_string(ab_json *json, const char *value)
{
    before_value(json);
    write_string(json->out, value);
}

void ab_json_number(ab_json *json, double value)
{
    before_value(json);
    if (isfinite(value)) fprintf(json->out, "%.17g", value);
    else fputs("null", json->out);
}

void ab_json_int(ab_json *json, long value)
{
    before_value(json);
    fprintf(json->out, "%ld", value);
}

void ab_json_bool(ab_json *json, int value)
{
    before_value(json);
    fputs(value ? "true" : "false", json->out);
}

void ab_json_null(ab_json *json)
{
    before_value(json);
    fputs("null", json->out);
}

void ab_json_kv_string(ab_json *json, const char *key, const char *value) { ab_json_key(json, key); ab_json_string(json, value); }
void ab_json_kv_number(ab_json *json, const char *key, double value) { ab_json_key(json, key); ab_json_number(json, value); }
void ab_json_kv_int(ab_json *json, const char *key, long value) { ab_json_key(json, key); ab_json_int(json, value); }
void ab_json_kv_bool(ab_json *json, const char *key, int value) { ab_json_key(json, key); ab_json_bool(json, value); }
