/*
 * fuzz_lake_reader.c - libFuzzer target for the lake row reader (CSV and
 * JSON Lines). The reader's sources are compiled into this harness, so they
 * carry the fuzzer's coverage instrumentation without touching lake_core.
 * The first two bytes pick the options (format, delimiter, header lines,
 * tolerate_errors, column count); the rest is the file, read through a
 * memfd. Besides crashes and sanitizer reports it traps when a row has the
 * wrong number of fields, a field is not NUL-terminated, a CSV field is not
 * valid UTF-8, or line numbers go backwards.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../plugins/lake/reader.c"
#include "../../plugins/lake/reader_csv.c"
#include "../../plugins/lake/reader_jsonl.c"
#include "plugins.h"

const struct weir_host_api *lake_host;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lake_host = weir_host_api_get();
    return 0;
}

static void on_issue(const struct lake_issue *issue, void *payload)
{
    (void)issue;
    (*(size_t *)payload)++;
}

static void check_rows(struct lake_reader *r, const struct lake_table *t)
{
    uint64_t last_line = 0;
    int rc;

    while ((rc = lake_reader_next(r)) == 1) {
        size_t n;
        const struct lake_field *f = lake_reader_fields(r, &n);

        if (n != t->ncolumns + t->npartitions || lake_reader_line(r) < last_line) {
            abort();
        }
        last_line = lake_reader_line(r);
        for (size_t i = 0; i < n; i++) {
            if (f[i].data && (f[i].data[f[i].len] != '\0' ||
                              (t->format == LAKE_CSV &&
                               !lake_utf8_valid((const unsigned char *)f[i].data, f[i].len)))) {
                abort();
            }
        }
    }
    if (rc < 0 && !*lake_host->error_last()) {
        abort(); /* a failure always says why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = { ',', ';', '\t', '|' };
    struct lake_column cols[8];
    struct lake_column part = { .name = "dt", .type = "string" };
    struct lake_table t;
    struct lake_file file;
    char path[64], *values[] = { "2026-10-01", NULL };
    size_t issues = 0;
    struct lake_reader_opts opts = { .on_issue = on_issue, .payload = &issues };
    struct lake_reader *r = NULL;
    int fd;

    if (size < 2) {
        return 0;
    }
    memset(&t, 0, sizeof(t));
    memset(cols, 0, sizeof(cols));
    for (size_t i = 0; i < 8; i++) {
        cols[i].name = (char *)(const char *[]){ "a", "b", "c", "d", "e", "f", "g", "h" }[i];
        cols[i].type = "string";
    }
    t.columns = cols;
    t.ncolumns = 1 + data[1] % 8;
    t.partitions = &part;
    t.npartitions = data[1] & 0x80 ? 1 : 0;
    t.format = data[0] & 1 ? LAKE_JSONL : LAKE_CSV;
    t.delimiter = delims[(data[0] >> 1) & 3];
    t.header_lines = (data[0] >> 3) & 1;
    opts.tolerate_errors = (data[0] >> 4) & 1;
    if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0) {
        return 0;
    }
    if (write(fd, data + 2, size - 2) != (ssize_t)(size - 2)) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    file.path = path;
    file.partition_values = values;
    if (lake_reader_open(&t, &file, 1, &opts, &r) == WEIR_OK) {
        check_rows(r, &t);
    }
    lake_reader_close(r);
    close(fd);
    return 0;
}
