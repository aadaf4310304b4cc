/* Token loading (core/token.h). */
#include "core/token.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

#define FL_TOKEN_MAX 4096

static int check(const char *t, const char *from, char *err, size_t errlen)
{
	if (!*t)
		return fl_err_set(err, errlen, FL_EINVAL, "%s: the token is empty", from);
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: the token has white space or control characters",
					  from);
	return 0;
}

int fl_token_load(const char *file, char **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!file) {
		const char *env = getenv("FAULTLINE_TOKEN");
		const char *name = "FAULTLINE_TOKEN";
		if (!env || !*env) {
			env = getenv("FAULTLINE_PROXY_TOKEN");
			name = "FAULTLINE_PROXY_TOKEN";
		}
		if (!env || !*env)
			return 0;
		int rc = check(env, name, err, errlen);
		if (rc)
			return rc;
		*out = strdup(env);
		return *out ? 0 : fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	}
	FILE *f = fopen(file, "r");
	if (!f)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "--token-file %s: %s",
				  file, strerror(errno));
	char buf[FL_TOKEN_MAX + 2];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n > FL_TOKEN_MAX)
		return fl_err_set(err, errlen, FL_EINVAL, "--token-file %s: over %d bytes", file,
				  FL_TOKEN_MAX);
	char *s = buf;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t len = strcspn(s, "\r\n");
	s[len] = '\0';
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	char from[300];
	snprintf(from, sizeof(from), "--token-file %s", file);
	int rc = check(s, from, err, errlen);
	if (rc)
		return rc;
	*out = strdup(s);
	return *out ? 0 : fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
}
