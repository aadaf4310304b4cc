/* faultline version */
#include <stdio.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <lua.h>
#include <sqlite3.h>

#include "cli/command.h"

static const char usage[] =
	"Usage: faultline version [--json]\n"
	"\n"
	"Print faultline's version and the versions of the libraries it runs on.\n"
	"\n"
	"  --json   one JSON object instead of text\n";

static int cmd_version(int argc, char **argv)
{
	if (fl_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return FL_EXIT_OK;
	}
	int json = argc > 1 && argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2] == 'j';
	if (argc > 2 || (argc == 2 && !json))
		return fl_cli_usage_error("version", "unexpected argument '%s'", argv[argc - 1]);
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
	.usage = usage,
	.order = 90,
	.run = cmd_version,
};
