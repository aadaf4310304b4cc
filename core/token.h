/* Bearer tokens for the agent's control API, read the same way by the agent
 * and every client (fl.proxy, chaos, contract record, ref): an explicit
 * --token-file FILE first, then the FAULTLINE_TOKEN environment variable,
 * then FAULTLINE_PROXY_TOKEN (its older name). A token given on the command
 * line shows in /proc/PID/cmdline; a file or the environment does not. */
#ifndef FL_CORE_TOKEN_H
#define FL_CORE_TOKEN_H

#include <stddef.h>

/* The token into *out (caller frees; NULL when there is none): from file
 * (borrowed path, may be NULL) or the environment. The file holds the token
 * on its first line (surrounding white space is dropped); an empty or
 * unreadable file, or a token with control characters, is FL_EINVAL /
 * FL_ENOENT with the reason in err. */
int fl_token_load(const char *file, char **out, char *err, size_t errlen);

#endif
