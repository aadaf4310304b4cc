/* The page's coverage section: a test's extra.coverage (the chaos
 * scenario's summary) as two tables, the faults per target and the sagas
 * per path, with the paths no saga took marked. */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "report/html_int.h"

static void faults_table(FILE *f, const json_t *faults)
{
	const char *target;
	json_t *kinds;
	fputs("<table class='steps'><tr><th>target</th><th>faults</th></tr>", f);
	json_object_foreach((json_t *)faults, target, kinds) {
		fputs("<tr><td>", f);
		fl_html_esc(f, target);
		fputs("</td><td>", f);
		const char *kind;
		json_t *n;
		const char *sep = "";
		json_object_foreach(kinds, kind, n) {
			fputs(sep, f);
			fl_html_esc(f, kind);
			if (json_integer_value(n) > 1)
				fprintf(f, " ×%lld", (long long)json_integer_value(n));
			sep = ", ";
		}
		fputs("</td></tr>", f);
	}
	fputs("</table>", f);
}

static bool listed(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

void fl_html_coverage(FILE *f, const json_t *cov, const char *test_name)
{
	const json_t *paths = json_object_get(cov, "paths");
	const json_t *missing = json_object_get(cov, "missing");
	fputs("<section class='experiment'><h2>Coverage: ", f);
	fl_html_esc(f, test_name);
	fputs("</h2>", f);
	if (json_is_object(json_object_get(cov, "faults")))
		faults_table(f, json_object_get(cov, "faults"));
	if (json_is_object(paths)) {
		fputs("<table class='steps'><tr><th>saga path</th><th>sagas</th></tr>", f);
		const char *p;
		json_t *n;
		json_object_foreach((json_t *)paths, p, n) {
			bool miss = listed(missing, p);
			fprintf(f, "<tr class='inv inv-%s'><td>", miss ? "fail" : "pass");
			fl_html_esc(f, p);
			fprintf(f, "</td><td class='n'>%lld%s</td></tr>",
				(long long)json_integer_value(n), miss ? " (not reached)" : "");
		}
		fputs("</table>", f);
	}
	if (json_array_size(missing))
		fprintf(f, "<p class='alert'>%zu saga path(s) not reached.</p>",
			json_array_size(missing));
	fputs("</section>", f);
}
