/* contract verification and the stub, against real HTTP servers on
 * loopback (a provider forked into a child process, built on
 * core/http_server): provider-state protocol, generators fed by state
 * values, a changed field failing with its path, pending interactions,
 * filters, teardown, an unreachable provider; the stub answering from a
 * pact and explaining what did not match. */
#include <event2/event.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "contract/pact.h"
#include "contract/stub.h"
#include "contract/verify.h"
#include "core/http_client.h"
#include "core/http_server.h"
#include "core/json.h"

static char states_log[64];

/* --- the provider (child process) ------------------------------------------ */

static void on_state(struct fl_http_req *r, void *arg)
{
	(void)arg;
	size_t len;
	const char *b = fl_http_req_body(r, &len);
	FILE *f = fopen(states_log, "a");
	if (f) {
		fprintf(f, "%.*s\n", (int)len, b ? b : "");
		fclose(f);
	}
	char err[128];
	json_t *j = fl_http_req_json(r, err, sizeof(err));
	if (j && !strcmp(fl_json_str(j, "state", ""), "broken state")) {
		fl_http_reply_error(r, 500, "cannot set that up");
		return;
	}
	fl_http_reply_json(r, 200, json_pack("{s:i}", "id", 42));
}

static void on_member(struct fl_http_req *r, void *arg)
{
	(void)arg;
	const char *id = fl_http_req_param(r, "id");
	if (strcmp(id, "42")) {
		fl_http_reply_error(r, 404, "no member %s", id);
		return;
	}
	fl_http_reply_json(r, 200, json_pack("{s:i,s:s,s:i}", "id", 42, "name", "Ann", "balance", 500));
}

static void on_message(struct fl_http_req *r, void *arg)
{
	(void)arg;
	fl_http_reply_header(r, "Pact-Message-Metadata", "eyJ0b3BpYyI6InRyYW5zZmVycyJ9"); /* {"topic":"transfers"} */
	fl_http_reply_json(r, 200, json_pack("{s:s,s:i}", "event", "transfer.done", "amount", 7));
}

static pid_t start_provider(int *port)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct event_base *base = event_base_new();
		char err[256];
		struct fl_http_server_opts o = { .addr = "127.0.0.1:0" };
		struct fl_http_server *s = fl_http_server_new(base, &o, err, sizeof(err));
		if (!s)
			_exit(1);
		fl_http_server_route(s, "POST", "/_state", on_state, NULL);
		fl_http_server_route(s, "GET", "/members/{id}", on_member, NULL);
		fl_http_server_route(s, "POST", "/messages", on_message, NULL);
		int p = fl_http_server_port(s);
		if (write(fds[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		close(fds[1]);
		alarm(60);	/* never outlive the test */
		event_base_dispatch(base);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], port, sizeof(*port)) != sizeof(*port)) {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* --- verification ----------------------------------------------------------------- */

static const char pact_text[] =
	"{\"consumer\":{\"name\":\"web\"},\"provider\":{\"name\":\"money\"},\"interactions\":["
	/* 0: state + ProviderState generator for the path */
	"{\"type\":\"Synchronous/HTTP\",\"description\":\"get a member\","
	" \"providerStates\":[{\"name\":\"a member\",\"params\":{\"name\":\"Ann\"}}],"
	" \"request\":{\"method\":\"GET\",\"path\":\"/members/1\","
	"   \"generators\":{\"path\":{\"type\":\"ProviderState\",\"expression\":\"/members/${id}\"}}},"
	" \"response\":{\"status\":200,\"headers\":{\"Content-Type\":\"application/json\"},"
	"   \"body\":{\"contentType\":\"application/json\",\"content\":{\"id\":1,\"name\":\"Ann\",\"balance\":100}},"
	"   \"matchingRules\":{\"body\":{\"$.id\":{\"matchers\":[{\"match\":\"integer\"}]},"
	"     \"$.balance\":{\"matchers\":[{\"match\":\"integer\"}]}}}}},"
	/* 1: a changed field */
	"{\"type\":\"Synchronous/HTTP\",\"description\":\"member name changed\","
	" \"request\":{\"method\":\"GET\",\"path\":\"/members/42\"},"
	" \"response\":{\"status\":200,\"body\":{\"contentType\":\"application/json\",\"content\":{\"name\":\"Bob\"}}}},"
	/* 2: pending and failing */
	"{\"type\":\"Synchronous/HTTP\",\"description\":\"future endpoint\",\"pending\":true,"
	" \"request\":{\"method\":\"GET\",\"path\":\"/members/7\"},\"response\":{\"status\":200}},"
	/* 3: a state the provider cannot set up */
	"{\"type\":\"Synchronous/HTTP\",\"description\":\"broken setup\","
	" \"providerStates\":[{\"name\":\"broken state\"}],"
	" \"request\":{\"method\":\"GET\",\"path\":\"/members/42\"},\"response\":{\"status\":200}}"
	"],\"metadata\":{\"pactSpecification\":{\"version\":\"4.0\"}}}";

struct seen {
	enum fl_verify_status status[8];
	char first_path[8][128];
	char first_msg[8][512];
	bool pending[8];
	int n;
};

static void collect(const struct fl_verify_result *r, void *arg)
{
	struct seen *s = arg;
	if (s->n >= 8)
		return;
	s->status[s->n] = r->status;
	s->pending[s->n] = r->pending;
	if (r->mismatches.n) {
		snprintf(s->first_path[s->n], 128, "%s", r->mismatches.v[0].path);
		snprintf(s->first_msg[s->n], 512, "%s", r->mismatches.v[0].message);
	} else {
		snprintf(s->first_msg[s->n], 512, "%s", r->error);
	}
	s->n++;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

static void test_verify(void **state)
{
	(void)state;
	int port;
	snprintf(states_log, sizeof(states_log), "/tmp/fl_states_%d.log", (int)getpid());
	unlink(states_log);
	pid_t pid = start_provider(&port);
	assert_true(pid > 0);
	char err[512], url[64], surl[80];
	json_t *doc = json_loads(pact_text, 0, NULL);
	assert_non_null(doc);
	struct fl_pact *p = fl_pact_from_json(doc, "web-money.json", err, sizeof(err));
	json_decref(doc);
	assert_non_null(p);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	snprintf(surl, sizeof(surl), "http://127.0.0.1:%d/_state", port);
	struct fl_verify_opts o = { .provider_url = url, .state_change_url = surl, .state_teardown = true };
	struct fl_verify_summary sum = { 0 };
	struct seen s = { 0 };
	assert_int_equal(fl_verify_pact(p, &o, collect, &s, &sum, err, sizeof(err)), 0);
	assert_int_equal(s.n, 4);
	/* 0: passes thanks to the state value 42 in the generated path */
	if (s.status[0] != FL_VERIFY_PASS)
		fail_msg("interaction 0: %s", s.first_msg[0]);
	/* 1: the changed field is named with both values */
	assert_int_equal(s.status[1], FL_VERIFY_FAIL);
	assert_string_equal(s.first_path[1], "$.body.name");
	assert_non_null(strstr(s.first_msg[1], "\"Bob\""));
	assert_non_null(strstr(s.first_msg[1], "\"Ann\""));
	/* 2: pending */
	assert_int_equal(s.status[2], FL_VERIFY_FAIL);
	assert_true(s.pending[2]);
	/* 3: state setup failure is an error naming the state */
	assert_int_equal(s.status[3], FL_VERIFY_ERROR);
	assert_non_null(strstr(s.first_msg[3], "broken state"));
	assert_int_equal(sum.passed, 1);
	assert_int_equal(sum.failed, 1);
	assert_int_equal(sum.pending_failed, 1);
	assert_int_equal(sum.errors, 1);
	assert_int_equal(sum.infra_errors, 0);
	/* the state-change bodies: new and old protocol fields, setup then teardown */
	char *log = read_file(states_log);
	char *first = strtok(log, "\n");
	assert_non_null(first);
	json_t *j = json_loads(first, 0, NULL);
	assert_non_null(j);
	assert_string_equal(fl_json_str(j, "state", ""), "a member");
	assert_string_equal(fl_json_str(j, "action", ""), "setup");
	assert_string_equal(fl_json_str(json_object_get(j, "params"), "name", ""), "Ann");
	assert_string_equal(fl_json_str(j, "consumer", ""), "web");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "states"), 0)), "a member");
	json_decref(j);
	char *second = strtok(NULL, "\n");
	assert_non_null(second);
	j = json_loads(second, 0, NULL);
	assert_string_equal(fl_json_str(j, "action", ""), "teardown");
	json_decref(j);
	free(log);

	/* filters: only the matching description runs */
	memset(&s, 0, sizeof(s));
	memset(&sum, 0, sizeof(sum));
	o.filter_description = "^get a";
	assert_int_equal(fl_verify_pact(p, &o, collect, &s, &sum, err, sizeof(err)), 0);
	assert_int_equal(sum.passed, 1);
	assert_int_equal(sum.skipped, 3);
	stop_child(pid);

	/* an unreachable provider is an infrastructure error */
	memset(&sum, 0, sizeof(sum));
	o.state_change_url = NULL;
	o.filter_description = "changed";
	o.timeout_ms = 2000;
	assert_int_equal(fl_verify_pact(p, &o, NULL, NULL, &sum, err, sizeof(err)), 0);
	assert_int_equal(sum.errors, 1);
	assert_int_equal(sum.infra_errors, 1);
	unlink(states_log);
	fl_pact_free(p);
}

static void test_verify_message(void **state)
{
	(void)state;
	int port;
	snprintf(states_log, sizeof(states_log), "/tmp/fl_states_%d.log", (int)getpid());
	pid_t pid = start_provider(&port);
	assert_true(pid > 0);
	const char *text =
		"{\"consumer\":{\"name\":\"ledger\"},\"provider\":{\"name\":\"money\"},\"interactions\":["
		"{\"type\":\"Asynchronous/Messages\",\"description\":\"transfer done\","
		" \"contents\":{\"contentType\":\"application/json\",\"content\":{\"event\":\"transfer.done\",\"amount\":1}},"
		" \"metadata\":{\"topic\":\"transfers\"},"
		" \"matchingRules\":{\"content\":{\"$.amount\":{\"matchers\":[{\"match\":\"integer\"}]}}}}],"
		"\"metadata\":{\"pactSpecification\":{\"version\":\"4.0\"}}}";
	char err[256], url[80];
	json_t *doc = json_loads(text, 0, NULL);
	struct fl_pact *p = fl_pact_from_json(doc, "m.json", err, sizeof(err));
	json_decref(doc);
	assert_non_null(p);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/messages", port);
	struct fl_verify_opts o = { .provider_url = url };
	struct fl_verify_summary sum = { 0 };
	struct seen s = { 0 };
	assert_int_equal(fl_verify_pact(p, &o, collect, &s, &sum, err, sizeof(err)), 0);
	if (sum.passed != 1)
		fail_msg("message: %s %s", s.first_path[0], s.first_msg[0]);
	stop_child(pid);
	fl_pact_free(p);
}

/* --- the stub ----------------------------------------------------------------- */

static pid_t start_stub(struct fl_pact *p, int *port)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct event_base *base = event_base_new();
		char err[256];
		struct fl_stub *s = fl_stub_new(base, &p, 1, "127.0.0.1:0", 1, err, sizeof(err));
		if (!s)
			_exit(1);
		int pt = fl_stub_port(s);
		if (write(fds[1], &pt, sizeof(pt)) != sizeof(pt))
			_exit(1);
		close(fds[1]);
		alarm(60);
		event_base_dispatch(base);
		_exit(0);
	}
	close(fds[1]);
	int ok = read(fds[0], port, sizeof(*port)) == sizeof(*port);
	close(fds[0]);
	return ok ? pid : -1;
}

static void test_stub(void **state)
{
	(void)state;
	const char *text =
		"{\"consumer\":{\"name\":\"web\"},\"provider\":{\"name\":\"money\"},\"interactions\":["
		"{\"description\":\"create a transfer\","
		" \"request\":{\"method\":\"POST\",\"path\":\"/transfers\",\"headers\":{\"Content-Type\":\"application/json\"},"
		"   \"body\":{\"from\":1,\"to\":2,\"amount\":100},"
		"   \"matchingRules\":{\"body\":{\"$.amount\":{\"matchers\":[{\"match\":\"integer\"}]}}}},"
		" \"response\":{\"status\":201,\"headers\":{\"Content-Type\":\"application/json\",\"X-Saga\":\"s1\"},"
		"   \"body\":{\"id\":\"t-1\",\"state\":\"PENDING\"},"
		"   \"generators\":{\"body\":{\"$.id\":{\"type\":\"Uuid\"}}}}},"
		"{\"description\":\"list members\",\"request\":{\"method\":\"GET\",\"path\":\"/members\","
		"  \"query\":{\"page\":[\"1\"]}},\"response\":{\"status\":200,\"body\":[{\"id\":1}]}}],"
		"\"metadata\":{\"pactSpecification\":{\"version\":\"3.0.0\"}}}";
	char err[256], url[128];
	json_t *doc = json_loads(text, 0, NULL);
	struct fl_pact *p = fl_pact_from_json(doc, "s.json", err, sizeof(err));
	json_decref(doc);
	assert_non_null(p);
	int port;
	pid_t pid = start_stub(p, &port);
	assert_true(pid > 0);

	/* a matching request gets the pact's answer, generators applied */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/transfers", port);
	const char *hdr[] = { "Content-Type: application/json" };
	const char *body = "{\"to\":2,\"from\":1,\"amount\":999}";
	struct fl_http_request rq = { .method = "POST", .url = url, .headers = hdr, .nheaders = 1,
				      .body = body, .body_len = strlen(body) };
	struct fl_http_response *r = NULL;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->status, 201);
	assert_string_equal(fl_http_response_header(r, "X-Saga"), "s1");
	assert_non_null(r->json);
	assert_string_equal(fl_json_str(r->json, "state", ""), "PENDING");
	assert_int_equal(strlen(fl_json_str(r->json, "id", "")), 36);
	fl_http_response_free(r);

	/* query parameters matter */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/members?page=1", port);
	struct fl_http_request g = { .url = url };
	assert_int_equal(fl_http_fetch(&g, &r), 0);
	assert_int_equal(r->status, 200);
	assert_true(json_is_array(r->json));
	fl_http_response_free(r);

	/* no match: 500 naming the closest interaction and the mismatch */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/transfers", port);
	body = "{\"to\":2,\"from\":1,\"amount\":\"lots\"}";
	rq.body = body;
	rq.body_len = strlen(body);
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_int_equal(r->status, 500);
	assert_non_null(r->json);
	assert_non_null(strstr(fl_json_str(r->json, "error", ""), "POST /transfers"));
	json_t *cand = json_array_get(json_object_get(r->json, "candidates"), 0);
	assert_string_equal(fl_json_str(cand, "description", ""), "create a transfer");
	json_t *mm = json_array_get(json_object_get(cand, "mismatches"), 0);
	assert_string_equal(fl_json_str(mm, "path", ""), "$.body.amount");
	fl_http_response_free(r);
	stop_child(pid);
	fl_pact_free(p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_verify_message),
		cmocka_unit_test(test_stub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
