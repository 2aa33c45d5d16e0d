/* main.c - `weir`: dispatch to a command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"

static const char usage[] =
    "usage: weir <command> [options]\n"
    "\n"
    "commands:\n"
    "  run PIPELINE [--param k=v]...   run a pipeline (or: run --resume RUN)\n"
    "  validate PIPELINE               check a pipeline without running it\n"
    "  graph PIPELINE [--format F]     print the step graph (dot or mermaid)\n"
    "  plugins                         list installed plugins and their steps\n"
    "  plugin describe NAME            show a plugin's steps and params\n"
    "  runs list | runs show RUN       past runs from the state database\n"
    "  approvals list|show|approve|reject|refine   decide paused runs\n"
    "  catalog list|show|infer         tables of the target's catalog; infer one from files\n"
    "  profile TABLE|PATH              column statistics of a table, a file or a folder\n"
    "  contract export|test            export a contract (dqdl, pyspark, ...); post-load tests\n"
    "  drift --table T | --database DB judge a day's stats against history; write the report\n"
    "  drift backfill --table T ...    stats history of past days from partitioned data\n"
    "  impact [--from R] [--to R]      what a change to ETL job scripts breaks (exit 1: breaking)\n"
    "  lineage DIR [--format F]        table lineage of a directory of jobs (json, dot, mermaid)\n"
    "  hook install|uninstall          a git pre-push / pre-commit hook running `weir impact`\n"
    "  version                         print the version\n"
    "\n"
    "common options: --config FILE (weir.yaml), --workspace DIR, --plugin-dir DIR, --json\n"
    "`weir <command> --help` shows a command's options.\n"
    "\n"
    "exit codes: 0 ok, 1 a step failed, 2 usage, 3 invalid pipeline or config,\n"
    "            4 paused for approval, 5 cancelled, 10 internal error\n";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } commands[] = {
        { "run", cli_run },           { "validate", cli_validate }, { "graph", cli_graph },
        { "plugins", cli_plugins },   { "plugin", cli_plugin },     { "runs", cli_runs },
        { "approvals", cli_approvals },
        { "contract", cli_contract },
        { "catalog", cli_catalog },     { "profile", cli_profile },
        { "drift", cli_drift },
        { "impact", cli_impact },       { "lineage", cli_lineage },   { "hook", cli_hook },
    };

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? WEIR_EXIT_USAGE : WEIR_EXIT_OK;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            fputs("usage: weir version\nprints the version of weir and of its plugin ABI\n", stdout);
            return WEIR_EXIT_OK;
        }
        printf("weir %s (plugin ABI %d.%d)\n", WEIR_VERSION, WEIR_ABI_MAJOR, WEIR_ABI_MINOR);
        return WEIR_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "weir: unknown command '%s'\n\n%s", argv[1], usage);
    return WEIR_EXIT_USAGE;
}
