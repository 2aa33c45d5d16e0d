/* fsutil.c - file-system helpers shared by core modules. */
#include "fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

static int make_one(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        return weir_error_set(WEIR_EIO, "cannot create directory %s: %s; check permissions", dir,
                              strerror(errno));
    }
    return WEIR_OK;
}

int weir_mkdir_p(const char *dir)
{
    char *copy = strdup(dir);
    int rc = WEIR_OK;

    if (!copy) {
        return weir_error_set(WEIR_ENOMEM, "out of memory creating %s", dir);
    }
    for (char *p = copy + 1; *p && rc == WEIR_OK; p++) {
        if (*p == '/') {
            *p = '\0';
            rc = make_one(copy);
            *p = '/';
        }
    }
    if (rc == WEIR_OK) {
        rc = make_one(copy);
    }
    free(copy);
    return rc;
}
