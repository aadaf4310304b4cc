/* faultline version */
#include <stdio.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <lua.h>
#include <sqlite3.h>

#include "cli/command.h"

static const struct fl_opt opts[] = {
	{ "json", FL_OPT_LONG, NULL, "one JSON object instead of text" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline version [--json]\n"
	  "\n"
	  "Print faultline's version and the versions of the libraries it runs on.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_version(int argc, char **argv)
{
	struct fl_opts o;
	int c, json = 0;
	fl_opts_init(&o, &fl_cmd_version, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0)
		json = 1;
	if (c < 0)
		return o.exit;
	if (o.optind < argc)
		return fl_cli_usage_error("version", "unexpected argument '%s'", argv[o.optind]);
	const char *curl = curl_version_info(CURLVERSION_NOW)->version;
	if (json)
		printf("{\"version\":\"%s\",\"commit\":\"%s\",\"libcurl\":\"%s\",\"libevent\":\"%s\","
		       "\"jansson\":\"%s\",\"lua\":\"%s\",\"sqlite\":\"%s\"}\n",
		       FL_VERSION, FL_GIT_REV, curl, event_get_version(), jansson_version_str(),
		       LUA_RELEASE, sqlite3_libversion());
	else
		printf("faultline %s (%s)\nlibcurl %s, libevent %s, jansson %s, %s, sqlite %s\n",
		       FL_VERSION, FL_GIT_REV, curl, event_get_version(), jansson_version_str(),
		       LUA_RELEASE, sqlite3_libversion());
	return FL_EXIT_OK;
}

const struct fl_command fl_cmd_version = {
	.name = "version",
	.summary = "print the version",
	.help = help,
	.order = 90,
	.run = cmd_version,
};
