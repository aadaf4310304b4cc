/* Regular expressions as Pact files write them (Java syntax), run on PCRE2
 * through core/regex.h: Java's look-around, back-references, possessive and
 * lazy quantifiers, \Q..\E and inline flags are PCRE2's too, and \uHHHH /
 * \xHH are enabled with FL_REGEX_JAVA. Pact regex matchers match the whole
 * value, so expressions are compiled anchored at both ends. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/regex.h"

/* Compiled expressions are kept (a small table, replaced round-robin): the
 * generator and the matchers apply the same few patterns to many values.
 * Lookups and matches run under the table lock, so an entry is never
 * replaced while another thread matches with it. */
#define CACHE_SIZE 64

struct cached {
	char *re;
	struct fl_regex *rx; /* NULL when the expression was refused */
	char msg[256];
};

static struct cached cache[CACHE_SIZE];
static size_t cache_next;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static struct cached *lookup(const char *re)
{
	for (size_t i = 0; i < CACHE_SIZE; i++)
		if (cache[i].re && !strcmp(cache[i].re, re))
			return &cache[i];
	struct cached *c = &cache[cache_next];
	cache_next = (cache_next + 1) % CACHE_SIZE;
	fl_regex_free(c->rx);
	c->rx = NULL;
	free(c->re);
	c->msg[0] = '\0';
	fl_regex_compile(re, FL_REGEX_FULL | FL_REGEX_JAVA, &c->rx, c->msg, sizeof(c->msg));
	c->re = strdup(re);
	return c;
}

int fl_regex_full_match(const char *re, const char *subject, char *err, size_t errlen)
{
	pthread_mutex_lock(&cache_mu);
	struct cached *c = lookup(re);
	int rc;
	if (!c->re) {
		snprintf(err, errlen, "out of memory compiling '%s'", re);
		rc = -1;
	} else if (!c->rx) {
		snprintf(err, errlen, "%s", c->msg);
		rc = -1;
	} else {
		rc = fl_regex_match(c->rx, subject, strlen(subject), err, errlen);
		if (rc < 0)
			rc = -1;
	}
	pthread_mutex_unlock(&cache_mu);
	return rc;
}
