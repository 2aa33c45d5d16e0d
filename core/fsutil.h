/*
 * fsutil.h - file-system helpers shared by core modules (state, event log).
 */
#ifndef WEIR_CORE_FSUTIL_H
#define WEIR_CORE_FSUTIL_H

/* Creates dir and its missing parents, like mkdir -p (mode 0755). Returns
 * WEIR_OK, or WEIR_EIO / WEIR_ENOMEM with the last error naming the
 * directory that could not be created. */
int weir_mkdir_p(const char *dir);

#endif
