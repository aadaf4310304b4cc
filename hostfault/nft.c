/* Partition and loss faults as nftables rules, through libnftables' JSON
 * API. All of them live in one table (family inet) the set owns. A fault N
 * is one or two base chains of its own, fN_in (hook input) and fN_out (hook
 * output), so healing a fault is deleting its chains and healing everything
 * is deleting the table. Each chain first accepts loopback traffic and the
 * agent's own API port (an accept ends only that chain, so each fault's
 * chain carries its own exemption), then drops what the fault matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "core/errors.h"
#include "core/json.h"
#include "hostfault/hostfault_int.h"

static int ctx(struct fl_hf_ns *ns, char *err, size_t errlen)
{
	if (ns->nft)
		return 0;
	ns->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ns->nft)
		return fl_err_set(err, errlen, FL_ENOMEM, "nftables: cannot create a context");
	/* JSON output also makes libnftables take JSON input */
	nft_ctx_output_set_flags(ns->nft, NFT_CTX_OUTPUT_JSON);
	if (nft_ctx_buffer_output(ns->nft) || nft_ctx_buffer_error(ns->nft)) {
		nft_ctx_free(ns->nft);
		ns->nft = NULL;
		return fl_err_set(err, errlen, FL_ENOMEM, "nftables: cannot buffer output");
	}
	return 0;
}

void fl_hf_nft_close(struct fl_hf_ns *ns)
{
	if (ns->nft)
		nft_ctx_free(ns->nft);
	ns->nft = NULL;
}

/* Run {"nftables": cmds} (cmds taken). On success *out (may be NULL) gets
 * the parsed output (new reference, NULL when there was none). */
static int run(struct fl_hf_ns *ns, json_t *cmds, json_t **out, char *err, size_t errlen)
{
	int rc = ctx(ns, err, errlen);
	json_t *doc = json_pack("{s:o}", "nftables", cmds);
	char *text = NULL;
	if (rc)
		goto out;
	if (!doc || !(text = fl_json_dumps(doc))) {
		rc = fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		goto out;
	}
	if (nft_run_cmd_from_buffer(ns->nft, text) != 0) {
		const char *e = nft_ctx_get_error_buffer(ns->nft);
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", e && *e ? e : "failed");
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		rc = fl_err_set(err, errlen, FL_EIO, "nftables: %s", msg);
		goto out;
	}
	const char *o = nft_ctx_get_output_buffer(ns->nft);
	if (out)
		*out = o && *o ? json_loads(o, 0, NULL) : NULL;
out:
	json_decref(doc);
	free(text);
	return rc;
}

static json_t *table_obj(const struct fl_hostfault *h)
{
	return json_pack("{s:s, s:s}", "family", "inet", "name", h->table);
}

static json_t *chain_ref(const struct fl_hostfault *h, const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "family", "inet", "table", h->table, "name", name);
}

static json_t *match(const char *op, json_t *left, json_t *right)
{
	return json_pack("{s:{s:s, s:o, s:o}}", "match", "op", op, "left", left, "right", right);
}

static json_t *payload(const char *proto, const char *field)
{
	return json_pack("{s:{s:s, s:s}}", "payload", "protocol", proto, "field", field);
}

static json_t *meta(const char *key)
{
	return json_pack("{s:{s:s}}", "meta", "key", key);
}

static json_t *verdict(const char *v)
{
	return json_pack("{s:n}", v);
}

static json_t *rule(const struct fl_hostfault *h, const char *chain, json_t *expr,
		    const char *comment)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:o}", "family", "inet", "table", h->table, "chain",
			      chain, "expr", expr);
	if (r && comment)
		json_object_set_new(r, "comment", json_string(comment));
	return json_pack("{s:{s:o}}", "add", "rule", r);
}

/* The drop rule's expressions for one direction. */
static json_t *drop_expr(const struct fl_hf_match *m, bool in)
{
	json_t *x = json_array();
	if (m->dev[0])
		json_array_append_new(x, match("==", meta(in ? "iifname" : "oifname"),
					       json_string(m->dev)));
	if (m->peer[0]) {
		json_t *addr = m->peer_len < 0 ? json_string(m->peer_addr)
					       : json_pack("{s:{s:s, s:i}}", "prefix", "addr",
							   m->peer_addr, "len", m->peer_len);
		json_array_append_new(x, match("==",
					       payload(m->peer_family == 4 ? "ip" : "ip6",
						       in ? "saddr" : "daddr"),
					       addr));
	}
	if (m->proto[0] && !m->port && !m->local_port)
		json_array_append_new(x, match("==", meta("l4proto"), json_string(m->proto)));
	/* the peer's port is the source port of what comes in, the destination of what goes out */
	if (m->port)
		json_array_append_new(x, match("==", payload(m->proto, in ? "sport" : "dport"),
					       json_integer(m->port)));
	if (m->local_port)
		json_array_append_new(x, match("==", payload(m->proto, in ? "dport" : "sport"),
					       json_integer(m->local_port)));
	if (m->permille10k)
		json_array_append_new(x, match("<",
					       json_pack("{s:{s:s, s:i, s:i}}", "numgen", "mode",
							 "random", "mod", 10000, "offset", 0),
					       json_integer(m->permille10k)));
	json_array_append_new(x, json_pack("{s:n}", "counter"));
	json_array_append_new(x, verdict("drop"));
	return x;
}

static void add_chain(struct fl_hostfault *h, json_t *cmds, const struct fl_hf_fault *f, bool in,
		      bool exempt)
{
	char name[32];
	snprintf(name, sizeof(name), "f%u_%s", f->serial, in ? "in" : "out");
	json_t *c = chain_ref(h, name);
	json_object_set_new(c, "type", json_string("filter"));
	json_object_set_new(c, "hook", json_string(in ? "input" : "output"));
	json_object_set_new(c, "prio", json_integer(-10));
	json_object_set_new(c, "policy", json_string("accept"));
	json_array_append_new(cmds, json_pack("{s:{s:o}}", "add", "chain", c));
	json_array_append_new(cmds, rule(h, name,
					 json_pack("[o, o]",
						   match("==", meta(in ? "iifname" : "oifname"),
							 json_string("lo")),
						   verdict("accept")),
					 "faultline: loopback is never partitioned"));
	if (exempt && h->exempt_port)
		json_array_append_new(cmds,
				      rule(h, name,
					   json_pack("[o, o]",
						     match("==",
							   payload("tcp", in ? "dport" : "sport"),
							   json_integer(h->exempt_port)),
						     verdict("accept")),
					   "faultline: the agent's API"));
	json_array_append_new(cmds, rule(h, name, drop_expr(&f->m, in), f->id));
}

int fl_hf_nft_add(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		  char *err, size_t errlen)
{
	json_t *cmds = json_array();
	/* the agent's API port is exempt only where the agent listens */
	bool exempt = ns == &h->self;
	json_array_append_new(cmds, json_pack("{s:{s:o}}", "add", "table", table_obj(h)));
	if (f->m.in)
		add_chain(h, cmds, f, true, exempt);
	if (f->m.out)
		add_chain(h, cmds, f, false, exempt);
	int rc = run(ns, cmds, NULL, err, errlen);
	if (!rc)
		ns->table_made = true;
	return rc;
}

int fl_hf_nft_table_exists(struct fl_hostfault *h, struct fl_hf_ns *ns, char *err, size_t errlen)
{
	json_t *out = NULL, *it;
	size_t i;
	int rc = run(ns, json_pack("[{s:{s:s}}]", "list", "tables", "family", "inet"), &out, err,
		     errlen);
	if (rc)
		return rc;
	json_array_foreach(json_object_get(out, "nftables"), i, it) {
		json_t *t = json_object_get(it, "table");
		if (t && strcmp(fl_json_str(t, "name", ""), h->table) == 0)
			rc = 1;
	}
	json_decref(out);
	return rc;
}

int fl_hf_nft_del(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		  char *err, size_t errlen)
{
	json_t *cmds = json_array();
	for (int in = 1; in >= 0; in--) {
		if (!(in ? f->m.in : f->m.out))
			continue;
		char name[32];
		snprintf(name, sizeof(name), "f%u_%s", f->serial, in ? "in" : "out");
		json_array_append_new(cmds,
				      json_pack("{s:{s:o}}", "flush", "chain", chain_ref(h, name)));
		json_array_append_new(cmds, json_pack("{s:{s:o}}", "delete", "chain",
						      chain_ref(h, name)));
	}
	return run(ns, cmds, NULL, err, errlen);
}

int fl_hf_nft_drop_table(struct fl_hostfault *h, struct fl_hf_ns *ns, int *chains, char *err,
			 size_t errlen)
{
	json_t *out = NULL;
	/* "add table" first: it exists afterwards whatever state it was in */
	int rc = run(ns, json_pack("[{s:{s:o}}]", "add", "table", table_obj(h)), NULL, err, errlen);
	if (rc)
		return rc;
	if (chains) {
		*chains = 0;
		rc = run(ns, json_pack("[{s:{s:o}}]", "list", "table", table_obj(h)), &out, err,
			 errlen);
		if (rc)
			return rc;
		json_t *items = json_object_get(out, "nftables"), *it;
		size_t i;
		json_array_foreach(items, i, it)
			if (json_object_get(it, "chain"))
				(*chains)++;
		json_decref(out);
	}
	rc = run(ns, json_pack("[{s:{s:o}}]", "delete", "table", table_obj(h)), NULL, err, errlen);
	if (!rc)
		ns->table_made = false;
	return rc;
}
