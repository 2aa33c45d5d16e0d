/*
 * weir/error.h - the one error idiom of the weir SDK.
 *
 * Every fallible SDK or host function returns an int: WEIR_OK (0) on success,
 * or one of the negative codes below. The human-readable reason travels
 * separately, as a per-thread "last error" message that the failing function
 * sets through the host API (weir_host_api.error_set). A caller that only
 * passes a failure up returns the callee's code unchanged and does not touch
 * the message, so the message always names the original cause.
 *
 * Messages are one line, lowercase, without a "failed to" prefix, and say
 * what went wrong, where, and what to do, e.g.
 *   "param 'path': file 'x.json' not found; check the path is relative to the workspace"
 *
 * Where they overlap, the values follow libgit2's so that people who know
 * one know the other.
 */
#ifndef WEIR_ERROR_H
#define WEIR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Return codes shared by the host and every plugin. */
enum weir_error_code {
    WEIR_OK = 0,            /**< success */
    WEIR_ERROR = -1,        /**< generic failure; the last-error message says why */
    WEIR_ENOTFOUND = -3,    /**< a named thing (file, table, step, key) does not exist */
    WEIR_EDENIED = -13,     /**< credentials missing, invalid or expired; access denied */
    WEIR_EEXISTS = -4,      /**< the thing to create exists already */
    WEIR_EUSER = -7,        /**< a user callback or script reported its own error */
    WEIR_EINVALID = -21,    /**< invalid input: bad parameter, malformed data */
    WEIR_EPASSTHROUGH = -30,/**< "not mine": let the next handler try */
    WEIR_ETIMEOUT = -37,    /**< a deadline passed */
    WEIR_ENOMEM = -100,     /**< an allocation failed or a memory cap was hit */
    WEIR_EIO = -101,        /**< an I/O or system call failed */
    WEIR_ECANCELLED = -102, /**< the run was cancelled while the step ran */
    WEIR_EVERSION = -103,   /**< an ABI or struct version the other side does not support */
    WEIR_ETOOBIG = -104     /**< a size bound was exceeded (response, file, field) */
};

#ifdef __cplusplus
}
#endif

#endif /* WEIR_ERROR_H */
