/*
 * eventlog.h - the JSON-lines event log of a run (DESIGN §8):
 * <workspace>/runs/<run-id>/events.jsonl, one object per line:
 *   {"ts":"2026-11-21T22:30:00.123Z","run":"<id>","event":"start|status|result|error|end",
 *    "step":"<id>" (absent for run-level events), ...fields}
 * Lines are written whole with one write(2) on an O_APPEND descriptor, so
 * concurrent writers never interleave within a line and a crash loses at most
 * the line being written. Thread-safe.
 */
#ifndef WEIR_CORE_EVENTLOG_H
#define WEIR_CORE_EVENTLOG_H

#include <jansson.h>

struct weir_eventlog;

/* Opens (appending, creating directories) the log of run_id under workspace. */
int weir_eventlog_open(const char *workspace, const char *run_id, struct weir_eventlog **out);

/* Appends one event. step may be NULL. fields is a new reference (stolen,
 * may be NULL); its keys are merged after the standard ones. The line passes
 * through weir_redact() before it is written. */
int weir_eventlog_emit(struct weir_eventlog *log, const char *event, const char *step,
                       json_t *fields);

void weir_eventlog_close(struct weir_eventlog *log);

#endif
