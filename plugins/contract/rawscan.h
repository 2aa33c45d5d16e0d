/*
 * rawscan.h - the raw text of each record of a CSV or JSON Lines file, found
 * by the same boundary rules as the lake readers (reader_csv.c,
 * reader_jsonl.c) but without parsing fields.
 *
 * The lake reader hands out parsed fields; pre-load needs each record's
 * source bytes so valid rows are written byte-identical and malformed ones
 * quarantined as they were. A second, cheap pass over the same file, in step
 * with the reader (records come in the same order and start on the same
 * physical lines), gives them without changing the reader. Its record count
 * is also the independent side of the `valid + quarantined == input` check.
 *
 * Boundaries: a UTF-8 BOM at the start of the file is skipped; CSV records
 * end at LF, CRLF or a lone CR outside quotes, a quote opens a quoted field
 * only at the start of a field ("" inside is one quote), blank lines are
 * skipped; JSON Lines records are physical lines, blank (space, tab, CR only)
 * lines skipped.
 */
#ifndef WEIR_CONTRACT_RAWSCAN_H
#define WEIR_CONTRACT_RAWSCAN_H

#include <stddef.h>
#include <stdint.h>

struct rawscan;

/* Opens path; jsonl selects the format, delim is the CSV separator. */
int rawscan_open(const char *path, int jsonl, char delim, struct rawscan **out);
void rawscan_close(struct rawscan *s);

/* Advances to the next record: 1 with one, 0 at the end, negative on error
 * (message set). */
int rawscan_next(struct rawscan *s);

/* The current record's bytes including its line break (if any), and the
 * physical line (1-based) it starts on. Valid until the next call. */
const char *rawscan_record(const struct rawscan *s, size_t *len);
uint64_t rawscan_line(const struct rawscan *s);
const char *rawscan_path(const struct rawscan *s);

#endif
