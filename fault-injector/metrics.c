/* GET /metrics: Prometheus text exposition of live counters per link. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/text.h"
#include "fault-injector/internal.h"

static void family(struct fl_buf *b, const char *name, const char *type, const char *help)
{
	fl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void per_link(struct fl_buf *b, struct fl_proxy_engine *e, const char *name,
		     const char *type, const char *help, int which)
{
	family(b, name, type, help);
	for (struct fl_link *l = e->links; l; l = l->next) {
		for (int dir = 0; dir < (which == 2 ? 2 : 1); dir++) {
			fl_buf_printf(b, "%s{proxy=\"", name);
			fl_text_prom_escape(b, l->name);
			unsigned long long v = 0;
			switch (which) {
			case 0: v = l->nconns; break;
			case 1: v = l->m.conns_total; break;
			case 2: v = l->m.bytes[dir]; break;
			case 3: v = l->m.http_exchanges; break;
			case 4: v = l->m.http_faults; break;
			case 5: v = l->m.resets; break;
			case 6: v = l->enabled; break;
			}
			if (which == 2)
				fl_buf_printf(b, "\",direction=\"%s",
					      dir == FL_DIR_UP ? "upstream" : "downstream");
			fl_buf_printf(b, "\"} %llu\n", v);
		}
	}
}

char *fl_metrics_text(struct fl_proxy_engine *e, size_t *len)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	family(&b, "faultline_proxy_uptime_seconds", "gauge", "Seconds since the engine started.");
	fl_buf_printf(&b, "faultline_proxy_uptime_seconds %.3f\n",
		      (double)(fl_mono_ns() - e->started) / 1e9);
	family(&b, "faultline_proxy_leases", "gauge", "Controller leases held.");
	fl_buf_printf(&b, "faultline_proxy_leases %zu\n", e->nleases);
	per_link(&b, e, "faultline_proxy_up", "gauge", "1 when the proxy is enabled.", 6);
	per_link(&b, e, "faultline_proxy_connections_open", "gauge", "Connections open now.", 0);
	per_link(&b, e, "faultline_proxy_connections_total", "counter", "Connections accepted.", 1);
	per_link(&b, e, "faultline_proxy_bytes_total", "counter",
		 "Bytes received, by direction (upstream: client to server).", 2);
	per_link(&b, e, "faultline_proxy_http_exchanges_total", "counter",
		 "HTTP exchanges recorded.", 3);
	per_link(&b, e, "faultline_proxy_http_faults_total", "counter",
		 "HTTP requests a fault was applied to.", 4);
	per_link(&b, e, "faultline_proxy_resets_total", "counter",
		 "Connections closed with a TCP RST.", 5);
	family(&b, "faultline_proxy_toxic_activations_total", "counter",
	       "Times a toxic took effect (per connection and direction, or per request).");
	for (struct fl_link *l = e->links; l; l = l->next)
		for (struct fl_toxic *t = l->toxics; t; t = t->next) {
			fl_buf_puts(&b, "faultline_proxy_toxic_activations_total{proxy=\"");
			fl_text_prom_escape(&b, l->name);
			fl_buf_puts(&b, "\",toxic=\"");
			fl_text_prom_escape(&b, t->name);
			fl_buf_printf(&b, "\",type=\"%s\"} %llu\n", t->type->name,
				      (unsigned long long)t->activations);
		}
	family(&b, "faultline_proxy_toxics", "gauge", "Toxics present.");
	for (struct fl_link *l = e->links; l; l = l->next) {
		unsigned n = 0;
		for (struct fl_toxic *t = l->toxics; t; t = t->next)
			n++;
		fl_buf_puts(&b, "faultline_proxy_toxics{proxy=\"");
		fl_text_prom_escape(&b, l->name);
		fl_buf_printf(&b, "\"} %u\n", n);
	}
	return fl_buf_take(&b, len);
}
