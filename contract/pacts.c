/* Lists of pacts: a PACT argument is a file or a directory of *.json pacts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contract/pact.h"
#include "core/errors.h"

void fl_pact_list_free(struct fl_pact_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fl_pact_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int fl_pact_list_add(struct fl_pact_list *l, struct fl_pact *p)
{
	struct fl_pact **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		fl_pact_free(p);
		return FL_ENOMEM;
	}
	l->v = v;
	l->v[l->n++] = p;
	return 0;
}

static int load_one(struct fl_pact_list *l, const char *path, char *err, size_t errlen)
{
	struct fl_pact *p = fl_pact_load(path, err, errlen);
	if (!p)
		return FL_EPARSE;
	if (fl_pact_list_add(l, p) < 0)
		return fl_err_set(err, errlen, FL_ENOMEM, "%s: out of memory", path);
	return 0;
}

static int is_pact_name(const char *nm)
{
	size_t len = strlen(nm);
	return nm[0] != '.' && len > 5 && !strcmp(nm + len - 5, ".json");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_dir(struct fl_pact_list *l, const char *path, char *err, size_t errlen)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, by_name);
	if (n < 0)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path,
				  strerror(errno));
	int rc = 0, found = 0;
	for (int i = 0; i < n; i++) {
		if (!rc && is_pact_name(ents[i]->d_name)) {
			char file[4096];
			snprintf(file, sizeof(file), "%s/%s", path, ents[i]->d_name);
			rc = load_one(l, file, err, errlen);
			found++;
		}
		free(ents[i]);
	}
	free(ents);
	if (!rc && !found)
		return fl_err_set(err, errlen, FL_ENOENT, "%s: no *.json pacts in this directory",
				  path);
	return rc;
}

int fl_pact_list_load(struct fl_pact_list *l, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st))
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path,
				  strerror(errno));
	return S_ISDIR(st.st_mode) ? load_dir(l, path, err, errlen)
				   : load_one(l, path, err, errlen);
}
