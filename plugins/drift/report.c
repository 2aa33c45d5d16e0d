/*
 * report.c - drift.report: writes the report of a drift.detect output as
 * reports/drift/<table>/<date>.md and .html through the store, with an
 * optional narrative from the llm service.
 */
#include "drift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The markers every weir prompt puts around its context object, so a
 * provider (the builtin one in particular) can find it in the message. */
#define CONTEXT_BEGIN "-----BEGIN CONTEXT JSON-----"
#define CONTEXT_END "-----END CONTEXT JSON-----"

static const char narrative_instruction[] =
    "You are the on-call data engineer's assistant. The context below is today's drift "
    "check of one table: each anomaly has a detector, a metric, the observed value, the "
    "expected range and an explanation. In at most 120 words, say what most likely "
    "happened upstream and what to check first. Do not repeat the numbers already in the "
    "table. Answer as JSON {\"narrative\": \"...\"}.";

/* Asks the llm service for the narrative; NULL (a warning logged) when it
 * cannot give one, since the report is complete without it. */
static char *ask_narrative(weir_ctx *ctx, const json_t *det)
{
    json_t *context = json_pack("{s:s,s:O,s:O,s:O,s:O}", "task", "drift_narrative", "table",
                                json_object_get(det, "table"), "date", json_object_get(det, "date"),
                                "status", json_object_get(det, "status"), "anomalies",
                                json_object_get(det, "anomalies"));
    char *ctx_text = context ? json_dumps(context, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
    char *user = NULL, *text = NULL;
    json_t *in = NULL, *out = NULL;
    const char *got;

    if (!ctx_text || asprintf(&user, "%s\n%s\n%s\n%s\n", narrative_instruction, CONTEXT_BEGIN,
                              ctx_text, CONTEXT_END) < 0) {
        user = NULL;
        goto done;
    }
    in = json_pack("{s:[{s:s,s:s}],s:{s:s,s:{s:{s:s}},s:[s]}}", "messages", "role", "user",
                   "content", user, "json_schema", "type", "object", "properties", "narrative",
                   "type", "string", "required", "narrative");
    if (!in || drift_host->service_call(ctx, "llm", "generate", in, &out) < 0) {
        drift_host->log(ctx, WEIR_LOG_WARN, "drift.report: no narrative: %s",
                        drift_host->error_last());
        goto done;
    }
    got = json_string_value(json_object_get(out, "narrative"));
    if (!got) {
        drift_host->log(ctx, WEIR_LOG_WARN, "drift.report: the llm answer has no narrative string");
        goto done;
    }
    text = strdup(got);
done:
    json_decref(context);
    json_decref(in);
    json_decref(out);
    free(ctx_text);
    free(user);
    return text;
}

static int put_text(weir_ctx *ctx, const char *uri, const struct weir_strbuf *b, const char *type)
{
    json_t *in = json_pack("{s:s,s:s%,s:s}", "uri", uri, "body", b->s, b->len, "content_type", type);
    json_t *out = NULL;
    int rc;

    if (!in) {
        return drift_host->error_set(WEIR_ENOMEM, "drift.report: out of memory");
    }
    rc = drift_host->service_call(ctx, "store", "put", in, &out);
    json_decref(in);
    json_decref(out);
    return rc;
}

/* The detection plus the day's post-load results (results/<table>/<date>.json,
 * written by contract.postload) under "tests", when the store has them. */
static int with_tests(weir_ctx *ctx, const json_t *det, const char *table, const char *date,
                      json_t **doc)
{
    json_t *tests = NULL;
    char *uri = NULL;

    if (asprintf(&uri, "results/%s/%s.json", table, date) < 0) {
        return drift_host->error_set(WEIR_ENOMEM, "drift.report: out of memory");
    }
    if ((*doc = json_copy((json_t *)det)) == NULL) {
        free(uri);
        return drift_host->error_set(WEIR_ENOMEM, "drift.report: out of memory");
    }
    if (drift_store_get_json(ctx, uri, &tests) < 0) {
        drift_host->log(ctx, WEIR_LOG_WARN, "drift.report: %s unreadable, left out: %s", uri,
                        drift_host->error_last());
    }
    else if (json_is_object(tests)) {
        json_object_set(*doc, "tests", tests);
    }
    json_decref(tests);
    free(uri);
    return WEIR_OK;
}

static int run_report(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *det = json_object_get(input, "detection");
    const char *table = json_string_value(json_object_get(det, "table"));
    const char *date = json_string_value(json_object_get(det, "date"));
    const char *prefix = json_string_value(json_object_get(input, "prefix"));
    struct weir_strbuf md = { 0 }, html = { 0 }, line = { 0 };
    char *narrative = NULL, *md_uri = NULL, *html_uri = NULL;
    json_t *doc = NULL;
    int rc;

    (void)payload;
    if (!table || !drift_table_ok(table) || !date || drift_parse_day(date) < 0 ||
        !json_is_array(json_object_get(det, "anomalies"))) {
        return drift_host->error_set(WEIR_EINVALID, "drift.report: detection must be a drift.detect "
                                                    "output (table, date, anomalies, series)");
    }
    if ((rc = with_tests(ctx, det, table, date, &doc)) < 0) {
        return rc;
    }
    det = doc;
    if (json_is_true(json_object_get(input, "narrative"))) {
        narrative = ask_narrative(ctx, det);
    }
    drift_report_markdown(det, narrative, &md);
    drift_report_html(det, narrative, &html);
    drift_report_summary(det, &line);
    if (md.failed || html.failed || line.failed ||
        asprintf(&md_uri, "%s/%s/%s.md", prefix, table, date) < 0 ||
        asprintf(&html_uri, "%s/%s/%s.html", prefix, table, date) < 0) {
        md_uri = html_uri = NULL;
        rc = drift_host->error_set(WEIR_ENOMEM, "drift.report: out of memory");
        goto done;
    }
    if ((rc = put_text(ctx, md_uri, &md, "text/markdown; charset=utf-8")) < 0 ||
        (rc = put_text(ctx, html_uri, &html, "text/html; charset=utf-8")) < 0) {
        goto done;
    }
    *out = json_pack("{s:s,s:s,s:O,s:s,s:s,s:s,s:s?}", "table", table, "date", date, "status",
                     json_object_get(det, "status"), "markdown_uri", md_uri, "html_uri", html_uri,
                     "summary", line.s, "narrative", narrative);
    rc = *out ? WEIR_OK : drift_host->error_set(WEIR_ENOMEM, "drift.report: out of memory");
done:
    drift_host->free(md.s);
    drift_host->free(html.s);
    drift_host->free(line.s);
    free(narrative);
    free(md_uri);
    free(html_uri);
    json_decref(doc);
    return rc;
}

static const struct weir_param_desc report_params[] = {
    { "detection", WEIR_PARAM_OBJECT, 1, NULL, "a drift.detect output" },
    { "narrative", WEIR_PARAM_BOOLEAN, 0, "false",
      "ask the llm service for a short explanation (builtin: templated)" },
    { "prefix", WEIR_PARAM_STRING, 0, "\"reports/drift\"",
      "store prefix; the report lands at <prefix>/<table>/<date>.md and .html" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

const struct weir_step_desc drift_step_report = {
    WEIR_STEP_DESC_VERSION,
    "report",
    NULL,
    "writes a drift.detect output as Markdown and self-contained HTML (inline SVG charts)",
    report_params,
    run_report,
    NULL,
};
