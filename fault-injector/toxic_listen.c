/* Toxics acting on the listener (faultline): refuse closes the listening
 * socket while present (new connections get ECONNREFUSED, live ones go on);
 * accept_reset accepts, then closes with a TCP RST. Both act in
 * engine.c/conn.c; here are their type descriptions. */
#include "fault-injector/internal.h"

const struct fl_toxic_type fl_toxic_refuse = {
	.name = "refuse",
	.kind = FL_TK_LISTEN,
};

const struct fl_toxic_type fl_toxic_accept_reset = {
	.name = "accept_reset",
	.kind = FL_TK_LISTEN,
};
