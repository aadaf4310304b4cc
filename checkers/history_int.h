/* Internals shared by checkers/history.c (tables, sorting, files) and
 * checkers/history_events.c (parsing events). Private to checkers/. */
#ifndef FL_CHECKERS_HISTORY_INT_H
#define FL_CHECKERS_HISTORY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "checkers/history.h"

/* Append one zeroed element to a vector; returns it, or NULL on out of memory. */
void *fl_chk_vec_push(void **p, size_t *n, size_t *cap, size_t size);

#define PUSH(h, name)                                                                              \
	((__typeof__((h)->name))fl_chk_vec_push((void **)&(h)->name, &(h)->n_##name,               \
						&(h)->cap_##name, sizeof(*(h)->name)))

/* Widen the history's time span to include t. */
void fl_chk_note_time(struct fl_chk_history *h, int64_t t);

/* Add one event given as the text of a JSON object (borrowed). Returns 0,
 * or FL_EPARSE with "line N: reason" in err, or FL_ENOMEM. */
int fl_chk_add_text(struct fl_chk_history *h, const char *text, size_t len, long line, char *err,
		    size_t errlen);

#endif
