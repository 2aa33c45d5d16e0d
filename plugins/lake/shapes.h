/*
 * shapes.h - hand-written matchers for the value shapes the profiler
 * reports (email, uuid, date, timestamp, integer-as-string,
 * decimal-as-string) and the value parsers behind inferred types.
 * All take bytes with a length (no NUL needed) and never allocate.
 */
#ifndef WEIR_LAKE_SHAPES_H
#define WEIR_LAKE_SHAPES_H

#include <stddef.h>
#include <stdint.h>

enum lake_shape {
    LAKE_SHAPE_EMAIL = 0,
    LAKE_SHAPE_UUID,
    LAKE_SHAPE_DATE,
    LAKE_SHAPE_TIMESTAMP,
    LAKE_SHAPE_INTEGER,
    LAKE_SHAPE_DECIMAL,
    LAKE_SHAPE_COUNT
};

/* "email", "uuid", "date", "timestamp", "integer", "decimal" (JSON keys). */
extern const char *const lake_shape_names[LAKE_SHAPE_COUNT];

/* Bit (1u << shape) set for each shape the value has. */
unsigned lake_shapes_match(const char *s, size_t len);

int lake_shape_email(const char *s, size_t len);
int lake_shape_uuid(const char *s, size_t len);
/* YYYY-MM-DD with a real calendar day. */
int lake_shape_date(const char *s, size_t len);
/* A date, 'T' or ' ', HH:MM[:SS[.fraction]], then optional Z or +HH[:]MM. */
int lake_shape_timestamp(const char *s, size_t len);
/* [+-]digits */
int lake_shape_integer(const char *s, size_t len);
/* [+-]digits.digits (at least one digit on one side; no exponent). */
int lake_shape_decimal(const char *s, size_t len);

/* Whole-field parsers: 1 when the field is that type, value in *out. An
 * integer that does not fit in int64 is not an integer (but is a number). */
int lake_parse_int(const char *s, size_t len, int64_t *out);
int lake_parse_number(const char *s, size_t len, double *out);
/* lake_parse_number for a value with the decimal shape (no integer try). */
int lake_parse_decimal(const char *s, size_t len, double *out);
int lake_parse_bool(const char *s, size_t len);

/* Code points in UTF-8 bytes (continuation bytes not counted). */
size_t lake_utf8_length(const char *s, size_t len);

#endif
