/* The Pact specification's conformance cases (the testcases of the
 * pact-specification project, v3 and v4: request/, response/, message/;
 * each {match, comment, expected, actual}) run through faultline's matcher:
 * every case must agree. The cases are not part of this repository: they
 * are looked for in $FL_PACT_TESTCASES, then in a pact-testcases directory
 * beside or above the checkout (find_cases). */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "contract/pact.h"
#include "core/json.h"

static char casedir[1100];

static int find_cases(void)
{
	const char *env = getenv("FL_PACT_TESTCASES");
	const char *root = getenv("ROOT");
	char cand[6][1024];
	int n = 0;
	if (env)
		snprintf(cand[n++], sizeof(cand[0]), "%s", env);
	if (root)
		snprintf(cand[n++], sizeof(cand[0]), "%s/../shared/pact-testcases", root);
	snprintf(cand[n++], sizeof(cand[0]), "../shared/pact-testcases");
	snprintf(cand[n++], sizeof(cand[0]), "shared/pact-testcases");
	snprintf(cand[n++], sizeof(cand[0]), "../../shared/pact-testcases");
	for (int i = 0; i < n; i++) {
		struct stat st;
		char v3[1040];
		snprintf(v3, sizeof(v3), "%.1000s/v3", cand[i]);
		if (stat(v3, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(casedir, sizeof(casedir), "%.1000s", cand[i]);
			return 0;
		}
	}
	return -1;
}

struct tally {
	int total, passed;
};

static int run_case(const char *file, int version, const char *part, struct tally *t)
{
	char err[512];
	json_t *doc = fl_json_load_file(file, err, sizeof(err));
	if (!doc) {
		printf("FAIL %s: %s\n", file, err);
		t->total++;
		return -1;
	}
	bool want = json_is_true(json_object_get(doc, "match"));
	const char *comment = fl_json_str(doc, "comment", "");
	json_t *e = json_object_get(doc, "expected"), *a = json_object_get(doc, "actual");
	struct fl_pact_mismatches mm = { 0 };
	int rc = 0;
	bool got = false;
	if (!strcmp(part, "request")) {
		struct fl_pact_request er, ar;
		rc = fl_pact_request_read(e, version, "expected", &er, NULL, err, sizeof(err));
		if (!rc)
			rc = fl_pact_request_read(a, version, "actual", &ar, NULL, err, sizeof(err));
		else
			fl_pact_request_init(&ar);
		if (!rc)
			got = fl_pact_match_request(&er, &ar, &mm) == 0;
		fl_pact_request_clear(&er);
		fl_pact_request_clear(&ar);
	} else if (!strcmp(part, "response")) {
		struct fl_pact_response er, ar;
		rc = fl_pact_response_read(e, version, "expected", &er, NULL, err, sizeof(err));
		if (!rc)
			rc = fl_pact_response_read(a, version, "actual", &ar, NULL, err, sizeof(err));
		else
			fl_pact_response_init(&ar);
		if (!rc)
			got = fl_pact_match_response(&er, &ar, &mm) == 0;
		fl_pact_response_clear(&er);
		fl_pact_response_clear(&ar);
	} else {
		struct fl_pact_message em, am;
		rc = fl_pact_message_read(e, version, "expected", &em, NULL, err, sizeof(err));
		if (!rc)
			rc = fl_pact_message_read(a, version, "actual", &am, NULL, err, sizeof(err));
		else
			fl_pact_message_init(&am);
		if (!rc)
			got = fl_pact_match_message(&em, &am, &mm) == 0;
		fl_pact_message_clear(&em);
		fl_pact_message_clear(&am);
	}
	t->total++;
	if (rc) {
		printf("FAIL %s (%s): could not read: %s\n", file, comment, err);
	} else if (got != want) {
		char *txt = fl_pact_mismatches_text(&mm);
		printf("FAIL %s (%s): expected %s, got %s\n%s", file, comment,
		       want ? "match" : "mismatch", got ? "match" : "mismatch", txt ? txt : "");
		free(txt);
	} else {
		t->passed++;
	}
	fl_pact_mismatches_clear(&mm);
	json_decref(doc);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_dir(const char *dir, int version, const char *part, struct tally *t)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, by_name);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (nm[0] != '.') {
			char path[PATH_MAX];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				run_dir(path, version, part, t);
			else if (strlen(nm) > 5 && !strcmp(nm + strlen(nm) - 5, ".json"))
				run_case(path, version, part, t);
		}
		free(ents[i]);
	}
	free(ents);
}

static void test_conformance(void **state)
{
	(void)state;
	struct tally t = { 0 };
	static const char *const parts[] = { "request", "response", "message" };
	for (int v = 3; v <= 4; v++) {
		for (int p = 0; p < 3; p++) {
			char dir[PATH_MAX + 32];
			snprintf(dir, sizeof(dir), "%s/v%d/%s", casedir, v, parts[p]);
			run_dir(dir, v, parts[p], &t);
		}
	}
	printf("pact conformance: %d/%d cases pass\n", t.passed, t.total);
	assert_int_equal(t.total, 452);
	assert_int_equal(t.passed, t.total);
}

int main(void)
{
	if (find_cases()) {
		printf("pact conformance cases not found (set FL_PACT_TESTCASES or ROOT)\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conformance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
