/*
 * impact_diff_int.h - private to the impact plugin's diff half: reading
 * script versions from git (gitread.c), the semantic diff (semdiff.c), the
 * impact report (report.c) and lineage (lineage.c).
 *
 * Strings handed out here are allocated with impact_host->malloc; free them
 * with impact_host->free. Every function returns WEIR_OK or a negative
 * WEIR_E* code with the message set through impact_host->error_set.
 */
#ifndef WEIR_IMPACT_DIFF_INT_H
#define WEIR_IMPACT_DIFF_INT_H

#include <git2.h>

#include "impact.h"

/* ---- gitread.c: versions of files from a repository ---- */

/* Pseudo revisions: the checked-out files, and the staged ones. */
#define IMPACT_REV_WORKTREE "WORKTREE"
#define IMPACT_REV_INDEX "INDEX"

/* Opens the repository containing `path` (searching upwards, like git). */
int impact_git_open(const char *path, git_repository **repo);
void impact_git_close(git_repository *repo);

/* The commit `rev` names (any rev-parse expression), as 40 hex digits in
 * hex[41]. WORKTREE and INDEX give HEAD's commit. */
int impact_git_resolve(git_repository *repo, const char *rev, char hex[41]);

/* The merge base of `to` (a revision; NULL, WORKTREE and INDEX mean HEAD)
 * with the main branch (main, master, origin/main, origin/master: the first
 * that exists); `to` itself when there is none. */
int impact_git_default_base(git_repository *repo, const char *to, char hex[41]);

/* The content of `path` (relative to the work tree root) at `rev`, or in
 * the work tree / index for the pseudo revisions. A path that does not exist
 * there is WEIR_OK with *text NULL. */
int impact_git_read(git_repository *repo, const char *rev, const char *path, char **text,
                    size_t *len);

/* Paths (sorted array of strings) of files that differ between `from` and
 * `to`, ending in .py or .sql, under `prefix` ("" or NULL: anywhere). */
int impact_git_changed(git_repository *repo, const char *from, const char *to, const char *prefix,
                       json_t **paths);

/* The unified diff (3 lines of context) between two texts (NULL: absent),
 * labelled a/<path> and b/<path>; "" when they are equal. */
int impact_git_unified(const char *path, const char *old, size_t old_len, const char *new_text,
                       size_t new_len, char **diff);

/* ---- semdiff.c: what changed between two job summaries ---- */

/* The semantic changes from summary `before` to `after` (either may be
 * NULL or JSON null for a script added or deleted): a new array of change
 * objects {kind, what, before, after, line_before, line_after,
 * columns_affected, classification, reason} in a stable order. */
int impact_semdiff(const json_t *before, const json_t *after, json_t **changes);

/* The worst classification of the changes: "breaking" over "needs_review"
 * over "ok". */
const char *impact_changes_status(const json_t *changes);

/* The same over the "changes" of every element of files. */
const char *impact_files_status(const json_t *files);

/* ---- lineage.c: the table graph of a directory of jobs ---- */

/* Summarises every *.py and *.sql under dir (recursively, sorted) and
 * builds {jobs, nodes, edges, column_edges}. */
int impact_lineage_scan(const char *dir, json_t **graph);

/* Adds one summarised job to a graph made by impact_lineage_new(). */
json_t *impact_lineage_new(void);
int impact_lineage_add(json_t *graph, const char *path, const json_t *summary);

/* The graph as DOT or Mermaid text. */
int impact_lineage_format(const json_t *graph, const char *format, char **text);

/* Tables downstream of `table` (breadth first, each once): a new array of
 * {table, job, path, depth, via, columns_read, columns_affected}.
 * columns_read are the affected columns of the upstream table `via` that the
 * job mentions (at the first level those of `columns`, a borrowed array of
 * names, may be NULL); columns_affected are the job's output columns computed
 * from them, which are the affected columns one level further down. */
int impact_lineage_downstream(const json_t *graph, const char *table, const json_t *columns,
                              json_t **out);

/* ---- shadow.c ---- */

/* The shadow run of one impact.diff file entry (a .sql script with
 * source_before / source_after): both queries on the engine, the first
 * `sample` rows profiled, compared. *out is NULL for other scripts, else
 * {before, after, compare?}; a query the engine rejects is an "error" of
 * its side, not a failure. */
int impact_shadow_run(weir_ctx *ctx, const json_t *file, json_int_t sample, json_t **out);

/* ---- report.c ---- */

/* The report's Markdown from its JSON document (report_md.c). */
int impact_report_markdown(const json_t *report, char **md);

/* The short summary of a report that `weir impact` and the hook print. */
int impact_report_text(const json_t *report, char **text);

/* ---- shared helpers (semdiff.c) ---- */

/* Non-zero when `word` occurs in `text` as a whole identifier (case
 * insensitive; letters, digits and '_' are word characters). */
int impact_word_in(const char *text, const char *word);

/* Appends the printf result to a host-allocated buffer (*buf may be NULL);
 * WEIR_ENOMEM when out of memory, leaving *buf as it was. */
int impact_buf_printf(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
